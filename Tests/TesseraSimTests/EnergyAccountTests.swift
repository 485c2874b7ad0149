import Foundation
import Testing
import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraPlan
import TesseraSpec

@testable import TesseraSim

@Suite struct EnergyAccountTests {
    /// One 32³ int8 GEMM on an 8×8 output-stationary array whose 8 KiB buffers hold every operand
    /// whole, with round energies: E = MACs·e_mac + SRAM bytes·e_sram + DRAM bytes·e_dram + P_static·T,
    /// every count worked out by hand from the mapping (rf = cf = 4).
    @Test func singleGemmEnergyIsTheHandCount() throws {
        let text = """
            tessera: 1
            name: e
            kind: array
            clock: 1 GHz
            compute:
              - {name: pe, kind: systolic-array, rows: 8, cols: 8, dataflow: os, static_power: 1 W}
            memory:
              - {name: i, kind: sram, size: 8 KiB, role: ifmap}
              - {name: f, kind: sram, size: 8 KiB, role: filter}
              - {name: o, kind: sram, size: 8 KiB, role: ofmap}
              - {name: dram, kind: dram, bandwidth: 16 GB/s, latency: 10 ns}
            energy: {mac.int8: 1 pJ, sram.read: 2 pJ, sram.write: 3 pJ, dram.read: 100 pJ, dram.write: 200 pJ}
            """
        let (plan, result) = try simulate(text, [.gemm(GEMM(m: 32, n: 32, k: 32))])
        let e = EnergyAccount(plan: plan, result: result)
        let macs = 32.0 * 32 * 32
        // The array reads A once per column fold and B once per row fold: 4·32·32 B each; it writes 32·32 B.
        let sramRead = 4.0 * 1024 + 4 * 1024 + 1024  // + the write-back drains the output buffer
        let sramWrite = 1024.0 + 2 * 1024  // + the loads fill the A and B buffers
        let dram = 2048.0 * 100 + 1024 * 200
        let dynamic = (macs * 1 + sramRead * 2 + sramWrite * 3 + dram) * 1e-12
        let seconds = Double(result.totalPicoseconds) / 1e12
        #expect(abs(e.dynamicJoules - dynamic) < 1e-18)
        #expect(abs(e.staticJoules - 1 * seconds) < 1e-18)
        #expect(abs(e.totalJoules - (dynamic + seconds)) < 1e-18)
        #expect(e.byAction.first { $0.action == "mac.int8" }.map { abs($0.joules - macs * 1e-12) < 1e-18 } == true)
        // Conservation: components and actions each sum to the total; power windows integrate to it.
        #expect(abs(e.byComponent.reduce(0) { $0 + $1.joules } - e.totalJoules) < 1e-15)
        #expect(abs(e.byAction.reduce(0) { $0 + $1.joules } - e.totalJoules) < 1e-15)
        let integrated = e.windowWatts.enumerated().reduce(0.0) { sum, w in
            let start = Double(w.offset) * e.windowSeconds
            return sum + w.element * (min(seconds, start + e.windowSeconds) - start)
        }
        #expect(abs(integrated - e.totalJoules) < 1e-9 * e.totalJoules)
        #expect(e.peakWatts >= e.averageWatts)
    }

    /// The SRAM energy per byte follows Horowitz's sizes: ×1 at 8 KiB, ×2 at 32 KiB, ×10 at 1 MiB.
    @Test func sramEnergyScalesWithSize() {
        let t = EnergyTable()
        #expect(t.sramPerByte(.sramRead, size: 4096) == 1.25)
        #expect(abs(t.sramPerByte(.sramRead, size: 32768) - 2.5) < 1e-12)
        #expect(abs(t.sramPerByte(.sramRead, size: 1_048_576) - 12.5) < 1e-12)
        let mid = t.sramPerByte(.sramRead, size: 16384)
        #expect(mid > 1.25 && mid < 2.5)
    }

    /// Horowitz (ISSCC 2014, 45 nm): int8 MAC 0.2 + 0.03 pJ, FP16 1.1 + 0.4 pJ, FP32 3.7 + 0.9 pJ.
    @Test func defaultsAreTheCitedTable() {
        let t = EnergyTable()
        #expect(t.picojoules[.macInt8] == 0.23)
        #expect(t.picojoules[.macFp16] == 1.5)
        #expect(t.picojoules[.macFp32] == 4.6)
        #expect(t.picojoules[.dramRead] == 1950.0 / 8)
        #expect(EnergyTable(overrides: ["dram.read": 32e-12]).picojoules[.dramRead].map { abs($0 - 32) < 1e-9 } == true)
    }
}
