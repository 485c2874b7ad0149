import Testing
import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraPlan
import TesseraSpec

@testable import TesseraSim

func simulate(_ hwText: String, _ layers: [LayerOp], batch: Int = 1) throws -> (Plan, SimResult) {
    let hw = HardwareModel(try KindTable.hardwareLoader.parse(hwText, file: "hw.yaml"))
    let w = WorkloadSpec(
        name: "w", batch: batch, phase: .inference, precision: .int8, model: nil,
        layers: layers.enumerated().map { LayerSpec(name: "l\($0.offset)", op: $0.element) }, file: "w.yaml")
    let plan = try Mapper.plan(graph: Elaborator.elaborate(w), hardware: hw, workload: "w")
    return (plan, try StreamSimulator(plan: plan).run())
}

func hw(rows: Int = 8, cols: Int = 8, df: String = "os", buffers: String = "1 MiB", bandwidth: String, latency: String = "0 ns") -> String {
    """
    tessera: 1
    name: hw
    kind: array
    clock: 1 GHz
    compute:
      - {name: pe, kind: systolic-array, rows: \(rows), cols: \(cols), dataflow: \(df)}
    memory:
      - {name: i, kind: sram, size: \(buffers), role: ifmap}
      - {name: f, kind: sram, size: \(buffers), role: filter}
      - {name: o, kind: sram, size: \(buffers), role: ofmap}
      - {name: dram, kind: dram, bandwidth: \(bandwidth), latency: \(latency)}
    """
}

@Test func engineOrdersByTimePriorityThenInsertion() throws {
    var e = EventEngine<String>()
    try e.schedule(at: 10, priority: 1, "c")
    try e.schedule(at: 10, priority: 0, "b")
    try e.schedule(at: 5, "a")
    try e.schedule(at: 10, priority: 1, "d")
    var seen: [String] = []
    while let (_, p) = e.next() { seen.append(p) }
    #expect(seen == ["a", "b", "c", "d"])
    #expect(e.eventCount == 4)
    #expect(throws: SimError.self) { try e.schedule(at: 9, "late") }
}

@Test func unlimitedDRAMGivesExactlyTheComputeCycles() throws {
    for df in ["os", "ws", "is"] {
        let (plan, r) = try simulate(hw(df: df, bandwidth: "unlimited"), [.gemm(GEMM(m: 50, n: 30, k: 20)), .gemm(GEMM(m: 50, n: 7, k: 30))])
        #expect(r.totalCycles == plan.ops.reduce(0) { $0 + $1.computeCycles })
        #expect(r.ops.allSatisfy { $0.stallCycles == 0 && $0.totalCycles == $0.computeCycles })
    }
}

@Test func singleTileIsLoadThenComputeThenWriteBack() throws {
    // 1 GHz and 1 GB/s: one byte per cycle. 8x8x8 GEMM on 8x8 OS: A 64 B + B 64 B in, 64 B out,
    // one fold of 8+8+8-2 = 22 cycles counted as 21.
    let (_, r) = try simulate(hw(bandwidth: "1 GB/s"), [.gemm(GEMM(m: 8, n: 8, k: 8))])
    #expect(r.totalCycles == 128 + 21 + 64)
    #expect(r.ops[0].computeCycles == 21)
    #expect(r.ops[0].stallCycles == 128 + 64)
}

@Test func latencyAddsToEveryDependentTransfer() throws {
    let (_, r) = try simulate(hw(bandwidth: "1 GB/s", latency: "100 ns"), [.gemm(GEMM(m: 8, n: 8, k: 8))])
    #expect(r.totalCycles == 128 + 100 + 21 + 64 + 100)
}

@Test func memoryBoundLayerEndsNearTrafficOverBandwidth() throws {
    // OS 8x8, k = 256: each fold needs a fresh 8x256 A block (2 KiB) and takes 270 cycles; with
    // 4 KiB buffers (2 KiB halves) A streams fold by fold while B (256x8) stays resident.
    // At 4 GB/s (4 B/cycle) a fold's 2048 B need 512 cycles, about twice its compute.
    let (plan, r) = try simulate(hw(buffers: "4 KiB", bandwidth: "4 GB/s"), [.gemm(GEMM(m: 512, n: 8, k: 256))])
    let op = plan.ops[0]
    let traffic = Double(op.dramRead + op.dramWrite)
    let expected = traffic / 4.0
    #expect(Double(op.computeCycles) * 1.8 < expected)
    let total = Double(r.totalCycles)
    #expect(abs(total - expected) / expected < 0.02, "total \(total) vs traffic/bandwidth \(expected)")
    #expect(r.ops[0].stallCycles > 0)
}

@Test func computeBoundLayerHidesPrefetchBehindCompute() throws {
    // Same layer with 64 GB/s: transfers take a fraction of compute; only the first load and the
    // last write-back are exposed.
    let (plan, r) = try simulate(hw(buffers: "4 KiB", bandwidth: "64 GB/s"), [.gemm(GEMM(m: 512, n: 8, k: 256))])
    let op = plan.ops[0]
    let firstLoad = (op.tiles[0].dramRead + 63) / 64
    let lastWrite = (op.tiles[op.tiles.count - 1].write + 63) / 64
    #expect(r.totalCycles <= op.computeCycles + firstLoad + lastWrite + 2)
    #expect(r.totalCycles >= op.computeCycles)
}

@Test func bytesAreConserved() throws {
    var rng: UInt64 = 7
    func next(_ n: Int) -> Int {
        rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((rng >> 33) % UInt64(n)) + 1
    }
    for _ in 0..<40 {
        let layers: [LayerOp] = [
            .gemm(GEMM(m: next(70), n: next(70), k: next(70))),
            .elementwise(Elementwise(kind: .relu, elements: next(500))),
            .conv2d(Conv2D(input: (8 + next(8), 8 + next(8), next(6)), kernel: (3, 3), filters: next(20), padding: 1)),
        ]
        let (plan, r) = try simulate(hw(rows: next(8), cols: next(8), df: ["os", "ws", "is"][next(3) - 1], buffers: "2 KiB", bandwidth: "3 GB/s", latency: "20 ns"), layers)
        #expect(r.dramBytesSent == r.bufferBytesReceived)
        #expect(r.dramBytesSent == plan.ops.reduce(0) { $0 + $1.dramRead })
        #expect(r.dramBytesWritten == plan.ops.reduce(0) { $0 + $1.dramWrite })
        #expect(r.ops.reduce(0) { $0 + $1.totalCycles } == r.totalCycles)
        #expect(r.ops.allSatisfy { $0.totalCycles >= $0.computeCycles })
    }
}

@Test func memoryOnlyLayersAreDRAMTraffic() throws {
    // relu of 1000 int8 values at 1 B/cycle: 1000 read + 1000 written.
    let (_, r) = try simulate(hw(bandwidth: "1 GB/s"), [.elementwise(Elementwise(kind: .relu, elements: 1000))])
    #expect(r.totalCycles == 2000)
    #expect(r.ops[0].computeCycles == 0)
}

@Test func eventsGrowWithTilesNotCycles() throws {
    let (plan, r) = try simulate(hw(bandwidth: "unlimited"), [.gemm(GEMM(m: 4096, n: 64, k: 512))])
    let tiles = plan.ops.reduce(0) { $0 + $1.tiles.count }
    #expect(r.events == UInt64(3 * tiles))
    #expect(r.totalCycles > 100 * r.events)
}
