import Foundation
import Testing
import TesseraCore
import TesseraTestSupport

@testable import TesseraSpec

/// ONNX models as workloads: the bundled models (`models/onnx`, made by
/// `scripts/make-onnx-fixtures.py`) against the zoo, the graph's own edges, and located errors for
/// every kind of bad file (`ONNXImporter`).
@Suite struct ONNXImportTests {
    static let models = packageRoot.appendingPathComponent("models/onnx")
    static let here = SourceLocation(file: "w.yaml", line: 4, column: 15)

    static func load(_ name: String, training: Bool = false, shapes: [String: [Int]] = [:]) throws -> ONNXImport.Imported {
        try ONNXImport.load(
            path: models.appendingPathComponent(name).path, relativeTo: "w.yaml", at: here, inputShapes: shapes.mapValues { ($0, here) }, training: training)
    }

    static func zoo(_ name: String, training: Bool, sequence: Int? = nil) throws -> [LayerSpec] {
        try #require(ModelZoo.layers(model: name, sequence: sequence, training: training))
    }

    /// ResNet-18 and MobileNetV2 as exported (batch norms, ReLU/ReLU6 and residual adds as nodes)
    /// give the zoo's layers one for one: folded for inference, kept for training.
    @Test(arguments: [("resnet18.onnx", "resnet18"), ("mobilenetv2.onnx", "mobilenetv2")], [false, true])
    func cnnsAreTheZoosLayers(_ pair: (String, String), training: Bool) throws {
        let (file, zoo) = pair
        let imported = try Self.load(file, training: training)
        let expected = try Self.zoo(zoo, training: training)
        #expect(imported.layers.map(\.op) == expected.map(\.op))
        #expect(imported.layers.reduce(0) { $0 + $1.op.macs } == expected.reduce(0) { $0 + $1.op.macs })
        #expect(imported.model == file)
    }

    /// ResNet-50 with a dynamic image size is the zoo's ResNet-50 when pinned to 224×224; MobileNet
    /// v1 (not in the zoo) has the paper's 569 M MACs (Howard et al. 2017, Table 8).
    @Test func pinnedImageSizeAndAModelNotInTheZoo() throws {
        let r50 = try Self.load("resnet50.onnx", shapes: ["input": [1, 3, 224, 224]])
        #expect(r50.layers.map(\.op) == (try Self.zoo("resnet50", training: false)).map(\.op))
        let r299 = try Self.load("resnet50.onnx", shapes: ["input": [1, 3, 299, 299]])
        #expect(r299.layers.reduce(0) { $0 + $1.op.macs } == 7_627_668_224)
        let v1 = try Self.load("mobilenetv1.onnx")
        #expect(abs(Double(v1.layers.reduce(0) { $0 + $1.op.macs }) / 569e6 - 1) < 0.005)
    }

