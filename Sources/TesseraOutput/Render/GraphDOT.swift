import TesseraCore
import TesseraGraph
import TesseraModel

/// The dataflow graph as a picture: one node per operation, colored by what it does (convolution,
/// GEMM and batched matmul on the array; pooling and elementwise work as memory traffic), labeled
/// with its name, GEMM view (m×n×k) and MACs; tensor edges labeled with their bytes; one cluster per
/// layer block (see `LayerBlocks`: `layer1.2.conv1`, `layer1.2.conv2`, … share `layer1.2`).
///
/// Options pick a range of layers and collapse each block into one node. A graph of more than
/// `autoCollapseAbove` operations collapses by itself (and says so in the document's notes), since
/// Graphviz's pictures of such graphs are not readable.
public struct GraphDOT: Sendable {
    public struct Options: Sendable {
        public enum Collapse: String, Sendable, CaseIterable {
            /// Collapse when the selection has more than `autoCollapseAbove` operations.
            case auto
            /// Draw every operation.
            case none
            /// One node per layer block.
            case layer
        }
        /// A layer range: `3..10` (indices from 0 in workload order, both ends included),
        /// `conv1..layer1.2.add` (names), `layer2.0.conv1` (one layer), `..10` or `40..` (open ends).
        public var layers: String?
        public var collapse: Collapse
        public var autoCollapseAbove: Int
        public init(layers: String? = nil, collapse: Collapse = .auto, autoCollapseAbove: Int = 200) {
            self.layers = layers
            self.collapse = collapse
            self.autoCollapseAbove = autoCollapseAbove
        }
    }

    public var graph: DataflowGraph
    public var title: String?
    public var options: Options

    public init(_ graph: DataflowGraph, title: String? = nil, options: Options = Options()) {
        self.graph = graph
        self.title = title
        self.options = options
    }

    static func style(of op: Operation) -> (fill: String, line: String) {
        switch op.op {
        case "conv2d": ("#cfe3f7", "#2f6ea5")
        case "gemm": ("#d8efd3", "#3b8a2e")
        case "matmul": ("#e6dcf3", "#6a4a9c")
        case "maxpool", "avgpool": ("#fde3c8", "#c46a12")
        // A GPU cluster's training step, in its schedule's colours.
        case "forward": ("#7cc47a", "#3d7f3a")
        case "backward": ("#e57f7f", "#a33a3a")
        case "head": ("#999999", "#555555")
        case "optimizer": ("#f1c232", "#a07c12")
        case "tp": ("#f5b26b", "#b4661b")
        case "ep": ("#c6a0d6", "#7a4a91")
        case "cp": ("#e6b8af", "#a14f3d")
        case "pp": ("#8fb5de", "#34679e")
        case "dp", "collective": ("#6fa8dc", "#2f5f8f")
        case "prefill": ("#7cc47a", "#3d7f3a")
        case "decode": ("#f5b26b", "#b4661b")
        case "kv-cache": ("#8fb5de", "#34679e")
        default: ("#fbf3c4", "#a38a12")
        }
    }

