import TesseraCore
import TesseraModel
import TesseraSpec

/// Expands a workload into the operations of one training step (or, for inference on a sparse
/// training accelerator, the forward pass alone), with N:M sparsity per the workload's scheme.
///
/// Per layer with weights (a conv in its im2col view: m = batch·E·F, n = filters/g,
/// k = R·S·C/g, count = g):
///
/// | pass | product | GEMM (m, n, k) | sparse? |
/// | --- | --- | --- | --- |
/// | ff | Y = X·W | (m, n, k) | forward-only and bdwp: W pruned N:M along k |
/// | bp | dX = dY·Wᵀ | (m, k, n) | bdwp only: Wᵀ pruned N:M along n (its own mask) |
/// | wg | dW = Xᵀ·dY | (k, n, m) | never: no weight operand |
/// | update | w ← SGD-momentum(w, dW) | vector, k·n·g weights | — |
/// | maskgen | prune W (and Wᵀ for bdwp) | mask generator, k·n·g weights each | — |
///
/// Every pass has the dense MACs m·n·k·count; a sparse pass executes exactly dense · N/M.
/// A conv's dX is accumulated back from its im2col form (col2im) in the array's output path, so
/// DRAM sees dX at the input's size. Layers without weights run forward and backward on the vector
/// unit; a batched matmul (attention) runs two dense backward products, dA = dC·Bᵀ and dB = Aᵀ·dC.
/// The loss (softmax cross-entropy, forward and gradient fused) follows the last layer. No
/// backward-data work is done at or before the first layer with weights (nothing upstream needs
/// it). Operations are emitted in program order: the forward pass (each sparse layer's W mask just
/// before it), the loss, then per layer from last to first its Wᵀ mask, bp, wg and update.
/// Dependencies follow the data: the forward pass as in `Elaborator` (a layer's named inputs, or a
/// chain), and in the backward pass each operation depends on the operation(s) that produced its
/// output gradient. Where a layer's output feeds several layers (a branch), its output gradient
/// is the sum of their contributions: its backward operations read all of them and depend on every
/// operation that made one. A layer that reads several producers (a merge) sends each of them a
/// gradient of that producer's output size (a matmul of two activations: dA to the first, dB to
/// the second).
public enum TrainingElaborator {
    public static func elaborate(_ w: WorkloadSpec) -> DataflowGraph {
        var e = Builder(bpe: w.precision.bytes)
        let b = w.batch
        let training = w.phase == .training
        let scheme = w.sparsity?.scheme ?? .dense
        // The layers each layer reads, and whether a gradient must reach a layer's output (it has
        // weights, or a layer upstream of it has). For a chain this is every layer from the first
        // with weights on.
        let producers: [[Int]] = w.layers.indices.map { i in w.layers[i].inputs.map { Array(Set($0)).sorted() } ?? (i > 0 ? [i - 1] : []) }
        var needsGrad = [Bool](repeating: false, count: w.layers.count)
        for i in w.layers.indices { needsGrad[i] = w.layers[i].op.hasWeights || producers[i].contains { needsGrad[$0] } }

        struct Saved {
            var input: TensorID
            var weight: TensorID?
            var gemm: GemmShape?
            var inElements: Int
            var outElements: Int
            var weightElements: Int
        }
        var saved: [Saved] = []
        var previous: (op: OpID, out: TensorID)?
        var forward: [(op: OpID, out: TensorID)] = []

        // Forward.
        for (index, layer) in w.layers.enumerated() {
            let shape = LayerShape(layer.op, batch: b)
            let input: TensorID
            var deps: [OpID]
            var operands: [TensorID] = []
            if let named = layer.inputs {
                operands = named.map { forward[$0].out }
                input = operands.first ?? e.tensor("\(layer.name).in", .activation, elements: shape.inElements, producer: nil)
                deps = Array(Set(named.map { forward[$0].op })).sorted()
            } else {
                if let previous, e.tensors[previous.out.raw].bytes == e.bytes(shape.inElements) {
                    input = previous.out
                } else {
                    input = e.tensor("\(layer.name).in", .activation, elements: shape.inElements, producer: nil)
                }
                deps = previous.map { [$0.op] } ?? []
            }
            var inputs = operands.isEmpty ? [input] : operands
            var weight: TensorID?
            let sparse = w.layerSparsity.indices.contains(index) ? w.layerSparsity[index] : nil
            let ffPattern = scheme == .dense ? nil : sparse
            if layer.op.hasWeights {
                let dense = e.tensor("\(layer.name).w", .weight, elements: shape.weightElements, producer: nil)
                weight = dense
                if let s = ffPattern {
                    if training {
                        let mask = e.op(
                            "\(layer.name).mask.w", layer: index, op: "maskgen", kind: .maskgen(weights: shape.weightElements, pattern: s.pattern),
                            pass: .maskgen, inputs: [dense], deps: [], pattern: s)
                        let sparseW = e.sparseTensor("\(layer.name).w.\(s.pattern)", elements: shape.weightElements, pattern: s.pattern, producer: mask)
                        e.setOutputs(mask, [sparseW])
                        inputs.append(sparseW)
                        deps.append(mask)
                    } else {
                        // Inference: the weights were pruned offline.
                        inputs.append(e.sparseTensor("\(layer.name).w.\(s.pattern)", elements: shape.weightElements, pattern: s.pattern, producer: nil))
                    }
                } else {
                    inputs.append(dense)
                }
            } else if case .matmul = layer.op, operands.count < 2 {
                inputs.append(e.tensor("\(layer.name).b", .activation, elements: shape.weightElements, producer: nil))
            } else if case .elementwise(let el) = layer.op, el.kind.inputs > 1, layer.inputs == nil {
                inputs.append(e.tensor("\(layer.name).in2", .activation, elements: shape.inElements, producer: nil))
            }
            let kind: OperationKind
            switch layer.op {
            case .conv2d, .gemm, .matmul: kind = .gemm(shape.gemm ?? GemmShape(m: 0, n: 0, k: 0))
            case .pool(let p):
                kind = .vector(elements: shape.outElements, operations: shape.outElements * p.kernelH * p.kernelW)
            case .elementwise(let el):
                kind = .vector(elements: shape.outElements, operations: shape.outElements * VectorCost.forward(el.kind))
            }
            let ff = e.op(
                training ? "\(layer.name).ff" : layer.name, layer: index, op: layer.op.name, kind: kind, pass: .ff, inputs: inputs, deps: deps,
                gemm: shape.gemm, pattern: ffPattern)
            let out = e.tensor("\(layer.name).out", .activation, elements: shape.outElements, producer: ff)
            e.setOutputs(ff, [out])
            saved.append(Saved(input: input, weight: weight, gemm: shape.gemm, inElements: shape.inElements, outElements: shape.outElements, weightElements: shape.weightElements))
            previous = (ff, out)
            forward.append((ff, out))
        }
        guard training, let last = previous else {
            var graph = DataflowGraph(operations: e.ops, tensors: e.tensors, layers: w.layers.map(\.name), bytesPerElement: e.bpe, isTraining: false)
            graph.precision = w.precision
            return graph
        }

        // Loss: softmax cross-entropy over the last layer's outputs, with its gradient.
        let logits = e.tensors[last.out.raw]
        let lossElements = Int(logits.bytes) / e.bpe
        let lossOp = e.op(
            "loss", layer: w.layers.count - 1, op: "softmax-xent", kind: .vector(elements: lossElements, operations: lossElements * VectorCost.loss),
            pass: .loss, inputs: [last.out], deps: [last.op])
        let lossGradient = e.tensor("loss.grad", .gradient, elements: lossElements, producer: lossOp)
        e.setOutputs(lossOp, [lossGradient])
        // The gradients that reach each layer's output, with the operations that made them.
        var contributions = [[(tensor: TensorID, ops: [OpID])]](repeating: [], count: w.layers.count)
        contributions[w.layers.count - 1] = [(lossGradient, [lossOp])]

        // Backward, last layer first.
        for index in w.layers.indices.reversed() where needsGrad[index] && !contributions[index].isEmpty {
            let layer = w.layers[index]
            let s = saved[index]
            let needsDX = producers[index].contains { needsGrad[$0] }
            let gradients = contributions[index].map(\.tensor)
            var gradientProducers: [OpID] = []
            for c in contributions[index] { for op in c.ops where !gradientProducers.contains(op) { gradientProducers.append(op) } }
            var nextProducers: [OpID] = []
            var dX: TensorID?
            switch layer.op {
            case .conv2d, .gemm:
                guard let g = s.gemm, let weight = s.weight else { continue }
                let sparse = w.layerSparsity.indices.contains(index) ? w.layerSparsity[index] : nil
                let bpPattern = scheme == .bdwp ? sparse : nil
                if needsDX {
                    var deps = gradientProducers
                    var bpWeight = weight
                    if let p = bpPattern {
                        let mask = e.op(
                            "\(layer.name).mask.wt", layer: index, op: "maskgen", kind: .maskgen(weights: s.weightElements, pattern: p.pattern),
                            pass: .maskgen, inputs: [weight], deps: [], pattern: p)
                        bpWeight = e.sparseTensor("\(layer.name).wt.\(p.pattern)", elements: s.weightElements, pattern: p.pattern, producer: mask)
                        e.setOutputs(mask, [bpWeight])
                        deps.append(mask)
                    }
                    let bpShape = GemmShape(m: g.m, n: g.k, k: g.n, count: g.count)
                    let bp = e.op(
                        "\(layer.name).bp", layer: index, op: layer.op.name, kind: .gemm(bpShape), pass: .bp, inputs: gradients + [bpWeight], deps: deps,
                        gemm: bpShape, pattern: bpPattern)
                    let t = e.tensor("\(layer.name).dx", .gradient, elements: s.inElements, producer: bp)
                    e.setOutputs(bp, [t])
                    dX = t
                    nextProducers.append(bp)
                }
                let wgShape = GemmShape(m: g.k, n: g.n, k: g.m, count: g.count)
                let wg = e.op(
                    "\(layer.name).wg", layer: index, op: layer.op.name, kind: .gemm(wgShape), pass: .wg, inputs: [s.input] + gradients, deps: gradientProducers,
                    gemm: wgShape, pattern: nil)
                let dW = e.tensor("\(layer.name).dw", .gradient, elements: s.weightElements, producer: wg)
                e.setOutputs(wg, [dW])
                // Mixed-precision update: reads FP32 master weights and momentum and the gradient,
                // writes the masters, the momentum and the FP16 copy the next step prunes.
                let master = e.tensor("\(layer.name).master", .state, bytes: UInt64(s.weightElements) * 8, producer: nil)
                let update = e.op(
                    "\(layer.name).update", layer: index, op: "sgd-momentum",
                    kind: .vector(elements: s.weightElements, operations: s.weightElements * VectorCost.update), pass: .update, inputs: [dW, master], deps: [wg])
                let newMaster = e.tensor("\(layer.name).master'", .state, bytes: UInt64(s.weightElements) * 8, producer: update)
                let newWeight = e.tensor("\(layer.name).w'", .weight, elements: s.weightElements, producer: update)
                e.setOutputs(update, [newMaster, newWeight])
            case .matmul:
                guard let g = s.gemm else { continue }
                let da = GemmShape(m: g.m, n: g.k, k: g.n, count: g.count)
                let db = GemmShape(m: g.k, n: g.n, k: g.m, count: g.count)
                let opA = e.op("\(layer.name).bp.a", layer: index, op: "matmul", kind: .gemm(da), pass: .bp, inputs: gradients, deps: gradientProducers, gemm: da)
                let tA = e.tensor("\(layer.name).da", .gradient, elements: s.inElements, producer: opA)
                e.setOutputs(opA, [tA])
                let opB = e.op("\(layer.name).bp.b", layer: index, op: "matmul", kind: .gemm(db), pass: .bp, inputs: [s.input] + gradients, deps: gradientProducers, gemm: db)
                let tB = e.tensor("\(layer.name).db", .gradient, elements: s.weightElements, producer: opB)
                e.setOutputs(opB, [tB])
                if needsDX {
                    dX = tA
                    nextProducers = [opA, opB]
                    let named = layer.inputs ?? []
                    if named.count == 2, named[0] != named[1] {
                        // Two activation operands: dA goes to the first, dB to the second.
                        if needsGrad[named[0]] { contributions[named[0]].append((tA, [opA])) }
                        if needsGrad[named[1]] { contributions[named[1]].append((tB, [opB])) }
                        continue
                    }
                }
            case .pool:
                guard needsDX else { continue }
                let op = e.op(
                    "\(layer.name).bp", layer: index, op: layer.op.name, kind: .vector(elements: s.inElements, operations: s.inElements),
                    pass: .bp, inputs: gradients + [s.input], deps: gradientProducers)
                let t = e.tensor("\(layer.name).dx", .gradient, elements: s.inElements, producer: op)
                e.setOutputs(op, [t])
                dX = t
                nextProducers = [op]
            case .elementwise(let el):
                guard needsDX else { continue }
                // ReLU, batch norm, layer norm, GELU and softmax need the saved forward tensor.
                let inputs = el.kind == .add ? gradients : gradients + [s.input]
                let op = e.op(
                    "\(layer.name).bp", layer: index, op: layer.op.name, kind: .vector(elements: s.outElements, operations: s.outElements * VectorCost.backward(el.kind)),
                    pass: .bp, inputs: inputs, deps: gradientProducers)
                let t = e.tensor("\(layer.name).dx", .gradient, elements: s.inElements, producer: op)
                e.setOutputs(op, [t])
                dX = t
                nextProducers = [op]
            }
            let upstream = producers[index].filter { needsGrad[$0] }
            guard let dX else {
                // No backward-data work: a chained layer passes its output gradient on unchanged.
                if layer.inputs == nil, let p = upstream.first { contributions[p] += contributions[index] }
                continue
            }
            if upstream.count == 1 || layer.inputs == nil {
                if let p = upstream.first { contributions[p].append((dX, nextProducers)) }
            } else if let last = nextProducers.last {
                // A merge: each producer gets a gradient of its own output's size.
                var outputs = e.ops[last.raw].outputs.filter { $0 != dX }
                for p in upstream {
                    let t = e.tensor("\(layer.name).dx.\(w.layers[p].name)", .gradient, bytes: e.tensors[forward[p].out.raw].bytes, producer: last)
                    outputs.append(t)
                    contributions[p].append((t, nextProducers))
                }
                e.setOutputs(last, outputs)
            }
        }
        // Continual learning's knobs: weight sparsity thins ff and bp of the layers with weights,
        // gradient sparsity their wg.
        if let c = w.continual {
            for i in e.ops.indices where e.ops[i].macs > 0 {
                let layer = e.ops[i].layer
                guard w.layers.indices.contains(layer), w.layers[layer].op.hasWeights else { continue }
                switch e.ops[i].pass {
                case .ff, .bp: e.ops[i].density = 1 - c.weightSparsity
                case .wg: e.ops[i].density = 1 - c.gradientSparsity
                default: break
                }
            }
        }
        var graph = DataflowGraph(operations: e.ops, tensors: e.tensors, layers: w.layers.map(\.name), bytesPerElement: e.bpe, isTraining: true)
        graph.precision = w.precision
        return graph
    }