    /// The residual branches are edges: a block's add reads its second conv and its shortcut.
    @Test func residualBranchesAreEdges() throws {
        let layers = try Self.load("resnet18.onnx").layers
        func index(_ name: String) throws -> Int { try #require(layers.firstIndex { $0.name == name }, "\(name)") }
        #expect(layers[try index("layer2.0.add")].inputs == [try index("layer2.0.conv2"), try index("layer2.0.downsample.0")])
        #expect(layers[try index("layer2.0.downsample.0")].inputs == [try index("layer1.1.add")])
        #expect(layers[try index("layer1.0.add")].inputs == [try index("layer1.0.conv2"), try index("maxpool")])
        #expect(layers[0].inputs == [])
        // Every layer reads only layers before it.
        for (i, l) in layers.enumerated() { #expect((l.inputs ?? []).allSatisfy { $0 < i }) }
    }

    /// SqueezeNet 1.1, not in the zoo: torchvision lists SqueezeNet 1.0 at 0.82 G and 1.1 at
    /// "2.4x less computation" (≈ 0.34 G); the fire modules' Concat is two edges into the next squeeze.
    @Test func squeezenetsConcatIsTwoEdges() throws {
        let layers = try Self.load("squeezenet1_1.onnx").layers
        #expect(layers.count == 30)
        #expect(layers.reduce(0) { $0 + $1.op.macs } == 349_151_936)
        func index(_ name: String) throws -> Int { try #require(layers.firstIndex { $0.name == name }, "\(name)") }
        #expect(layers[try index("features.4.squeeze")].inputs == [try index("features.3.expand1x1"), try index("features.3.expand3x3")])
        guard case .conv2d(let squeeze) = layers[try index("features.4.squeeze")].op else { Issue.record("not a conv"); return }
        #expect(squeeze.channels == 128 && squeeze.inputH == 55)
    }

    /// A BERT-base encoder exported node by node (Q, K and V projections with run-time reshapes,
    /// scaled softmax attention, GELU through Erf) has the zoo's BERT-base MACs at sequence 128.
    @Test func bertEncoderHasTheZoosMACs() throws {
        let imported = try Self.load("bert-encoder.onnx", shapes: ["hidden_states": [1, 128, 768]])
        let zoo = try Self.zoo("bert-base", training: false, sequence: 128)
        #expect(imported.layers.reduce(0) { $0 + $1.op.macs } == zoo.reduce(0) { $0 + $1.op.macs })
        #expect(imported.layers.count == 192)  // 16 per block: the biases, the 1/√d scale and GELU's constants fold
        let qk = try #require(imported.layers.first { $0.name.hasSuffix("MatMul_qk") })
        #expect(qk.op == .matmul(BatchedMatmul(count: 12, m: 128, n: 128, k: 64)))
        let ffn = try #require(imported.layers.first { $0.name.hasSuffix("intermediate.dense/MatMul") })
        #expect(ffn.op == .gemm(GEMM(m: 128, n: 3072, k: 768)))
        #expect(imported.notes.first?.contains("552 nodes") == true)
    }

    /// ONNX's fused Attention operator gives the decomposed block's products.
    @Test func fusedAttentionIsTheDecomposedBlock() throws {
        let fused = try Self.load("attention-block.onnx", shapes: ["hidden_states": [1, 128, 768]]).layers
        let decomposed = try Self.load("transformer.onnx", shapes: ["hidden_states": [1, 128, 768]]).layers
        #expect(fused.reduce(0) { $0 + $1.op.macs } == decomposed.reduce(0) { $0 + $1.op.macs })
        let qk = try #require(fused.firstIndex { $0.name.hasSuffix("Attention.qk") })
        #expect(fused[qk].op == .matmul(BatchedMatmul(count: 12, m: 128, n: 128, k: 64)))
        #expect(fused[qk + 1].op == .elementwise(Elementwise(kind: .softmax, elements: 12 * 128 * 128)) && fused[qk + 1].inputs == [qk])
        #expect(fused[qk + 2].op == .matmul(BatchedMatmul(count: 12, m: 128, n: 64, k: 128)))
        #expect(fused[qk].inputs?.count == 2 && fused[qk + 2].inputs?.contains(qk + 1) == true)
    }

    @Test func theSequenceMustBePinned() throws {
        let e = #expect(throws: InputError.self) { try Self.load("transformer.onnx") }
        let d = try #require(e?.diagnostics.first)
        #expect(d.location == Self.here)
        #expect(d.message.contains("dynamic dimension 'sequence' in axis 1"))
        #expect(d.hint?.contains("input_shapes") == true)
        let pinned = try Self.load("transformer.onnx", shapes: ["hidden_states": [1, 64, 768]])
        #expect(pinned.layers.contains { $0.op == .matmul(BatchedMatmul(count: 12, m: 64, n: 64, k: 64)) })
    }

    @Test func badInputShapesAreLocated() throws {
        let batch = #expect(throws: InputError.self) { try Self.load("transformer.onnx", shapes: ["hidden_states": [8, 64, 768]]) }
        #expect(batch?.diagnostics.first?.message.contains("batch axis of 8") == true)
        let name = #expect(throws: InputError.self) { try Self.load("transformer.onnx", shapes: ["hidden_state": [1, 64, 768]]) }
        #expect(name?.diagnostics.first?.hint == "did you mean 'hidden_states'?")
    }

    /// The workload file form, with errors at the key that names the file.
    @Test func workloadReadsAnONNXModel() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-onnx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let model = Self.models.appendingPathComponent("resnet18.onnx").path
        let w = try WorkloadLoader.parse("tessera: 1\nname: r\nbatch: 4\nmodel: {onnx: \(model)}\n", file: dir.appendingPathComponent("w.yaml").path)
        #expect(w.layers.count == 31 && w.model == "resnet18.onnx" && w.batch == 4)
        #expect(w.importNotes.first?.contains("20 BatchNormalization, 17 Relu") == true)
        let text = dir.appendingPathComponent("notes.onnx")
        try "not a model\n".write(to: text, atomically: true, encoding: .utf8)
        let e = #expect(throws: InputError.self) {
            try WorkloadLoader.parse("tessera: 1\nname: r\nmodel:\n  onnx: notes.onnx\n", file: dir.appendingPathComponent("w.yaml").path)
        }
        let d = try #require(e?.diagnostics.first)
        #expect(d.location?.line == 4 && d.location?.column == 9)
        #expect(d.message == "'notes.onnx' is not an ONNX model")
        #expect(d.found?.contains("text starting 'not a model") == true)
        let missing = #expect(throws: InputError.self) { try WorkloadLoader.parse("tessera: 1\nname: r\nmodel: {onnx: nope.onnx}\n", file: dir.appendingPathComponent("w.yaml").path) }
        #expect(missing?.diagnostics.first?.message == "cannot read the ONNX model 'nope.onnx'")
        let seq = #expect(throws: InputError.self) { try WorkloadLoader.parse("tessera: 1\nname: r\nsequence: 4\nmodel: {onnx: \(model)}\n", file: dir.appendingPathComponent("w.yaml").path) }
        #expect(seq?.diagnostics.first?.message == "'sequence' applies only to a zoo 'model'")
    }

    // MARK: - Hand-built graphs

    static func tensor(_ name: String, _ dims: [Int]) -> Tessera_Onnx_ValueInfoProto {
        var v = Tessera_Onnx_ValueInfoProto()
        v.name = name
        var t = Tessera_Onnx_TypeProto.Tensor()
        t.elemType = 1
        t.shape.dim = dims.map { d in
            var dim = Tessera_Onnx_TensorShapeProto.Dimension()
            dim.value = .dimValue(Int64(d))
            return dim
        }
        v.type.value = .tensorType(t)
        return v
    }

    static func weight(_ name: String, _ dims: [Int]) -> Tessera_Onnx_TensorProto {
        var t = Tessera_Onnx_TensorProto()
        t.name = name
        t.dataType = 1
        t.dims = dims.map(Int64.init)
        return t
    }

    static func ints(_ name: String, _ values: [Int]) -> Tessera_Onnx_TensorProto {
        var t = Tessera_Onnx_TensorProto()
        t.name = name
        t.dataType = 7
        t.dims = [Int64(values.count)]
        t.int64Data = values.map(Int64.init)
        return t
    }

    static func node(_ op: String, _ inputs: [String], _ output: String, ints: [String: [Int]] = [:], int: [String: Int] = [:]) -> Tessera_Onnx_NodeProto {
        var n = Tessera_Onnx_NodeProto()
        n.opType = op
        n.name = output
        n.input = inputs
        n.output = [output]
        for (k, v) in ints.sorted(by: { $0.key < $1.key }) {
            var a = Tessera_Onnx_AttributeProto()
            a.name = k
            a.type = .ints
            a.ints = v.map(Int64.init)
            n.attribute.append(a)
        }
        for (k, v) in int.sorted(by: { $0.key < $1.key }) {
            var a = Tessera_Onnx_AttributeProto()
            a.name = k
            a.type = .int
            a.i = Int64(v)
            n.attribute.append(a)
        }
        return n
    }

    static func model(inputs: [Tessera_Onnx_ValueInfoProto], nodes: [Tessera_Onnx_NodeProto], initializers: [Tessera_Onnx_TensorProto] = []) throws -> Data {
        var m = Tessera_Onnx_ModelProto()
        m.irVersion = 8
        var opset = Tessera_Onnx_OperatorSetIdProto()
        opset.version = 17
        m.opsetImport = [opset]
        m.graph.name = "g"
        m.graph.input = inputs
        m.graph.node = nodes
        m.graph.initializer = initializers
        return try m.serializedBytes()
    }

    static func importing(_ data: Data, training: Bool = false) throws -> ONNXImport.Imported {
        try ONNXImport.parse(data, name: "m.onnx", at: here, training: training)
    }

    /// Geometry the layer format cannot hold exactly becomes an equivalent convolution with the
    /// same MACs and output, and says so in the notes.
    @Test func unusualConvolutionsKeepTheirMACs() throws {
        let data = try Self.model(
            inputs: [Self.tensor("x", [1, 8, 30, 20])],
            nodes: [
                Self.node("Conv", ["x", "w"], "dilated", ints: ["dilations": [2, 2], "pads": [2, 2, 2, 2]]),
                Self.node("Conv", ["dilated", "w2"], "uneven", ints: ["strides": [2, 1], "pads": [0, 1, 1, 0]]),
                Self.node("Conv", ["uneven", "w3"], "same", ints: ["strides": [2, 2], "pads": [0, 0, 1, 1]]),
                Self.node("ConvTranspose", ["same", "wt"], "up", ints: ["strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]]),
            ],
            initializers: [Self.weight("w", [16, 8, 3, 3]), Self.weight("w2", [16, 16, 3, 3]), Self.weight("w3", [32, 16, 3, 3]), Self.weight("wt", [32, 8, 3, 3])])
        let layers = try Self.importing(data).layers
        guard case .conv2d(let d) = layers[0].op, case .conv2d(let u) = layers[1].op, case .conv2d(let s) = layers[2].op, case .conv2d(let t) = layers[3].op else {
            Issue.record("not four convolutions")
            return
        }
        // Dilation 2, pads 2: output 30×20; MACs 30·20·16·9·8.
        #expect(d.outputH == 30 && d.outputW == 20 && d.macs == 30 * 20 * 16 * 9 * 8)
        // Strides (2, 1), pads (0, 1 | 1, 0): output ⌊(30+1−3)/2⌋+1 = 15 by ⌊(20+1−3)/1⌋+1 = 19.
        #expect(u.outputH == 15 && u.outputW == 19 && u.macs == 15 * 19 * 16 * 9 * 16)
        // TF-style SAME at stride 2 (pads 0 before, 1 after): exact with one symmetric padding.
        // ⌊(15+1−3)/2⌋+1 = 7 by ⌊(19+1−3)/2⌋+1 = 9: padding 0 gives the same.
        #expect(s.outputH == 7 && s.outputW == 9 && s.stride == 2 && s.padding == 0 && s.inputH == 15 && s.inputW == 19)
        // Transposed: 2·(7−1) + 1 + 3 − 2 = 14 by 2·(9−1) + 1 + 3 − 2 = 18, over the upsampled input.
        #expect(t.outputH == 14 && t.outputW == 18 && t.filters == 8 && t.channels == 32 && t.stride == 1)
        let notes = try Self.importing(data).notes
        #expect(notes.contains { $0.contains("2 nodes (first 'dilated')") })
        #expect(notes.contains { $0.contains("(first 'up'): a transposed convolution") })
    }

    /// Reshape targets computed with Shape → Gather → Concat fold at import; a Concat's consumer
    /// reads every part; a MatMul of two activations is a batched matmul.
    @Test func shapeArithmeticAndMerges() throws {
        let data = try Self.model(
            inputs: [Self.tensor("x", [1, 6, 32])],
            nodes: [
                Self.node("MatMul", ["x", "wa"], "a"),
                Self.node("MatMul", ["x", "wb"], "b"),
                Self.node("Concat", ["a", "b"], "ab", int: ["axis": 2]),
                Self.node("Shape", ["ab"], "s"),
                Self.node("Gather", ["s", "i0"], "s0", int: ["axis": 0]),
                Self.node("Concat", ["s0", "tail"], "target", int: ["axis": 0]),
                Self.node("Reshape", ["ab", "target"], "r"),
                Self.node("Transpose", ["r"], "rt", ints: ["perm": [0, 2, 1]]),
                Self.node("MatMul", ["r", "rt"], "scores"),
                Self.node("Relu", ["scores"], "out"),
            ],
            initializers: [Self.weight("wa", [32, 16]), Self.weight("wb", [32, 16]), Self.ints("i0", [0]), Self.ints("tail", [12, 16])])
        let layers = try Self.importing(data).layers
        #expect(layers.map(\.name) == ["a", "b", "scores", "out"])
        #expect(layers[2].op == .matmul(BatchedMatmul(count: 1, m: 12, n: 12, k: 16)))
        #expect(layers[2].inputs == [0, 1])
        #expect(layers[3].op == .elementwise(Elementwise(kind: .relu, elements: 144)))
    }

    /// A reduction reads its input once and writes the reduced tensor.
    @Test func reductionsArePoolingWindows() throws {
        let data = try Self.model(
            inputs: [Self.tensor("x", [1, 6, 32])],
            nodes: [Self.node("ReduceMean", ["x"], "mean", ints: ["axes": [-1]]), Self.node("Sub", ["x", "mean"], "centred")])
        let layers = try Self.importing(data).layers
        #expect(layers[0].op == .pool(Pool(kind: .avgpool, input: (6, 32, 1), kernel: (1, 32), stride: 32)))
        #expect(layers[1].op == .elementwise(Elementwise(kind: .add, elements: 192)) && layers[1].inputs == [0])
    }

    /// Every kind of bad graph is an error that names the node, never a trap.
    @Test(arguments: [
        ("NonMaxSuppression", "the operator NonMaxSuppression is not supported"),
        ("undefined", "it reads 'ghost', which no earlier node, input or initializer makes"),
        ("reshape", "the target shape holds a different number of elements"),
        ("huge", "a tensor is too large to simulate"),
        ("inner", "the inner dimensions differ"),
        ("domain", "operators of the domain 'com.microsoft' are not supported"),
        ("cycle", "it reads 'z', which only a later node ('z') makes: the graph has a cycle"),
    ])
    func badGraphsAreLocatedErrors(_ kind: String, _ message: String) throws {
        var nodes: [Tessera_Onnx_NodeProto]
        var inits: [Tessera_Onnx_TensorProto] = [Self.weight("w", [8, 4])]
        switch kind {
        case "undefined": nodes = [Self.node("Relu", ["ghost"], "y")]
        case "cycle": nodes = [Self.node("Add", ["x", "z"], "y"), Self.node("Relu", ["y"], "z")]
        case "reshape":
            nodes = [Self.node("Reshape", ["x", "t"], "y")]
            inits.append(Self.ints("t", [1, 5]))
        case "huge":
            nodes = [Self.node("MatMul", ["x", "big"], "m"), Self.node("Unsqueeze", ["m", "axes"], "u"), Self.node("Expand", ["u", "to"], "e"), Self.node("Softmax", ["e"], "y")]
            inits += [Self.weight("big", [8, 1 << 30]), Self.ints("axes", [2]), Self.ints("to", [1, 1 << 30, 1 << 20])]
        case "inner": nodes = [Self.node("MatMul", ["x", "w2"], "y")]; inits.append(Self.weight("w2", [3, 4]))
        case "domain":
            var n = Self.node("FusedMatMul", ["x", "w"], "y")
            n.domain = "com.microsoft"
            nodes = [n]
        default: nodes = [Self.node(kind, ["x"], "y")]
        }
        let data = try Self.model(inputs: [Self.tensor("x", [1, 8])], nodes: nodes, initializers: inits)
        let e = #expect(throws: InputError.self) { try Self.importing(data) }
        let d = try #require(e?.diagnostics.first)
        #expect(d.message.contains(message), "\(d.message)")
        #expect(d.message.contains("node 'y'"))
        #expect(d.location == Self.here)
    }

    /// Integers a hostile file can hold (bounds at Int64's ends, overflowing products) are
    /// refused with a message, never a trap.
    @Test func hostileIntegersAreRefused() throws {
        let x = [Self.tensor("x", [1, 8])]
        let cases: [([Tessera_Onnx_NodeProto], [Tessera_Onnx_TensorProto], String)] = [
            ([Self.node("Range", ["a", "b", "c"], "y")], [Self.ints("a", [Int.min]), Self.ints("b", [Int.max]), Self.ints("c", [1])], "the range is too long"),
            ([Self.node("Div", ["a", "b"], "y")], [Self.ints("a", [Int.min]), Self.ints("b", [-1])], "divides a constant by zero (or overflows)"),
            ([Self.node("Split", ["x"], "y", int: ["axis": 1, "num_outputs": Int.max])], [], "its number of outputs is not usable"),
            ([Self.node("MaxPool", ["x4"], "y", ints: ["kernel_shape": [Int.max, 1]])], [], "only 1-D and 2-D pooling"),
            ([Self.node("ConvTranspose", ["x4", "w"], "y", ints: ["output_padding": [Int.max, 0]])], [Self.weight("w", [3, 2, 1, 1])], "output_padding is not usable"),
        ]
        for (nodes, inits, message) in cases {
            var feeds = nodes
            // A Range, Div or Split result nobody consumes still has to be read: end with a view of x.
            feeds.append(Self.node("Relu", ["x"], "z"))
            let data = try Self.model(inputs: x + [Self.tensor("x4", [1, 3, 4, 4])], nodes: feeds, initializers: inits)
            let e = #expect(throws: InputError.self, "\(message)") { try Self.importing(data) }
            #expect(e?.diagnostics.first?.message.contains(message) == true, "\(e?.description ?? "")")
        }
    }

    /// Random corruption of a real model never traps: it imports or is refused with a location.
    @Test func corruptedFilesNeverTrap() throws {
        let original = try [UInt8](Data(contentsOf: Self.models.appendingPathComponent("resnet18.onnx")))
        var rng = SplitMix64(seed: 16)
        var refused = 0
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<(1 + Int(rng.next() % 8)) {
                let i = Int(rng.next() % UInt64(bytes.count))
                bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            if rng.next() % 4 == 0 { bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count)))) }
            do {
                _ = try Self.importing(Data(bytes))
            } catch let error as InputError {
                refused += 1
                #expect(error.diagnostics.allSatisfy { $0.location == Self.here })
            }
        }
        #expect(refused > 0)
    }

    /// The script that made the models still makes them byte for byte.
    @Test func theScriptReproducesTheModels() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", packageRoot.appendingPathComponent("scripts/make-onnx-fixtures.py").path, "--check"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        p.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(p.terminationStatus == 0, "scripts/make-onnx-fixtures.py --check failed (make deps installs Python's onnx): \(message)")
    }
}

