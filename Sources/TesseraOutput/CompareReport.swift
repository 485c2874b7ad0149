/// The result of `tessera compare`: every figure's change, the layers matched by name, the layers
/// only one report has, and the pass/fail decision. Rendered as Markdown and JUnit XML in
/// `CompareReport+Formats.swift`.
public struct CompareReport: Sendable {
    /// A layer present in both reports, with its cycle figures compared.
    public struct LayerDelta: Sendable {
        /// The layer's name (`name#2` for the second layer of a repeated name).
        public var name: String
        public var figures: [FigureDelta]

        /// Whether any of its figures changed at all.
        public var moved: Bool { figures.contains { $0.status != .unchanged } }
        /// The largest absolute change of its figures, in cycles: how far it moved.
        public var cyclesMoved: Double { figures.map { abs($0.current - $0.baseline) }.max() ?? 0 }
        /// The largest relative change of its figures.
        public var largestChange: Double { figures.map { abs($0.change) }.max() ?? 0 }
    }

    /// A figure beyond its tolerance, and what it belongs to ("total_cycles", "layer conv1 stall_cycles").
    public struct Finding: Sendable {
        public var subject: String
        public var delta: FigureDelta
    }

    public var baselinePath: String
    public var currentPath: String
    public var hardware: String
    public var workload: String
    public var schema: Int
    public var tolerance: CompareTolerance
    /// Whether improvements beyond tolerance fail too.
    public var strict: Bool
    /// Whether the comparison is a gate (a pass or a fail); false for an A/B of two designs not
    /// asked to gate, which states the deltas and passes.
    public var gates = true
    /// The top-level figures, in `CompareMetric.allCases` order.
    public var figures: [FigureDelta]
    /// Layers in both reports, in the current report's order.
    public var layers: [LayerDelta]
    /// Layers only the baseline has.
    public var removedLayers: [String]
    /// Layers only the current report has.
    public var addedLayers: [String]

    private func findings(_ status: FigureDelta.Status) -> [Finding] {
        figures.filter { $0.status == status }.map { Finding(subject: $0.metric.rawValue, delta: $0) }
            + layers.flatMap { l in l.figures.filter { $0.status == status }.map { Finding(subject: "layer \(l.name) \($0.metric.rawValue)", delta: $0) } }
    }

    /// Figures worse than the baseline by more than their tolerance.
    public var regressions: [Finding] { findings(.regression) }
    /// Figures better than the baseline by more than their tolerance.
    public var improvements: [Finding] { findings(.improvement) }
    /// Whether the layer sets differ: a different workload shape.
    public var layersDiffer: Bool { !removedLayers.isEmpty || !addedLayers.isEmpty }

    /// Passes when nothing regressed, the layers match, and (when strict) nothing improved beyond tolerance.
    public var passed: Bool { regressions.isEmpty && !layersDiffer && !(strict && !improvements.isEmpty) }

    /// The layers that moved most (largest change in cycles, then largest relative change), at most `limit`.
    public func layersThatMovedMost(limit: Int = 10) -> [LayerDelta] {
        let moved = layers.enumerated().filter { $0.element.moved }
        let sorted = moved.sorted { a, b in
            if a.element.cyclesMoved != b.element.cyclesMoved { return a.element.cyclesMoved > b.element.cyclesMoved }
            if a.element.largestChange != b.element.largestChange { return a.element.largestChange > b.element.largestChange }
            return a.offset < b.offset
        }
        return sorted.prefix(limit).map(\.element)
    }
}
