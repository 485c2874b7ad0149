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

    /// The figures compared for each layer (matched by name); the same names as the top-level ones.
    public static let layerMetrics: [CompareMetric] = [.totalCycles, .computeCycles, .stallCycles]

    /// Figures every report has (schema 2's core); the others belong to clocked hardware.
    public var isCore: Bool { self == .seconds || self == .energyJoules }

    /// True for cycles, seconds, stalls and bytes (an increase is a regression); false for
    /// utilization (a decrease is a regression).
    public var higherIsWorse: Bool { self != .utilization }

    /// Whether the figure is a count (cycles, bytes), printed without decimals.
    public var isCount: Bool { self != .seconds && self != .utilization && self != .energyJoules }

    public static func < (a: CompareMetric, b: CompareMetric) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
