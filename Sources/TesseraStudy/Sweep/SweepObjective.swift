import TesseraCore
import TesseraModel
import TesseraSpec
import TesseraOutput

/// A figure a sweep reports per point and may take a Pareto front over: its name (the results
/// column), whether less or more is better, and its unit.
public struct SweepObjective: Sendable {
    public enum Goal: String, Sendable, Hashable { case min, max }

    /// What one point's run gives an objective to read from.
    public struct Source: Sendable {
        public var report: Report
        public var hardware: HardwareModel
        public var workload: WorkloadSpec
    }

    public var name: String
    public var goal: Goal
    /// The unit of the column, as it is written on a plot's axis ("" for a plain number).
    public var unit: String
    public var summary: String
    let read: @Sendable (Source) -> Double?

    /// Every objective, in the order `tessera sweep` documents them.
    public static let all: [SweepObjective] = [
        SweepObjective(name: "total_cycles", goal: .min, unit: "cycles", summary: "simulated cycles of the whole workload") { Double($0.report.totalCycles) },
        SweepObjective(name: "seconds", goal: .min, unit: "s", summary: "simulated time, total_cycles / clock") { $0.report.seconds },
        SweepObjective(name: "utilization", goal: .max, unit: "", summary: "MACs / (total cycles · PEs), 0–1") { $0.report.utilization },
        SweepObjective(name: "compute_cycles", goal: .min, unit: "cycles", summary: "cycles the arrays compute") { Double($0.report.computeCycles) },
        SweepObjective(name: "stall_cycles", goal: .min, unit: "cycles", summary: "cycles the arrays wait for DRAM") { Double($0.report.stallCycles) },
        SweepObjective(name: "plan_estimate_cycles", goal: .min, unit: "cycles", summary: "the offline schedule's estimate") {
            Double($0.report.planEstimateCycles)
        },
        SweepObjective(name: "dram_read_bytes", goal: .min, unit: "B", summary: "bytes read from DRAM") { Double($0.report.dramReadBytes) },
        SweepObjective(name: "dram_write_bytes", goal: .min, unit: "B", summary: "bytes written to DRAM") { Double($0.report.dramWriteBytes) },
        SweepObjective(name: "dram_bytes", goal: .min, unit: "B", summary: "bytes read from and written to DRAM") {
            Double($0.report.dramReadBytes + $0.report.dramWriteBytes)
        },
        SweepObjective(name: "energy_j", goal: .min, unit: "J", summary: "energy of the run (dynamic + static)") { $0.report.energy.totalJoules },
        SweepObjective(name: "average_power_w", goal: .min, unit: "W", summary: "energy / seconds") { $0.report.energy.averageWatts },
        SweepObjective(name: "peak_power_w", goal: .min, unit: "W", summary: "the largest power window of the run") { $0.report.energy.peakWatts },
        SweepObjective(name: "pe_count", goal: .min, unit: "PEs", summary: "processing elements of the arrays (an area proxy)") { s in
            let pes = s.hardware.arrays.reduce(0) { $0 + $1.peCount } + s.hardware.sparseArrays.reduce(0) { $0 + $1.peCount }
            return pes == 0 ? nil : Double(pes)
        },
        SweepObjective(name: "dram_bandwidth", goal: .min, unit: "GB/s", summary: "the DRAM bandwidth of the hardware (a cost); empty when unlimited") { s in
            s.hardware.dram.bandwidth.map { $0.bytesPerSecond / 1e9 }
        },
        SweepObjective(name: "samples_per_second", goal: .max, unit: "samples/s", summary: "batch / seconds") { s in
            s.report.seconds > 0 ? Double(s.workload.batch) / s.report.seconds : nil
        },
        // GPU clusters: a training step, and LLM serving.
        SweepObjective(name: "mfu", goal: .max, unit: "", summary: "model FLOPs utilization of a training step, 0–1") { $0.report.clusterStep?.mfu },
        SweepObjective(name: "tokens_per_second", goal: .max, unit: "tokens/s", summary: "tokens trained per second (serving: output tokens per second)") { s in
            s.report.clusterStep?.tokensPerSecond ?? s.report.serving?.outputTokensPerSecond
        },
        SweepObjective(name: "exposed_comm_s", goal: .min, unit: "s", summary: "communication a GPU waits for per step (GPU-weighted mean)") { $0.report.clusterStep?.split.exposedComm },
        SweepObjective(name: "peak_memory_bytes", goal: .min, unit: "B", summary: "the largest per-GPU memory of any stage of a training step") { s in
            s.report.clusterStep?.stages.map { $0.memory.weights + $0.memory.gradients + $0.memory.optimizer + $0.memory.activations }.max()
        },
        SweepObjective(name: "goodput_rps", goal: .max, unit: "requests/s", summary: "requests per second meeting both SLOs (serving)") { $0.report.serving?.goodput },
        SweepObjective(name: "slo_attainment", goal: .max, unit: "", summary: "share of requests meeting both SLOs (serving)") { $0.report.serving?.attainment },
        SweepObjective(name: "ttft_p90_s", goal: .min, unit: "s", summary: "90th-percentile time to first token (serving)") { $0.report.serving?.ttft.p90 },
        SweepObjective(name: "tpot_p90_s", goal: .min, unit: "s", summary: "90th-percentile time per output token (serving)") { $0.report.serving?.tpot.p90 },
    ]

    /// Objectives named by the design that this version cannot report, with the reason.
    public static let unavailable: [String: String] = [:]

    public static func named(_ name: String) -> SweepObjective? { all.first { $0.name == name } }

    /// The sweep-file loader, wired with the kind table and these objectives.
    public static var loader: SweepLoader {
        SweepLoader(hardwareLoader: KindTable.hardwareLoader, objectives: all.map(\.name), unavailableObjectives: unavailable)
    }
}