    public func build() throws(InputError) -> DOTDocument {
        let range = try options.layers.map { spec throws(InputError) in try Self.layerRange(spec, layers: graph.layers) }
        let selected = graph.operations.filter { range?.contains($0.layer) ?? true }
        var notes: [String] = []
        var collapse = options.collapse == .layer
        if options.collapse == .auto, selected.count > options.autoCollapseAbove {
            collapse = true
            let blocks = Set(LayerBlocks.indices(selected.map(\.name))).count
            notes.append(
                "the graph has \(selected.count) operations (more than \(options.autoCollapseAbove)): drawn as one node per layer block (\(blocks) blocks); "
                    + "pass --collapse none to draw every operation, or --layers A..B to pick a range")
        }
        let macs = selected.reduce(UInt64(0)) { $0 + $1.macs }
        var heading = title.map { DOTText.literal($0) + ": " } ?? ""
        heading += "\(selected.count) operations" + (macs > 0 || Self.deviceWork(selected) == nil ? ", \(DOTText.si(macs)) MACs" : "")
        if let range {
            heading +=
                " (layers \(range.lowerBound) to \(range.upperBound): \(DOTText.literal(graph.layers[range.lowerBound])) … \(DOTText.literal(graph.layers[range.upperBound])))"
        }
        if collapse { heading += ", one node per layer block" }

        var s = "digraph dataflow {\n"
        s +=
            "  graph \(DOTText.attributes([("rankdir", "TB"), ("fontname", "Helvetica"), ("fontsize", "16"), ("labelloc", "t"), ("label", heading + "\n "), ("nodesep", "0.3"), ("ranksep", "0.3"), ("pad", "0.3"), ("newrank", "true")]))\n"
        s +=
            "  node \(DOTText.attributes([("shape", "box"), ("style", "filled,rounded"), ("fontname", "Helvetica"), ("fontsize", "11"), ("penwidth", "1.2")]))\n"
        s +=
            "  edge \(DOTText.attributes([("fontname", "Helvetica"), ("fontsize", "9"), ("color", "#666666"), ("fontcolor", "#444444"), ("arrowsize", "0.7")]))\n"
        s += collapse ? collapsedBody(selected) : fullBody(selected)
        s += "}\n"
        return DOTDocument(text: s, engine: "dot", notes: notes)
    }

    // MARK: - Columns

    /// Splits a chain of units (blocks, or collapsed nodes) of the given sizes into columns of about
    /// the same height, so that a long network reads as a few side-by-side columns instead of one
    /// very tall one. Returns each unit's column.
    static func columns(_ sizes: [Int]) -> [Int] {
        let total = sizes.reduce(0, +)
        guard total > 20 else { return sizes.map { _ in 0 } }
        let target = max(10, Int((Double(total) * 2.5).squareRoot().rounded(.up)))
        var out: [Int] = []
        var column = 0
        var height = 0
        for size in sizes {
            if height > 0, height + size > target {
                column += 1
                height = 0
            }
            out.append(column)
            height += size
        }
        return out
    }

    /// Keeps columns side by side, left to right: their first nodes share a rank, in order.
    private func columnHeads(_ heads: [String]) -> String {
        guard heads.count > 1 else { return "" }
        var s = "  { rank=same; " + heads.joined(separator: "; ") + " }\n"
        for (a, b) in zip(heads, heads.dropFirst()) { s += "  \(a) -> \(b) [style=invis]\n" }
        return s
    }

    /// An edge between columns, drawn as two labeled stubs ("⋯ to B" under A, "A ⋯" over B) so the
    /// columns stay apart and read left to right.
    private func stubs(from a: String, fromName: String, to b: String, toName: String, label: String) -> String {
        let key = String((a + ">" + b).filter { $0 != "\"" })
        let out = DOTText.quote("stub:\(key):out")
        let into = DOTText.quote("stub:\(key):in")
        let text: [(String, String)] = [("shape", "plaintext"), ("style", ""), ("fontcolor", "#666666"), ("fontsize", "10")]
        var s = "  \(out) \(DOTText.attributes(text + [("label", "⋯ to \(DOTText.literal(toName)) (next column)")]))\n"
        s += "  \(into) \(DOTText.attributes(text + [("label", "from \(DOTText.literal(fromName)) ⋯")]))\n"
        let edge: [(String, String)] = label.isEmpty ? [("style", "dashed")] : [("label", label), ("style", "dashed")]
        s += "  \(a) -> \(out) \(DOTText.attributes(edge))\n  \(into) -> \(b) \(DOTText.attributes(edge))\n"
        return s
    }

    // MARK: - Every operation

