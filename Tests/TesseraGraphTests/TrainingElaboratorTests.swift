import Testing
import TesseraCore
import TesseraModel
import TesseraSpec

@testable import TesseraGraph

private func workload(_ yaml: String) throws -> WorkloadSpec { try WorkloadLoader.parse(yaml, file: "w.yaml") }

private let threeLayers = """
    tessera: 1
    name: mlp
    phase: training
    precision: fp16
    batch: 4
    layers:
      - {name: fc1, op: gemm, m: 8, n: 64, k: 32}
      - {name: act, op: relu, elements: 512}
      - {name: fc2, op: gemm, m: 8, n: 64, k: 64}
      - {name: fc3, op: gemm, m: 8, n: 16, k: 64}
    """

@Suite struct TrainingElaboratorTests {
    @Test func passesHaveTheRightShapes() throws {
        let w = try workload(threeLayers + "\nsparsity: {pattern: \"2:8\", scheme: bdwp, dense_first_last: false}")
        let g = TrainingElaborator.elaborate(w)
        #expect(g.isTraining)
        func op(_ name: String) throws -> Operation { try #require(g.operations.first { $0.name == name }) }
        // fc2: m = 4·8 = 32, n = 64, k = 64.
        #expect(try op("fc2.ff").kind == .gemm(GemmShape(m: 32, n: 64, k: 64)))
        #expect(try op("fc2.bp").kind == .gemm(GemmShape(m: 32, n: 64, k: 64)))
        #expect(try op("fc2.wg").kind == .gemm(GemmShape(m: 64, n: 64, k: 32)))
        // fc3 (n = 16): bp is (m, k, n) = (32, 64, 16); wg is (k, n, m) = (64, 16, 32).
        #expect(try op("fc3.bp").kind == .gemm(GemmShape(m: 32, n: 64, k: 16)))
        #expect(try op("fc3.wg").kind == .gemm(GemmShape(m: 64, n: 16, k: 32)))
        // No backward-data pass at the first layer with weights.
        #expect(g.operations.first { $0.name == "fc1.bp" } == nil)
        #expect(try op("fc1.wg").pass == .wg)
        #expect(try op("fc1.update").kind == .vector(elements: 32 * 64, operations: 32 * 64 * VectorCost.update))
        #expect(try op("act.bp").kind == .vector(elements: 4 * 512, operations: 4 * 512 * VectorCost.backward(.relu)))
        #expect(try op("loss").pass == .loss)
    }

    /// Sparse passes execute exactly dense · N/M; wg stays dense; bp is sparse only under BDWP.
    @Test func macsAreDenseTimesNOverMForSparsePasses() throws {
        for (scheme, bpSparse) in [("bdwp", true), ("forward-only", false)] {
            let w = try workload(threeLayers + "\nsparsity: {pattern: \"2:8\", scheme: \(scheme), dense_first_last: false}")
            let g = TrainingElaborator.elaborate(w)
            for op in g.operations {
                guard case .gemm(let shape) = op.kind else {
                    #expect(op.macs == 0)
                    continue
                }
                #expect(op.denseMacs == UInt64(shape.macs))
                let sparse = op.pass == .ff || (op.pass == .bp && bpSparse)
                #expect(op.macs == (sparse ? op.denseMacs / 8 * 2 : op.denseMacs), "\(op.name)")
                #expect((op.sparsity != nil) == sparse, "\(op.name)")
            }
            // Every weighted layer has a W mask; BDWP adds a Wᵀ mask where there is a bp.
            let masks = g.operations.filter { $0.pass == .maskgen }.map(\.name)
            #expect(masks == (bpSparse ? ["fc1.mask.w", "fc2.mask.w", "fc3.mask.w", "fc3.mask.wt", "fc2.mask.wt"] : ["fc1.mask.w", "fc2.mask.w", "fc3.mask.w"]))
        }
    }

    @Test func firstAndLastLayersAreDenseByDefaultAndOverridable() throws {
        let g = TrainingElaborator.elaborate(try workload(threeLayers + "\nsparsity: {pattern: \"2:8\"}"))
        #expect(g.operations.first { $0.name == "fc1.ff" }?.sparsity == nil)
        #expect(g.operations.first { $0.name == "fc2.ff" }?.sparsity == NMPattern(n: 2, m: 8))
        #expect(g.operations.first { $0.name == "fc3.ff" }?.sparsity == nil)
        let o = TrainingElaborator.elaborate(try workload(threeLayers + "\nsparsity: {pattern: \"2:8\", layers: {fc1: \"1:8\", fc2: dense}}"))
        #expect(o.operations.first { $0.name == "fc1.ff" }?.sparsity == NMPattern(n: 1, m: 8))
        #expect(o.operations.first { $0.name == "fc2.ff" }?.sparsity == nil)
    }

    /// Training MACs: ff + wg for every weighted layer, bp for all but the first, matmuls twice in bp.
    @Test func denseMacsOfAStepAreThreeForwardPassesLessTheFirstBP() throws {
        let w = try workload("tessera: 1\nname: r18\nmodel: resnet18\nphase: training\nbatch: 2\nprecision: fp16")
        let g = TrainingElaborator.elaborate(w)
        let forward = w.layers.reduce(UInt64(0)) { $0 + UInt64($1.op.macs) } * 2
        let first = UInt64(w.layers.first { $0.op.hasWeights }?.op.macs ?? 0) * 2
        #expect(g.totalDenseMACs == 3 * forward - first)
        #expect(g.totalMACs == g.totalDenseMACs)
        // Training tables carry batch norm and ReLU; inference folds them.
        #expect(w.layers.contains { $0.name == "conv1.bn" } && w.layers.contains { $0.name == "layer1.0.add.relu" })
        let inference = try workload("tessera: 1\nname: r18\nmodel: resnet18")
        #expect(!inference.layers.contains { $0.name == "conv1.bn" })
        #expect(inference.layers.count < w.layers.count)
    }

    /// Dependencies point backwards (program order is topological) and follow the data.
    @Test func dependenciesFollowTheData() throws {
        let g = TrainingElaborator.elaborate(try workload(threeLayers + "\nsparsity: {pattern: \"2:8\", dense_first_last: false}"))
        for op in g.operations { for d in op.dependencies { #expect(d < op.id, "\(op.name)") } }
        func id(_ n: String) -> OpID? { g.operations.first { $0.name == n }?.id }
        let bp = try #require(g.operations.first { $0.name == "fc2.bp" })
        #expect(bp.dependencies.contains(try #require(id("fc2.mask.wt"))))
        #expect(bp.dependencies.contains(try #require(id("fc3.bp"))))
        let wg = try #require(g.operations.first { $0.name == "fc2.wg" })
        #expect(wg.dependencies == [try #require(id("fc3.bp"))])
        let ff = try #require(g.operations.first { $0.name == "fc2.ff" })
        #expect(ff.dependencies.contains(try #require(id("fc2.mask.w"))))
    }

    /// Sparse weights are N/M of the values, each with a ⌈log₂ M⌉-bit index.
    @Test func sparseWeightBytesCarryTheIndex() throws {
        let g = TrainingElaborator.elaborate(try workload(threeLayers + "\nsparsity: {pattern: \"2:8\", dense_first_last: false}"))
        let t = try #require(g.tensors.first { $0.name == "fc2.w.2:8" })
        // 64·64 weights, 1/4 kept, 16 + 3 bits each.
        let kept = 64 * 64 / 4
        let expected = UInt64((kept * 19 + 7) / 8)
        #expect(t.bytes == expected)
    }

    @Test func inferenceOnASparseArrayIsTheForwardPassWithPrunedWeights() throws {
        let w = try workload(threeLayers.replacingOccurrences(of: "phase: training", with: "phase: inference") + "\nsparsity: {pattern: \"2:8\", dense_first_last: false}")
        let g = TrainingElaborator.elaborate(w)
        #expect(g.operations.allSatisfy { $0.pass == .ff })
        #expect(g.operations.count == 4)
        #expect(g.operations.first { $0.name == "fc2" }?.macs == 32 * 64 * 64 / 4)
    }
}
