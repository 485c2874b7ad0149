import TesseraCore
import TesseraPlan

/// The DVFS policy of a run with operating points (`PowerPlan`), as the executor consults it: the
/// executor reports the dynamic energy it spends (`spend`) and asks, before each tile, which
/// operating point is in force (`govern`), then times the tile at that point's clock.
///
/// Policy (`PowerPlan`): the running average power over the last window (energy spent in it divided
/// by the window, plus static power) is compared with the budget; above it the point steps down one
/// (if it can); below 80% of it, and at least one window after the last change, it steps back up one
/// (never above where the run started). Without a budget the point never changes.
struct PowerGovernor {
    let plan: PowerPlan
    /// The operating point in force (0 is the fastest).
    private(set) var point: Int
    /// Every change, the first at 0.
    private(set) var changes: [OperatingPointChange]
    private var lastChange: Picoseconds = 0
    /// Energy spent in the window: (time, joules), oldest first from `head`, and their sum.
    private var spent: [(Picoseconds, Double)] = []
    private var head = 0
    private var sum = 0.0

    init(_ plan: PowerPlan) {
        self.plan = plan
        self.point = plan.initial
        self.changes = [OperatingPointChange(start: 0, point: plan.initial, scale: plan.points[plan.initial].scale)]
    }

    /// The clock period of the point in force.
    var periodPicoseconds: Picoseconds { plan.points[point].periodPicoseconds }
    /// (V/V₀)² of the point in force.
    var scale: Double { changes.last?.scale ?? 1 }
    /// Whether the executor needs to report energy (only a budget reads it).
    var needsEnergy: Bool { plan.budgetWatts != nil }

    /// Records `joules` of dynamic energy spent at `t`.
    mutating func spend(_ joules: Double, at t: Picoseconds) {
        guard joules > 0 else { return }
        spent.append((t, joules))
        sum += joules
    }

    /// Moves the operating point as the policy says at `now`.
    mutating func govern(at now: Picoseconds) {
        guard let budget = plan.budgetWatts else { return }
        let from = now > plan.windowPicoseconds ? now - plan.windowPicoseconds : 0
        while head < spent.count, spent[head].0 < from {
            sum -= spent[head].1
            head += 1
        }
        let average = max(0, sum) / (Double(plan.windowPicoseconds) / 1e12) + plan.staticWatts
        var next = point
        if average > budget, point < plan.points.count - 1 {
            next = point + 1
        } else if average < 0.8 * budget, point > plan.initial, now - lastChange >= plan.windowPicoseconds {
            next = point - 1
        }
        guard next != point else { return }
        point = next
        lastChange = now
        changes.append(OperatingPointChange(start: now, point: point, scale: plan.points[point].scale))
    }
}
