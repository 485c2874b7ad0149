import TesseraCore
import TesseraSpec

/// The typed component models of one hardware spec, built from the kind table.
public struct HardwareModel: Sendable {
    public var spec: HardwareSpec
    public var arrays: [SystolicArray]
    public var buffers: [SRAMBuffer]
    public var sparseArrays: [NMSparseArray]
    public var maskGenerators: [MaskGenerator]
    public var vectorUnits: [VectorUnit]
    public var cpuClusters: [CPUCluster]
    /// The DRAM channel; an ideal (unlimited) one when the spec lists none.
    public var dram: DRAMChannel
    /// The link to host memory that streams weights the on-chip memory cannot hold, if any.
    public var hostLink: HostLink?
    public var clock: Frequency { spec.clock }
    /// The energy table with the file's overrides.
    public var energy: EnergyTable { EnergyTable(overrides: spec.energy) }

    /// Static (leakage) power of every component, in watts, in file order.
    public var staticPower: [(name: String, watts: Double)] {
        spec.components.map { ($0.name, $0.number("static_power") ?? 0) }
    }

    public init(_ spec: HardwareSpec) {
        self.spec = spec
        var arrays: [SystolicArray] = []
        var buffers: [SRAMBuffer] = []
        var dram: DRAMChannel?
        var host: HostLink?
        var sparse: [NMSparseArray] = [], masks: [MaskGenerator] = [], vectors: [VectorUnit] = [], cpus: [CPUCluster] = []
        for c in spec.components {
            switch c.kind {
            case NMSparseArray.schema.kind: sparse.append(NMSparseArray(spec: c))
            case MaskGenerator.schema.kind: masks.append(MaskGenerator(spec: c))
            case VectorUnit.schema.kind: vectors.append(VectorUnit(spec: c))
            case CPUCluster.schema.kind: cpus.append(CPUCluster(spec: c))
            case SystolicArray.schema.kind: arrays.append(SystolicArray(spec: c))
            case SRAMBuffer.schema.kind: buffers.append(SRAMBuffer(spec: c))
            case DRAMChannel.schema.kind: dram = dram ?? DRAMChannel(spec: c)
            case HostLink.schema.kind: host = host ?? HostLink(spec: c)
            default: break
            }
        }
        self.arrays = arrays
        self.buffers = buffers
        self.sparseArrays = sparse
        self.maskGenerators = masks
        self.vectorUnits = vectors
        self.cpuClusters = cpus
        self.dram = dram ?? DRAMChannel(name: "dram", bandwidth: nil)
        self.hostLink = host
    }

    /// Bytes available to one operand in one half of its double buffer: half of its dedicated
    /// buffer, or a sixth of a shared one (a third per operand, halved). `nil` if no buffer holds it.
    public func halfBuffer(for role: SRAMBuffer.Role) -> UInt64? {
        if let b = buffers.first(where: { $0.role == role }) { return b.sizeBytes / 2 }
        if let s = buffers.first(where: { $0.role == .shared }) { return s.sizeBytes / 6 }
        return nil
    }
}
