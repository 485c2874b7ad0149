import TesseraCore

/// Which passes of training run with N:M sparse weights.
public enum SparsityScheme: String, Sendable, Hashable, CaseIterable {
    /// Every pass dense.
    case dense
    /// Sparse forward pass only (SR-STE-like): the backward-data pass uses the dense weights.
    case forwardOnly = "forward-only"
    /// Bidirectional weight pruning (SAT's BDWP): sparse forward (mask on W along its reduction
    /// dimension) and sparse backward-data pass (a second mask, on Wᵀ along its reduction dimension).
    case bdwp
}

/// The N:M pattern one layer runs with, and where it was chosen (for diagnostics).
public struct LayerSparsity: Sendable, Hashable {
    public var pattern: NMPattern
    public var location: SourceLocation
    public init(pattern: NMPattern, location: SourceLocation) {
        self.pattern = pattern
        self.location = location
    }
}

/// A workload's `sparsity:` section.
///
/// ```yaml
/// sparsity:
///   pattern: "2:8"          # N:M applied to every layer with weights
///   scheme: bdwp            # dense | forward-only | bdwp
///   dense_first_last: true  # the first and last layers with weights stay dense (default)
///   layers: {conv1: "2:8", fc: dense}   # per-layer overrides, by layer name
/// ```
public struct SparsitySpec: Sendable, Hashable {
    public var pattern: NMPattern
    public var scheme: SparsityScheme
    public var denseFirstLast: Bool
    public var location: SourceLocation
    /// Layers the section's `pattern` would have made sparse but whose reduction dimensions are not
    /// whole groups of M (a depthwise conv's K = 9 under 2:8, say): they stay dense, and the report
    /// names them. A pattern given for one layer under `layers:` must fit or it is an error.
    public var leftDense: [String]

    public init(pattern: NMPattern, scheme: SparsityScheme, denseFirstLast: Bool, location: SourceLocation, leftDense: [String] = []) {
        self.pattern = pattern
        self.scheme = scheme
        self.denseFirstLast = denseFirstLast
        self.location = location
        self.leftDense = leftDense
    }
}

