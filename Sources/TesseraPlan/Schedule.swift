import TesseraCore
import TesseraSpec

/// One tile of one operation: `Plan.ops[op].tiles[tile]`.
public struct TileRef: Sendable, Hashable {
    public var op: Int32
    public var tile: Int32
    public init(op: Int, tile: Int) {
        self.op = Int32(op)
        self.tile = Int32(tile)
    }
}

/// The offline schedule of a multi-unit plan: the order in which every unit runs its tiles, and
/// the dispatch rules the simulator applies while replaying it.
public struct Schedule: Sendable {
    /// One unit's operations in their scheduled order.
    public struct Stream: Sendable {
        public var unit: String
        public var kind: UnitKind
        public var ops: [Int]
        public init(unit: String, kind: UnitKind, ops: [Int]) {
            self.unit = unit
            self.kind = kind
            self.ops = ops
        }
    }

    public var streams: [Stream]
    /// Online greedy in-order dispatch (offline scheduling off): an operation may start fetching
    /// only once the operation before it in program order has started.
    public var inOrderDispatch: Bool
    /// Interleave mapping: how many of a unit's next operations it may take tiles from. With 2, a
    /// unit whose next operation cannot start (its inputs, or its mask, are not ready) fetches and
    /// computes tiles of the following independent operation meanwhile, and fetches the next
    /// operation's tiles while the current one computes. With 1 (off), a unit runs one operation
    /// at a time and an operation's first fetch waits until the previous one has finished computing.
    public var window: Int
    /// The optimizations this schedule was built with.
    public var optimizations: Optimizations
    /// The offline schedule's estimated start cycle of each operation (indexed like `Plan.ops`).
    public var estimatedStart: [UInt64]
    /// DVFS operating points and the power budget (an edge SoC); `nil` runs at the hardware clock.
    public var power: PowerPlan? = nil

    public init(
        streams: [Stream], inOrderDispatch: Bool, window: Int, optimizations: Optimizations, estimatedStart: [UInt64], power: PowerPlan? = nil
    ) {
        self.streams = streams
        self.inOrderDispatch = inOrderDispatch
        self.window = window
        self.optimizations = optimizations
        self.estimatedStart = estimatedStart
        self.power = power
    }
}

/// The operating points a run may use and the governor's budget.
///
/// Governor policy (evaluated whenever a unit starts a tile): the running average power over the
/// last `window` (dynamic energy of the tiles started and transfers issued in it, divided by the
/// window, plus static power) is compared with the budget; above it, the SoC steps down one
/// operating point (if it can); below 80% of it, and at least one window after the last change, it
/// steps back up one (never above where it started). The 80% hysteresis and the one-window hold are
/// this model's choices (no published governor is reproduced), there to keep the point from
/// oscillating every tile.
public struct PowerPlan: Sendable {
    /// Per operating point: clock period in picoseconds, dynamic-energy scale (V/V₀)², frequency (Hz).
    public var points: [(periodPicoseconds: Picoseconds, scale: Double, hertz: Double)]
    public var initial: Int
    public var budgetWatts: Double?
    public var windowPicoseconds: Picoseconds
    /// Static power of the components and the rest of the chip, watts.
    public var staticWatts: Double
    /// The chip's static power outside the listed components.
    public var socStaticWatts: Double
}