    /// The per-pass sizes of one layer at a batch size.
    struct LayerShape {
        var gemm: GemmShape?
        var inElements: Int
        var outElements: Int
        /// Weight values (or, for a matmul, the second operand's values).
        var weightElements: Int

        init(_ op: LayerOp, batch b: Int) {
            switch op {
            case .conv2d(let c):
                let g = max(1, c.groups)
                gemm = GemmShape(m: b * c.outputH * c.outputW, n: c.filters / g, k: c.kernelH * c.kernelW * c.channels / g, count: g)
                inElements = b * c.inputH * c.inputW * c.channels
                outElements = b * c.outputH * c.outputW * c.filters
                weightElements = c.kernelH * c.kernelW * (c.channels / g) * c.filters
            case .gemm(let m):
                gemm = GemmShape(m: b * m.m, n: m.n, k: m.k)
                inElements = b * m.m * m.k
                outElements = b * m.m * m.n
                weightElements = m.k * m.n
            case .matmul(let mm):
                gemm = GemmShape(m: mm.m, n: mm.n, k: mm.k, count: b * mm.count)
                inElements = b * mm.count * mm.m * mm.k
                outElements = b * mm.count * mm.m * mm.n
                weightElements = b * mm.count * mm.k * mm.n
            case .pool(let p):
                gemm = nil
                inElements = b * p.inputH * p.inputW * p.channels
                outElements = b * p.outputH * p.outputW * p.channels
                weightElements = 0
            case .elementwise(let e):
                gemm = nil
                inElements = b * e.elements
                outElements = b * e.elements
                weightElements = 0
            }
        }
    }

