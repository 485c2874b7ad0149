import TesseraCore

/// The one energy ledger every family's run posts into: joules by component and by action, dynamic
/// and static, and the same energy spread over equal windows of the run for power over time.
///
/// A family's energy model decides *what* costs energy (an accelerator's actions × energy per
/// action, a GPU's TDP while busy, a link's energy per bit) and posts it here; the ledger alone
/// decides how it is summed, ordered and integrated over time, so every report's `energy_j`,
/// `peak_power_w` and power track mean the same thing on every family.
///
/// - Tallies (`add`, `addStatic`) and time (`spread`, `spreadLater`) are posted separately: a
///   model may know an operation's energy before it knows over which intervals it was spent.
/// - Windows: `max(1 µs, T/4096 + 1 ps)` wide over the run `T` (at most 4096 windows); a window's
///   power is the energy spread into it over its width, plus the static power. Peak power is the
///   largest window's; energy spread past the end of the run falls in the last window.
/// - Sums run in a fixed order (dynamic energy over sorted component names, static power in posting
///   order), so the same posts give bit-identical figures.
///
/// Complexity: O(1) per tally, O(windows covered) per spread; `spreadLater` defers spans posted
/// many times (thousands of links over one collective) and spreads each distinct span once.
public struct EnergyLedger: Sendable {
    /// The run's length in picoseconds.
    public let duration: Picoseconds
    public let windowPicoseconds: Picoseconds
    private var windowJoules: [Double]
    private var dynamic: [String: Double] = [:]
    private var dynamicByAction: [String: Double] = [:]
    private var staticWatts: [(component: String, action: String, watts: Double)] = []
    private var componentsSeen: [String] = []
    /// Actions in the order first posted.
    public private(set) var actionsSeen: [String] = []
    private var pending: [Span: Double] = [:]

    private struct Span: Hashable, Comparable {
        var start: Picoseconds, end: Picoseconds
        static func < (a: Span, b: Span) -> Bool { (a.start, a.end) < (b.start, b.end) }
    }

    public init(duration: Picoseconds) {
        self.duration = duration
        let total = max(duration, 1)
        windowPicoseconds = max(Picoseconds(1_000_000), total / 4096 + 1)
        windowJoules = Array(repeating: 0, count: max(1, Int(total / windowPicoseconds + (total % windowPicoseconds == 0 ? 0 : 1))))
    }

    /// A ledger for a run measured in seconds (rounded to the nearest picosecond; NaN, negative and
    /// unbounded lengths are clamped, never trapped on).
    public init(seconds: Double) {
        self.init(duration: Self.picoseconds(seconds))
    }

    /// Seconds from the start as engine picoseconds (saturating).
    public static func picoseconds(_ seconds: Double) -> Picoseconds { Saturating.uint64Rounded(seconds * 1e12) }

    public var seconds: Double { Double(duration) / 1e12 }

    /// Dynamic energy of `component` spent on `action` (tallies only: `spread` places it in time).
    /// A zero post still lists the component and action.
    public mutating func add(_ joules: Double, component: String, action: String) {
        if dynamic.updateValue((dynamic[component] ?? 0) + joules, forKey: component) == nil { componentsSeen.append(component) }
        if dynamicByAction.updateValue((dynamicByAction[action] ?? 0) + joules, forKey: action) == nil { actionsSeen.append(action) }
    }

    /// A constant draw of `watts` by `component` over the whole run (tallies and every window).
    public mutating func addStatic(watts: Double, component: String, action: String = "static") {
        guard watts > 0, watts.isFinite else { return }
        if dynamic[component] == nil, !staticWatts.contains(where: { $0.component == component }) { componentsSeen.append(component) }
        if dynamicByAction[action] == nil, !staticWatts.contains(where: { $0.action == action }) { actionsSeen.append(action) }
        staticWatts.append((component, action, watts))
    }

    /// Places `joules` evenly over `start..<end` (a zero-length span puts it all in its window).
    public mutating func spread(_ joules: Double, from start: Picoseconds, to end: Picoseconds) {
        let windows = windowJoules.count
        guard joules > 0 else { return }
        if end <= start {
            windowJoules[min(Int(start / windowPicoseconds), windows - 1)] += joules
            return
        }
        var t = start
        while t < end {
            let w = min(Int(t / windowPicoseconds), windows - 1)
            let wEnd = min(end, Saturating.multiply(Picoseconds(w + 1), windowPicoseconds))
            let e = wEnd > t ? wEnd : end
            windowJoules[w] += joules * Double(e - t) / Double(end - start)
            t = e
        }
    }

    /// Like `spread`, but spans posted more than once are summed first and spread once, in span
    /// order, when the account is drawn up.
    public mutating func spreadLater(_ joules: Double, from start: Picoseconds, to end: Picoseconds) {
        guard joules > 0 else { return }
        pending[Span(start: start, end: end), default: 0] += joules
    }

    /// The account: components in `componentOrder` first, then the others in the order first
    /// posted (those with no energy left out unless `keepEmpty`); actions likewise.
    public func account(componentOrder: [String] = [], actionOrder: [String] = [], keepEmptyActions: Bool = false) -> EnergyAccount {
        var ledger = self
        for span in pending.keys.sorted() { ledger.spread(pending[span] ?? 0, from: span.start, to: span.end) }
        return ledger.settled(componentOrder: componentOrder, actionOrder: actionOrder, keepEmptyActions: keepEmptyActions)
    }

    private func settled(componentOrder: [String], actionOrder: [String], keepEmptyActions: Bool) -> EnergyAccount {
        let seconds = self.seconds
        let staticTotal = staticWatts.reduce(0) { $0 + $1.watts }
        let dynamicTotal = dynamic.keys.sorted().reduce(0.0) { $0 + (dynamic[$1] ?? 0) }
        func ordered(_ first: [String], _ seen: [String]) -> [String] {
            var out: [String] = []
            var taken = Set<String>()
            for n in first + seen where taken.insert(n).inserted { out.append(n) }
            return out
        }
        var byComponent: [(name: String, joules: Double)] = []
        for n in ordered(componentOrder, componentsSeen) {
            let watts = staticWatts.first { $0.component == n }?.watts ?? 0
            let j = (dynamic[n] ?? 0) + watts * seconds
            if j > 0 { byComponent.append((n, j)) }
        }
        var byAction: [(action: String, joules: Double)] = []
        for a in ordered(actionOrder, actionsSeen) {
            let posted = dynamicByAction[a] != nil || staticWatts.contains { $0.action == a }
            let watts = staticWatts.filter { $0.action == a }.reduce(0) { $0 + $1.watts }
            let j = watts > 0 ? (dynamicByAction[a] ?? 0) + watts * seconds : (dynamicByAction[a] ?? 0)
            if j > 0 || (keepEmptyActions && posted) { byAction.append((a, j)) }
        }
        // The last window may be partial.
        let total = max(duration, 1)
        let watts = windowJoules.enumerated().map { w, j -> Double in
            let start = Picoseconds(w) * windowPicoseconds
            let width = Double(min(total, Saturating.add(start, windowPicoseconds)) - start) / 1e12
            return width > 0 ? j / width + staticTotal : staticTotal
        }
        return EnergyAccount(
            seconds: seconds, dynamicJoules: dynamicTotal, staticJoules: staticTotal * seconds, byComponent: byComponent, byAction: byAction,
            windowSeconds: Double(windowPicoseconds) / 1e12, windowWatts: watts)
    }
}
