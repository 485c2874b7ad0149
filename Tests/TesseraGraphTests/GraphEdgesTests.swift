import Testing
import TesseraModel
import TesseraSpec

@testable import TesseraGraph

/// Layers that name their inputs (an ONNX graph, or `inputs:` in a layer list) keep their branches
/// and merges as graph edges, in inference and through the backward pass.
@Suite struct GraphEdgesTests {
    /// x → a (gemm) → b (gemm) ─┐
    ///       └──── c (gemm) ────┴→ add → fc
    static func residual(training: Bool) -> WorkloadSpec {
        let layers = [
            LayerSpec(name: "a", op: .gemm(GEMM(m: 4, n: 8, k: 8)), inputs: []),
            LayerSpec(name: "b", op: .gemm(GEMM(m: 4, n: 8, k: 8)), inputs: [0]),
            LayerSpec(name: "c", op: .gemm(GEMM(m: 4, n: 8, k: 8)), inputs: [0]),
            LayerSpec(name: "add", op: .elementwise(Elementwise(kind: .add, elements: 32)), inputs: [1, 2]),
            LayerSpec(name: "fc", op: .gemm(GEMM(m: 4, n: 2, k: 8)), inputs: [3]),
        ]
        return WorkloadSpec(name: "r", batch: 2, phase: training ? .training : .inference, precision: .fp16, model: nil, layers: layers, file: "r.yaml")
    }

    @Test func inferenceFollowsTheNamedEdges() throws {
        let g = Elaborator.elaborate(Self.residual(training: false))
        let out = g.operations.map { $0.outputs[0] }
        #expect(g.operations[2].dependencies == [OpID(0)])  // c reads a, not b
        #expect(g.operations[2].inputs[0] == out[0])
        #expect(g.operations[3].dependencies == [OpID(1), OpID(2)])
        #expect(Array(g.operations[3].inputs) == [out[1], out[2]])  // the add reads both branches, nothing else
        // The graph's input is read once, by the first layer.
        #expect(g.tensors.filter { $0.kind == .activation && $0.producer == nil }.count == 1)
    }

    @Test func trainingSumsTheGradientsOfABranch() throws {
        let g = TrainingElaborator.elaborate(Self.residual(training: true))
        func op(_ name: String) throws -> Operation { try #require(g.operations.first { $0.name == name }, "\(name)") }
        // The add sends each branch a gradient of its own; each branch's bp depends on the add's.
        let addBP = try op("add.bp")
        #expect(try op("b.bp").dependencies == [addBP.id])
        #expect(try op("c.bp").dependencies == [addBP.id])
        #expect(addBP.outputs.count == 2)
        // a's output feeds b and c: a's weight gradient waits for both and reads both gradients.
        let aWG = try op("a.wg")
        #expect(Set(aWG.dependencies) == [try op("b.bp").id, try op("c.bp").id])
        #expect(aWG.inputs.count == 3)  // its input and the two gradients
        // No backward-data work for the first layer: nothing upstream needs it.
        #expect(g.operations.first { $0.name == "a.bp" } == nil)
    }

    /// A chain written without `inputs:` elaborates as before: each layer after the one before.
    @Test func unnamedLayersStillChain() throws {
        var w = Self.residual(training: false)
        for i in w.layers.indices { w.layers[i].inputs = nil }
        let g = Elaborator.elaborate(w)
        #expect(g.operations.map(\.dependencies) == [[], [OpID(0)], [OpID(1)], [OpID(2)], [OpID(3)]])
    }
}
