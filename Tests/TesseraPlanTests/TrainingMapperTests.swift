import Testing
import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraSpec

@testable import TesseraPlan

func satHardware(rows: Int = 8, cols: Int = 8, patterns: String = "[\"2:4\", \"2:8\"]", maskgen: Bool = true, bandwidth: String = "unlimited", stages: Int = 1) throws -> HardwareModel {
    let text = """
        tessera: 1
        name: sat
        kind: sparse-training-array
        clock: 200 MHz
        compute:
          - {name: stce, kind: nm-sparse-array, rows: \(rows), cols: \(cols), patterns: \(patterns), sparse_pipeline_stages: \(stages)}
          - {name: vpu, kind: vector-unit, lanes: 16}
        \(maskgen ? "  - {name: sore, kind: mask-generator, lanes: 4}" : "")
        memory:
          - {name: a, kind: sram, size: 256 KiB, role: ifmap}
          - {name: w, kind: sram, size: 256 KiB, role: filter}
          - {name: o, kind: sram, size: 256 KiB, role: ofmap}
          - {name: dram, kind: dram, bandwidth: \(bandwidth), latency: 50 ns}
        """
    return HardwareModel(try KindTable.hardwareLoader.parse(text, file: "sat.yaml"))
}

func mlpWorkload(sparsity: String = "{pattern: \"2:8\", scheme: bdwp, dense_first_last: false}", phase: String = "training") throws -> WorkloadSpec {
    try WorkloadLoader.parse(
        """
        tessera: 1
        name: mlp
        phase: \(phase)
        precision: fp16
        batch: 8
        layers:
          - {name: fc1, op: gemm, m: 16, n: 64, k: 64}
          - {name: act, op: relu, elements: 1024}
          - {name: fc2, op: gemm, m: 16, n: 64, k: 64}
          - {name: fc3, op: gemm, m: 16, n: 32, k: 64}
        sparsity: \(sparsity)
        """, file: "mlp.yaml")
}

@Suite struct TrainingMapperTests {
    @Test func everyOperationIsMappedToItsUnitWithClosedFormCycles() throws {
        let hw = try satHardware()
        let g = TrainingElaborator.elaborate(try mlpWorkload())
        let plan = try TrainingMapper.plan(graph: g, hardware: hw, workload: "mlp", optimizations: Optimizations())
        let array = hw.sparseArrays[0]
        for (op, p) in zip(g.operations, plan.ops) {
            #expect(p.tiles.reduce(0) { $0 + $1.computeCycles } == p.computeCycles, "\(op.name)")
            switch op.kind {
            case .gemm(let shape):
                #expect(p.unitKind == .array)
                let df = try #require(p.dataflow)
                #expect(p.computeCycles == UInt64(array.computeCycles(shape, pattern: op.sparsity, dataflow: df)))
                #expect(df == array.bestDataflow(shape, pattern: op.sparsity))
                #expect(p.macs == op.macs && p.denseMacs == op.denseMacs)
            case .vector(_, let operations):
                #expect(p.unitKind == .vector)
                #expect(p.computeCycles == UInt64(hw.vectorUnits[0].cycles(operations: operations) + hw.vectorUnits[0].pipelineDepth))
            case .maskgen(let weights, let pattern):
                #expect(p.unitKind == .maskgen)
                #expect(p.computeCycles == UInt64(hw.maskGenerators[0].cycles(weights: weights, pattern: pattern)))
            case .memory:
                Issue.record("no memory-only work in training")
            case .device:
                Issue.record("no GPU-cluster work on an accelerator")
            }
        }
        // Every unit's stream lists each of its operations once.
        let listed = try #require(plan.schedule).streams.flatMap(\.ops).sorted()
        #expect(listed == Array(plan.ops.indices))
    }

    /// A sparse operation with N = M plans exactly like the dense one: same tiles, same bytes.
    @Test func nEqualsMPlansLikeDense() throws {
        let hw = try satHardware(patterns: "[\"8:8\", \"2:8\"]")
        let dense = try TrainingMapper.plan(
            graph: TrainingElaborator.elaborate(try mlpWorkload(sparsity: "{pattern: \"2:8\", scheme: dense}")), hardware: hw, workload: "mlp",
            optimizations: Optimizations())
        var w = try mlpWorkload(sparsity: "{pattern: \"2:8\", scheme: dense}")
        // Force an 8:8 "sparse" layer through the sparse path.
        var g = TrainingElaborator.elaborate(w)
        for i in g.operations.indices where g.operations[i].name == "fc2.ff" { g.operations[i].sparsity = NMPattern(n: 8, m: 8) }
        w.name = "mlp"
        let same = try TrainingMapper.plan(graph: g, hardware: hw, workload: "mlp", optimizations: Optimizations())
        for (a, b) in zip(dense.ops, same.ops) {
            #expect(a.tiles == b.tiles, "\(a.name)")
            #expect(a.computeCycles == b.computeCycles)
        }
    }

    @Test func sparseWeightsCarryIndicesAndActivationsStayDense() throws {
        let hw = try satHardware(rows: 64, cols: 64)
        let g = TrainingElaborator.elaborate(try mlpWorkload())
        let plan = try TrainingMapper.plan(graph: g, hardware: hw, workload: "mlp", optimizations: Optimizations())
        let ff = try #require(plan.ops.first { $0.name == "fc2.ff" })
        // Buffers hold both operands whole: A = 128×64 fp16 read once; B = 64×64 at 2:8 with 3-bit indices.
        #expect(ff.dramReadA == 128 * 64 * 2)
        let kept = 64 * 64 / 4
        let sparseBytes = UInt64((kept * 19 + 7) / 8)
        #expect(ff.dramReadB == sparseBytes)
        #expect(ff.dramWrite == 128 * 64 * 2)
    }