    private func fullBody(_ ops: [Operation]) -> String {
        var s = ""
        let inRange = Set(ops.map(\.id))
        let blocks = LayerBlocks.indices(ops.map(\.name))
        // Runs of operations in one block.
        var runs: [ClosedRange<Int>] = []
        var k = 0
        while k < ops.count {
            var j = k
            while j + 1 < ops.count, blocks[j + 1] == blocks[k] { j += 1 }
            runs.append(k...j)
            k = j + 1
        }
        let runColumn = Self.columns(runs.map(\.count))
        var columnOf: [OpID: Int] = [:]
        var heads: [String] = []
        let columned = Set(runColumn).count > 1
        for (r, run) in runs.enumerated() {
            for i in run { columnOf[ops[i].id] = runColumn[r] }
            if columned, r == 0 || runColumn[r] != runColumn[r - 1] {
                if r > 0 { s += "  }\n" }
                s += "  subgraph \(DOTText.quote("cluster_column\(runColumn[r])")) {\n    graph [style=invis, label=\"\"]\n"
                heads.append(opID(ops[run.lowerBound].id))
            }
            let members = ops[run]
            if members.count > 1 {
                let name = LayerBlocks.block(of: ops[run.lowerBound].name)
                s += "  subgraph \(DOTText.quote("cluster_\(blocks[run.lowerBound])")) {\n"
                s +=
                    "    graph \(DOTText.attributes([("label", DOTText.literal(name)), ("style", "rounded,filled"), ("fillcolor", "#f6f6f6"), ("color", "#bbbbbb"), ("fontsize", "12"), ("labeljust", "l")]))\n"
                for op in members { s += "    " + opNode(op) + extraInputs(op, indent: "    ") }
                s += "  }\n"
            } else {
                for op in members { s += "  " + opNode(op) + extraInputs(op, indent: "  ") }
            }
        }
        if columned { s += "  }\n" }
        s += columnHeads(heads)
        // Tensor edges, and ordering edges where no tensor connects two dependent operations.
        var external: Set<String> = []
        let consumed = Set(graph.operations.flatMap(\.inputs))
        let lastOp = graph.operations.last?.id
        for op in ops {
            var fromTensor: Set<OpID> = []
            for t in op.inputs.map(graph.tensor) {
                guard let p = t.producer else {
                    if t.kind == .activation {
                        s += "  \(DOTText.quote("t\(t.id.raw)")) -> \(opID(op.id)) \(DOTText.attributes([("label", formatBytes(t.bytes))]))\n"
                    }
                    continue
                }
                fromTensor.insert(p)
                if inRange.contains(p), columnOf[p] != columnOf[op.id] {
                    s += stubs(from: opID(p), fromName: graph.operations[p.raw].name, to: opID(op.id), toName: op.name, label: formatBytes(t.bytes))
                } else if inRange.contains(p) {
                    s += "  \(opID(p)) -> \(opID(op.id)) \(DOTText.attributes([("label", formatBytes(t.bytes)), ("penwidth", edgeWidth(t.bytes))]))\n"
                } else {
                    let from = "from:\(p.raw)"
                    if external.insert(from).inserted {
                        s +=
                            "  \(DOTText.quote(from)) \(DOTText.attributes([("shape", "plaintext"), ("style", ""), ("fontcolor", "#666666"), ("label", "⋯ from \(DOTText.literal(graph.operations[p.raw].name))")]))\n"
                    }
                    s += "  \(DOTText.quote(from)) -> \(opID(op.id)) \(DOTText.attributes([("label", formatBytes(t.bytes)), ("style", "dashed")]))\n"
                }
            }
            for d in op.dependencies where !fromTensor.contains(d) && inRange.contains(d) {
                if columnOf[d] != columnOf[op.id] {
                    s += stubs(from: opID(d), fromName: graph.operations[d.raw].name, to: opID(op.id), toName: op.name, label: "")
                } else {
                    s +=
                        "  \(opID(d)) -> \(opID(op.id)) \(DOTText.attributes([("style", "dashed"), ("color", "#aaaaaa"), ("tooltip", "runs after (no tensor between them)")]))\n"
                }
            }
            for t in op.outputs.map(graph.tensor) where !consumed.contains(t.id) {
                // The network's result, or an output the chain model sends to DRAM and reads back
                // as a fresh tensor (a residual branch's second input).
                let label = op.id == lastOp ? "output" : "to DRAM"
                s +=
                    "  \(DOTText.quote("t\(t.id.raw)")) \(DOTText.attributes([("shape", "ellipse"), ("style", "filled"), ("fillcolor", "#eeeeee"), ("color", "#999999"), ("fontsize", "9"), ("label", label)]))\n"
                s += "  \(opID(op.id)) -> \(DOTText.quote("t\(t.id.raw)")) \(DOTText.attributes([("label", formatBytes(t.bytes))]))\n"
            }
        }
        // The selection's outputs that later operations read.
        if let last = ops.last, last.id.raw + 1 < graph.operations.count {
            let next = graph.operations[last.id.raw + 1]
            for t in last.outputs where next.inputs.contains(t) {
                s +=
                    "  \"to:next\" \(DOTText.attributes([("shape", "plaintext"), ("style", ""), ("fontcolor", "#666666"), ("label", "⋯ to \(DOTText.literal(next.name))")]))\n"
                s += "  \(opID(last.id)) -> \"to:next\" \(DOTText.attributes([("label", formatBytes(graph.tensor(t).bytes)), ("style", "dashed")]))\n"
            }
        }
        return s
    }