    /// Accumulates operations and tensors with ids in creation order.
    struct Builder {
        let bpe: Int
        var ops: [Operation] = []
        var tensors: [Tensor] = []

        func bytes(_ elements: Int) -> UInt64 { UInt64(max(0, elements)) * UInt64(bpe) }

        mutating func tensor(_ name: String, _ kind: Tensor.Kind, elements: Int, producer: OpID?) -> TensorID {
            tensor(name, kind, bytes: bytes(elements), producer: producer)
        }

        mutating func tensor(_ name: String, _ kind: Tensor.Kind, bytes: UInt64, producer: OpID?) -> TensorID {
            let id = TensorID(tensors.count)
            tensors.append(Tensor(id: id, name: name, kind: kind, bytes: bytes, producer: producer))
            return id
        }

        /// A pruned weight tensor: N/M of the values, each with its ⌈log₂ M⌉-bit index, in bytes
        /// rounded up: ⌈kept · (8·bpe + index bits) / 8⌉.
        mutating func sparseTensor(_ name: String, elements: Int, pattern: NMPattern, producer: OpID?) -> TensorID {
            let kept = UInt64(elements / pattern.m * pattern.n)
            let bits = kept * UInt64(8 * bpe + pattern.indexBits)
            return tensor(name, .weight, bytes: (bits + 7) / 8, producer: producer)
        }

        mutating func op(
            _ name: String, layer: Int, op: String, kind: OperationKind, pass: Pass, inputs: [TensorID], deps: [OpID], gemm: GemmShape? = nil,
            pattern: LayerSparsity? = nil
        ) -> OpID {
            let id = OpID(ops.count)
            let dense = UInt64(gemm?.macs ?? 0)
            let executed = pattern.map { dense / UInt64($0.pattern.m) * UInt64($0.pattern.n) } ?? dense
            ops.append(
                Operation(
                    id: id, name: name, layer: layer, op: op, kind: kind, inputs: inputs, outputs: [], dependencies: deps, macs: executed,
                    pass: pass, sparsity: pattern?.pattern, sparsityLocation: pattern?.location, denseMacs: dense))
            return id
        }

        mutating func setOutputs(_ op: OpID, _ outputs: [TensorID]) { ops[op.raw].outputs = outputs }
    }
}
