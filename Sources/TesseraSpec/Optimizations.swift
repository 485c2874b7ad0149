import TesseraCore

/// The three dataflow optimizations of a sparse training accelerator, each of which can be turned
/// off (in YAML under `optimizations:`, or with a CLI flag) to measure what it buys.
///
/// ```yaml
/// optimizations: {interleave: true, pregeneration: true, offline_schedule: true}
/// ```
public struct Optimizations: Sendable, Hashable, CustomStringConvertible {
    /// Interleave mapping: independent array operations (a layer's backward-data and
    /// weight-gradient passes) share the array tile by tile, and the next operation's tiles are
    /// fetched while the current one computes. Off: one operation at a time, each starting to
    /// fetch only when the previous one has finished computing.
    public var interleave: Bool
    /// Pre-generation: the mask generator prunes every layer's weights (both masks) ahead of use,
    /// as soon as it is free. Off: a layer's mask is generated on demand, only once the operation
    /// before its consumer has finished, so generation sits on the critical path.
    public var pregeneration: Bool
    /// Offline scheduling: a static, resource-aware list schedule (critical-path priority) fixes
    /// the order of every unit's work before simulation. Off: online greedy in-order dispatch in
    /// program order.
    public var offlineSchedule: Bool

    public init(interleave: Bool = true, pregeneration: Bool = true, offlineSchedule: Bool = true) {
        self.interleave = interleave
        self.pregeneration = pregeneration
        self.offlineSchedule = offlineSchedule
    }

    /// The YAML keys, in order, with the key path of each flag.
    nonisolated(unsafe) public static let keys: [(key: String, path: WritableKeyPath<Optimizations, Bool>)] = [
        ("interleave", \.interleave), ("pregeneration", \.pregeneration), ("offline_schedule", \.offlineSchedule),
    ]

    public var description: String {
        Optimizations.keys.map { "\($0.key)=\(self[keyPath: $0.path] ? "on" : "off")" }.joined(separator: " ")
    }

    static func read(_ node: SpecNode, bag: inout DiagnosticBag) -> Optimizations {
        var o = Optimizations()
        guard var r = MappingReader(node, what: "'optimizations'", bag: &bag) else { return o }
        for (key, path) in keys {
            guard let v = r.optional(key) else { continue }
            if let b = Scalar.bool(v, what: "'optimizations.\(key)'", bag: &bag) { o[keyPath: path] = b }
        }
        r.finish(bag: &bag)
        return o
    }
}
