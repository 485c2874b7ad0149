import Foundation
import HeapModule
import TesseraCore

/// Why a simulation could not finish.
public enum SimError: Error, Sendable, CustomStringConvertible {
    /// The event queue ran dry while work was still outstanding.
    case deadlock(time: Picoseconds, pending: String)
    /// An event was scheduled before the current time.
    case timeWentBackwards(now: Picoseconds, requested: Picoseconds)
    /// An event would fall after `EventEngine.horizon`: the workload takes longer than the engine's
    /// clock holds (input sizes and rates, not a bug).
    case pastHorizon(now: Picoseconds)
    /// A plan or task source asked the executor for something it cannot do (a bug in the caller,
    /// not in the input).
    case misuse(String)

    public var description: String {
        switch self {
        case .deadlock(let t, let p): "simulation deadlock at \(t) ps: \(p)"
        case .timeWentBackwards(let now, let req): "internal error: event scheduled at \(req) ps, before now (\(now) ps)"
        case .pastHorizon(let now):
            "the simulated time would pass the engine's horizon of 2^62 ps (about 53 days) after \(formatDecimal(Double(now) / 1e12)) s"
        case .misuse(let what): "internal error: \(what)"
        }
    }
}

/// A discrete-event engine over integer picoseconds.
///
/// Events are ordered by (time, priority, insertion sequence), so runs are deterministic. Idle time
/// is skipped: the clock jumps from one event to the next. Surface: `now`, `schedule(at:)`, `next()`.
/// Complexity: O(log n) per event.
public struct EventEngine<Payload: Sendable>: Sendable {
    struct Entry: Comparable, Sendable {
        var time: Picoseconds
        var priority: Int
        var sequence: UInt64
        var payload: Payload
        static func < (a: Entry, b: Entry) -> Bool {
            (a.time, a.priority, a.sequence) < (b.time, b.priority, b.sequence)
        }
        static func == (a: Entry, b: Entry) -> Bool {
            (a.time, a.priority, a.sequence) == (b.time, b.priority, b.sequence)
        }
    }

    private var heap = Heap<Entry>()
    private var sequence: UInt64 = 0
    public private(set) var now: Picoseconds = 0
    /// Events delivered so far.
    public private(set) var eventCount: UInt64 = 0

    public init() {}

    /// The latest time an event may be scheduled at: 2⁶² ps (about 53 days), so that the sum of
    /// any two engine times still fits in `UInt64`.
    public static var horizon: Picoseconds { 1 << 62 }

    public var isEmpty: Bool { heap.isEmpty }

    /// Schedules `payload` at absolute time `time` (never before `now`).
    public mutating func schedule(at time: Picoseconds, priority: Int = 0, _ payload: Payload) throws(SimError) {
        guard time >= now else { throw .timeWentBackwards(now: now, requested: time) }
        guard time <= Self.horizon else { throw .pastHorizon(now: now) }
        heap.insert(Entry(time: time, priority: priority, sequence: sequence, payload: payload))
        sequence &+= 1
    }

    /// Removes the earliest event, advances `now` to its time and returns it.
    public mutating func next() -> (time: Picoseconds, payload: Payload)? {
        guard let e = heap.popMin() else { return nil }
        now = e.time
        eventCount += 1
        if eventCount & SimulationProgress.mask == 0 { SimulationProgress.report(events: eventCount, now: now) }
        return (e.time, e.payload)
    }
}

/// Where long runs say how far they are (DESIGN convention 12): every engine reports its event
/// count and simulated time every 2²⁰ events to one process-wide handler, which the CLI sets on a
/// terminal. Without a handler this costs one bit test per event.
public enum SimulationProgress {
    /// Events between two reports, minus one (a power of two minus one).
    public static let mask: UInt64 = (1 << 20) - 1

    /// Sets the handler (`nil` to stop reporting).
    public static func setHandler(_ handler: (@Sendable (_ events: UInt64, _ now: Picoseconds) -> Void)?) {
        box.set(handler)
    }

    static func report(events: UInt64, now: Picoseconds) { box.get()?(events, now) }

    private static let box = HandlerBox()

    private final class HandlerBox: @unchecked Sendable {
        private let lock = NSLock()
        private var handler: (@Sendable (UInt64, Picoseconds) -> Void)?
        func set(_ h: (@Sendable (UInt64, Picoseconds) -> Void)?) {
            lock.lock()
            handler = h
            lock.unlock()
        }
        func get() -> (@Sendable (UInt64, Picoseconds) -> Void)? {
            lock.lock()
            defer { lock.unlock() }
            return handler
        }
    }
}
