import Foundation
import SwiftProtobuf
import TesseraCore

/// Turns an ONNX model into Tessera layers that keep the model's own graph: each layer names the
/// layers it reads (`LayerSpec.inputs`), so branches and merges become graph dependencies.
///
/// Shapes are inferred node by node from the graph inputs' declared shapes (a dynamic dimension
/// other than the leading batch axis must be pinned with `input_shapes:`) and the initializers'
/// dimensions; weights are never read, so a model whose weights live in external files needs only
/// its `.onnx` file. Layers are per sample: the leading axis of every graph input is the batch,
/// taken as 1 (the workload's `batch:` multiplies the layers, as for every workload).
///
/// | ONNX operator | becomes |
/// | --- | --- |
/// | Conv (1-D and 2-D; groups, strides, pads, auto_pad, dilations) | `conv2d` (an equivalent convolution, see below) |
/// | ConvTranspose | `conv2d` over the zero-upsampled input |
/// | Gemm, MatMul with a constant 2-D B | `gemm` (a weight layer) |
/// | MatMul of two activations (batched, broadcast) | `matmul` (count = the broadcast batch) |
/// | BatchNormalization | folded into the conv or GEMM before it for inference, else `batchnorm` |
/// | Relu, LeakyRelu, PRelu, Clip, HardSigmoid, HardSwish | fused into the conv, GEMM or add before it for inference, else `relu` |
/// | Gelu, Erf, Sigmoid, Tanh, Elu, Selu, Softplus, Mish, Exp, Log, Sqrt, Reciprocal, Pow | `gelu` (a transcendental elementwise op) |
/// | Neg, Abs | `relu` (a cheap elementwise op) |
/// | Add, Sub; Mul, Div (broadcasting) | `add`; `mul` |
/// | Softmax, LogSoftmax | `softmax` |
/// | LayerNormalization, InstanceNormalization, GroupNormalization | `layernorm` |
/// | MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool | `maxpool`, `avgpool` |
/// | ReduceMean, ReduceSum, ReduceMax, ReduceMin, ReduceL2, … (contiguous axes) | `avgpool`/`maxpool` over the tensor seen as (outer, reduced, inner) |
/// | Attention (opset 23; 3-D or 4-D, grouped-query) | `<name>.qk` `matmul`, `<name>.softmax`, `<name>.av` `matmul` |
/// | Reshape, Flatten, Transpose, Squeeze, Unsqueeze, Identity, Dropout, Cast, Expand, Slice, Split, Concat | no layer: a view of its input (Concat: its consumers read every part) |
/// | Gather of a constant table (an embedding) | no layer: its output is read as a graph input |
/// | Shape, Constant, ConstantOfShape, Range, Gather/Concat/Slice/arithmetic on constants | folded at import (shape arithmetic) |
///
/// Approximations (each counted in the workload's import notes): a convolution whose strides
/// differ per axis, whose padding is uneven in a way one symmetric padding cannot reproduce, or
/// that is dilated runs as the convolution with the same kernel, filters, groups and output over
/// an input of ((E−1)·s + R) × ((F−1)·s + S) without padding: the same MACs and output, with the
/// input's footprint approximated. A transposed convolution runs as the convolution over its
/// zero-upsampled input (E + R − 1) × (F + S − 1), so its MACs include the inserted zeros (about
/// stride² more than the scatter form). Bias adds of Conv and Gemm are fused, as in the zoo, and so
/// is an Add, Sub, Mul or Div of a constant smaller than its activation (a MatMul's bias, attention's
/// 1/√d scale, GELU's +1 and ×½) when it is the only use of a layer's output: it runs in that
/// layer's output path.
struct ONNXImporter {
    /// The import's result: layers and what the import did, for the report's model notes.
    struct Result {
        var layers: [LayerSpec]
        var notes: [String]
    }

    /// The most nodes a graph may have.
    static let maxNodes = 200_000

    let training: Bool
    let at: SourceLocation
    let file: String
    var values: [String: ONNXValue] = [:]
    var layers: [LayerSpec] = []
    var uses: [String: Int] = [:]
    var names: Set<String> = []
    var folded: [String: Int] = [:]
    var views = 0
    var approximations: [String: (count: Int, first: String)] = [:]
    var approximationOrder: [String] = []
    /// The node that makes each value, for the message when a node reads one made later.
    var laterProducer: [String: String] = [:]

    init(training: Bool, at: SourceLocation, file: String) {
        self.training = training
        self.at = at
        self.file = file
    }

    /// Imports a parsed model. `inputShapes` pins graph inputs' shapes (their leading axis is the batch: 1).
    static func importModel(
        _ model: Tessera_Onnx_ModelProto, file: String, at: SourceLocation, inputShapes: [String: (shape: [Int], location: SourceLocation)], training: Bool
    ) throws(InputError) -> Result {
        var importer = ONNXImporter(training: training, at: at, file: file)
        return try importer.run(model, inputShapes: inputShapes)
    }

    private func error(_ message: String, expected: String, found: String, hint: String? = nil, at location: SourceLocation? = nil) -> InputError {
        InputError(Diagnostic(at: location ?? at, "ONNX model '\(file)': " + message, expected: expected, found: found, hint: hint))
    }

    private mutating func run(_ model: Tessera_Onnx_ModelProto, inputShapes: [String: (shape: [Int], location: SourceLocation)]) throws(InputError) -> Result {
        let graph = model.graph
        guard model.hasGraph, !graph.node.isEmpty else {
            throw error("the model has no graph", expected: "an ONNX ModelProto with a graph of nodes", found: model.hasGraph ? "a graph with no nodes" : "no graph")
        }
        guard graph.node.count <= Self.maxNodes else {
            throw error("the graph is too large to import", expected: "at most \(Self.maxNodes) nodes", found: "\(graph.node.count) nodes")
        }
        let opset = model.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int($0.version) } ?? 0
        // Initializers are constants: their shapes matter, their contents only for small integers.
        for t in graph.initializer {
            do {
                values[t.name] = ONNXValue.constant(try t.checkedShape(), ints: t.smallInts())
            } catch {
                throw self.error(error.message, expected: error.expected, found: error.found)
            }
        }
        let names = graph.input.map(\.name).filter { values[$0] == nil }
        if let stray = inputShapes.sorted(by: { $0.key < $1.key }).first(where: { !names.contains($0.key) }) {
            throw error(
                "'input_shapes' names '\(stray.key)', which is not an input of the graph", expected: "one of " + names.map { "'\($0)'" }.joined(separator: ", "),
                found: "'\(stray.key)'", hint: closestMatch(to: stray.key, in: names).map { "did you mean '\($0)'?" }, at: stray.value.location)
        }
        for input in graph.input where values[input.name] == nil {
            values[input.name] = ONNXValue(shape: try inputShape(input, pin: inputShapes[input.name]))
        }
        for (index, node) in graph.node.enumerated() {
            for i in node.input where !i.isEmpty { uses[i, default: 0] += 1 }
            for o in node.output where !o.isEmpty && laterProducer[o] == nil { laterProducer[o] = node.name.isEmpty ? "#\(index + 1)" : node.name }
        }
        for o in graph.output { uses[o.name, default: 0] += 1 }

