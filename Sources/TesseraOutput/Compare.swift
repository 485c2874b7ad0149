import TesseraCore

/// `tessera compare`: checks a current JSON report against a baseline, figure by figure, for CI.
///
/// Compared: the top-level `total_cycles`, `seconds`, `utilization`, `stall_cycles`,
/// `compute_cycles`, `dram_read_bytes`, `dram_write_bytes`, `energy_j` (those both reports have:
/// schema 2 writes the cycle figures for clocked hardware only), and each layer's `total_cycles`,
/// `compute_cycles` and `stall_cycles` (layers matched by name); a cluster report's collective
/// sizes and training-step stages are compared as layers (`ReportFigures.clusterEntries`). A figure whose relative change
/// passes its tolerance in the worse direction is a regression (fails); in the better direction an
/// improvement (fails only when strict). Layers present in one report only mean a different
/// workload shape, and fail. Reports of different workloads, or of a schema version this tessera
/// cannot read, are refused as bad input, before any figure is compared; so are reports of
/// different hardware, unless `designs` (an A/B of two candidate designs on one workload).
public enum ReportComparison {
    /// Loads both files (reporting the problems of both at once) and compares them.
    public static func compare(
        baselinePath: String, currentPath: String, tolerance: CompareTolerance = CompareTolerance(), strict: Bool = false, designs: Bool = false
    ) throws(InputError) -> CompareReport {
        var diagnostics: [Diagnostic] = []
        var baseline: ReportFigures?
        var current: ReportFigures?
        do { baseline = try ReportFigures.load(path: baselinePath, role: "baseline") } catch { diagnostics += error.diagnostics }
        do { current = try ReportFigures.load(path: currentPath, role: "current") } catch { diagnostics += error.diagnostics }
        guard let baseline, let current, diagnostics.isEmpty else { throw InputError(diagnostics) }
        return try compare(baseline: baseline, current: current, tolerance: tolerance, strict: strict, designs: designs)
    }

    /// Compares two parsed reports; refuses a pair of different workloads, and of different
    /// hardware unless `designs`.
    public static func compare(
        baseline: ReportFigures, current: ReportFigures, tolerance: CompareTolerance = CompareTolerance(), strict: Bool = false, designs: Bool = false
    ) throws(InputError) -> CompareReport {
        var bag = DiagnosticBag()
        let hint = "compare a report only with a baseline of the same schema, hardware and workload"
        if baseline.hardware != current.hardware, !designs {
            bag.error(
                current.location(ofKey: "hardware"),
                "the reports are for different hardware: baseline '\(baseline.path)' has '\(baseline.hardware)', current '\(current.path)' has '\(current.hardware)'",
                hint: "to compare two candidate designs on one workload, add --designs")
        }
        if baseline.workload != current.workload {
            bag.error(
                current.location(ofKey: "workload"),
                "the reports are for different workloads: baseline '\(baseline.path)' has '\(baseline.workload)', current '\(current.path)' has '\(current.workload)'",
                hint: hint)
        }
        try bag.throwIfErrors()

        // The figures both reports have (a schema-1 baseline of a cluster has cycles a schema-2 report does not).
        let figures = CompareMetric.allCases.filter { baseline.figures[$0] != nil && current.figures[$0] != nil }.map { m in
            FigureDelta(metric: m, baseline: baseline.figures[m] ?? 0, current: current.figures[m] ?? 0, tolerance: tolerance.fraction(for: m))
        }
        let baselineLayers = Dictionary(baseline.layers.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let currentKeys = Set(current.layers.map(\.key))
        var layers: [CompareReport.LayerDelta] = []
        var added: [String] = []
        for layer in current.layers {
            guard let before = baselineLayers[layer.key] else {
                added.append(layer.key)
                continue
            }
            let deltas = CompareMetric.layerMetrics.map { m in
                FigureDelta(metric: m, baseline: before.figures[m] ?? 0, current: layer.figures[m] ?? 0, tolerance: tolerance.fraction(for: m))
            }
            layers.append(CompareReport.LayerDelta(name: layer.key, figures: deltas))
        }
        let removed = baseline.layers.map(\.key).filter { !currentKeys.contains($0) }
        return CompareReport(
            baselinePath: baseline.path, currentPath: current.path,
            hardware: baseline.hardware == current.hardware ? current.hardware : "\(baseline.hardware) (baseline) against \(current.hardware)", workload: current.workload,
            schema: current.schema,
            tolerance: tolerance, strict: strict, figures: figures, layers: layers, removedLayers: removed, addedLayers: added)
    }
}

/// One figure compared: its two values, the relative change and what the change means.
public struct FigureDelta: Sendable, Equatable {
    public enum Status: String, Sendable {
        case unchanged
        case withinTolerance = "within tolerance"
        case regression
        case improvement
    }

    public var metric: CompareMetric
    public var baseline: Double
    public var current: Double
    /// The tolerance this figure was held to, as a fraction.
    public var tolerance: Double
    /// (current − baseline) / |baseline|; ±∞ when the baseline is 0 and the current is not.
    public var change: Double
    public var status: Status

    public init(metric: CompareMetric, baseline: Double, current: Double, tolerance: Double) {
        self.metric = metric
        self.baseline = baseline
        self.current = current
        self.tolerance = tolerance
        if current == baseline {
            change = 0
        } else if baseline == 0 {
            change = current > 0 ? .infinity : -.infinity
        } else {
            change = (current - baseline) / abs(baseline)
        }
        // A change exactly at the tolerance passes; rounding noise at the boundary (1.01 / 1.0 is
        // 0.010000000000000009) does not make it fail.
        let beyond = change != 0 && abs(change) > tolerance && !(abs(abs(change) - tolerance) <= 1e-9 * tolerance)
        if change == 0 {
            status = .unchanged
        } else if !beyond {
            status = .withinTolerance
        } else {
            status = (change > 0) == metric.higherIsWorse ? .regression : .improvement
        }
    }
}
