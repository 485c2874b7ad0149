import Testing
import TesseraModel

@testable import TesseraSim

/// The GPU-cluster energy ledger against closed forms: TDP over merged busy spans, idle power
/// otherwise, link bytes at their kind's energy per bit, and power over time in windows.
@Suite struct GPUEnergyLedgerTests {
    static func gpu(tdp: Double = 700, idle: Double = 70) throws -> GPUPreset {
        var g = try #require(GPUPreset.named("h100-sxm"))
        g.tdpWatts = tdp
        g.idleWatts = idle
        return g
    }

    @Test func gpusDrawTDPWhileBusyAndIdlePowerOtherwise() throws {
        var ledger = EnergyLedger(seconds: 4)
        // Overlapping spans count once: busy 0–2 s.
        ledger.addGPUs("stage0", count: 2, gpu: try Self.gpu(), busy: [(0, 1), (0.5, 2)])
        let a = ledger.clusterAccount()
        #expect(abs(a.totalJoules - (2 * 70 * 4 + 2 * 630 * 2)) < 1e-9)
        #expect(abs(a.staticJoules - 2 * 70 * 4) < 1e-9)
        #expect(abs(a.averageWatts - 770) < 1e-9)
        // The window boundary falls at 2 s (4 s / 4096 windows): 1400 W before, 140 W after.
        #expect(abs(a.peakWatts - 1400) < 1e-6)
        #expect(abs((a.windowWatts.last ?? 0) - 140) < 1e-6)
        #expect(a.byComponent.map(\.name) == ["stage0"])
    }

    @Test func linksCostTheirKindsEnergyPerBit() {
        var ledger = EnergyLedger(seconds: 1)
        ledger.addLink(kind: "nvswitch-port", bytes: 1e9)
        ledger.addLink(kind: "nic", bytes: 1e9, over: (0, 0.5))
        ledger.addLink(kind: "leaf-uplink", bytes: 1e9)
        let a = ledger.clusterAccount()
        let expected = 1e9 * 8 * (5 + 20 + 15) * 1e-12
        #expect(abs(a.totalJoules - expected) < 1e-12)
        #expect(a.byComponent.last?.name == "network")
        #expect(a.byAction.map(\.action) == ["leaf-uplink-traffic", "nic-traffic", "nvswitch-port-traffic"])
        // The NIC's energy falls in the first half: its windows draw more.
        #expect(a.windowWatts.first! > a.windowWatts.last!)
        #expect(abs(a.windowWatts.reduce(0, +) * a.windowSeconds - expected) < 1e-9)
    }

    @Test func emptyAndDegenerateRunsDoNotTrap() throws {
        for seconds in [0.0, -1, .infinity, .nan, 1e-12] {
            var ledger = EnergyLedger(seconds: seconds)
            ledger.addGPUs("g", count: 8, gpu: try Self.gpu(), busy: [(-1, 5), (3, 2)])
            ledger.addLink(kind: "nvlink", bytes: 1e6, over: (10, 20))
            let a = ledger.clusterAccount()
            #expect(a.totalJoules.isFinite && a.totalJoules >= 0)
            #expect(a.peakWatts.isFinite)
        }
    }
}