    private func opID(_ id: OpID) -> String { DOTText.quote("op\(id.raw)") }

    private func opNode(_ op: Operation) -> String {
        let c = Self.style(of: op)
        var lines: [String] = []
        var tip = "\(op.name) (\(op.op))"
        switch op.kind {
        case .gemm(let g):
            let count = g.count > 1 ? " ×\(g.count)" : ""
            let sparse = op.sparsity.map { " · \($0) sparse" } ?? ""
            lines.append("\(op.op) · \(g.m)×\(g.n)×\(g.k)\(count)\(sparse)")
            var macs = "\(DOTText.si(op.macs)) MACs"
            let weights = op.inputs.map(graph.tensor).filter { $0.kind == .weight }.reduce(UInt64(0)) { $0 + $1.bytes }
            if weights > 0 { macs += " · weights \(formatBytes(weights))" }
            lines.append(macs)
            tip += ": GEMM m=\(g.m) n=\(g.n) k=\(g.k) count=\(g.count), \(DOTText.grouped(op.macs)) MACs"
        case .memory:
            let read = op.inputs.map(graph.tensor).reduce(UInt64(0)) { $0 + $1.bytes }
            let written = op.outputs.map(graph.tensor).reduce(UInt64(0)) { $0 + $1.bytes }
            lines.append("\(op.op) · memory only")
            lines.append("reads \(formatBytes(read)), writes \(formatBytes(written))")
            tip += ": no MACs, DRAM traffic"
        case .vector(let elements, let operations):
            lines.append("\(op.op) · vector unit")
            lines.append("\(DOTText.si(UInt64(elements))) values · \(DOTText.si(UInt64(operations))) lane-ops")
            tip += ": vector unit, \(DOTText.grouped(UInt64(operations))) lane-operations"
        case .maskgen(let weights, let pattern):
            lines.append("mask \(pattern) · mask generator")
            lines.append("\(DOTText.si(UInt64(weights))) weights")
            tip += ": N:M pruning of \(DOTText.grouped(UInt64(weights))) weights to \(pattern)"
        case .device(.compute(let seconds), let gpus):
            lines.append("\(op.op) · \(gpus) GPUs")
            lines.append(DOTText.seconds(seconds) + " per GPU")
            tip += ": compute on \(gpus) GPUs, \(DOTText.seconds(seconds)) each on a healthy GPU"
        case .device(.collective(let c), let gpus):
            let group = c.group == .all ? "all \(gpus) GPUs" : c.group.rawValue
            lines.append("\(c.op.rawValue) over \(group) · \(gpus) GPUs")
            lines.append(formatBytes(c.bytes))
            tip += ": \(c.op.rawValue) of \(DOTText.grouped(c.bytes)) B over " + (c.group == .all ? "all \(gpus) GPUs" : "the \(group) groups of \(gpus) GPUs")
        }
        return "\(opID(op.id)) \(DOTText.attributes([("fillcolor", c.fill), ("color", c.line), ("label", DOTText.titled(op.name, lines)), ("tooltip", tip)]))\n"
    }

