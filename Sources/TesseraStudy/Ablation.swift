import TesseraCore
import TesseraSpec
import TesseraOutput

/// The same sparse training run with each dataflow optimization removed in turn, all removed, and
/// dense, to show what each optimization buys.
public struct Ablation: Sendable {
    public struct Row: Sendable {
        public var name: String
        public var optimizations: Optimizations
        public var dense: Bool
        public var totalCycles: UInt64
        public var seconds: Double
    }

    public var workload: String
    public var hardware: String
    public var rows: [Row]

    /// The configurations run, in order: all on, each off in turn, all off, and the dense run with
    /// all on.
    public static let configurations: [(String, Optimizations, Bool)] = [
        ("all optimizations", Optimizations(), false),
        ("no interleave mapping", Optimizations(interleave: false), false),
        ("no pre-generation", Optimizations(pregeneration: false), false),
        ("no offline schedule", Optimizations(offlineSchedule: false), false),
        ("none", Optimizations(interleave: false, pregeneration: false, offlineSchedule: false), false),
        ("dense, all optimizations", Optimizations(), true),
    ]

    /// Runs every configuration of `pipeline` (whose own optimizations are replaced).
    public static func run(_ pipeline: Pipeline) throws -> Ablation {
        var rows: [Row] = []
        for (name, o, dense) in configurations {
            var p = dense ? pipeline.dense : pipeline
            p.hardware.optimizations = o
            let r = try p.run(recordTimeline: false).report
            rows.append(Row(name: name, optimizations: o, dense: dense, totalCycles: r.totalCycles, seconds: r.seconds))
        }
        return Ablation(workload: pipeline.workload.name, hardware: pipeline.hardware.name, rows: rows)
    }

    /// A Markdown table: each configuration's cycles, time, and its cost relative to all on.
    public func markdown() -> String {
        let base = rows.first?.totalCycles ?? 0
        var s = "# Ablation: \(workload) on \(hardware)\n\n"
        s += "| configuration | interleave | pre-generation | offline schedule | total cycles | time (ms) | vs all on |\n"
        s += "| --- | :---: | :---: | :---: | ---: | ---: | ---: |\n"
        for r in rows {
            let onOff = { (b: Bool) in b ? "on" : "off" }
            let delta = base == 0 ? 0 : (Double(r.totalCycles) / Double(base) - 1) * 100
            let sign = delta >= 0 ? "+" : ""
            s += "| \(r.name) | \(onOff(r.optimizations.interleave)) | \(onOff(r.optimizations.pregeneration)) | \(onOff(r.optimizations.offlineSchedule)) | "
            s += "\(r.totalCycles) | \(formatDecimal(r.seconds * 1e3, maxDecimals: 3)) | \(sign)\(formatDecimal(delta, maxDecimals: 2))% |\n"
        }
        return s
    }
}
