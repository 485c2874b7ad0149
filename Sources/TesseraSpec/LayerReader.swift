import TesseraCore

/// Reads the `layers:` list of a trace file into `LayerSpec`s, checking every shape.
enum LayerReader {
    static let ops = ["conv2d", "gemm", "matmul"] + Pool.Kind.allCases.map(\.rawValue) + Elementwise.Kind.allCases.map(\.rawValue)

    static func layers(_ node: SpecNode, bag: inout DiagnosticBag) -> [LayerSpec] {
        guard let items = node.items else {
            bag.error(node.location, "'layers' must be a list", expected: "a list of '{name: …, op: …}' entries, or '{scalesim_csv: path}'", found: node.kindDescription)
            return []
        }
        if items.isEmpty { bag.error(node.location, "'layers' is empty", expected: "at least one layer", found: "an empty list") }
        var out: [LayerSpec] = []
        var names: [String: SourceLocation] = [:]
        var indexOf: [String: Int] = [:]
        for (i, item) in items.enumerated() {
            guard var read = layer(item, index: i, earlier: names, bag: &bag) else { continue }
            if let named = read.inputNames {
                // `inputs:` names earlier layers: the edges of a graph that is not a chain.
                read.spec.inputs = named.compactMap { indexOf[$0.name] }
            }
            let layer = read.spec
            if let first = names[layer.name] {
                bag.error(
                    item.location, "duplicate layer name '\(layer.name)'", expected: "unique layer names", found: "'\(layer.name)' a second time",
                    hint: "first used at \(first)")
            }
            names[layer.name] = item.location
            if indexOf[layer.name] == nil { indexOf[layer.name] = out.count }
            out.append(layer)
        }
        return out
    }

    /// A layer as written, with the names its `inputs:` gives (checked against the earlier layers).
    struct Read {
        var spec: LayerSpec
        var inputNames: [(name: String, location: SourceLocation)]?
    }

    static func layer(_ node: SpecNode, index: Int, earlier: [String: SourceLocation] = [:], bag: inout DiagnosticBag) -> Read? {
        guard var r = MappingReader(node, what: "layer \(index + 1)", bag: &bag) else { return nil }
        let name = r.optional("name").flatMap { Scalar.string($0, what: "'name'", bag: &bag) } ?? "layer\(index + 1)"
        let what = "layer '\(name)'"
        var inputNames: [(name: String, location: SourceLocation)]?
        if let inputsNode = r.optional("inputs") {
            if let items = inputsNode.items {
                var names: [(String, SourceLocation)] = []
                for item in items {
                    guard let n = Scalar.string(item, what: "\(what) 'inputs'", bag: &bag) else { continue }
                    if earlier[n] == nil {
                        bag.error(
                            item.location, "\(what) reads '\(n)', which is not an earlier layer", expected: "the name of a layer above this one",
                            found: "'\(n)'", hint: closestMatch(to: n, in: Array(earlier.keys).sorted()).map { "did you mean '\($0)'?" })
                        continue
                    }
                    names.append((n, item.location))
                }
                inputNames = names
            } else {
                bag.error(inputsNode.location, "\(what) 'inputs' must be a list", expected: "a list of earlier layer names ([] for the graph's input)", found: inputsNode.kindDescription)
            }
        }
        guard let opNode = r.required("op", expected: "one of " + ops.joined(separator: ", "), bag: &bag) else {
            r.finish(allowed: (node.entries ?? []).map(\.key), bag: &bag)
            return nil
        }
        let opName = opNode.scalar ?? ""
        var op: LayerOp?
        func int(_ key: String, min: Int = 1, default d: Int? = nil) -> Int? {
            if let d, r.optional(key) == nil { return d }
            guard let n = r.required(key, expected: "an integer ≥ \(min)", bag: &bag) else { return nil }
            return Scalar.int(n, min: min, what: "\(what) '\(key)'", bag: &bag)
        }
        func ints(_ key: String, count: Int) -> [Int]? {
            guard let n = r.required(key, expected: "a list of \(count) integers", bag: &bag) else { return nil }
            guard let items = n.items, items.count == count else {
                bag.error(
                    n.location, "\(what) '\(key)' must be a list of \(count) integers", expected: count == 3 ? "[H, W, C]" : "[R, S]",
                    found: n.items.map { "a list of \($0.count) value\($0.count == 1 ? "" : "s")" } ?? n.kindDescription)
                return nil
            }
            let vs = items.compactMap { Scalar.int($0, min: 1, what: "\(what) '\(key)'", bag: &bag) }
            return vs.count == count ? vs : nil
        }
        switch opName {
        case "conv2d":
            let input = ints("input", count: 3), kernel = ints("kernel", count: 2)
            let filters = int("filters"), stride = int("stride", default: 1)
            let padding = int("padding", min: 0, default: 0), groups = int("groups", default: 1)
            if let input, let kernel, let filters, let stride, let padding, let groups {
                let c = Conv2D(input: (input[0], input[1], input[2]), kernel: (kernel[0], kernel[1]), filters: filters, stride: stride, padding: padding, groups: groups)
                if c.inputH + 2 * padding < c.kernelH || c.inputW + 2 * padding < c.kernelW {
                    bag.error(node.location, "\(what): the kernel is larger than the padded input", expected: "kernel ≤ input + 2·padding", found: "kernel \(kernel) on input \(input) with padding \(padding)")
                } else if c.channels % groups != 0 || filters % groups != 0 {
                    bag.error(node.location, "\(what): 'groups' must divide both the channels and the filters", expected: "a divisor of \(c.channels) and \(filters)", found: "\(groups)")
                } else {
                    op = .conv2d(c)
                }
            }
        case "gemm":
            if let m = int("m"), let n = int("n"), let k = int("k") { op = .gemm(GEMM(m: m, n: n, k: k)) }
        case "matmul":
            if let count = int("count", default: 1), let m = int("m"), let n = int("n"), let k = int("k") {
                op = .matmul(BatchedMatmul(count: count, m: m, n: n, k: k))
            }
        case let s where Pool.Kind(rawValue: s) != nil:
            let input = ints("input", count: 3), kernel = ints("kernel", count: 2)
            let stride = int("stride", default: 1), padding = int("padding", min: 0, default: 0)
            if let kind = Pool.Kind(rawValue: s), let input, let kernel, let stride, let padding {
                let p = Pool(kind: kind, input: (input[0], input[1], input[2]), kernel: (kernel[0], kernel[1]), stride: stride, padding: padding)
                if p.inputH + 2 * padding < p.kernelH || p.inputW + 2 * padding < p.kernelW {
                    bag.error(node.location, "\(what): the window is larger than the padded input", expected: "kernel ≤ input + 2·padding", found: "kernel \(kernel) on input \(input)")
                } else {
                    op = .pool(p)
                }
            }
        case let s where Elementwise.Kind(rawValue: s) != nil:
            if let kind = Elementwise.Kind(rawValue: s), let e = int("elements") { op = .elementwise(Elementwise(kind: kind, elements: e)) }
        default:
            bag.error(
                opNode.location, "unknown op in \(what)", expected: "one of " + ops.map { "'\($0)'" }.joined(separator: ", "), found: opNode.kindDescription,
                hint: closestMatch(to: opName, in: ops).map { "did you mean '\($0)'?" })
            r.finish(allowed: (node.entries ?? []).map(\.key), bag: &bag)
            return nil
        }
        r.finish(bag: &bag)
        guard let op else { return nil }
        return Read(spec: LayerSpec(name: name, op: op, location: node.location), inputNames: inputNames)
    }
}