    /// Activation inputs no operation produces (the graph's input, a residual branch's second
    /// input): small grey nodes beside their consumer.
    private func extraInputs(_ op: Operation, indent: String) -> String {
        var s = ""
        for t in op.inputs.map(graph.tensor) where t.producer == nil && t.kind == .activation {
            let name = op.id.raw == 0 && t.id == op.inputs.first ? "input" : t.name
            s +=
                indent
                + "\(DOTText.quote("t\(t.id.raw)")) \(DOTText.attributes([("shape", "ellipse"), ("style", "filled"), ("fillcolor", "#eeeeee"), ("color", "#999999"), ("fontsize", "9"), ("label", DOTText.literal(name))]))\n"
        }
        return s
    }

    private func edgeWidth(_ bytes: UInt64) -> String {
        // 1 pt up to 1 KiB, growing to 3.5 pt at 1 MiB and more.
        let bits = Double(64 - max(bytes, 1).leadingZeroBitCount)
        let w = 1 + min(2.5, max(0, (bits - 11) / 4))
        return DOTText.number(w)
    }

    // MARK: - One node per layer block

    /// What a group of a GPU cluster's operations does per GPU (compute time, bytes moved), or nil
    /// when the group has none.
    static func deviceWork(_ ops: [Operation]) -> String? {
        var seconds = 0.0, bytes: UInt64 = 0, any = false
        for op in ops {
            guard case .device(let work, _) = op.kind else { continue }
            any = true
            switch work {
            case .compute(let s): seconds += s
            case .collective(let c): bytes = Saturating.add(bytes, c.bytes)
            }
        }
        guard any else { return nil }
        var parts: [String] = []
        if seconds > 0 { parts.append(DOTText.seconds(seconds) + " of compute per GPU") }
        if bytes > 0 { parts.append(formatBytes(bytes) + " per GPU") }
        return parts.isEmpty ? "no work" : parts.joined(separator: ", ")
    }

