import Testing
import TesseraCore

@testable import TesseraPlan
@testable import TesseraSim

/// The DVFS policy on its own: steps down over budget, back up under 80% of it a window after the
/// last change, never above where it started, and never without a budget.
@Suite struct PowerGovernorTests {
    /// Three points (1 GHz, 500 MHz, 250 MHz), a 2 W budget over 1 µs windows, 0.5 W static.
    static func plan(budget: Double? = 2, initial: Int = 0) -> PowerPlan {
        PowerPlan(
            points: [(1_000, 1, 1e9), (2_000, 0.56, 5e8), (4_000, 0.36, 2.5e8)], initial: initial, budgetWatts: budget,
            windowPicoseconds: 1_000_000, staticWatts: 0.5, socStaticWatts: 0.5)
    }

    @Test func stepsDownOverBudgetOneStepPerDecision() {
        var g = PowerGovernor(Self.plan())
        // 3 µJ in a 1 µs window: 3 W dynamic + 0.5 W static > 2 W.
        g.spend(3e-6, at: 0)
        g.govern(at: 500_000)
        #expect(g.point == 1 && g.periodPicoseconds == 2_000 && g.scale == 0.56)
        g.govern(at: 600_000)
        #expect(g.point == 2)
        g.govern(at: 700_000)
        #expect(g.point == 2, "no point slower than the last")
        #expect(g.changes.map(\.point) == [0, 1, 2] && g.changes.map(\.start) == [0, 500_000, 700_000 - 100_000])
    }

    @Test func stepsBackUpOnlyAWindowAfterTheLastChangeAndNeverAboveTheStart() {
        var g = PowerGovernor(Self.plan(initial: 1))
        g.spend(5e-6, at: 0)
        g.govern(at: 100_000)
        #expect(g.point == 2)
        // The energy leaves the window after 1 µs: 0.5 W static < 0.8 × 2 W, but the hold lasts a window.
        g.govern(at: 1_050_000)
        #expect(g.point == 2)
        g.govern(at: 1_100_000)
        #expect(g.point == 1)
        g.govern(at: 5_000_000)
        #expect(g.point == 1, "never above the initial point")
    }

    @Test func withoutABudgetThePointNeverMoves() {
        var g = PowerGovernor(Self.plan(budget: nil))
        #expect(!g.needsEnergy)
        g.spend(1, at: 0)
        g.govern(at: 10)
        #expect(g.point == 0 && g.changes.count == 1)
    }

    @Test func nothingSpentIsNothingRecorded() {
        var g = PowerGovernor(Self.plan())
        g.spend(0, at: 0)
        g.spend(-1, at: 0)
        g.govern(at: 10)
        #expect(g.point == 0)
    }
}
