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
}
