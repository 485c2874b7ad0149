import Testing
import TesseraModel
import TesseraSpec

@testable import TesseraGraph

func workload(_ layers: [LayerOp], batch: Int = 1, precision: Precision = .int8) -> WorkloadSpec {
    WorkloadSpec(
        name: "w", batch: batch, phase: .inference, precision: precision, model: nil,
        layers: layers.enumerated().map { LayerSpec(name: "l\($0.offset)", op: $0.element) }, file: "w.yaml")
}

@Test func convBecomesItsIm2colGemm() {
    let conv = Conv2D(input: (10, 10, 3), kernel: (3, 3), filters: 8, stride: 1, padding: 0)
    let g = Elaborator.elaborate(workload([.conv2d(conv)], batch: 2, precision: .fp16))
    guard case .gemm(let shape) = g.operations[0].kind else { Issue.record("not a gemm"); return }
    #expect(shape == GemmShape(m: 2 * 8 * 8, n: 8, k: 27, count: 1))
    let macs: UInt64 = 27_648  // 2·8·8 pixels · 8 filters · 27
    #expect(g.operations[0].macs == macs)
    let bytes = g.operations[0].inputs.map { g.tensor($0).bytes }
    let expectedBytes: [UInt64] = [1200, 432]  // 2·10·10·3 and 3·3·3·8 elements, 2 B each
    #expect(bytes == expectedBytes)
    let outBytes: UInt64 = 2048  // 2·8·8·8 elements, 2 B each
    #expect(g.tensor(g.operations[0].outputs[0]).bytes == outBytes)
}

@Test func depthwiseConvIsOneGemmPerGroup() {
    let dw = Conv2D(input: (8, 8, 16), kernel: (3, 3), filters: 16, padding: 1, groups: 16)
    let g = Elaborator.elaborate(workload([.conv2d(dw)]))
    guard case .gemm(let shape) = g.operations[0].kind else { Issue.record("not a gemm"); return }
    #expect(shape == GemmShape(m: 64, n: 1, k: 9, count: 16))
    #expect(UInt64(shape.macs) == g.operations[0].macs)
}

@Test func layersChainWithStableIdsAndSharedTensors() {
    let ops: [LayerOp] = [.gemm(GEMM(m: 4, n: 8, k: 2)), .elementwise(Elementwise(kind: .relu, elements: 32)), .gemm(GEMM(m: 4, n: 2, k: 8))]
    let a = Elaborator.elaborate(workload(ops))
    let b = Elaborator.elaborate(workload(ops))
    #expect(a == b)
    #expect(a.operations.map(\.id.raw) == [0, 1, 2])
    #expect(a.operations[1].dependencies == [OpID(0)])
    #expect(a.operations[2].dependencies == [OpID(1)])
    // The relu reads the first GEMM's output tensor, and the second GEMM reads the relu's.
    #expect(a.operations[1].inputs[0] == a.operations[0].outputs[0])
    #expect(a.operations[2].inputs[0] == a.operations[1].outputs[0])
    let total: UInt64 = 128  // 4·8·2 + 4·2·8
    #expect(a.totalMACs == total)
}

@Test func batchedMatmulMultipliesCountByBatch() {
    let g = Elaborator.elaborate(workload([.matmul(BatchedMatmul(count: 12, m: 16, n: 16, k: 64))], batch: 3))
    guard case .gemm(let shape) = g.operations[0].kind else { Issue.record("not a gemm"); return }
    #expect(shape.count == 36 && shape.m == 16)
}