    @Test func aPatternTheArrayDoesNotRunIsALocatedError() throws {
        let hw = try satHardware(patterns: "[\"2:4\"]")
        let g = TrainingElaborator.elaborate(try mlpWorkload())
        #expect {
            _ = try TrainingMapper.plan(graph: g, hardware: hw, workload: "mlp", optimizations: Optimizations())
        } throws: { error in
            guard let e = error as? InputError, let d = e.diagnostics.first else { return false }
            return d.message.contains("does not run 2:8") && d.location?.file == "mlp.yaml" && d.location?.line == 11 && d.hint?.contains("sat.yaml") == true
        }
    }

    @Test func sparseTrainingWithoutAMaskGeneratorIsALocatedError() throws {
        let hw = try satHardware(maskgen: false)
        let g = TrainingElaborator.elaborate(try mlpWorkload())
        #expect {
            _ = try TrainingMapper.plan(graph: g, hardware: hw, workload: "mlp", optimizations: Optimizations())
        } throws: { error in
            guard let e = error as? InputError, let d = e.diagnostics.first else { return false }
            return d.message.contains("needs a mask generator") && d.location?.file == "mlp.yaml"
        }
        // Dense training needs none.
        let dense = TrainingElaborator.elaborate(try mlpWorkload(sparsity: "{pattern: \"2:8\", scheme: dense}"))
        _ = try TrainingMapper.plan(graph: dense, hardware: hw, workload: "mlp", optimizations: Optimizations())
    }

    /// Without pre-generation, a mask waits for the other inputs of the operation that uses it.
    @Test func onDemandMasksWaitForTheirConsumersOtherInputs() throws {
        let hw = try satHardware()
        let g = TrainingElaborator.elaborate(try mlpWorkload())
        let plan = try TrainingMapper.plan(graph: g, hardware: hw, workload: "mlp", optimizations: Optimizations(pregeneration: false))
        let index = Dictionary(uniqueKeysWithValues: plan.ops.enumerated().map { ($0.element.name, $0.offset) })
        let maskWT = try #require(index["fc2.mask.wt"]), fc3bp = try #require(index["fc3.bp"])
        #expect(plan.ops[maskWT].dependencies.map(\.raw).contains(fc3bp))
        let maskW = try #require(index["fc2.mask.w"]), act = try #require(index["act.ff"])
        #expect(plan.ops[maskW].dependencies.map(\.raw) == [act])
        let pregenerated = try TrainingMapper.plan(graph: g, hardware: hw, workload: "mlp", optimizations: Optimizations())
        #expect(pregenerated.ops[maskW].dependencies.isEmpty)
    }
}

@Suite struct ListSchedulerTests {
    /// Upward rank: a diamond 0 → {1, 2} → 3 with durations 1, 5, 2, 1.
    @Test func upwardRankIsTheLongestPathToASink() {
        let s = ListScheduler(units: [0, 0, 1, 0], durations: [1, 5, 2, 1], dependencies: [[], [0], [0], [1, 2]], unitCount: 2)
        #expect(s.upwardRanks() == [7, 6, 3, 1])
    }

    /// Two units, two chains: the offline schedule overlaps them; in-order dispatch may not start an
    /// operation before the one before it in program order.
    @Test func offlineOverlapsAndInOrderSerialises() {
        // Program order: a0 (unit 0, 10), b0 (unit 1, 10, needs a0), a1 (unit 0, 10), b1 (unit 1, 10, needs a1).
        let s = ListScheduler(units: [0, 1, 0, 1], durations: [10, 10, 10, 10], dependencies: [[], [0], [], [2]], unitCount: 2)
        let offline = s.run(priority: s.upwardRanks(), inOrder: false)
        #expect(offline.makespan == 30)
        #expect(offline.start == [0, 10, 10, 20])
        let inOrder = s.run(priority: [0, 0, 0, 0], inOrder: true)
        #expect(inOrder.start == [0, 10, 10, 20])
        // Put the independent a1 last in program order: in-order dispatch now waits for b0 to start.
        let late = ListScheduler(units: [0, 1, 1, 0], durations: [10, 30, 10, 10], dependencies: [[], [0], [1], []], unitCount: 2)
        #expect(late.run(priority: [0, 0, 0, 0], inOrder: true).start == [0, 10, 40, 40])
        #expect(late.run(priority: late.upwardRanks(), inOrder: false).start[3] == 10)
    }

    @Test func everyScheduleRespectsDependenciesAndUnits() {
        var state: UInt64 = 99
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        for _ in 0..<200 {
            let n = 2 + next(40)
            let units = (0..<n).map { _ in next(3) }
            let durations = (0..<n).map { _ in UInt64(1 + next(20)) }
            let deps = (0..<n).map { i in i == 0 ? [] : Array(Set((0..<next(3)).map { _ in next(i) })).sorted() }
            let s = ListScheduler(units: units, durations: durations, dependencies: deps, unitCount: 3)
            for r in [s.run(priority: s.upwardRanks(), inOrder: false), s.run(priority: Array(repeating: 0, count: n), inOrder: true)] {
                #expect(r.order.flatMap { $0 }.sorted() == Array(0..<n))
                for i in 0..<n {
                    #expect(r.finish[i] == r.start[i] + durations[i])
                    for d in deps[i] { #expect(r.start[i] >= r.finish[d]) }
                }
                for order in r.order { for (a, b) in zip(order, order.dropFirst()) { #expect(r.start[b] >= r.finish[a]) } }
                // No schedule beats the longest chain.
                #expect(r.makespan >= s.upwardRanks().max() ?? 0)
            }
        }
    }
}
