import Testing
import TesseraGraph
import TesseraModel
import TesseraCore
import TesseraSpec
import TesseraTestSupport

@testable import TesseraPlan

func hardware(rows: Int, cols: Int, dataflow: String, ifmap: String = "1 MiB", filter: String = "1 MiB", ofmap: String = "1 MiB", dram: String = "unlimited")
    throws -> HardwareModel
{
    let spec = try KindTable.hardwareLoader.parse(
        """
        tessera: 1
        name: hw
        kind: array
        clock: 1 GHz
        compute:
          - {name: pe, kind: systolic-array, rows: \(rows), cols: \(cols), dataflow: \(dataflow)}
        memory:
          - {name: i, kind: sram, size: \(ifmap), role: ifmap}
          - {name: f, kind: sram, size: \(filter), role: filter}
          - {name: o, kind: sram, size: \(ofmap), role: ofmap}
          - {name: d, kind: dram, bandwidth: \(dram)}
        """, file: "hw.yaml")
    return HardwareModel(spec)
}

func gemmWorkload(_ m: Int, _ n: Int, _ k: Int) -> WorkloadSpec {
    WorkloadSpec(name: "g", batch: 1, phase: .inference, precision: .int8, model: nil, layers: [LayerSpec(name: "g", op: .gemm(GEMM(m: m, n: n, k: k)))], file: "g.yaml")
}

@Test func ampleBuffersReadEachOperandOnceAndWriteEachOutputOnce() throws {
    for df in ["os", "ws", "is"] {
        let hw = try hardware(rows: 8, cols: 8, dataflow: df)
        let plan = try Mapper.plan(graph: Elaborator.elaborate(gemmWorkload(37, 19, 23)), hardware: hw, workload: "g")
        let op = plan.ops[0]
        #expect(op.dramReadA == 37 * 23, "dataflow \(df)")
        #expect(op.dramReadB == 23 * 19, "dataflow \(df)")
        #expect(op.dramWrite == 37 * 19, "dataflow \(df)")
        #expect(op.tiles.reduce(0) { $0 + $1.computeCycles } == op.computeCycles)
    }
}

@Test func tilesAlwaysSumToTheClosedFormAndFitTheBufferHalves() throws {
    var rng = SplitMix64(seed: 42)
    for _ in 0..<150 {
        let rows = rng.int(in: 1...8), cols = rng.int(in: 1...8)
        let df = ["os", "ws", "is"][rng.int(in: 0...2)]
        let m = rng.int(in: 1...90), n = rng.int(in: 1...90), k = rng.int(in: 1...90)
        let sizes = ["64 B", "256 B", "1 KiB", "4 KiB", "64 KiB"]
        let (i, f, o) = (sizes[rng.int(in: 0...4)], sizes[rng.int(in: 0...4)], sizes[rng.int(in: 0...4)])
        let hw = try hardware(rows: rows, cols: cols, dataflow: df, ifmap: i, filter: f, ofmap: o)
        let plan = try Mapper.plan(graph: Elaborator.elaborate(gemmWorkload(m, n, k)), hardware: hw, workload: "g")
        let op = plan.ops[0]
        let array = SystolicArray(rows: rows, cols: cols, dataflow: Dataflow(rawValue: hw.arrays[0].dataflow.rawValue) ?? .outputStationary)
        #expect(op.computeCycles == UInt64(array.computeCycles(GemmShape(m: m, n: n, k: k))))
        #expect(op.tiles.reduce(0) { $0 + $1.computeCycles } == op.computeCycles, "\(rows)x\(cols) \(df) \(m)x\(n)x\(k)")
        let hA = hw.halfBuffer(for: .ifmap) ?? 0, hB = hw.halfBuffer(for: .filter) ?? 0, hO = hw.halfBuffer(for: .ofmap) ?? 0
        for t in op.tiles {
            #expect(t.readA <= hA && t.readB <= hB && t.write <= hO)
        }
        // Every operand byte is read at least once and every output written exactly once.
        #expect(op.dramReadA >= UInt64(m * k) && op.dramReadB >= UInt64(k * n))
        #expect(op.dramWrite == UInt64(m * n))
    }
}

@Test func outputStationaryRereadsTheStreamedOperandPerColumnFoldWhenItDoesNotFit() throws {
    // A = 64x64 B = 4 KiB does not fit a 1 KiB half; B (64x8) stays resident per column fold.
    let hw = try hardware(rows: 8, cols: 8, dataflow: "os", ifmap: "2 KiB", filter: "64 KiB", ofmap: "64 KiB")
    let plan = try Mapper.plan(graph: Elaborator.elaborate(gemmWorkload(64, 16, 64)), hardware: hw, workload: "g")
    #expect(plan.ops[0].dramReadA == 2 * 64 * 64)  // two column folds
    #expect(plan.ops[0].dramReadB == 64 * 16)
}

@Test func missingBufferIsALocatedError() throws {
    let spec = try KindTable.hardwareLoader.parse(
        """
        tessera: 1
        name: nobuf
        kind: array
        clock: 1 GHz
        compute:
          - {name: pe, kind: systolic-array, rows: 4, cols: 4}
        """, file: "nobuf.yaml")
    do {
        _ = try Mapper.plan(graph: Elaborator.elaborate(gemmWorkload(4, 4, 4)), hardware: HardwareModel(spec), workload: "g")
        Issue.record("planning without SRAM should fail")
    } catch {
        // Every missing operand buffer is reported at the array that needs it (line 6).
        #expect(error.diagnostics.count == 3)
        #expect(error.diagnostics.allSatisfy { $0.location?.line == 6 && $0.location?.file == "nobuf.yaml" })
        #expect(error.diagnostics.first?.description.contains("nobuf.yaml:6:") == true)
    }
}

@Test func buffersTooSmallForAnyReasonableTilingAreAnInputError() throws {
    // One fold needs 10⁸ bytes of A and the halves hold 32 B: more than Mapper.maxTiles pieces.
    let hw = try hardware(rows: 1, cols: 1, dataflow: "os", ifmap: "64 B", filter: "64 B", ofmap: "64 B")
    #expect(throws: InputError.self) {
        _ = try Mapper.plan(graph: Elaborator.elaborate(gemmWorkload(1, 1, 100_000_000)), hardware: hw, workload: "g")
    }
}
