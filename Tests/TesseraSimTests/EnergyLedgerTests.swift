import Testing
import TesseraCore

@testable import TesseraSim

/// The one energy ledger against closed forms: tallies by component and action, static power in
/// every window, spreading over windows, and deferred spans equal to immediate ones.
@Suite struct EnergyLedgerTests {
    @Test func talliesStaticAndWindowsAgreeWithClosedForms() {
        // 10 µs run: 1 µs windows (the floor), ten of them.
        var ledger = EnergyLedger(duration: 10_000_000)
        #expect(ledger.windowPicoseconds == 1_000_000)
        ledger.add(2e-6, component: "array", action: "mac-fp16")
        ledger.spread(2e-6, from: 0, to: 2_000_000)  // 1 W over the first two windows
        ledger.add(1e-6, component: "dram", action: "dram-read")
        ledger.spread(1e-6, from: 9_500_000, to: 9_500_000)  // zero-length: all in window 9
        ledger.addStatic(watts: 0.5, component: "array")
        let a = ledger.account(componentOrder: ["dram", "array"])
        #expect(a.byComponent.map(\.name) == ["dram", "array"])
        #expect(abs(a.dynamicJoules - 3e-6) < 1e-18)
        #expect(abs(a.staticJoules - 0.5 * 10e-6) < 1e-18)
        #expect(abs((a.byComponent.last?.joules ?? 0) - (2e-6 + 5e-6)) < 1e-18)
        #expect(a.byAction.map(\.action) == ["mac-fp16", "dram-read", "static"])
        #expect(a.windowWatts.count == 10)
        #expect(abs(a.windowWatts[0] - 1.5) < 1e-9 && abs(a.windowWatts[1] - 1.5) < 1e-9)
        #expect(abs(a.windowWatts[5] - 0.5) < 1e-9)
        #expect(abs(a.peakWatts - 1.5) < 1e-9)
        // Power integrates back to energy.
        let integrated = a.windowWatts.reduce(0, +) * a.windowSeconds
        #expect(abs(integrated - a.totalJoules) < 1e-15)
    }

    @Test func deferredSpansEqualImmediateOnes() {
        var now = EnergyLedger(duration: 5_000_000_000)
        var later = now
        for k in 0..<100 {
            let s = Picoseconds(k % 7) * 300_000_000, e = s + 1_700_000_000
            now.spread(1e-3, from: s, to: e)
            later.spreadLater(1e-3, from: s, to: e)
        }
        let a = now.account(), b = later.account()
        #expect(zip(a.windowWatts, b.windowWatts).allSatisfy { abs($0 - $1) <= 1e-9 * max(1, abs($0)) })
    }

    @Test func windowsStayAtMost4096AndEnergyPastTheEndIsKept() {
        for duration: Picoseconds in [0, 1, 999_999, 4_096_000_000, 1 << 62, .max] {
            var ledger = EnergyLedger(duration: duration)
            ledger.spread(1, from: duration, to: duration &+ 10)
            let a = ledger.account()
            #expect(a.windowWatts.count <= 4096 && !a.windowWatts.isEmpty)
            #expect(a.windowWatts.allSatisfy { $0.isFinite })
        }
        #expect(EnergyLedger(seconds: .nan).duration == 0)
        #expect(EnergyLedger(seconds: -3).duration == 0)
        #expect(EnergyLedger(seconds: 2.5e-12).duration == 3)
    }
}