        for (index, node) in graph.node.enumerated() {
            do {
                try self.node(node, index: index, opset: opset)
            } catch {
                let name = node.name.isEmpty ? "#\(index + 1)" : "'\(node.name)'"
                throw self.error(
                    "node \(name) (\(node.opType), node \(index + 1) of \(graph.node.count)): \(error.message)", expected: error.expected, found: error.found,
                    hint: error.hint)
            }
        }
        guard !layers.isEmpty else {
            throw error("the graph has no operation Tessera models", expected: "at least one Conv, Gemm, MatMul, pooling or elementwise node", found: "only views and constants")
        }
        return Result(layers: layers, notes: notes(model: model, opset: opset))
    }

    private func notes(model: Tessera_Onnx_ModelProto, opset: Int) -> [String] {
        var first = "imported from the ONNX model '\(file)' (opset \(opset), \(model.graph.node.count) nodes) as \(layers.count) layers that keep its graph's branches and merges"
        var parts: [String] = []
        let foldedList = folded.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
        if !foldedList.isEmpty {
            parts.append(
                foldedList.joined(separator: ", ")
                    + " nodes folded into the layer before them (batch norms and activations after a conv, GEMM or add for inference; biases, scales and offsets by a smaller constant always)")
        }
        if views > 0 {
            parts.append("\(views) view and shape node\(views == 1 ? "" : "s") cost nothing (Reshape, Transpose, Concat, …: the mapping reads operands in the order it needs)")
        }
        if !parts.isEmpty { first += "; " + parts.joined(separator: "; ") }
        var out = [first]
        for key in approximationOrder {
            guard let a = approximations[key] else { continue }
            out.append("ONNX import approximation, \(a.count) node\(a.count == 1 ? "" : "s") (first '\(a.first)'): \(key)")
        }
        return out
    }

    // MARK: - Graph inputs

    private func inputShape(_ input: Tessera_Onnx_ValueInfoProto, pin: (shape: [Int], location: SourceLocation)?) throws(InputError) -> [Int] {
        if let pin {
            guard let lead = pin.shape.first, lead == 1 else {
                throw error(
                    "'input_shapes' gives '\(input.name)' a batch axis of \(pin.shape.first.map(String.init) ?? "nothing")", expected: "1 as the leading (batch) dimension",
                    found: ONNXShape.describe(pin.shape), hint: "layers are per sample: set the batch with the workload's 'batch:'", at: pin.location)
            }
            return pin.shape
        }
        guard input.hasType, case .tensorType(let t)? = input.type.value else {
            throw error(
                "the graph input '\(input.name)' declares no tensor type", expected: "a tensor input with a shape", found: "no type",
                hint: "pin its shape with input_shapes: {\(input.name): [1, …]}")
        }
        var shape: [Int] = []
        for (axis, d) in t.shape.dim.enumerated() {
            if case .dimValue(let v)? = d.value, v > 0 {
                guard v <= Int64(ONNXShape.maxDimension) else {
                    throw error("the graph input '\(input.name)' has an unusable dimension", expected: "dimensions up to 2^40", found: "\(v) in axis \(axis)")
                }
                if axis == 0, v != 1 {
                    throw error(
                        "the graph input '\(input.name)' was exported with a fixed batch of \(v)", expected: "a batch axis of 1 or a dynamic one", found: "\(v)",
                        hint: "re-export with batch 1 or a dynamic batch axis and set the workload's 'batch:' (layers are per sample)")
                }
                shape.append(Int(v))
            } else if axis == 0 {
                shape.append(1)
            } else {
                let param: String = { if case .dimParam(let p)? = d.value { return "'\(p)'" } else { return "unknown" } }()
                let declared = t.shape.dim.enumerated().map { (i, d) -> String in
                    if i == 0 { return "1" }
                    switch d.value {
                    case .dimValue(let v)? where v > 0: return "\(v)"
                    case .dimParam(let p)?: return "<\(p)>"
                    default: return "<?>"
                    }
                }
                throw error(
                    "the graph input '\(input.name)' has a dynamic dimension \(param) in axis \(axis)", expected: "a fixed size for every axis but the batch",
                    found: "a dynamic dimension", hint: "pin it: model: {onnx: …, input_shapes: {\(input.name): [\(declared.joined(separator: ", "))]}} with numbers for the <…>")
            }
        }
        return shape
    }

    // MARK: - Nodes

    private func value(_ name: String) throws(ONNXNodeError) -> ONNXValue {
        guard let v = values[name] else {
            if let later = laterProducer[name] {
                throw ONNXNodeError(
                    message: "it reads '\(name)', which only a later node ('\(later)') makes: the graph has a cycle or is not in topological order",
                    expected: "nodes in the order they run (ONNX requires a topological order)", found: "'\(name)' made after its use")
            }
            throw ONNXNodeError(message: "it reads '\(name)', which no earlier node, input or initializer makes", expected: "nodes in the order they run (ONNX's topological order)", found: "'\(name)' undefined")
        }
        return v
    }

    private func operand(_ node: Tessera_Onnx_NodeProto, _ i: Int, _ what: String) throws(ONNXNodeError) -> ONNXValue {
        guard i < node.input.count, !node.input[i].isEmpty else {
            throw ONNXNodeError(message: "it has no \(what)", expected: "input \(i + 1) (\(what))", found: "\(node.input.count) inputs")
        }
        return try value(node.input[i])
    }

    private func optionalInts(_ node: Tessera_Onnx_NodeProto, _ i: Int, _ what: String) throws(ONNXNodeError) -> [Int]? {
        guard i < node.input.count, !node.input[i].isEmpty else { return nil }
        let v = try value(node.input[i])
        guard let ints = v.ints else {
            throw ONNXNodeError(
                message: "its \(what) is computed at run time from values Tessera cannot fold", expected: "a constant (an initializer, a Constant node, or shape arithmetic on them)",
                found: "'\(node.input[i])'", hint: "pin the graph's dynamic dimensions with input_shapes, or fold the model's constants before export (onnx-simplifier)")
        }
        return ints
    }

    /// An integer list given as an attribute (older opsets) or as a constant input (newer ones).
    private func attrOrInput(_ attrs: ONNXAttributes, _ key: String, _ node: Tessera_Onnx_NodeProto, _ i: Int) throws(ONNXNodeError) -> [Int]? {
        if let a = attrs.ints(key) { return a }
        return try optionalInts(node, i, key)
    }

    private mutating func define(_ node: Tessera_Onnx_NodeProto, _ v: ONNXValue, output i: Int = 0) {
        guard i < node.output.count, !node.output[i].isEmpty else { return }
        values[node.output[i]] = v
    }

    private mutating func layerName(_ node: Tessera_Onnx_NodeProto, index: Int) -> String {
        let base = node.name.isEmpty ? "\(node.opType)_\(index + 1)" : node.name
        var name = base
        var k = 2
        while names.contains(name) {
            name = "\(base)_\(k)"
            k += 1
        }
        names.insert(name)
        return name
    }

    /// Adds a layer reading `operands` (the activation operands, in order) and returns its output value.
    private mutating func addLayer(_ node: Tessera_Onnx_NodeProto, index: Int, op: LayerOp, operands: [ONNXValue], shape: [Int]) -> ONNXValue {
        var inputs: [Int] = []
        for v in operands where !v.isConstant { for p in v.producers where !inputs.contains(p) { inputs.append(p) } }
        let id = layers.count
        layers.append(LayerSpec(name: layerName(node, index: index), op: op, location: at, inputs: inputs))
        return ONNXValue(shape: shape, producers: [id])
    }

    private mutating func approximate(_ what: String, node: Tessera_Onnx_NodeProto, index: Int) {
        let name = node.name.isEmpty ? "\(node.opType)_\(index + 1)" : node.name
        if let a = approximations[what] {
            approximations[what] = (a.count + 1, a.first)
        } else {
            approximations[what] = (1, name)
            approximationOrder.append(what)
        }
    }

    static let cheapActivations: Set<String> = ["Relu", "LeakyRelu", "PRelu", "Clip", "HardSigmoid", "HardSwish"]
    static let transcendental: Set<String> = ["Gelu", "Erf", "Sigmoid", "Tanh", "Elu", "Selu", "Softplus", "Mish", "Exp", "Log", "Sqrt", "Reciprocal", "Pow", "Softsign"]
    static let viewOps: Set<String> = ["Identity", "Dropout", "Cast", "CastLike"]
    static let supported: [String] = (
        ["Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "Add", "Sub", "Mul", "Div", "Softmax", "LogSoftmax", "LayerNormalization",
         "InstanceNormalization", "GroupNormalization", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "Reshape", "Flatten", "Transpose",
         "Squeeze", "Unsqueeze", "Concat", "Slice", "Split", "Expand", "Gather", "Shape", "Constant", "ConstantOfShape", "Range", "Neg", "Abs",
         "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp", "ReduceProd", "Attention"]
        + Array(cheapActivations) + Array(transcendental) + Array(viewOps)).sorted()

    private mutating func node(_ node: Tessera_Onnx_NodeProto, index: Int, opset: Int) throws(ONNXNodeError) {
        guard node.domain.isEmpty || node.domain == "ai.onnx" else {
            throw ONNXNodeError(
                message: "operators of the domain '\(node.domain)' are not supported", expected: "standard ONNX operators (the default domain)", found: "\(node.domain).\(node.opType)",
                hint: "export without runtime-specific fusions (e.g. onnxruntime's com.microsoft ops)")
        }
        let attrs = ONNXAttributes(node)
        let op = node.opType
        switch op {
        case "Conv": try conv(node, attrs, index: index, transposed: false)
        case "ConvTranspose": try conv(node, attrs, index: index, transposed: true)
        case "Gemm": try gemm(node, attrs, index: index)
        case "MatMul": try matmul(node, index: index)
        case "BatchNormalization":
            let x = try operand(node, 0, "input")
            if try fuse(node, x, into: [.conv, .gemm]) { return }
            define(node, addLayer(node, index: index, op: .elementwise(Elementwise(kind: .batchnorm, elements: try ONNXShape.elements(x.shape))), operands: [x], shape: x.shape))
        case _ where Self.cheapActivations.contains(op):
            let x = try operand(node, 0, "input")
            if x.isConstant { return define(node, .constant(x.shape)) }
            if try fuse(node, x, into: [.conv, .gemm, .add]) { return }
            define(node, addLayer(node, index: index, op: .elementwise(Elementwise(kind: .relu, elements: try ONNXShape.elements(x.shape))), operands: [x], shape: x.shape))
        case "Neg", "Abs":
            try unary(node, index: index, kind: .relu)
        case _ where Self.transcendental.contains(op):
            if op == "Pow", node.input.count > 1, let e = values[node.input[1]], !e.isConstant {
                try binary(node, index: index, kind: .mul)
            } else {
                try unary(node, index: index, kind: .gelu)
            }
        case "Add", "Sub": try binary(node, index: index, kind: .add)
        case "Mul", "Div": try binary(node, index: index, kind: .mul)
        case "Softmax", "LogSoftmax": try unary(node, index: index, kind: .softmax)
        case "LayerNormalization", "InstanceNormalization", "GroupNormalization": try unary(node, index: index, kind: .layernorm)
        case "MaxPool", "AveragePool": try pool(node, attrs, index: index, kind: op == "MaxPool" ? .maxpool : .avgpool)
        case "GlobalAveragePool", "GlobalMaxPool": try globalPool(node, index: index, kind: op == "GlobalMaxPool" ? .maxpool : .avgpool)
        case _ where Self.viewOps.contains(op):
            let x = try operand(node, 0, "input")
            views += 1
            define(node, x)
        case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp", "ReduceProd":
            try reduce(node, attrs, index: index, opset: opset)
        case "Attention": try attention(node, attrs, index: index)
        case "Reshape": try reshape(node, attrs)
        case "Flatten":
            let x = try operand(node, 0, "input")
            let axis = x.shape.isEmpty ? 0 : try ONNXShape.axis(attrs.int("axis") ?? 1, rank: x.shape.count + 1)
            var v = x
            v.shape = [try ONNXShape.elements(Array(x.shape[..<axis])), try ONNXShape.elements(Array(x.shape[axis...]))]
            views += 1
            define(node, v)
        case "Transpose":
            let x = try operand(node, 0, "input")
            let perm = attrs.ints("perm") ?? Array(x.shape.indices.reversed())
            guard perm.sorted() == Array(x.shape.indices) else {
                throw ONNXNodeError(message: "'perm' is not a permutation of the axes", expected: "a permutation of 0..<\(x.shape.count)", found: "\(perm)")
            }
            var v = x
            v.shape = perm.map { x.shape[$0] }
            if let ints = x.ints, x.shape.count <= 1 { v.ints = ints }
            views += 1
            define(node, v)
        case "Squeeze", "Unsqueeze": try squeeze(node, attrs, opset: opset, unsqueeze: op == "Unsqueeze")
        case "Concat": try concat(node, attrs)
        case "Slice": try slice(node, attrs, opset: opset)
        case "Split": try split(node, attrs, opset: opset)
        case "Expand":
            let x = try operand(node, 0, "input")
            guard let target = try optionalInts(node, 1, "target shape") else {
                throw ONNXNodeError(message: "it has no target shape", expected: "input 2 (shape)", found: "\(node.input.count) inputs")
            }
            var v = x
            v.shape = try ONNXShape.broadcast(x.shape, try target.map { (d: Int) throws(ONNXNodeError) -> Int in try ONNXShape.dimension(max(d, 1), what: "a target dimension") })
            v.ints = nil
            views += 1
            define(node, v)
        case "Gather": try gather(node, attrs)
        case "Shape":
            let x = try operand(node, 0, "input")
            let r = x.shape.count
            func clamp(_ a: Int) -> Int { min(max(a < 0 ? a + r : a, 0), r) }
            let start = clamp(attrs.int("start") ?? 0), end = clamp(attrs.int("end") ?? r)
            let dims = start < end ? Array(x.shape[start..<end]) : []
            define(node, .constant([dims.count], ints: dims))
        case "Constant":
            if let t = attrs.tensor("value") {
                define(node, .constant(try t.checkedShape(), ints: t.smallInts()))
            } else if let i = attrs.int("value_int") {
                define(node, .constant([], ints: [i]))
            } else if let v = attrs.ints("value_ints") {
                define(node, .constant([v.count], ints: v))
            } else {
                define(node, .constant([]))
            }
        case "ConstantOfShape":
            guard let dims = try optionalInts(node, 0, "shape") else {
                throw ONNXNodeError(message: "it has no shape", expected: "input 1 (shape)", found: "none")
            }
            let shape = try dims.map { (d: Int) throws(ONNXNodeError) -> Int in
                guard d >= 0, d <= ONNXShape.maxDimension else { throw ONNXNodeError(message: "a dimension is not usable", expected: "0 to 2^40", found: "\(d)") }
                return d
            }
            _ = try ONNXShape.elements(shape)
            define(node, .constant(shape))
        case "Range":
            let start = try optionalInts(node, 0, "start")?.first, limit = try optionalInts(node, 1, "limit")?.first, delta = try optionalInts(node, 2, "delta")?.first
            guard let start, let limit, let delta, delta != 0 else {
                throw ONNXNodeError(message: "its bounds are not integer constants", expected: "constant start, limit and a non-zero delta", found: "run-time values")
            }
            // In floating point: the bounds are the file's, and may be anything.
            let span = (Double(limit) - Double(start)) / Double(delta)
            guard span.isFinite, span <= Double(ONNXShape.maxDimension) else {
                throw ONNXNodeError(message: "the range is too long", expected: "at most 2^40 values", found: "from \(start) to \(limit) by \(delta)")
            }
            let count = span <= 0 ? 0 : Int(span.rounded(.up))
            define(node, .constant([count], ints: count <= 4096 ? (0..<count).map { start &+ $0 &* delta } : nil))
        default:
            throw ONNXNodeError(
                message: "the operator \(op) is not supported", expected: "one of " + Self.supported.joined(separator: ", "), found: op,
                hint: closestMatch(to: op, in: Self.supported).map { "did you mean \($0)? " }.map { $0 + "Otherwise simplify the model before export, or describe the layer in 'layers:'" }
                    ?? "simplify the model before export (onnx-simplifier folds many such nodes), or describe the layer in 'layers:'")
        }
    }

    /// A product of two sizes read from the file, refused rather than trapping when it overflows
    /// or exceeds the largest dimension.
    private static func product(_ a: Int, _ b: Int, what: String) throws(ONNXNodeError) -> Int {
        let (p, overflow) = a.multipliedReportingOverflow(by: b)
        guard !overflow, p <= ONNXShape.maxDimension else {
            throw ONNXNodeError(message: "\(what) is too large", expected: "at most 2^40", found: "\(a) × \(b)")
        }
        return p
    }

    /// The layer kinds an activation or batch norm can be folded into.
    private enum FuseTarget { case conv, gemm, add }

    /// For inference, folds a batch norm or activation into the single layer that makes its only
    /// input (as the zoo's inference models do); in training it stays a layer.
    private mutating func fuse(_ node: Tessera_Onnx_NodeProto, _ x: ONNXValue, into targets: Set<FuseTarget>) throws(ONNXNodeError) -> Bool {
        guard !training, x.producers.count == 1, let p = x.producers.first, uses[node.input[0], default: 0] == 1 else { return false }
        let target: FuseTarget? = {
            switch layers[p].op {
            case .conv2d: .conv
            case .gemm: .gemm
            case .elementwise(let e) where e.kind == .add: .add
            default: nil
            }
        }()
        guard let target, targets.contains(target) else { return false }
        folded[node.opType, default: 0] += 1
        define(node, x)
        return true
    }

    private mutating func unary(_ node: Tessera_Onnx_NodeProto, index: Int, kind: Elementwise.Kind) throws(ONNXNodeError) {
        let x = try operand(node, 0, "input")
        if x.isConstant { return define(node, .constant(x.shape)) }
        define(node, addLayer(node, index: index, op: .elementwise(Elementwise(kind: kind, elements: try ONNXShape.elements(x.shape))), operands: [x], shape: x.shape))
    }

    private mutating func binary(_ node: Tessera_Onnx_NodeProto, index: Int, kind: Elementwise.Kind) throws(ONNXNodeError) {
        let a = try operand(node, 0, "first operand"), b = try operand(node, 1, "second operand")
        let shape = try ONNXShape.broadcast(a.shape, b.shape)
        if a.isConstant && b.isConstant {
            // Shape arithmetic: fold small integer values elementwise (scalars broadcast).
            var ints: [Int]?
            if let x = a.ints, let y = b.ints, x.count == y.count || x.count == 1 || y.count == 1 {
                let n = max(x.count, y.count)
                ints = try (0..<n).map { (i: Int) throws(ONNXNodeError) -> Int in
                    let l = x[x.count == 1 ? 0 : i], r = y[y.count == 1 ? 0 : i]
                    switch node.opType {
                    case "Add": return l &+ r
                    case "Sub": return l &- r
                    case "Mul": return l &* r
                    default:
                        let (q, overflow) = l.dividedReportingOverflow(by: r)
                        guard r != 0, !overflow else { throw ONNXNodeError(message: "it divides a constant by zero (or overflows)", expected: "a non-zero divisor", found: "\(l) / \(r)") }
                        return q
                    }
                }
            }
            return define(node, .constant(shape, ints: ints))
        }
        // A bias, a scale or an offset (a constant smaller than the activation) applied to the only
        // use of a layer's output runs in that layer's output path, as the zoo's layers assume.
        let constantSide = a.isConstant ? 0 : (b.isConstant ? 1 : nil)
        if let side = constantSide {
            let act = side == 0 ? b : a, c = side == 0 ? a : b
            if act.shape == shape, act.producers.count == 1, uses[node.input[1 - side], default: 0] == 1, try ONNXShape.elements(c.shape) < ONNXShape.elements(act.shape) {
                folded["\(node.opType) of a constant", default: 0] += 1
                return define(node, act)
            }
        }
        define(node, addLayer(node, index: index, op: .elementwise(Elementwise(kind: kind, elements: try ONNXShape.elements(shape))), operands: [a, b], shape: shape))
    }

    // MARK: Convolution

    /// Spatial geometry of a conv or pool node: (input H, W) → (output E, F), with its kernel.
    private struct Window {
        var h: Int, w: Int, kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int
        var pads: [Int]  // top, left, bottom, right
    }

    /// Reads kernel, strides, dilations and pads (or auto_pad) and returns the output size.
    private func window(_ attrs: ONNXAttributes, h: Int, w: Int, kernel: [Int], ceilMode: Bool = false) throws(ONNXNodeError) -> (Window, e: Int, f: Int) {
        let strides = attrs.ints("strides") ?? [Int](repeating: 1, count: kernel.count), dilations = attrs.ints("dilations") ?? [Int](repeating: 1, count: kernel.count)
        guard strides.count == kernel.count, dilations.count == kernel.count, strides.allSatisfy({ $0 >= 1 && $0 <= 1 << 20 }), dilations.allSatisfy({ $0 >= 1 && $0 <= 1 << 20 }) else {
            throw ONNXNodeError(message: "its strides or dilations are not usable", expected: "\(kernel.count) values ≥ 1 each", found: "strides \(strides), dilations \(dilations)")
        }
        var g = Window(h: h, w: w, kh: kernel[0], kw: kernel.count > 1 ? kernel[1] : 1, sh: strides[0], sw: strides.count > 1 ? strides[1] : 1, dh: dilations[0], dw: dilations.count > 1 ? dilations[1] : 1, pads: [0, 0, 0, 0])
        if kernel.count == 1 {
            // 1-D: the length runs along W.
            g = Window(h: 1, w: h, kh: 1, kw: kernel[0], sh: 1, sw: strides[0], dh: 1, dw: dilations[0], pads: [0, 0, 0, 0])
        }
        let effH = g.dh * (g.kh - 1) + 1, effW = g.dw * (g.kw - 1) + 1
        let auto = attrs.string("auto_pad") ?? "NOTSET"
        switch auto {
        case "NOTSET", "":
            let p = attrs.ints("pads") ?? [Int](repeating: 0, count: 2 * kernel.count)
            guard p.count == 2 * kernel.count, p.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else {
                throw ONNXNodeError(message: "its pads are not usable", expected: "\(2 * kernel.count) values ≥ 0 (begins, then ends)", found: "\(p)")
            }
            g.pads = kernel.count == 1 ? [0, p[0], 0, p[1]] : [p[0], p[1], p[2], p[3]]
        case "VALID":
            g.pads = [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            let e = (g.h + g.sh - 1) / g.sh, f = (g.w + g.sw - 1) / g.sw
            let ph = max(0, (e - 1) * g.sh + effH - g.h), pw = max(0, (f - 1) * g.sw + effW - g.w)
            let upper = auto == "SAME_UPPER"
            g.pads = [upper ? ph / 2 : ph - ph / 2, upper ? pw / 2 : pw - pw / 2, upper ? ph - ph / 2 : ph / 2, upper ? pw - pw / 2 : pw / 2]
        default:
            throw ONNXNodeError(message: "its auto_pad '\(auto)' is unknown", expected: "NOTSET, VALID, SAME_UPPER or SAME_LOWER", found: "'\(auto)'")
        }
        let spanH = g.h + g.pads[0] + g.pads[2] - effH, spanW = g.w + g.pads[1] + g.pads[3] - effW
        guard spanH >= 0, spanW >= 0 else {
            throw ONNXNodeError(message: "the kernel is larger than the padded input", expected: "a kernel that fits", found: "kernel \(g.kh)×\(g.kw) (dilated \(effH)×\(effW)) on \(g.h)×\(g.w) with pads \(g.pads)")
        }
        let e = (ceilMode ? (spanH + g.sh - 1) : spanH) / g.sh + 1, f = (ceilMode ? (spanW + g.sw - 1) : spanW) / g.sw + 1
        return (g, e, f)
    }

    /// Strides, dilations and explicit pads of a transposed convolution (its output size comes
    /// from them, not from a window over the input).
    private func transposedGeometry(_ attrs: ONNXAttributes, kernel: [Int]) throws(ONNXNodeError) -> Window {
        let n = kernel.count
        let strides = attrs.ints("strides") ?? [Int](repeating: 1, count: n), dilations = attrs.ints("dilations") ?? [Int](repeating: 1, count: n)
        let p = attrs.ints("pads") ?? [Int](repeating: 0, count: 2 * n)
        let auto = attrs.string("auto_pad") ?? "NOTSET"
        guard strides.count == n, dilations.count == n, p.count == 2 * n, (strides + dilations).allSatisfy({ $0 >= 1 && $0 <= 1 << 20 }), p.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }),
            auto == "NOTSET" || auto.isEmpty || auto == "VALID"
        else {
            throw ONNXNodeError(
                message: "its strides, dilations or pads are not usable", expected: "\(n) strides and dilations ≥ 1, \(2 * n) pads ≥ 0, explicit padding (or output_shape)",
                found: "strides \(strides), dilations \(dilations), pads \(p), auto_pad \(auto)")
        }
        if n == 1 { return Window(h: 1, w: 1, kh: 1, kw: kernel[0], sh: 1, sw: strides[0], dh: 1, dw: dilations[0], pads: [0, p[0], 0, p[1]]) }
        return Window(h: 1, w: 1, kh: kernel[0], kw: kernel[1], sh: strides[0], sw: strides[1], dh: dilations[0], dw: dilations[1], pads: [p[0], p[1], p[2], p[3]])
    }

    /// The symmetric padding that gives the node's output with a square stride and no dilation,
    /// if one does; `Conv2D`/`Pool` take one stride and one padding.
    private static func exactPadding(_ g: Window, e: Int, f: Int) -> Int? {
        guard g.sh == g.sw, g.dh == 1, g.dw == 1 else { return nil }
        let th = g.pads[0] + g.pads[2], tw = g.pads[1] + g.pads[3]
        for p in Set([th / 2, (th + 1) / 2, tw / 2, (tw + 1) / 2]).sorted() {
            guard g.h + 2 * p >= g.kh, g.w + 2 * p >= g.kw else { continue }
            if (g.h + 2 * p - g.kh) / g.sh + 1 == e, (g.w + 2 * p - g.kw) / g.sw + 1 == f { return p }
        }
        return nil
    }

    private mutating func conv(_ node: Tessera_Onnx_NodeProto, _ attrs: ONNXAttributes, index: Int, transposed: Bool) throws(ONNXNodeError) {
        let x = try operand(node, 0, "input"), wv = try operand(node, 1, "weight")
        guard x.shape.count == 3 || x.shape.count == 4 else {
            throw ONNXNodeError(message: "only 1-D and 2-D convolutions are supported", expected: "an input of shape [N, C, L] or [N, C, H, W]", found: "shape \(ONNXShape.describe(x.shape))")
        }
        guard wv.isConstant, wv.shape.count == x.shape.count else {
            throw ONNXNodeError(
                message: wv.isConstant ? "its weight's rank does not match the input" : "its weight is computed at run time",
                expected: "a constant weight of rank \(x.shape.count)", found: "weight shape \(ONNXShape.describe(wv.shape))")
        }
        let groups = attrs.int("group") ?? 1
        let c = x.shape[1]
        let kernel = Array(wv.shape[2...])
        guard groups >= 1, c % groups == 0, kernel.allSatisfy({ $0 >= 1 }) else {
            throw ONNXNodeError(message: "its groups do not divide the channels", expected: "a group count dividing \(c)", found: "group \(groups), kernel \(kernel)")
        }
        if let k = attrs.ints("kernel_shape"), k != kernel {
            throw ONNXNodeError(message: "'kernel_shape' disagrees with the weight", expected: "\(kernel)", found: "\(k)")
        }
        let filters = transposed ? try Self.product(wv.shape[1], groups, what: "the output channels") : wv.shape[0]
        let channels = transposed ? wv.shape[0] : try Self.product(wv.shape[1], groups, what: "the input channels")
        guard filters % groups == 0, channels == c else {
            throw ONNXNodeError(
                message: "its weight does not match the input's \(c) channels in \(groups) groups", expected: transposed ? "weight [C, M/group, …]" : "weight [M, C/group, …]",
                found: "weight \(ONNXShape.describe(wv.shape))")
        }
        let h = x.shape[2], w = x.shape.count == 4 ? x.shape[3] : 1
        let conv: Conv2D, e: Int, f: Int
        if transposed {
            let g = try transposedGeometry(attrs, kernel: kernel)
            let outPad = attrs.ints("output_padding") ?? [Int](repeating: 0, count: kernel.count)
            guard outPad.count == kernel.count, outPad.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else {
                throw ONNXNodeError(message: "its output_padding is not usable", expected: "\(kernel.count) values from 0 to 2^20", found: "\(outPad)")
            }
            func size(_ i: Int, _ s: Int, _ d: Int, _ k: Int, _ p0: Int, _ p1: Int, _ op: Int) -> Int { s * (i - 1) + op + (k - 1) * d + 1 - p0 - p1 }
            if let os = attrs.ints("output_shape"), os.count == kernel.count {
                e = kernel.count == 1 ? 1 : os[0]
                f = os[kernel.count - 1]
            } else if kernel.count == 1 {
                e = 1
                f = size(h, g.sw, g.dw, g.kw, g.pads[1], g.pads[3], outPad.first ?? 0)
            } else {
                e = size(h, g.sh, g.dh, g.kh, g.pads[0], g.pads[2], outPad[0])
                f = size(w, g.sw, g.dw, g.kw, g.pads[1], g.pads[3], outPad.count > 1 ? outPad[1] : 0)
            }
            guard e >= 1, f >= 1, e <= ONNXShape.maxDimension, f <= ONNXShape.maxDimension else {
                throw ONNXNodeError(message: "its output size is not positive", expected: "an output of at least 1×1", found: "\(e)×\(f)")
            }
            conv = Conv2D(input: (e + g.kh - 1, f + g.kw - 1, c), kernel: (g.kh, g.kw), filters: filters, stride: 1, padding: 0, groups: groups)
            approximate("a transposed convolution runs as the convolution over its zero-upsampled input, so its MACs include the inserted zeros (about stride² more than the scatter form)", node: node, index: index)
        } else {
            let (g, oe, of) = try window(attrs, h: h, w: w, kernel: kernel)
            e = oe
            f = of
            if let p = Self.exactPadding(g, e: e, f: f) {
                conv = Conv2D(input: (g.h, g.w, c), kernel: (g.kh, g.kw), filters: filters, stride: g.sh, padding: p, groups: groups)
            } else {
                let s = g.sh == g.sw ? g.sh : 1
                conv = Conv2D(input: ((e - 1) * s + g.kh, (f - 1) * s + g.kw, c), kernel: (g.kh, g.kw), filters: filters, stride: s, padding: 0, groups: groups)
                approximate(
                    "a convolution with dilation, per-axis strides or uneven padding runs as the convolution with the same kernel, filters and output over an unpadded ((E−1)·s+R)×((F−1)·s+S) input: the same MACs, the input's footprint approximated",
                    node: node, index: index)
            }
        }
        _ = try ONNXShape.elements([conv.inputH, conv.inputW, c])
        _ = try ONNXShape.elements([e, f, filters])
        let shape = x.shape.count == 4 ? [1, filters, e, f] : [1, filters, f]
        define(node, addLayer(node, index: index, op: .conv2d(conv), operands: [x], shape: shape))
    }

    private mutating func pool(_ node: Tessera_Onnx_NodeProto, _ attrs: ONNXAttributes, index: Int, kind: Pool.Kind) throws(ONNXNodeError) {
        let x = try operand(node, 0, "input")
        guard x.shape.count == 4 || x.shape.count == 3, let kernel = attrs.ints("kernel_shape"), kernel.count == x.shape.count - 2, kernel.allSatisfy({ $0 >= 1 && $0 <= 1 << 20 }) else {
            throw ONNXNodeError(message: "only 1-D and 2-D pooling with a kernel_shape is supported", expected: "input [N, C, H, W] and kernel_shape [R, S]", found: "input \(ONNXShape.describe(x.shape)), kernel_shape \(attrs.ints("kernel_shape") ?? [])")
        }
        let c = x.shape[1], h = x.shape[2], w = x.shape.count == 4 ? x.shape[3] : 1
        let (g, e, f) = try window(attrs, h: h, w: w, kernel: kernel, ceilMode: (attrs.int("ceil_mode") ?? 0) != 0)
        let p: Pool
        if let pad = Self.exactPadding(g, e: e, f: f) {
            p = Pool(kind: kind, input: (g.h, g.w, c), kernel: (g.kh, g.kw), stride: g.sh, padding: pad)
        } else {
            let s = g.sh == g.sw ? g.sh : 1
            p = Pool(kind: kind, input: ((e - 1) * s + g.kh, (f - 1) * s + g.kw, c), kernel: (g.kh, g.kw), stride: s, padding: 0)
            approximate("a pooling window with per-axis strides, dilation, ceil mode or uneven padding runs over an unpadded input that gives the same output", node: node, index: index)
        }
        let shape = x.shape.count == 4 ? [1, c, e, f] : [1, c, f]
        define(node, addLayer(node, index: index, op: .pool(p), operands: [x], shape: shape))
    }

    private mutating func globalPool(_ node: Tessera_Onnx_NodeProto, index: Int, kind: Pool.Kind) throws(ONNXNodeError) {
        let x = try operand(node, 0, "input")
        guard x.shape.count >= 3 else {
            throw ONNXNodeError(message: "global pooling needs spatial axes", expected: "an input [N, C, H, W] or [N, C, L]", found: "shape \(ONNXShape.describe(x.shape))")
        }
        let c = x.shape[1]
        let h = x.shape.count >= 4 ? x.shape[2] : 1
        let w = try ONNXShape.elements(Array(x.shape[(x.shape.count >= 4 ? 3 : 2)...]))
        let p = Pool(kind: kind, input: (h, w, c), kernel: (h, w), stride: max(h, w))
        define(node, addLayer(node, index: index, op: .pool(p), operands: [x], shape: [1, c] + [Int](repeating: 1, count: x.shape.count - 2)))
    }

    // MARK: Matrix products

    private mutating func gemm(_ node: Tessera_Onnx_NodeProto, _ attrs: ONNXAttributes, index: Int) throws(ONNXNodeError) {
        let a = try operand(node, 0, "A"), b = try operand(node, 1, "B")
        guard a.shape.count == 2, b.shape.count == 2 else {
            throw ONNXNodeError(message: "Gemm takes matrices", expected: "A and B of rank 2", found: "A \(ONNXShape.describe(a.shape)), B \(ONNXShape.describe(b.shape))")
        }
        let ta = (attrs.int("transA") ?? 0) != 0, tb = (attrs.int("transB") ?? 0) != 0
        let m = ta ? a.shape[1] : a.shape[0], k = ta ? a.shape[0] : a.shape[1]
        let k2 = tb ? b.shape[1] : b.shape[0], n = tb ? b.shape[0] : b.shape[1]
        guard k == k2 else {
            throw ONNXNodeError(message: "the inner dimensions differ", expected: "A's columns equal B's rows", found: "A \(ONNXShape.describe(a.shape)) and B \(ONNXShape.describe(b.shape)) (transA \(ta ? 1 : 0), transB \(tb ? 1 : 0))")
        }
        if a.isConstant && b.isConstant { return define(node, .constant([m, n])) }
        let op: LayerOp = b.isConstant ? .gemm(GEMM(m: m, n: n, k: k)) : .matmul(BatchedMatmul(count: 1, m: m, n: n, k: k))
        define(node, addLayer(node, index: index, op: op, operands: [a, b], shape: [m, n]))
    }

    private mutating func matmul(_ node: Tessera_Onnx_NodeProto, index: Int) throws(ONNXNodeError) {
        let a = try operand(node, 0, "A"), b = try operand(node, 1, "B")
        guard !a.shape.isEmpty, !b.shape.isEmpty else {
            throw ONNXNodeError(message: "MatMul of a scalar", expected: "operands of rank 1 or more", found: "A \(ONNXShape.describe(a.shape)), B \(ONNXShape.describe(b.shape))")
        }
        let sa = a.shape.count == 1 ? [1] + a.shape : a.shape, sb = b.shape.count == 1 ? b.shape + [1] : b.shape
        let m = sa[sa.count - 2], k = sa[sa.count - 1], k2 = sb[sb.count - 2], n = sb[sb.count - 1]
        guard k == k2 else {
            throw ONNXNodeError(message: "the inner dimensions differ", expected: "A's last axis equal to B's second-to-last", found: "A \(ONNXShape.describe(a.shape)) and B \(ONNXShape.describe(b.shape))")
        }
        let batch = try ONNXShape.broadcast(Array(sa.dropLast(2)), Array(sb.dropLast(2)))
        var shape = batch
        if a.shape.count > 1 { shape.append(m) }
        if b.shape.count > 1 { shape.append(n) }
        if a.isConstant && b.isConstant { return define(node, .constant(shape)) }
        let op: LayerOp
        if b.isConstant, b.shape.count == 2 {
            // A weight: every row of A (all its leading axes) meets the same matrix.
            op = .gemm(GEMM(m: try ONNXShape.elements(Array(sa.dropLast())), n: n, k: k))
        } else {
            op = .matmul(BatchedMatmul(count: try ONNXShape.elements(batch), m: m, n: n, k: k))
        }
        _ = try ONNXShape.elements(shape)
        define(node, addLayer(node, index: index, op: op, operands: [a, b], shape: shape))
    }

    /// A reduction over contiguous axes is a pooling window over the tensor seen as
    /// (outer, reduced, inner): it reads the input once and writes the reduced output, like the
    /// pooling it runs as (ReduceMax and ReduceMin as max pooling, the others as average pooling).
    private mutating func reduce(_ node: Tessera_Onnx_NodeProto, _ attrs: ONNXAttributes, index: Int, opset: Int) throws(ONNXNodeError) {
        let x = try operand(node, 0, "input")
        let keep = (attrs.int("keepdims") ?? 1) != 0
        let given = try attrOrInput(attrs, "axes", node, 1)
        let rank = x.shape.count
        if rank == 0 {
            // A scalar reduces to itself.
            views += 1
            return define(node, x)
        }
        let axes: [Int]
        if let given, !given.isEmpty {
            axes = try Array(Set(given.map { (a: Int) throws(ONNXNodeError) -> Int in try ONNXShape.axis(a, rank: max(rank, 1), what: "axes") })).sorted()
        } else if (attrs.int("noop_with_empty_axes") ?? 0) != 0 {
            views += 1
            return define(node, x)
        } else {
            axes = Array(0..<rank)
        }
        var shape: [Int] = []
        for (i, d) in x.shape.enumerated() {
            if axes.contains(i) { if keep { shape.append(1) } } else { shape.append(d) }
        }
        if x.isConstant { return define(node, .constant(shape)) }
        guard let first = axes.first, let last = axes.last, last - first + 1 == axes.count else {
            throw ONNXNodeError(message: "it reduces axes that are not next to each other", expected: "contiguous axes", found: "axes \(axes) of \(ONNXShape.describe(x.shape))", hint: "transpose the axes together before the reduction")
        }
        let outer = try ONNXShape.elements(Array(x.shape[..<first])), reduced = try ONNXShape.elements(Array(x.shape[first...last]))
        let inner = try ONNXShape.elements(Array(x.shape[(last + 1)...]))
        let kind: Pool.Kind = node.opType == "ReduceMax" || node.opType == "ReduceMin" ? .maxpool : .avgpool
        let p = Pool(kind: kind, input: (outer, reduced, inner), kernel: (1, reduced), stride: reduced)
        define(node, addLayer(node, index: index, op: .pool(p), operands: [x], shape: shape))
    }

    /// ONNX's Attention (opset 23): softmax(Q·Kᵀ·scale + mask)·V as three layers, `<name>.qk`
    /// (a batched matmul per query head), `<name>.softmax` and `<name>.av`. Grouped-query attention
    /// (fewer K/V heads) computes per query head, as the decomposed graph does.
    private mutating func attention(_ node: Tessera_Onnx_NodeProto, _ attrs: ONNXAttributes, index: Int) throws(ONNXNodeError) {
        let q = try operand(node, 0, "Q"), k = try operand(node, 1, "K"), v = try operand(node, 2, "V")
        guard q.shape.count == k.shape.count, q.shape.count == v.shape.count, q.shape.count == 3 || q.shape.count == 4 else {
            throw ONNXNodeError(message: "Q, K and V must all be 3-D or all 4-D", expected: "[B, S, hidden] or [B, heads, S, head_size]", found: [q, k, v].map { ONNXShape.describe($0.shape) }.joined(separator: ", "))
        }
        let heads: Int, qSeq: Int, kvSeq: Int, headSize: Int, vHead: Int, kvHeads: Int
        if q.shape.count == 4 {
            (heads, qSeq, headSize) = (q.shape[1], q.shape[2], q.shape[3])
            (kvHeads, kvSeq, vHead) = (k.shape[1], k.shape[2], v.shape[3])
            guard k.shape[3] == headSize, v.shape[2] == kvSeq else {
                throw ONNXNodeError(message: "K or V does not match Q", expected: "K [B, kv_heads, L, \(headSize)] and V [B, kv_heads, L, v]", found: "K \(ONNXShape.describe(k.shape)), V \(ONNXShape.describe(v.shape))")
            }
        } else {
            guard let h = attrs.int("q_num_heads"), let kh = attrs.int("kv_num_heads"), h >= 1, kh >= 1, q.shape[2] % h == 0, k.shape[2] % kh == 0, v.shape[2] % kh == 0 else {
                throw ONNXNodeError(message: "3-D attention needs its head counts", expected: "q_num_heads and kv_num_heads dividing the hidden sizes", found: "q_num_heads \(attrs.int("q_num_heads").map(String.init) ?? "none"), kv_num_heads \(attrs.int("kv_num_heads").map(String.init) ?? "none")")
            }
            (heads, qSeq, headSize, kvHeads, kvSeq, vHead) = (h, q.shape[1], q.shape[2] / h, kh, k.shape[1], v.shape[2] / kh)
            guard k.shape[2] / kh == headSize, v.shape[1] == kvSeq else {
                throw ONNXNodeError(message: "K or V does not match Q", expected: "K [B, L, kv_heads·\(headSize)] and V [B, L, …]", found: "K \(ONNXShape.describe(k.shape)), V \(ONNXShape.describe(v.shape))")
            }
        }
        guard kvHeads >= 1, heads % kvHeads == 0 else {
            throw ONNXNodeError(message: "the query heads are not a multiple of the key/value heads", expected: "q_num_heads divisible by kv_num_heads", found: "\(heads) and \(kvHeads)")
        }
        let base = node.name.isEmpty ? "Attention_\(index + 1)" : node.name
        var n = node
        n.name = base + ".qk"
        let scores = addLayer(n, index: index, op: .matmul(BatchedMatmul(count: heads, m: qSeq, n: kvSeq, k: headSize)), operands: [q, k], shape: [1, heads, qSeq, kvSeq])
        n.name = base + ".softmax"
        let probs = addLayer(n, index: index, op: .elementwise(Elementwise(kind: .softmax, elements: try ONNXShape.elements(scores.shape))), operands: [scores], shape: scores.shape)
        n.name = base + ".av"
        let shape = q.shape.count == 4 ? [1, heads, qSeq, vHead] : [1, qSeq, try Self.product(heads, vHead, what: "the output width")]
        define(node, addLayer(n, index: index, op: .matmul(BatchedMatmul(count: heads, m: qSeq, n: vHead, k: kvSeq)), operands: [probs, v], shape: shape))
    }

    // MARK: Views and shape arithmetic

    private mutating func reshape(_ node: Tessera_Onnx_NodeProto, _ attrs: ONNXAttributes) throws(ONNXNodeError) {
        let x = try operand(node, 0, "input")
        guard let target = try optionalInts(node, 1, "target shape") else {
            throw ONNXNodeError(message: "it has no target shape", expected: "input 2 (shape)", found: "\(node.input.count) inputs")
        }
        let allowZero = (attrs.int("allowzero") ?? 0) != 0
        var shape: [Int] = []
        var inferred: Int?
        for (i, d) in target.enumerated() {
            if d == 0 && !allowZero {
                guard i < x.shape.count else {
                    throw ONNXNodeError(message: "a 0 in the target shape copies an axis the input does not have", expected: "a 0 only in the input's first \(x.shape.count) axes", found: "\(target)")
                }
                shape.append(x.shape[i])
            } else if d == -1 {
                guard inferred == nil else { throw ONNXNodeError(message: "the target shape has two -1", expected: "at most one inferred axis", found: "\(target)") }
                inferred = i
                shape.append(1)
            } else {
                guard d >= 0, d <= ONNXShape.maxDimension else { throw ONNXNodeError(message: "the target shape has an unusable dimension", expected: "-1, 0 or a size", found: "\(target)") }
                shape.append(d)
            }
        }
        let total = try ONNXShape.elements(x.shape)
        let known = try ONNXShape.elements(shape)
        if let i = inferred {
            guard known > 0, total % known == 0 else {
                throw ONNXNodeError(message: "the target shape does not divide the input", expected: "\(total) elements", found: "target \(target) on input \(ONNXShape.describe(x.shape))", hint: "a target shape that bakes in a batch other than 1 cannot be used per sample: re-export with batch 1")
            }
            shape[i] = total / known
        } else if known != total {
            throw ONNXNodeError(message: "the target shape holds a different number of elements", expected: "\(total) elements (input \(ONNXShape.describe(x.shape)))", found: "\(target)", hint: "a target shape that bakes in a batch other than 1 cannot be used per sample: re-export with batch 1")
        }
        var v = x
        v.shape = shape
        views += 1
        define(node, v)
    }

    private mutating func squeeze(_ node: Tessera_Onnx_NodeProto, _ attrs: ONNXAttributes, opset: Int, unsqueeze: Bool) throws(ONNXNodeError) {
        let x = try operand(node, 0, "input")
        let axes = try attrOrInput(attrs, "axes", node, 1)
        var v = x
        if unsqueeze {
            guard let axes else { throw ONNXNodeError(message: "it has no axes", expected: "an 'axes' attribute or input", found: "none") }
            let rank = x.shape.count + axes.count
            let normalized = try Set(axes.map { (a: Int) throws(ONNXNodeError) -> Int in try ONNXShape.axis(a, rank: rank, what: "axes") })
            var out: [Int] = []
            var it = x.shape.makeIterator()
            for i in 0..<rank { out.append(normalized.contains(i) ? 1 : (it.next() ?? 1)) }
            v.shape = out
        } else {
            if let axes {
                let normalized = try Set(axes.map { (a: Int) throws(ONNXNodeError) -> Int in try ONNXShape.axis(a, rank: x.shape.count, what: "axes") })
                v.shape = x.shape.enumerated().filter { !normalized.contains($0.offset) }.map(\.element)
            } else {
                v.shape = x.shape.filter { $0 != 1 }
            }
        }
        views += 1
        define(node, v)
    }

    private mutating func concat(_ node: Tessera_Onnx_NodeProto, _ attrs: ONNXAttributes) throws(ONNXNodeError) {
        let parts = try node.input.filter { !$0.isEmpty }.map { (n: String) throws(ONNXNodeError) -> ONNXValue in try value(n) }
        guard let first = parts.first else { throw ONNXNodeError(message: "it has no inputs", expected: "at least one", found: "none") }
        let axis = try ONNXShape.axis(attrs.int("axis") ?? 0, rank: max(1, first.shape.count))
        var shape = first.shape
        guard !shape.isEmpty else { throw ONNXNodeError(message: "it concatenates scalars", expected: "tensors of rank ≥ 1", found: "a scalar") }
        shape[axis] = 0
        var producers: [Int] = []
        for p in parts {
            guard p.shape.count == first.shape.count, p.shape.indices.allSatisfy({ $0 == axis || p.shape[$0] == first.shape[$0] }) else {
                throw ONNXNodeError(message: "its inputs' shapes differ outside the axis", expected: "shapes equal but in axis \(axis)", found: parts.map { ONNXShape.describe($0.shape) }.joined(separator: ", "))
            }
            shape[axis] += p.shape[axis]
            if !p.isConstant { for q in p.producers where !producers.contains(q) { producers.append(q) } }
        }
        _ = try ONNXShape.elements(shape)
        if parts.allSatisfy(\.isConstant) {
            let ints: [Int]? = parts.allSatisfy({ $0.ints != nil }) && shape.count == 1 ? parts.flatMap { $0.ints ?? [] } : nil
            return define(node, .constant(shape, ints: ints))
        }
        views += 1
        define(node, ONNXValue(shape: shape, producers: producers))
    }

    private mutating func slice(_ node: Tessera_Onnx_NodeProto, _ attrs: ONNXAttributes, opset: Int) throws(ONNXNodeError) {
        let x = try operand(node, 0, "input")
        let starts = try attrOrInput(attrs, "starts", node, 1)
        let ends = try attrOrInput(attrs, "ends", node, 2)
        guard let starts, let ends, starts.count == ends.count else {
            throw ONNXNodeError(message: "its starts and ends are missing or of different lengths", expected: "constant starts and ends of one length", found: "starts \(starts ?? []), ends \(ends ?? [])")
        }
        let axes = try attrOrInput(attrs, "axes", node, 3) ?? Array(0..<starts.count)
        let steps = try optionalInts(node, 4, "steps") ?? [Int](repeating: 1, count: starts.count)
        guard axes.count == starts.count, steps.count == starts.count, steps.allSatisfy({ $0 != 0 }) else {
            throw ONNXNodeError(message: "its axes or steps do not match its starts", expected: "\(starts.count) axes and non-zero steps", found: "axes \(axes), steps \(steps)")
        }
        var shape = x.shape
        for i in starts.indices {
            let a = try ONNXShape.axis(axes[i], rank: max(1, x.shape.count), what: "axes")
            guard a < shape.count else { continue }
            let d = x.shape[a], step = steps[i]
            func clamp(_ v: Int, _ lo: Int, _ hi: Int) -> Int { min(max(v < 0 ? v &+ d : v, lo), hi) }
            let count: Int
            if step > 0 {
                let s = clamp(starts[i], 0, d), e = clamp(ends[i], 0, d)
                count = e > s ? (e - s + step - 1) / step : 0
            } else {
                let s = clamp(starts[i], -1, d - 1), e = clamp(ends[i], -1, d - 1)
                count = s > e ? (s - e + (-step) - 1) / (-step) : 0
            }
            shape[a] = count
        }
        var v = x
        v.shape = shape
        if let ints = x.ints, x.shape.count == 1, axes.count == 1, steps[0] == 1 {
            let d = ints.count
            let s = min(max(starts[0] < 0 ? starts[0] &+ d : starts[0], 0), d), e = min(max(ends[0] < 0 ? ends[0] &+ d : ends[0], 0), d)
            v.ints = e > s ? Array(ints[s..<e]) : []
        } else {
            v.ints = nil
        }
        if !x.isConstant { views += 1 }
        define(node, v)
    }

    private mutating func split(_ node: Tessera_Onnx_NodeProto, _ attrs: ONNXAttributes, opset: Int) throws(ONNXNodeError) {
        let x = try operand(node, 0, "input")
        let axis = try ONNXShape.axis(attrs.int("axis") ?? 0, rank: max(1, x.shape.count))
        guard axis < x.shape.count else { throw ONNXNodeError(message: "it splits a scalar", expected: "a tensor", found: "a scalar") }
        let outputs = node.output.count
        let given = try attrOrInput(attrs, "split", node, 1)
        guard (1...65536).contains(outputs), (1...65536).contains(attrs.int("num_outputs") ?? outputs) else {
            throw ONNXNodeError(message: "its number of outputs is not usable", expected: "1 to 65536 outputs", found: "\(attrs.int("num_outputs") ?? outputs)")
        }
        let sizes = given ?? {
            let n = attrs.int("num_outputs") ?? outputs
            let d = x.shape[axis], each = (d + max(n, 1) - 1) / max(n, 1)
            return (0..<n).map { min(each, max(0, d - $0 * each)) }
        }()
        guard sizes.count == outputs, sizes.reduce(0, &+) == x.shape[axis], sizes.allSatisfy({ $0 >= 0 }) else {
            throw ONNXNodeError(message: "its split sizes do not add up to the axis", expected: "\(outputs) sizes summing to \(x.shape[axis])", found: "\(sizes)")
        }
        for (i, s) in sizes.enumerated() {
            var v = x
            v.shape[axis] = s
            v.ints = nil
            define(node, v, output: i)
        }
        views += 1
    }

    private mutating func gather(_ node: Tessera_Onnx_NodeProto, _ attrs: ONNXAttributes) throws(ONNXNodeError) {
        let data = try operand(node, 0, "data"), indices = try operand(node, 1, "indices")
        guard !data.shape.isEmpty else { throw ONNXNodeError(message: "it gathers from a scalar", expected: "data of rank ≥ 1", found: "a scalar") }
        let axis = try ONNXShape.axis(attrs.int("axis") ?? 0, rank: data.shape.count)
        let shape = Array(data.shape[..<axis]) + indices.shape + Array(data.shape[(axis + 1)...])
        _ = try ONNXShape.elements(shape)
        if data.isConstant && indices.isConstant {
            var ints: [Int]?
            if let d = data.ints, let i = indices.ints, data.shape.count == 1 {
                ints = try i.map { (k: Int) throws(ONNXNodeError) -> Int in
                    let j = k < 0 ? k + d.count : k
                    guard j >= 0, j < d.count else { throw ONNXNodeError(message: "an index is out of range", expected: "indices in [-\(d.count), \(d.count - 1)]", found: "\(k)") }
                    return d[j]
                }
            }
            return define(node, .constant(shape, ints: ints))
        }
        if data.isConstant {
            // An embedding lookup: its rows are read as the graph's input.
            views += 1
            return define(node, ONNXValue(shape: shape))
        }
        var v = data
        v.shape = shape
        v.ints = nil
        views += 1
        define(node, v)
    }
}