/// Reads `sparsity:` and resolves it to one optional pattern per layer.
enum SparsityReader {
    static func read(_ node: SpecNode, layers: [LayerSpec], bag: inout DiagnosticBag) -> (SparsitySpec, [LayerSparsity?])? {
        guard var r = MappingReader(node, what: "'sparsity'", bag: &bag) else { return nil }
        let patternNode = r.required("pattern", expected: "an N:M pattern such as \"2:8\"", bag: &bag)
        let pattern = patternNode.flatMap { NMPattern.read($0, what: "'sparsity.pattern'", bag: &bag) }
        var scheme = SparsityScheme.bdwp
        if let s = r.optional("scheme") {
            if let v = s.scalar.flatMap(SparsityScheme.init(rawValue:)) {
                scheme = v
            } else {
                bag.error(
                    s.location, "unknown sparsity scheme", expected: "one of " + SparsityScheme.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "),
                    found: s.kindDescription,
                    hint: closestMatch(to: s.scalar ?? "", in: SparsityScheme.allCases.map(\.rawValue)).map { "did you mean '\($0)'?" })
            }
        }
        var denseFirstLast = true
        if let d = r.optional("dense_first_last") {
            switch d.scalar {
            case "true": denseFirstLast = true
            case "false": denseFirstLast = false
            default: bag.error(d.location, "'sparsity.dense_first_last' must be true or false", expected: "true or false", found: d.kindDescription)
            }
        }
        let overridesNode = r.optional("layers")
        r.finish(bag: &bag)
        guard let pattern, let patternNode else { return nil }

        let weighted = layers.indices.filter { layers[$0].op.hasWeights }
        var explicit = Set<Int>()
        var result: [LayerSparsity?] = layers.map { $0.op.hasWeights ? LayerSparsity(pattern: pattern, location: patternNode.location) : nil }
        if denseFirstLast, let first = weighted.first, let last = weighted.last {
            result[first] = nil
            result[last] = nil
        }
        if let overridesNode {
            if let entries = overridesNode.entries {
                let names = layers.map(\.name)
                for e in entries {
                    guard let index = names.firstIndex(of: e.key) else {
                        bag.error(
                            e.keyLocation, "'sparsity.layers' names an unknown layer '\(e.key)'", expected: "the name of a layer of this workload", found: "'\(e.key)'",
                            hint: closestMatch(to: e.key, in: names).map { "did you mean '\($0)'?" })
                        continue
                    }
                    guard layers[index].op.hasWeights else {
                        bag.error(
                            e.keyLocation, "layer '\(e.key)' has no weights to prune", expected: "a conv2d or gemm layer",
                            found: "a '\(layers[index].op.name)' layer")
                        continue
                    }
                    explicit.insert(index)
                    if e.value.scalar == "dense" {
                        result[index] = nil
                    } else if let p = NMPattern.read(e.value, what: "'sparsity.layers.\(e.key)'", bag: &bag) {
                        result[index] = p.isDense ? nil : LayerSparsity(pattern: p, location: e.value.location)
                    }
                }
            } else {
                bag.error(overridesNode.location, "'sparsity.layers' must be a mapping", expected: "'layer name: \"N:M\" or dense' lines", found: overridesNode.kindDescription)
            }
        }
        if pattern.isDense || scheme == .dense { result = result.map { _ in nil } }
        // N:M groups run along the reduction dimension of each sparse pass: K of the forward pass
        // (and, under BDWP, the output features of the backward-data pass) must be whole groups.
        var leftDense: [String] = []
        for (i, s) in result.enumerated() {
            guard let s else { continue }
            let dims = layers[i].op.reductionDims
            let m = s.pattern.m
            let fits = dims.forward % m == 0 && (scheme != .bdwp || dims.backward % m == 0)
            if !fits, !explicit.contains(i) {
                leftDense.append(layers[i].name)
                result[i] = nil
            } else if dims.forward % m != 0 {
                bag.error(
                    s.location, "layer '\(layers[i].name)': \(s.pattern) groups do not divide its reduction dimension",
                    expected: "a reduction dimension that is a multiple of \(m)", found: "\(dims.forward)",
                    hint: "make it dense with 'sparsity.layers: {\(layers[i].name): dense}'")
                result[i] = nil
            } else if scheme == .bdwp, dims.backward % m != 0 {
                bag.error(
                    s.location, "layer '\(layers[i].name)': \(s.pattern) groups do not divide the reduction dimension of its backward pass (BDWP prunes Wᵀ)",
                    expected: "output features that are a multiple of \(m)", found: "\(dims.backward)",
                    hint: "make it dense with 'sparsity.layers: {\(layers[i].name): dense}', or use scheme: forward-only")
                result[i] = nil
            }
        }
        return (SparsitySpec(pattern: pattern, scheme: scheme, denseFirstLast: denseFirstLast, location: node.location, leftDense: leftDense), result)
    }
}

extension LayerOp {
    /// Whether the layer has a weight operand (conv2d and gemm; matmul multiplies two activations).
    public var hasWeights: Bool {
        switch self {
        case .conv2d, .gemm: true
        default: false
        }
    }

    /// The reduction dimensions of the forward pass (K = R·S·C/groups for a conv, k for a gemm) and
    /// of the backward-data pass (the output features: filters/groups, or n).
    public var reductionDims: (forward: Int, backward: Int) {
        switch self {
        case .conv2d(let c):
            let g = max(1, c.groups)
            return (c.kernelH * c.kernelW * c.channels / g, c.filters / g)
        case .gemm(let g): return (g.k, g.n)
        case .matmul(let b): return (b.k, b.n)
        case .pool, .elementwise: return (0, 0)
        }
    }
}
