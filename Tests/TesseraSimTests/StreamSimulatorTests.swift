import Testing
import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraPlan
import TesseraSpec

@testable import TesseraSim

private func satModel(bandwidth: String, latency: String = "0 ns", buffers: String = "64 KiB") throws -> HardwareModel {
    HardwareModel(
        try KindTable.hardwareLoader.parse(
            """
            tessera: 1
            name: sat
            kind: sparse-training-array
            clock: 200 MHz
            compute:
              - {name: stce, kind: nm-sparse-array, rows: 8, cols: 8, patterns: ["2:8", "1:4"]}
              - {name: vpu, kind: vector-unit, lanes: 16}
              - {name: sore, kind: mask-generator, lanes: 4}
            memory:
              - {name: a, kind: sram, size: \(buffers), role: ifmap}
              - {name: w, kind: sram, size: \(buffers), role: filter}
              - {name: o, kind: sram, size: \(buffers), role: ofmap}
              - {name: dram, kind: dram, bandwidth: \(bandwidth), latency: \(latency)}
            """, file: "sat.yaml"))
}

private func workload(_ layers: String, phase: String = "training", sparsity: String = "{pattern: \"2:8\", dense_first_last: false}") throws -> WorkloadSpec {
    try WorkloadLoader.parse(
        "tessera: 1\nname: w\nphase: \(phase)\nprecision: fp16\nbatch: 4\nlayers:\n\(layers)\nsparsity: \(sparsity)", file: "w.yaml")
}

private let mlp = """
      - {name: fc1, op: gemm, m: 16, n: 64, k: 64}
      - {name: bn, op: batchnorm, elements: 1024}
      - {name: act, op: relu, elements: 1024}
      - {name: fc2, op: gemm, m: 16, n: 128, k: 64}
      - {name: fc3, op: gemm, m: 16, n: 32, k: 128}
    """

private func run(_ w: WorkloadSpec, _ hw: HardwareModel, _ o: Optimizations = Optimizations()) throws -> (Plan, SimResult) {
    let plan = try TrainingMapper.plan(graph: TrainingElaborator.elaborate(w), hardware: hw, workload: w.name, optimizations: o)
    let sim = StreamSimulator(plan: plan)
    return (plan, try sim.run())
}

private let allCombinations: [Optimizations] = [false, true].flatMap { i in
    [false, true].flatMap { p in [false, true].map { s in Optimizations(interleave: i, pregeneration: p, offlineSchedule: s) } }
}

@Suite struct StreamSimulatorTests {
    /// With an ideal memory, one product takes exactly its closed-form cycles.
    @Test func oneProductOnIdealMemoryTakesItsClosedForm() throws {
        let hw = try satModel(bandwidth: "unlimited")
        for sparsity in ["{pattern: \"2:8\", dense_first_last: false}", "{pattern: \"2:8\", scheme: dense}"] {
            let w = try workload("  - {name: g, op: gemm, m: 40, n: 24, k: 64}", phase: "inference", sparsity: sparsity)
            let (plan, r) = try run(w, hw)
            #expect(plan.ops.count == 1)
            #expect(r.totalCycles == plan.ops[0].computeCycles)
            let g = GemmShape(m: 160, n: 24, k: 64)
            let p = plan.ops[0].sparsity
            #expect(r.totalCycles == UInt64(hw.sparseArrays[0].computeCycles(g, pattern: p, dataflow: hw.sparseArrays[0].bestDataflow(g, pattern: p))))
        }
    }

    /// Bytes are conserved, every operation runs after what it depends on, and no unit runs two
    /// tiles at once, under every combination of the optimizations.
    @Test(arguments: allCombinations)
    func invariantsHoldUnderEveryOptimizationSetting(_ o: Optimizations) throws {
        let hw = try satModel(bandwidth: "4 GB/s", latency: "100 ns", buffers: "16 KiB")
        let (plan, r) = try run(try workload(mlp), hw, o)
        #expect(r.dramBytesSent == plan.ops.reduce(0) { $0 + $1.dramRead })
        #expect(r.bufferBytesReceived == r.dramBytesSent)
        #expect(r.dramBytesWritten == plan.ops.reduce(0) { $0 + $1.dramWrite })
        for (i, op) in plan.ops.enumerated() {
            #expect(r.ops[i].end >= r.ops[i].start)
            for d in op.dependencies { #expect(r.ops[i].start >= r.ops[d.raw].end, "\(op.name) starts before \(plan.ops[d.raw].name) ends") }
        }
        for unit in ["stce", "vpu", "sore"] {
            let iv = r.intervals.filter { $0.resource == unit }.sorted { $0.start < $1.start }
            for (a, b) in zip(iv, iv.dropFirst()) { #expect(b.start >= a.end, "\(unit) overlaps") }
            let busy = r.intervals.filter { $0.resource == unit }.reduce(UInt64(0)) { $0 + $1.end - $1.start }
            let expected = plan.ops.filter { $0.unit == unit }.reduce(UInt64(0)) { $0 + $1.computeCycles } * plan.hardware.clock.periodPicoseconds
            #expect(busy == expected, "\(unit)")
        }
        #expect(r.totalPicoseconds >= r.ops.map(\.end).max() ?? 0)
    }

    @Test func runsAreDeterministic() throws {
        let hw = try satModel(bandwidth: "4 GB/s", latency: "100 ns", buffers: "16 KiB")
        let (_, a) = try run(try workload(mlp), hw)
        let (_, b) = try run(try workload(mlp), hw)
        #expect(a.intervals == b.intervals)
        #expect(a.totalPicoseconds == b.totalPicoseconds && a.events == b.events)
    }

    /// Without interleave mapping a unit's next operation fetches only after the previous one has
    /// computed, so DRAM latency shows at every boundary; with it, fetches overlap.
    @Test func interleaveHidesFetchLatencyAtOperationBoundaries() throws {
        let hw = try satModel(bandwidth: "unlimited", latency: "2 us")
        let w = try workload(mlp)
        let (_, on) = try run(w, hw, Optimizations())
        let (_, off) = try run(w, hw, Optimizations(interleave: false))
        #expect(off.totalPicoseconds > on.totalPicoseconds)
    }

    /// On-demand mask generation puts the mask generator on the critical path.
    @Test func pregenerationTakesMasksOffTheCriticalPath() throws {
        let hw = try satModel(bandwidth: "unlimited")
        let w = try workload(mlp)
        let (plan, on) = try run(w, hw, Optimizations())
        let (_, off) = try run(w, hw, Optimizations(pregeneration: false))
        let maskCycles = plan.ops.filter { $0.unitKind == .maskgen }.reduce(UInt64(0)) { $0 + $1.computeCycles }
        #expect(off.totalCycles > on.totalCycles)
        #expect(off.totalCycles - on.totalCycles <= maskCycles)
    }

    @Test func eventsGrowWithTilesNotCycles() throws {
        let hw = try satModel(bandwidth: "4 GB/s", buffers: "16 KiB")
        let (plan, r) = try run(try workload(mlp), hw)
        let tiles = plan.ops.reduce(0) { $0 + $1.tiles.count }
        #expect(r.events == UInt64(3 * tiles))
        #expect(r.totalCycles > r.events * 10)
    }
}
