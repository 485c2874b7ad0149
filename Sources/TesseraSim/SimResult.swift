import TesseraCore

/// What a resource was doing during an interval of the timeline.
public enum Activity: String, Sendable, Hashable, Codable { case compute, load, writeback, memory }

/// One interval of one resource's activity, in engine picoseconds.
public struct Interval: Sendable, Hashable {
    public var resource: String
    public var activity: Activity
    /// Index into `Plan.ops`.
    public var op: Int
    public var start: Picoseconds
    public var end: Picoseconds
    public var bytes: UInt64
}

/// Per-operation results of a simulation.
public struct OpStats: Sendable, Hashable {
    public var computeCycles: UInt64
    /// Cycles of this layer's span on the critical path (from the previous layer's end to its own).
    public var totalCycles: UInt64
    public var stallCycles: UInt64 { totalCycles > computeCycles ? totalCycles - computeCycles : 0 }
    public var dramReadBytes: UInt64
    public var dramWriteBytes: UInt64
    public var start: Picoseconds
    public var end: Picoseconds
}

/// Busy time of one simulated resource.
public struct UnitStats: Sendable, Hashable {
    public var name: String
    public var kind: String
    public var busyCycles: UInt64
}

/// The result of running a plan: per-op and per-unit statistics and the full timeline.
public struct SimResult: Sendable {
    public var totalPicoseconds: Picoseconds
    public var totalCycles: UInt64
    public var ops: [OpStats]
    public var units: [UnitStats]
    public var intervals: [Interval]
    /// Bytes DRAM sent to the buffers and bytes the buffers received (conservation check).
    public var dramBytesSent: UInt64
    public var bufferBytesReceived: UInt64
    public var dramBytesWritten: UInt64
    public var events: UInt64
    /// Multi-unit runs: tiles a unit fetched from its second operation while its first could not start.
    public var interleavedTiles: Int = 0
    /// Operating-point changes: from `start` on, dynamic energy scales by `scale` = (V/V_ref)², and
    /// the operating point in force is `point`. One entry at 0 with scale 1 when there is no DVFS.
    public var operatingPoints: [OperatingPointChange] = [OperatingPointChange(start: 0, point: 0, scale: 1)]
    /// Static power of the chip outside its listed components (an edge SoC's `power.static`), watts.
    public var socStaticWatts: Double = 0

    /// (V/V_ref)² in force at `t`.
    public func voltageScale(at t: Picoseconds) -> Double {
        var lo = 0, hi = operatingPoints.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if operatingPoints[mid].start <= t { lo = mid } else { hi = mid - 1 }
        }
        return operatingPoints.isEmpty ? 1 : operatingPoints[lo].scale
    }
}

/// A change of operating point during a run.
public struct OperatingPointChange: Sendable, Hashable {
    public var start: Picoseconds
    /// Index into the hardware's operating points (0 is the fastest).
    public var point: Int
    /// (V/V_ref)² of the new point.
    public var scale: Double
    public init(start: Picoseconds, point: Int, scale: Double) {
        self.start = start
        self.point = point
        self.scale = scale
    }
}
