import TesseraCore

/// A collective microbenchmark: one operation run once per message size, as nccl-tests does.
public struct CollectiveSpec: Sendable, Hashable {
    public enum Op: String, Sendable, Hashable, CaseIterable {
        case allReduce = "all-reduce", reduceScatter = "reduce-scatter", allGather = "all-gather", broadcast, reduce
        case allToAll = "all-to-all", sendRecv = "send-recv"
    }
    public enum Algorithm: String, Sendable, Hashable, CaseIterable {
        case auto, ring, doubleBinaryTree = "double-binary-tree", halvingDoubling = "halving-doubling", direct, hierarchical, nvls
    }
    public var op: Op
    /// Message sizes S in bytes (the nccl-tests convention: the whole buffer of one rank).
    public var sizes: [UInt64]
    public var algorithm: Algorithm
    /// Pipelining chunk of ring broadcast and reduce and of double-binary-tree all-reduce, bytes.
    public var chunk: UInt64
    public var location: SourceLocation
    public var algorithmLocation: SourceLocation
    /// Slowed or cut links and NICs, in force for every size (C4: find them from the timing).
    public var faults: [FaultSpec] = []
    public init(op: Op, sizes: [UInt64], algorithm: Algorithm, chunk: UInt64 = 1 << 20, location: SourceLocation, algorithmLocation: SourceLocation) {
        self.op = op
        self.sizes = sizes
        self.algorithm = algorithm
        self.chunk = chunk
        self.location = location
        self.algorithmLocation = algorithmLocation
    }
    /// Algorithms the design names that this version does not build.
    public static let plannedAlgorithms: [String] = []
}

/// Reads the `collective:` section of a workload.
enum CollectiveReader {
    static func read(_ node: SpecNode, bag: inout DiagnosticBag) -> CollectiveSpec? {
        guard var r = MappingReader(node, what: "'collective'", bag: &bag) else { return nil }
        var op: CollectiveSpec.Op?
        let ops = CollectiveSpec.Op.allCases.map(\.rawValue)
        if let o = r.required("op", expected: "one of " + ops.map { "'\($0)'" }.joined(separator: ", "), bag: &bag) {
            if let v = o.scalar.flatMap(CollectiveSpec.Op.init(rawValue:)) {
                op = v
            } else {
                bag.error(o.location, "unknown collective", expected: "one of " + ops.map { "'\($0)'" }.joined(separator: ", "), found: o.kindDescription,
                    hint: closestMatch(to: o.scalar ?? "", in: ops).map { "did you mean '\($0)'?" })
            }
        }
        var sizes: [UInt64] = []
        if let s = r.required("sizes", expected: "a list of sizes such as [1 MiB, 1 GiB]", bag: &bag) {
            if let items = s.items, !items.isEmpty {
                for item in items {
                    if case .number(let b)? = Scalar.quantity(item, .size, what: "an entry of 'collective.sizes'", bag: &bag) {
                        if b >= 1, b < 1e15 { sizes.append(UInt64(b.rounded())) } else {
                            bag.error(item.location, "a message size is out of range", expected: "between 1 B and 1 PB", found: item.kindDescription)
                        }
                    }
                }
            } else if s.entries != nil {
                sizes = sizeRange(s, bag: &bag)
            } else {
                bag.error(
                    s.location, "'collective.sizes' must be a non-empty list or a range", expected: "[1 MiB, 1 GiB], or {from: 8 B, to: 8 GiB, factor: 2}",
                    found: s.kindDescription)
            }
        }
        var algorithm = CollectiveSpec.Algorithm.auto
        var algorithmLocation = node.location
        if let a = r.optional("algorithm") {
            algorithmLocation = a.location
            let names = CollectiveSpec.Algorithm.allCases.map(\.rawValue)
            if let v = a.scalar.flatMap(CollectiveSpec.Algorithm.init(rawValue:)) {
                algorithm = v
            } else if let s = a.scalar, CollectiveSpec.plannedAlgorithms.contains(s) {
                bag.error(a.location, "the '\(s)' algorithm is not supported by this version", expected: "one of " + names.map { "'\($0)'" }.joined(separator: ", "), found: "'\(s)'")
            } else {
                bag.error(a.location, "unknown collective algorithm", expected: "one of " + names.map { "'\($0)'" }.joined(separator: ", "), found: a.kindDescription,
                    hint: closestMatch(to: a.scalar ?? "", in: names).map { "did you mean '\($0)'?" })
            }
        }
        var chunk: UInt64 = 1 << 20
        if let c = r.optional("chunk"), case .number(let b)? = Scalar.quantity(c, .size, what: "'collective.chunk'", bag: &bag) {
            if b >= 1, b < 1e15 {
                chunk = UInt64(b.rounded())
            } else {
                bag.error(c.location, "'collective.chunk' is out of range", expected: "between 1 B and 1 PB", found: c.kindDescription)
            }
        }
        r.finish(bag: &bag)
        guard let op, !sizes.isEmpty else { return nil }
        return CollectiveSpec(op: op, sizes: sizes, algorithm: algorithm, chunk: chunk, location: node.location, algorithmLocation: algorithmLocation)
    }

    /// `sizes: {from: 8 B, to: 8 GiB, factor: 2}`: nccl-tests' `-b 8 -e 8G -f 2`, from `from`
    /// multiplying by `factor` while the size stays at most `to` (at most 50 sizes: factor ≥ 2
    /// between 1 B and 1 PB).
    static func sizeRange(_ node: SpecNode, bag: inout DiagnosticBag) -> [UInt64] {
        guard var r = MappingReader(node, what: "'collective.sizes'", bag: &bag) else { return [] }
        func size(_ key: String) -> Double? {
            guard let n = r.required(key, expected: "a size such as 8 B or 8 GiB", bag: &bag) else { return nil }
            guard case .number(let b)? = Scalar.quantity(n, .size, what: "'sizes.\(key)'", bag: &bag) else { return nil }
            guard b >= 1, b < 1e15 else {
                bag.error(n.location, "a message size is out of range", expected: "between 1 B and 1 PB", found: n.kindDescription)
                return nil
            }
            return b.rounded()
        }
        let from = size("from"), to = size("to")
        let factor = r.required("factor", expected: "an integer ≥ 2 (nccl-tests' -f)", bag: &bag).flatMap { Scalar.int($0, min: 2, max: 1024, what: "'sizes.factor'", bag: &bag) }
        r.finish(bag: &bag)
        guard let from, let to, let factor else { return [] }
        guard from <= to else {
            bag.error(node.location, "the size range runs backwards", expected: "from ≤ to", found: "from \(formatBytes(UInt64(from))) to \(formatBytes(UInt64(to)))")
            return []
        }
        var out: [UInt64] = []
        var v = from
        while v <= to {
            out.append(UInt64(v))
            v *= Double(factor)
        }
        return out
    }
}
