import TesseraCore

/// Which file of a sweep point an axis sets.
public enum SweepTarget: String, Sendable, Hashable {
    case hardware, workload
}

/// What to do with a point that fails validation: skip it (it is reported and recorded as
/// `invalid`) or stop before anything runs.
public enum OnInvalid: String, Sendable, Hashable, CaseIterable {
    case skip, fail
}

/// One axis of a sweep: a field and the values it takes.
public struct SweepAxis: Sendable, Hashable {
    /// The key as written in the sweep file (the column name in results), e.g. `compute.array.rows`.
    public var path: String
    /// Where the key is written.
    public var location: SourceLocation
    public var target: SweepTarget
    /// The steps from the root of the target's tree to the field.
    public var steps: [FieldPath.Step]
    /// When the base file leaves the field out: the key the override adds to the mapping at `steps`.
    public var addedKey: String?
    /// The values, each with the place it comes from in the sweep file.
    public var values: [SpecNode]

    /// Each value as a person reads it (the text written in results).
    public var texts: [String] { values.map(\.flowText) }
}

/// A located name in a sweep file (an objective, a column).
public struct LocatedName: Sendable, Hashable {
    public var name: String
    public var location: SourceLocation
    public init(_ name: String, at location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

/// A validated design-space sweep: base hardware and workload trees, the axes over their fields,
/// how the axes combine, the objectives to report and the plots to draw.
///
/// Points are numbered from 0 in a fixed order: the axes (zip groups count as one) combine by full
/// product, the first written varying slowest. A point's values are found from its number alone,
/// so the point list is never materialised.
public struct SweepSpec: Sendable {
    public var name: String
    public var file: String
    /// The base files, as resolved relative to the sweep file.
    public var hardwarePath: String
    public var workloadPath: String
    /// The base trees, with `extends:` resolved.
    public var hardware: SpecNode
    public var workload: SpecNode
    public var axes: [SweepAxis]
    /// The dimensions of the product: each lists the axes (indices into `axes`) that move together;
    /// a plain axis is a dimension of one.
    public var dimensions: [[Int]]
    public var objectives: [LocatedName]
    /// The objectives the Pareto front is taken over (a subset of `objectives`, all by default).
    public var pareto: [LocatedName]
    public var onInvalid: OnInvalid
    public var plots: [PlotRequest]

    /// The most points a sweep may have.
    public static let maxPoints = 10_000_000

    /// Values per dimension.
    public var dimensionSizes: [Int] { dimensions.map { axes[$0[0]].values.count } }

    /// The number of points: the product of the dimension sizes.
    public var count: Int { dimensionSizes.reduce(1, *) }

    /// For point `index`, the index of the value each axis takes (in `axes` order).
    public func valueIndices(point index: Int) -> [Int] {
        var out = [Int](repeating: 0, count: axes.count)
        var rest = index
        for (d, size) in zip(dimensions, dimensionSizes).reversed() {
            let v = rest % size
            rest /= size
            for a in d { out[a] = v }
        }
        return out
    }

    /// The value texts of point `index`, in `axes` order.
    public func valueTexts(point index: Int) -> [String] {
        zip(axes, valueIndices(point: index)).map { $0.values[$1].flowText }
    }

    /// The hardware and workload trees of point `index`: the base trees with every axis's value set.
    public func trees(point index: Int) -> (hardware: SpecNode, workload: SpecNode) {
        var hw = hardware
        var wl = workload
        for (axis, v) in zip(axes, valueIndices(point: index)) {
            let value = axis.values[v]
            switch axis.target {
            case .hardware: hw = hw.replacing(axis.steps[...], with: value, addKey: axis.addedKey, keyLocation: axis.location)
            case .workload: wl = wl.replacing(axis.steps[...], with: value, addKey: axis.addedKey, keyLocation: axis.location)
            }
        }
        return (hw, wl)
    }

    /// A digest of everything that decides the results: the name, the base trees, the axes and
    /// their values, how they combine and the objectives. Places, file names and plots are left out,
    /// so the same sweep run from another directory (or a batch node) has the same digest.
    /// The digest of everything but the axes' values: two sweeps with the same frame differ only
    /// in the values on their axes, so the finished points of one are points of the other.
    public var frameDigest: String {
        var text = "tessera-sweep-frame 1\nname \(name)\nhardware \(hardware.canonicalText)\nworkload \(workload.canonicalText)\n"
        for a in axes { text += "axis \(a.target.rawValue) \(a.path) \(a.addedKey ?? "-")\n" }
        text += "dimensions \(dimensions)\nobjectives \(objectives.map(\.name))\npareto \(pareto.map(\.name))\n"
        return Digest.fnv1a64Hex(text)
    }

    public var digest: String {
        var text = "tessera-sweep 1\nname \(name)\nhardware \(hardware.canonicalText)\nworkload \(workload.canonicalText)\n"
        for a in axes {
            text += "axis \(a.target.rawValue) \(a.path) \(a.addedKey ?? "-") " + a.values.map(\.canonicalText).joined(separator: "|") + "\n"
        }
        text += "dimensions \(dimensions)\nobjectives \(objectives.map(\.name))\npareto \(pareto.map(\.name))\n"
        return Digest.fnv1a64Hex(text)
    }
}

/// Which points of a sweep one shard runs: shard `index` of `count` (1-based) takes the points
/// whose number modulo `count` is `index - 1`, so shards are disjoint, cover every point, and each
/// gets a spread of the design space.
public struct SweepShard: Sendable, Hashable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public static let whole = SweepShard(uncheckedIndex: 1, count: 1)

    init(uncheckedIndex index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `i/n` with 1 ≤ i ≤ n.
    public init(parsing text: String) throws(InputError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw InputError(Diagnostic(at: nil, "malformed shard '\(text)'", expected: "i/n with 1 ≤ i ≤ n, such as 2/8", found: "'\(text)'"))
        }
        guard n >= 1, i >= 1, i <= n else {
            throw InputError(
                Diagnostic(
                    at: nil, "shard '\(text)' does not exist", expected: "i/n with 1 ≤ i ≤ n, such as 2/8",
                    found: n < 1 ? "\(n) shards" : "shard \(i) of \(n)"))
        }
        self.init(uncheckedIndex: i, count: n)
    }

    public func contains(_ point: Int) -> Bool { point % count == index - 1 }

    /// The points of a sweep of `total` points in this shard, in order.
    public func points(of total: Int) -> StrideTo<Int> { stride(from: index - 1, to: total, by: count) }

    public var description: String { "\(index)/\(count)" }
}

/// FNV-1a, 64 bits: a stable digest for telling sweeps apart (not for security).
public enum Digest {
    public static func fnv1a64Hex(_ text: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in text.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