/// `inputs:` in a layer list names earlier layers: the graph's own edges.
@Suite struct LayerInputsTests {
    static let text = """
        tessera: 1
        name: branches
        layers:
          - {name: a, op: gemm, m: 4, n: 8, k: 8, inputs: []}
          - {name: b, op: gemm, m: 4, n: 8, k: 8, inputs: [a]}
          - {name: c, op: gemm, m: 4, n: 8, k: 8, inputs: [a]}
          - {name: add, op: add, elements: 32, inputs: [b, c]}
        """

    @Test func namesBecomeIndices() throws {
        let w = try WorkloadLoader.parse(Self.text, file: "w.yaml")
        #expect(w.layers.map(\.inputs) == [[], [0], [0], [1, 2]])
    }

    @Test func anInputMustBeAnEarlierLayer() throws {
        let bad = Self.text.replacingOccurrences(of: "inputs: [b, c]", with: "inputs: [b, cc]").replacingOccurrences(of: "inputs: [a]}\n  - {name: c", with: "inputs: [add]}\n  - {name: c")
        let e = #expect(throws: InputError.self) { try WorkloadLoader.parse(bad, file: "w.yaml") }
        let messages = e?.diagnostics.map(\.description) ?? []
        #expect(messages.contains { $0.hasPrefix("w.yaml:5:") && $0.contains("reads 'add', which is not an earlier layer") })
        #expect(messages.contains { $0.hasPrefix("w.yaml:7:") && $0.contains("reads 'cc'") && $0.contains("did you mean 'c'?") })
    }
}