    private func collapsedBody(_ ops: [Operation]) -> String {
        var s = ""
        let blocks = LayerBlocks.indices(ops.map(\.name))
        var groupOf: [OpID: Int] = [:]
        var groups: [[Operation]] = []
        for (i, op) in ops.enumerated() {
            if groups.count <= blocks[i] { groups.append([]) }
            groups[blocks[i]].append(op)
            groupOf[op.id] = blocks[i]
        }
        let column = Self.columns(groups.map { _ in 1 })
        var heads: [String] = []
        for (g, members) in groups.enumerated() {
            let name = members.count > 1 ? LayerBlocks.block(of: members[0].name) : members[0].name
            let macs = members.reduce(UInt64(0)) { $0 + $1.macs }
            var kinds: [(String, Int)] = []
            for m in members {
                if let i = kinds.firstIndex(where: { $0.0 == m.op }) { kinds[i].1 += 1 } else { kinds.append((m.op, 1)) }
            }
            let summary = kinds.map { $0.1 > 1 ? "\($0.1) \($0.0)" : $0.0 }.joined(separator: ", ")
            let lines = [summary, macs > 0 ? "\(DOTText.si(macs)) MACs" : Self.deviceWork(members) ?? "memory only"]
            let lead = members.first { if case .gemm = $0.kind { true } else { false } } ?? members[0]
            let c = Self.style(of: lead)
            let tip = members.map(\.name).joined(separator: ", ")
            if column.last != 0, g == 0 || column[g] != column[g - 1] {
                if g > 0 { s += "  }\n" }
                s += "  subgraph \(DOTText.quote("cluster_column\(column[g])")) {\n    graph [style=invis, label=\"\"]\n"
                heads.append(DOTText.quote("g\(g)"))
            }
            s +=
                "  \(DOTText.quote("g\(g)")) \(DOTText.attributes([("fillcolor", c.fill), ("color", c.line), ("label", DOTText.titled(name, lines)), ("tooltip", tip)]))\n"
        }
        if column.last != 0 { s += "  }\n" }
        s += columnHeads(heads)
        var bytes: [Int: [Int: UInt64]] = [:]
        var order: [(Int, Int)] = []
        for op in ops {
            guard let to = groupOf[op.id] else { continue }
            var linked: Set<Int> = []
            for t in op.inputs.map(graph.tensor) {
                guard let p = t.producer, let from = groupOf[p], from != to else { continue }
                if bytes[from]?[to] == nil { order.append((from, to)) }
                bytes[from, default: [:]][to, default: 0] += t.bytes
                linked.insert(from)
            }
            for d in op.dependencies {
                guard let from = groupOf[d], from != to, !linked.contains(from), bytes[from]?[to] == nil else { continue }
                order.append((from, to))
                bytes[from, default: [:]][to] = 0
            }
        }
        let names = groups.map { $0.count > 1 ? LayerBlocks.block(of: $0[0].name) : $0[0].name }
        for (from, to) in order {
            let b = bytes[from]?[to] ?? 0
            if column[from] != column[to] {
                s += stubs(
                    from: DOTText.quote("g\(from)"), fromName: names[from], to: DOTText.quote("g\(to)"), toName: names[to], label: b > 0 ? formatBytes(b) : "")
                continue
            }
            let attrs: [(String, String)] = b > 0 ? [("label", formatBytes(b)), ("penwidth", edgeWidth(b))] : [("style", "dashed"), ("color", "#aaaaaa")]
            s += "  \(DOTText.quote("g\(from)")) -> \(DOTText.quote("g\(to)")) \(DOTText.attributes(attrs))\n"
        }
        return s
    }

    // MARK: - Layer ranges

    /// Resolves a layer range against the layer names: `A..B`, `A`, `..B` or `A..`, where each end
    /// is an index from 0 or a layer name (names may hold dots: every `..` is tried as the separator).
    public static func layerRange(_ spec: String, layers: [String]) throws(InputError) -> ClosedRange<Int> {
        let spec = spec.trimmingWhitespace()
        guard !layers.isEmpty else { throw InputError(Diagnostic(at: nil, "the workload has no layers")) }
        func resolve(_ end: String) -> Int? {
            if let i = Int(end) { return i >= 0 && i < layers.count ? i : nil }
            return layers.firstIndex(of: end)
        }
        let expected = "layer indices 0 to \(layers.count - 1) or names such as \(layers.prefix(3).joined(separator: ", "))"
        var splits: [(String, String)] = []
        let chars = Array(spec)
        for i in chars.indices.dropLast() where chars[i] == "." && chars[i + 1] == "." {
            splits.append((String(chars[..<i]), String(chars[(i + 2)...])))
        }
        var firstProblem: String?
        for (a, b) in splits {
            let lo = a.isEmpty ? 0 : resolve(a)
            let hi = b.isEmpty ? layers.count - 1 : resolve(b)
            if let lo, let hi {
                guard lo <= hi else {
                    throw InputError(
                        Diagnostic(at: nil, "layer range '\(spec)' is backwards", expected: "the first layer before the last", found: "\(lo) after \(hi)"))
                }
                return lo...hi
            }
            if firstProblem == nil { firstProblem = lo == nil ? a : b }
        }
        if let one = resolve(spec) { return one...one }
        let unknown = firstProblem ?? spec
        let hint = layers.first { $0.hasPrefix(unknown) || unknown.hasPrefix($0) }.map { "did you mean '\($0)'?" }
        throw InputError(Diagnostic(at: nil, "no layer '\(unknown)' in the layer range '\(spec)'", expected: expected, found: "'\(unknown)'", hint: hint))
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
