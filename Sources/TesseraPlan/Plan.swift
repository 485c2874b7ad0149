import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraSpec

/// One step of an operation's execution: operands loaded into one half of the double buffers,
/// then computed on, then outputs written back.
public struct Tile: Sendable, Hashable {
    /// Array cycles this tile computes for (0 for memory-only work).
    public var computeCycles: UInt64
    /// Bytes read from DRAM into the buffers before the tile may start: operand A (ifmap) and B (filter).
    public var readA: UInt64
    public var readB: UInt64
    /// Bytes written back to DRAM after the tile.
    public var write: UInt64
    public var dramRead: UInt64 { readA + readB }
}

/// How one operation is mapped and tiled.
public struct OpPlan: Sendable, Hashable {
    public var op: OpID
    public var name: String
    public var layer: Int
    public var opName: String
    /// The array it runs on; `nil` for memory-only work.
    public var unit: String?
    public var dataflow: Dataflow?
    public var gemm: GemmShape?
    public var rowFolds: Int
    public var colFolds: Int
    public var cyclesPerFold: Int
    /// Closed-form compute cycles (the sum of the tiles' compute cycles).
    public var computeCycles: UInt64
    public var mappingEfficiency: Double
    public var computeUtilization: Double
    public var macs: UInt64
    public var tiles: [Tile]
    /// Bytes the array reads from the ifmap (A) and filter (B) buffers, and writes to the ofmap buffer.
    public var sramReadA: UInt64
    public var sramReadB: UInt64
    public var sramWrite: UInt64
    public var sramRead: UInt64 { sramReadA + sramReadB }
    public var dramReadA: UInt64 { tiles.reduce(0) { $0 + $1.readA } }
    public var dramReadB: UInt64 { tiles.reduce(0) { $0 + $1.readB } }
    public var dramRead: UInt64 { tiles.reduce(0) { $0 + $1.dramRead } }
    public var dramWrite: UInt64 { tiles.reduce(0) { $0 + $1.write } }
    /// Operations that must complete first.
    public var dependencies: [OpID]
    /// The kind of unit it runs on.
    public var unitKind: UnitKind = .array
    public var pass: Pass = .ff
    /// The N:M pattern of its weight operand; `nil` is dense.
    public var sparsity: NMPattern? = nil
    /// Multiply-accumulates of the operation run dense (equal to `macs` when dense).
    public var denseMacs: UInt64 = 0
    /// Vector-unit lane-operations, mask-generator compares and CPU instructions (for energy).
    public var laneOperations: UInt64 = 0
    public var maskCompares: UInt64 = 0
    public var cpuInstructions: UInt64 = 0
    /// Fraction of `macs` done after continual learning's sparsity (see `Operation.density`).
    public var density: Double = 1
    /// Its weights (every tile's B bytes) stream from host memory over the hardware's host link
    /// instead of the on-chip memory (`HostLink`).
    public var weightsFromHost = false
    /// Bytes read from the on-chip memory (`dram`): all of `dramRead`, less the weights streamed
    /// over a host link.
    public var memoryRead: UInt64 { weightsFromHost ? dramReadA : dramRead }
    /// MACs done, exactly (`macs` before thinning × density); `macs` is this rounded.
    public var exactMacs: Double { thinnedMacs ?? Double(macs) }
    var thinnedMacs: Double? = nil

    /// Thins the operation to `density` of its work: every tile's compute cycles (rounded up), its
    /// MACs (rounded) and its arithmetic actions. Bytes are unchanged (the operands are still read).
    mutating func thin(to density: Double) {
        guard density < 1 else { return }
        self.density = density
        thinnedMacs = Double(macs) * density
        for i in tiles.indices { tiles[i].computeCycles = UInt64((Double(tiles[i].computeCycles) * density).rounded(.up)) }
        computeCycles = tiles.reduce(0) { $0 + $1.computeCycles }
        macs = UInt64((Double(macs) * density).rounded())
        laneOperations = UInt64((Double(laneOperations) * density).rounded())
        cpuInstructions = UInt64((Double(cpuInstructions) * density).rounded())
    }
}

extension OpPlan {
    /// The offline schedule's estimate of the operation's cycles on `hardware`: the sum over its
    /// tiles of max(compute cycles, (DRAM bytes in + out) / bandwidth, weights streamed over a host
    /// link / its bandwidth), ignoring latency and contention.
    public func estimatedCycles(on hardware: HardwareModel) -> UInt64 {
        let cycleSeconds = 1 / hardware.clock.hertz
        let link = weightsFromHost ? hardware.hostLink : nil
        return tiles.reduce(UInt64(0)) { sum, t in
            let onChip = link == nil ? t.dramRead + t.write : t.readA + t.write
            let transfer = hardware.dram.bandwidth.map { Saturating.uint64(Double(onChip) / $0.bytesPerSecond / cycleSeconds) } ?? 0
            let streamed = link.map { Saturating.uint64(Double(t.readB) / $0.bandwidth.bytesPerSecond / cycleSeconds) } ?? 0
            return sum + max(t.computeCycles, transfer, streamed)
        }
    }
}

/// The kinds of unit an operation can be mapped to.
public enum UnitKind: String, Sendable, Hashable {
    /// A systolic or N:M sparse array.
    case array
    /// A vector unit.
    case vector
    /// A mask generator.
    case maskgen
    /// A CPU cluster.
    case cpu
    /// No unit: DRAM traffic only (pooling and elementwise work on a plain `array` accelerator).
    case memory
}

/// The mapped, tiled and statically ordered workload, ready for the simulator.
public struct Plan: Sendable {
    public var hardware: HardwareModel
    public var workload: String
    public var layers: [String]
    /// Operations in their static execution order (the offline schedule).
    public var ops: [OpPlan]
    /// The offline schedule's own estimate of total cycles, before simulation: the sum over tiles
    /// of max(compute cycles, (DRAM bytes in + out) / bandwidth), ignoring DRAM latency, the
    /// exposed first load and contention. The simulated total minus this shows what contention
    /// and latency cost.
    public var estimatedCycles: UInt64
    /// Per-unit tile streams of a multi-unit plan (a sparse training accelerator); `nil` for a
    /// plain array, whose single stream is `ops` in order.
    public var schedule: Schedule? = nil
    /// The workload's arithmetic precision (selects the MAC energy).
    public var precision: Precision = .int8
    /// Where the weights live when the hardware has a host link.
    public var hostLink: HostLinkPlacement? = nil
}

/// Weight placement between the on-chip memory and a host link (`HostLink`): what stayed
/// resident and what streams every inference.
public struct HostLinkPlacement: Sendable, Hashable {
    public var link: String
    /// The on-chip memory's capacity for weights; `nil` is unlimited.
    public var capacityBytes: UInt64?
    public var residentBytes: UInt64
    public var streamedBytes: UInt64
    public var residentOps: Int
    public var streamedOps: Int

    public init(link: String, capacityBytes: UInt64?, residentBytes: UInt64, streamedBytes: UInt64, residentOps: Int, streamedOps: Int) {
        self.link = link
        self.capacityBytes = capacityBytes
        self.residentBytes = residentBytes
        self.streamedBytes = streamedBytes
        self.residentOps = residentOps
        self.streamedOps = streamedOps
    }
}
