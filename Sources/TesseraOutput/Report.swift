import TesseraCore
import TesseraModel
import TesseraPlan
import TesseraSim

/// The figures of one simulation, per layer and per unit: what every output format renders.
///
/// The JSON form is the stable contract (schema version `Report.schemaVersion`); fields may be
/// added, never renamed.
public struct Report: Sendable {
    public static let schemaVersion = 1

    public struct Layer: Sendable {
        public var name: String
        public var op: String
        public var unit: String?
        public var dataflow: String?
        public var gemm: GemmShape?
        public var rowFolds: Int
        public var colFolds: Int
        public var computeCycles: UInt64
        public var stallCycles: UInt64
        public var totalCycles: UInt64
        public var macs: UInt64
        /// MACs / (total cycles · PEs).
        public var utilization: Double
        public var mappingEfficiency: Double
        public var computeUtilization: Double
        public var dramReadBytes: UInt64
        public var dramWriteBytes: UInt64
        public var sramReadBytes: UInt64
        public var sramWriteBytes: UInt64
        public var tiles: Int
    }

    public struct Unit: Sendable {
        public var name: String
        public var kind: String
        public var busyCycles: UInt64
        public var utilization: Double
    }

    public var hardware: String
    public var workload: String
    public var clockHz: Double
    public var totalCycles: UInt64
    public var seconds: Double
    public var macs: UInt64
    public var peCount: Int
    public var layers: [Layer]
    public var units: [Unit]
    public var events: UInt64
    /// The offline schedule's estimate of total cycles (see `Plan.estimatedCycles`).
    public var planEstimateCycles: UInt64
    /// Plain statements of what the model approximates, with formulas.
    public var modelNotes: [String]

    public var utilization: Double { totalCycles == 0 || peCount == 0 ? 0 : Double(macs) / (Double(totalCycles) * Double(peCount)) }
    public var stallCycles: UInt64 { layers.reduce(0) { $0 + $1.stallCycles } }
    public var computeCycles: UInt64 { layers.reduce(0) { $0 + $1.computeCycles } }
    public var dramReadBytes: UInt64 { layers.reduce(0) { $0 + $1.dramReadBytes } }
    public var dramWriteBytes: UInt64 { layers.reduce(0) { $0 + $1.dramWriteBytes } }

    public static let notes = [
        "compute cycles: SCALE-Sim v3's closed forms per fold (os: T+R+C-2; ws, is: 2R+C+T-2), folds run back to back, total = count*folds*L - 1",
        "layers run as a chain in workload order; residual branches are sequenced",
        "pooling and elementwise layers have no vector unit here: they are DRAM traffic only (read inputs, write output)",
        "weight/input-stationary partial sums stay in the ofmap buffer; DRAM sees each output once",
        "DRAM serves transfers in issue order: a transfer of b bytes occupies it b/bandwidth and completes latency later",
        "SRAM port bandwidth is accounted as busy cycles (bytes / bytes-per-cycle) but does not slow compute",
        "engine time is whole picoseconds: the clock period is 10^12/f rounded to the nearest picosecond",
        "plan_estimate_cycles is the offline schedule's estimate: sum over tiles of max(compute, DRAM bytes / bandwidth), no latency or contention",
    ]

    public init(plan: Plan, result: SimResult, hardwareName: String, workloadName: String) {
        let pes = plan.hardware.arrays.first?.peCount ?? 0
        hardware = hardwareName
        workload = workloadName
        clockHz = plan.hardware.clock.hertz
        totalCycles = result.totalCycles
        seconds = Double(result.totalPicoseconds) / 1e12
        macs = plan.ops.reduce(0) { $0 + $1.macs }
        peCount = pes
        events = result.events
        planEstimateCycles = plan.estimatedCycles
        modelNotes = Report.notes
        layers = zip(plan.ops, result.ops).map { p, s in
            Layer(
                name: p.name, op: p.opName, unit: p.unit, dataflow: p.dataflow?.rawValue, gemm: p.gemm, rowFolds: p.rowFolds, colFolds: p.colFolds,
                computeCycles: s.computeCycles, stallCycles: s.stallCycles, totalCycles: s.totalCycles, macs: p.macs,
                utilization: s.totalCycles == 0 || pes == 0 ? 0 : Double(p.macs) / (Double(s.totalCycles) * Double(pes)),
                mappingEfficiency: p.mappingEfficiency, computeUtilization: p.computeUtilization, dramReadBytes: p.dramRead,
                dramWriteBytes: p.dramWrite, sramReadBytes: p.sramRead, sramWriteBytes: p.sramWrite, tiles: p.tiles.count)
        }
        units = result.units.map { u in
            Unit(name: u.name, kind: u.kind, busyCycles: u.busyCycles, utilization: result.totalCycles == 0 ? 0 : Double(u.busyCycles) / Double(result.totalCycles))
        }
    }
}
