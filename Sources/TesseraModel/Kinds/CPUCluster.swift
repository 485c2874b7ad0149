import TesseraCore
import TesseraSpec

/// A cluster of CPU cores with SIMD units, running what an SoC's accelerators do not (or what
/// placement sends to it), at its own clock.
///
///     CPU cycles = ⌈operations / (cores · lanes · efficiency)⌉,   SoC cycles = ⌈CPU cycles · f_soc / f_cpu⌉
///
/// where an operation is a MAC of a product or a lane-operation of elementwise work, `lanes` the
/// SIMD lanes per core (MACs per cycle per core) and `efficiency` the fraction of peak a kernel
/// library sustains (an assumption of each preset). Each SIMD instruction covers `lanes`
/// operations: instructions = ⌈operations / lanes⌉, each costing `cpu.instruction` energy on top of
/// its arithmetic.
public struct CPUCluster: ComponentModel {
    public static let schema = ComponentSchema(
        kind: "cpu-cluster", role: .compute, summary: "CPU cores with SIMD units, for work no accelerator takes",
        parameters: [
            ParameterDecl("cores", .int(min: 1), "cores used"),
            ParameterDecl("lanes", .int(min: 1), "SIMD MACs (or lane-operations) per cycle per core"),
            ParameterDecl("clock", .quantity(.frequency), "core clock"),
            ParameterDecl("efficiency", .number(min: 0.01, max: 1), default: .number(0.5), "fraction of peak sustained (≤ 1)"),
        ])

    public var name: String
    public var cores: Int
    public var lanes: Int
    public var clock: Frequency
    public var efficiency: Double

    public init(spec: ComponentSpec) {
        name = spec.name
        cores = max(1, spec.int("cores"))
        lanes = max(1, spec.int("lanes"))
        clock = Frequency(hertz: spec.number("clock") ?? 1e9)
        efficiency = min(1, max(0.01, spec.number("efficiency") ?? 0.5))
    }

    public init(name: String = "cpu", cores: Int, lanes: Int, clock: Frequency, efficiency: Double = 1) {
        self.name = name
        self.cores = max(1, cores)
        self.lanes = max(1, lanes)
        self.clock = clock
        self.efficiency = efficiency
    }

    /// SoC cycles (at `socClock`) for `operations` MACs or lane-operations.
    public func cycles(operations: UInt64, socClock: Frequency) -> UInt64 {
        guard operations > 0 else { return 0 }
        let cpuCycles = (Double(operations) / (Double(cores * lanes) * efficiency)).rounded(.up)
        return Saturating.uint64(cpuCycles * socClock.hertz / clock.hertz)
    }

    /// SIMD instructions issued for `operations`.
    public func instructions(operations: UInt64) -> UInt64 { (operations + UInt64(lanes) - 1) / UInt64(lanes) }
}
