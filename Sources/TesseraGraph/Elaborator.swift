import TesseraCore
import TesseraModel
import TesseraSpec

/// Turns a workload into a `DataflowGraph`.
///
/// Each layer becomes one operation. A layer that names its inputs (`LayerSpec.inputs`: an
/// imported ONNX graph, or a layer list with `inputs:`) reads those layers' output tensors and
/// depends on them, so branches and merges are the graph's own. A layer that does not chains after
/// the one before it (a zoo model: residual branches are sequenced, not run in parallel): it reads
/// the previous layer's output tensor when its input has that tensor's size; otherwise (a residual
/// add's second operand, a shortcut's input) it reads a tensor of its own with no producer.
/// GEMM-like layers also read a weight tensor. Ids are assigned in workload order, so the same
/// workload always gives the same graph.
public enum Elaborator {
    public static func elaborate(_ w: WorkloadSpec) -> DataflowGraph {
        let bpe = w.precision.bytes
        let b = w.batch
        var ops: [Operation] = []
        var tensors: [Tensor] = []
        var previousOutput: TensorID?
        var layerOutputs: [TensorID] = []

        func addTensor(_ name: String, _ kind: Tensor.Kind, elements: Int, producer: OpID?) -> TensorID {
            let id = TensorID(tensors.count)
            tensors.append(Tensor(id: id, name: name, kind: kind, bytes: UInt64(max(0, elements)) * UInt64(bpe), producer: producer))
            return id
        }

        for (index, layer) in w.layers.enumerated() {
            let id = OpID(ops.count)
            var inputs: [TensorID] = []
            let kind: OperationKind
            let inElements: Int, outElements: Int, weightElements: Int
            var extraInputs = 0
            switch layer.op {
            case .conv2d(let c):
                let g = max(1, c.groups)
                kind = .gemm(GemmShape(m: b * c.outputH * c.outputW, n: c.filters / g, k: c.kernelH * c.kernelW * c.channels / g, count: g))
                inElements = b * c.inputH * c.inputW * c.channels
                outElements = b * c.outputH * c.outputW * c.filters
                weightElements = c.kernelH * c.kernelW * (c.channels / g) * c.filters
            case .gemm(let m):
                kind = .gemm(GemmShape(m: b * m.m, n: m.n, k: m.k))
                inElements = b * m.m * m.k
                outElements = b * m.m * m.n
                weightElements = m.k * m.n
            case .matmul(let mm):
                // Both operands are activations (e.g. Q and Kᵀ): the second is read like a weight.
                kind = .gemm(GemmShape(m: mm.m, n: mm.n, k: mm.k, count: b * mm.count))
                inElements = b * mm.count * mm.m * mm.k
                outElements = b * mm.count * mm.m * mm.n
                weightElements = b * mm.count * mm.k * mm.n
            case .pool(let p):
                kind = .memory
                inElements = b * p.inputH * p.inputW * p.channels
                outElements = b * p.outputH * p.outputW * p.channels
                weightElements = 0
            case .elementwise(let e):
                kind = .memory
                inElements = b * e.elements
                outElements = b * e.elements
                weightElements = 0
                extraInputs = e.kind.inputs - 1
            }
            var deps: [OpID]
            var operands = 1
            if let producers = layer.inputs {
                // The graph's own edges: every producer's output is an operand.
                if producers.isEmpty {
                    inputs.append(addTensor("\(layer.name).in", .activation, elements: inElements, producer: nil))
                } else {
                    inputs += producers.map { layerOutputs[$0] }
                }
                operands = max(1, producers.count)
                deps = Array(Set(producers.map(OpID.init))).sorted()
            } else {
                if let previousOutput, tensors[previousOutput.raw].bytes == UInt64(inElements * bpe) {
                    inputs.append(previousOutput)
                } else {
                    inputs.append(addTensor("\(layer.name).in", .activation, elements: inElements, producer: nil))
                }
                for i in 0..<extraInputs {
                    inputs.append(addTensor("\(layer.name).in\(i + 2)", .activation, elements: inElements, producer: nil))
                }
                deps = ops.last.map { [$0.id] } ?? []
            }
            if weightElements > 0 {
                // A matmul's second operand is an activation: a producer's output when it names two.
                if case .matmul = layer.op {
                    if operands < 2 { inputs.append(addTensor("\(layer.name).w", .activation, elements: weightElements, producer: nil)) }
                } else {
                    inputs.append(addTensor("\(layer.name).w", .weight, elements: weightElements, producer: nil))
                }
            }
            let out = addTensor("\(layer.name).out", .activation, elements: outElements, producer: id)
            layerOutputs.append(out)
            ops.append(
                Operation(
                    id: id, name: layer.name, layer: index, op: layer.op.name, kind: kind, inputs: inputs, outputs: [out],
                    dependencies: deps, macs: UInt64(b) * UInt64(layer.op.macs), denseMacs: UInt64(b) * UInt64(layer.op.macs)))
            previousOutput = out
        }
        var graph = DataflowGraph(operations: ops, tensors: tensors, layers: w.layers.map(\.name), bytesPerElement: bpe)
        graph.precision = w.precision
        return graph
    }
}
