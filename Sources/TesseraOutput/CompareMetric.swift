/// A figure that `tessera compare` checks, named as in the JSON report, and which way is worse.
public enum CompareMetric: String, CaseIterable, Sendable, Hashable, Comparable {
    case totalCycles = "total_cycles"
    case seconds
    case utilization
    case stallCycles = "stall_cycles"
    case computeCycles = "compute_cycles"
    case dramReadBytes = "dram_read_bytes"
    case dramWriteBytes = "dram_write_bytes"
    case energyJoules = "energy_j"
    case averagePowerW = "average_power_w"
    case peakPowerW = "peak_power_w"
    // A training step on a cluster (`training_step`).
    case mfu
    case tokensPerSecond = "tokens_per_second"
    case computeSeconds = "compute_s"
    case exposedCommSeconds = "exposed_comm_s"
    case idleSeconds = "idle_s"
    // A serving run (`serving`).
    case ttftP50 = "ttft_p50_s"
    case ttftP90 = "ttft_p90_s"
    case ttftP99 = "ttft_p99_s"
    case tpotP50 = "tpot_p50_s"
    case tpotP90 = "tpot_p90_s"
    case tpotP99 = "tpot_p99_s"
    case sloAttainment = "slo_attainment"
    case goodputRPS = "goodput_rps"

    /// The figures compared for each layer (matched by name); the same names as the top-level ones.
    public static let layerMetrics: [CompareMetric] = [.totalCycles, .computeCycles, .stallCycles]

    /// Figures every report has (schema 2's core); the others belong to clocked hardware or to a
    /// family's section (`section`).
    public var isCore: Bool { self == .seconds || self == .energyJoules }

    /// Where a section's figure sits in the JSON report (`nil`: a top-level key of its own name).
    /// A report without the section has no such figure, and `compare` checks only figures both
    /// reports have.
    public var section: [String]? {
        switch self {
        case .mfu, .tokensPerSecond: ["training_step", rawValue]
        case .computeSeconds, .exposedCommSeconds, .idleSeconds: ["training_step", "time_split", rawValue]
        case .ttftP50, .ttftP90, .ttftP99, .tpotP50, .tpotP90, .tpotP99:
            ["serving", String(rawValue.prefix(4)), String(rawValue.dropFirst(5))]
        case .sloAttainment: ["serving", "slo", "attainment"]
        case .goodputRPS: ["serving", rawValue]
        default: nil
        }
    }

    /// Present in some reports only: power (schema 2), and the family sections' figures.
    public var isOptional: Bool { section != nil || self == .averagePowerW || self == .peakPowerW }

    /// True for cycles, seconds, stalls, bytes, energy, power and latencies (an increase is a
    /// regression); false for utilization, MFU, throughput, SLO attainment and goodput.
    public var higherIsWorse: Bool { ![.utilization, .mfu, .tokensPerSecond, .sloAttainment, .goodputRPS].contains(self) }

    /// Whether the figure is a count (cycles, bytes), printed without decimals.
    public var isCount: Bool { [.totalCycles, .stallCycles, .computeCycles, .dramReadBytes, .dramWriteBytes].contains(self) }

    public static func < (a: CompareMetric, b: CompareMetric) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
