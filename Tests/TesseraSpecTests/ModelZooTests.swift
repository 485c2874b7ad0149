import Testing
@testable import TesseraSpec

// MAC totals of the built-in model tables against published figures. torchvision's model cards
// list "GFLOPS" that are multiply-accumulates of the convolutions and linear layers, rounded to two
// decimals, so a table matches a card when it is within ±0.005 G of it.

private func table(_ model: String, sequence: Int? = nil) throws -> [LayerSpec] {
    try #require(ModelZoo.layers(model: model, sequence: sequence), "no table for \(model)")
}

private func totalMACs(_ layers: [LayerSpec]) -> Int {
    layers.reduce(0) { $0 + $1.op.macs }
}

private func convs(_ layers: [LayerSpec]) -> [(name: String, conv: Conv2D)] {
    layers.compactMap { layer in
        if case .conv2d(let c) = layer.op { return (layer.name, c) }
        return nil
    }
}

private func gemms(_ layers: [LayerSpec]) -> [(name: String, gemm: GEMM)] {
    layers.compactMap { layer in
        if case .gemm(let g) = layer.op { return (layer.name, g) }
        return nil
    }
}

private func layer(_ layers: [LayerSpec], _ name: String) throws -> LayerOp {
    try #require(layers.first { $0.name == name }, "no layer \(name)").op
}

private struct Shape: Equatable, CustomStringConvertible {
    var h: Int, w: Int, c: Int
    var description: String { "\(h)×\(w)×\(c)" }
}

/// Input and output shapes of a convolution or pooling layer; `nil` for the other ops.
private func shapes(_ op: LayerOp) -> (input: Shape, output: Shape)? {
    switch op {
    case .conv2d(let c):
        (Shape(h: c.inputH, w: c.inputW, c: c.channels), Shape(h: c.outputH, w: c.outputW, c: c.filters))
    case .pool(let p):
        (Shape(h: p.inputH, w: p.inputW, c: p.channels), Shape(h: p.outputH, w: p.outputW, c: p.channels))
    default: nil
    }
}

/// Checks that every convolution and pooling layer on the main path (names not matching `skip`)
/// reads what the one before it wrote; returns the last output.
@discardableResult
private func expectChained(
    _ layers: [LayerSpec], from input: Shape, skip: (String) -> Bool = { _ in false }
) -> Shape {
    var current = input
    for layer in layers where !skip(layer.name) {
        guard let s = shapes(layer.op) else { continue }
        #expect(s.input == current, "\(layer.name) reads \(s.input), previous layer wrote \(current)")
        current = s.output
    }
    return current
}

private func expectNear(_ value: Int, _ published: Double, tolerance: Double, _ comment: String) {
    #expect(abs(Double(value) - published) <= tolerance, "\(comment): \(value) vs \(published) ± \(tolerance)")
}

// MARK: - Published MAC totals

/// torchvision ResNet18_Weights.IMAGENET1K_V1 card: "GFLOPS 1.81" (MACs, ±0.005 G). He et al. 2016,
/// Table 1: 1.8×10⁹ (±0.05×10⁹). (ptflops-style counters that also count batch norm, ReLU and
/// pooling report 1.82 G; this table holds the MAC layers only, so 1.81 is the comparable figure.)
@Test func resnet18MACsMatchTorchvisionCardAndHeEtAl2016() throws {
    let macs = totalMACs(try table("resnet18"))
    expectNear(macs, 1.81e9, tolerance: 0.005e9, "torchvision 1.81 G")
    expectNear(macs, 1.8e9, tolerance: 0.05e9, "He et al. Table 1: 1.8×10⁹")
}

/// torchvision ResNet50_Weights card (v1.5, stride on the 3×3 conv): "GFLOPS 4.09" (MACs,
/// ±0.005 G). He et al. Table 1 gives 3.8×10⁹ for v1 (stride on the first 1×1), which v1.5 exceeds.
@Test func resnet50MACsMatchTorchvisionV15Card() throws {
    let macs = totalMACs(try table("resnet50"))
    expectNear(macs, 4.09e9, tolerance: 0.005e9, "torchvision 4.09 G")
    #expect(Double(macs) > 3.85e9, "v1.5 costs more than v1's 3.8 G")
}

/// torchvision VGG16_Weights card: "GFLOPS 15.47" (MACs, ±0.005 G).
@Test func vgg16MACsMatchTorchvisionCard() throws {
    expectNear(totalMACs(try table("vgg16")), 15.47e9, tolerance: 0.005e9, "torchvision 15.47 G")
}

/// Sandler et al. 2018, Table 4: 300 M multiply-adds for MobileNetV2 1.0 at 224; torchvision
/// MobileNet_V2_Weights card: "GFLOPS 0.30" (±0.005 G). The paper's figure is rounded to the
/// million and does not say whether it counts the 1280→1000 classifier (1.28 M): the convolutions
/// alone are 299.49 M, with the classifier 300.77 M, so ±1.5 M (0.5 %) covers both readings.
@Test func mobileNetV2MACsMatchSandlerEtAl2018AndTorchvisionCard() throws {
    let layers = try table("mobilenetv2")
    let macs = totalMACs(layers)
    expectNear(macs, 300e6, tolerance: 1.5e6, "Sandler et al. Table 4: 300 M")
    expectNear(macs, 0.30e9, tolerance: 0.005e9, "torchvision 0.30 G")
    let convMACs = convs(layers).reduce(0) { $0 + $1.conv.macs }
    expectNear(convMACs, 300e6, tolerance: 1e6, "convolutions alone")
}

/// torchvision ViT_B_16_Weights card: "GFLOPS 17.56" (MACs, ±0.005 G).
@Test func vitB16MACsMatchTorchvisionCard() throws {
    let macs = totalMACs(try table("vit-b16"))
    expectNear(macs, 17.56e9, tolerance: 0.005e9, "torchvision 17.56 G")
    // Analytically: patch embedding 196·768·(16·16·3), 12 layers at 197 tokens, head 1000·768.
    let t = 197
    let perLayer = t * 768 * 2304 + 12 * t * t * 64 * 2 + t * 768 * 768 + 2 * t * 768 * 3072
    #expect(macs == 196 * 768 * 768 + 12 * perLayer + 1000 * 768)
}

/// DeiT-S (Touvron et al. 2021, Table 1: 4.6 "FLOPs", counted as multiply-adds, for 22 M
/// parameters at 224²): ViT-B/16's structure at hidden 384, 6 heads, FFN 1536.
@Test func deitSmallMACsMatchThePaper() throws {
    let macs = totalMACs(try table("deit-small"))
    expectNear(macs, 4.6e9, tolerance: 0.05e9, "Touvron et al. Table 1: 4.6 G")
    let t = 197
    let perLayer = t * 384 * 1152 + 6 * t * t * 64 * 2 + t * 384 * 384 + 2 * t * 384 * 1536
    #expect(macs == 196 * 384 * 768 + 12 * perLayer + 1000 * 384)
    // Training keeps the same products (no batch norm in a transformer).
    let training = try #require(ModelZoo.layers(model: "deit-small", sequence: nil, training: true))
    #expect(totalMACs(training) == macs)
}

/// Training tables add batch norm and ReLU layers but no MACs.
@Test func trainingTablesAddNormalisationButNoMACs() throws {
    for name in ["resnet18", "resnet50", "vgg16", "mobilenetv2"] {
        let inference = try table(name)
        let training = try #require(ModelZoo.layers(model: name, sequence: nil, training: true))
        #expect(totalMACs(training) == totalMACs(inference), "\(name)")
        #expect(training.count > inference.count, "\(name)")
        let kinds = Set(training.compactMap { l -> Elementwise.Kind? in if case .elementwise(let e) = l.op { return e.kind } else { return nil } })
        #expect(kinds.contains(.relu), "\(name)")
        #expect(kinds.contains(.batchnorm) == (name != "vgg16"), "\(name)")
    }
}

/// MACs of one BERT-base / GPT-2 small layer at `seq` tokens: QKV projection, QKᵀ and AV over 12
/// heads of 64, output projection and the two FFN gemms.
private func transformerLayerMACs(_ seq: Int) -> Int {
    seq * 768 * 2304 + 12 * seq * seq * 64 * 2 + seq * 768 * 768 + 2 * seq * 768 * 3072
}

/// BERT-base at 128 tokens: 12 × (128·768·2304 + 12·128²·64·2 + 128·768·768 + 2·128·768·3072)
/// = 12 × 931,135,488 = 11,173,625,856 MACs (≈ 11.2 G, the figure usually quoted).
@Test func bertBaseMACsAtSequence128MatchArchitectureFormula() throws {
    let macs = totalMACs(try table("bert-base", sequence: 128))
    #expect(transformerLayerMACs(128) == 931_135_488)
    #expect(macs == 12 * transformerLayerMACs(128))
    #expect(macs == 11_173_625_856)
    expectNear(macs, 11.2e9, tolerance: 0.05e9, "≈ 11.2 G")
    // No sequence means 128.
    #expect(totalMACs(try table("bert-base")) == macs)
}

/// BERT-base at 512 tokens: 12 × 4,026,531,840 = 48,318,382,080 MACs (≈ 48.3 G).
@Test func bertBaseMACsAtSequence512MatchArchitectureFormula() throws {
    let macs = totalMACs(try table("bert-base", sequence: 512))
    #expect(macs == 12 * transformerLayerMACs(512))
    #expect(macs == 48_318_382_080)
}

/// GPT-2 small prefill of 1024 tokens (the default): 12 layers as BERT's plus the LM head
/// 1024·768·50257 = 106,300,440,576 + 39,523,713,024 = 145,824,153,600 MACs.
@Test func gpt2SmallPrefillMACsMatchArchitectureFormula() throws {
    for seq in [1024, 128, 1] {
        let macs = totalMACs(try table("gpt2-small", sequence: seq))
        #expect(macs == 12 * transformerLayerMACs(seq) + seq * 768 * 50257, "sequence \(seq)")
    }
    #expect(totalMACs(try table("gpt2-small")) == 145_824_153_600)
}

/// Kaplan et al. 2020, Table 1: forward FLOPs per token 2N + 2·n_layer·n_ctx·d_attn with
/// N = 2·d_model·n_layer·(2·d_attn + d_ff) non-embedding parameters; its attention term counts the
/// causal half of the score and context matmuls. This table computes them dense (twice that term),
/// so without the LM head its MACs are seq·(N + 2·n_layer·seq·d_attn).
@Test func gpt2SmallMatchesKaplanEtAl2020WithDenseAttention() throws {
    let seq = 1024
    let n = 2 * 768 * 12 * (2 * 768 + 3072)
    #expect(n == 84_934_656)
    let layers = try table("gpt2-small", sequence: seq)
    let head = try layer(layers, "lm_head")
    #expect(totalMACs(layers) - head.macs == seq * (n + 2 * 12 * seq * 768))
}

// MARK: - Lookup

@Test func unknownModelIsNil() {
    #expect(ModelZoo.layers(model: "resnet101", sequence: nil) == nil)
    #expect(ModelZoo.layers(model: "", sequence: nil) == nil)
    #expect(ModelZoo.describe("alexnet") == nil)
}

@Test func nonPositiveSequenceIsNil() {
    #expect(ModelZoo.layers(model: "bert-base", sequence: 0) == nil)
    #expect(ModelZoo.layers(model: "gpt2-small", sequence: -4) == nil)
    // Models without a sequence ignore it.
    #expect(ModelZoo.layers(model: "resnet18", sequence: 0) != nil)
}

@Test func aliasesGiveTheSameTables() throws {
    let pairs = [
        ("resnet-18", "resnet18"), ("resnet-50", "resnet50"), ("vgg-16", "vgg16"),
        ("mobilenet-v2", "mobilenetv2"), ("bert", "bert-base"), ("vit-b/16", "vit-b16"),
        ("gpt2", "gpt2-small"), ("ResNet50", "resnet50"), ("BERT-Base", "bert-base"),
    ]
    for (alias, name) in pairs {
        #expect(ModelZoo.canonicalName(alias) == name)
        #expect(try table(alias, sequence: 64) == (try table(name, sequence: 64)), "\(alias)")
        #expect(ModelZoo.describe(alias) == ModelZoo.describe(name))
    }
}

@Test func everyNameHasATableAndDescription() throws {
    #expect(ModelZoo.names == ["resnet18", "resnet50", "vgg16", "mobilenetv2", "bert-base", "vit-b16", "deit-small", "gpt2-small"])
    for name in ModelZoo.names {
        #expect(try !table(name).isEmpty)
        #expect(ModelZoo.describe(name) != nil)
        #expect(ModelZoo.layers(model: name, sequence: nil)?.allSatisfy { $0.location == nil } == true)
    }
}

@Test(arguments: ModelZoo.names)
func layerNamesAreUniqueAndTablesStable(_ name: String) throws {
    for seq in [nil, 1, 128, 512] as [Int?] {
        let layers = try table(name, sequence: seq)
        let names = layers.map(\.name)
        #expect(Set(names).count == names.count, "duplicate layer names in \(name)")
        #expect(try table(name, sequence: seq) == layers)
    }
}

@Test func sequenceAppliesOnlyToBERTAndGPT2() throws {
    for name in ModelZoo.names {
        let same = try table(name, sequence: 64) == (try table(name, sequence: 256))
        #expect(same == !ModelZoo.takesSequence(name), "\(name)")
    }
}

// MARK: - Structure

@Test func resnetConvCounts() throws {
    let r18 = convs(try table("resnet18"))
    #expect(r18.count == 20)  // 1 stem + 8 blocks × 2 + 3 downsamples
    #expect(r18.filter { $0.name.hasSuffix("downsample") }.count == 3)
    let r50 = convs(try table("resnet50"))
    #expect(r50.count == 53)  // 1 stem + 16 blocks × 3 + 4 downsamples
    #expect(r50.filter { $0.name.hasSuffix("downsample") }.count == 4)
}

@Test func resnetStemShapes() throws {
    for model in ["resnet18", "resnet50"] {
        let layers = try table(model)
        #expect(layers.first?.name == "conv1")
        let conv1 = try #require(shapes(try layer(layers, "conv1")))
        #expect(conv1.input == Shape(h: 224, w: 224, c: 3))
        #expect(conv1.output == Shape(h: 112, w: 112, c: 64))
        let pool = try #require(shapes(try layer(layers, "maxpool")))
        #expect(pool.input == conv1.output)
        #expect(pool.output == Shape(h: 56, w: 56, c: 64))
        let first = try #require(shapes(try layer(layers, "layer1.0.conv1")))
        #expect(first.input == pool.output)
        #expect(try layer(layers, "conv1").macs == 112 * 112 * 64 * 7 * 7 * 3)
    }
}

@Test(arguments: [("resnet18", 512), ("resnet50", 2048)])
func resnetMainPathChainsAndShortcutsMatch(_ model: String, _ width: Int) throws {
    let layers = try table(model)
    let last = expectChained(layers, from: Shape(h: 224, w: 224, c: 3)) { $0.hasSuffix("downsample") }
    #expect(last == Shape(h: 1, w: 1, c: width))
    if case .pool(let avg) = try layer(layers, "avgpool") {
        #expect(avg.kind == .avgpool && avg.kernelH == 7 && avg.kernelW == 7)
    } else {
        Issue.record("avgpool is not a pool")
    }
    #expect(try layer(layers, "fc") == .gemm(GEMM(m: 1, n: 1000, k: width)))
    #expect(layers.last?.name == "fc")
    // Each block's shortcut reads the block's input and writes its output shape; the add covers it.
    let blocks = Set(layers.compactMap { l in l.name.hasPrefix("layer") ? String(l.name.prefix(8)) : nil })
    #expect(blocks.count == (model == "resnet18" ? 8 : 16))
    for block in blocks {
        let blockConvs = convs(layers).filter { $0.name.hasPrefix(block + ".conv") }
        let first = try #require(blockConvs.first.flatMap { shapes(.conv2d($0.conv)) })
        let out = try #require(blockConvs.last.flatMap { shapes(.conv2d($0.conv)) })
        if let shortcut = layers.first(where: { $0.name == block + ".downsample" }) {
            let s = try #require(shapes(shortcut.op))
            #expect(s.input == first.input, "\(block).downsample input")
            #expect(s.output == out.output, "\(block).downsample output")
        } else {
            #expect(first.input == out.output, "\(block) identity shortcut")
        }
        #expect(try layer(layers, block + ".add") == .elementwise(Elementwise(kind: .add, elements: out.output.h * out.output.w * out.output.c)))
    }
}

@Test func resnet50PutsTheStrideOnTheThreeByThree() throws {
    let layers = try table("resnet50")
    guard case .conv2d(let c1) = try layer(layers, "layer2.0.conv1"),
        case .conv2d(let c2) = try layer(layers, "layer2.0.conv2")
    else {
        Issue.record("layer2.0 convs missing")
        return
    }
    #expect(c1.stride == 1 && c1.kernelH == 1)
    #expect(c2.stride == 2 && c2.kernelH == 3 && c2.padding == 1)
}

@Test func vgg16Structure() throws {
    let layers = try table("vgg16")
    let cs = convs(layers)
    #expect(cs.count == 13)
    #expect(cs.allSatisfy { $0.conv.kernelH == 3 && $0.conv.kernelW == 3 && $0.conv.padding == 1 && $0.conv.stride == 1 })
    #expect(layers.filter { $0.op.name == "maxpool" }.count == 5)
    let last = expectChained(layers, from: Shape(h: 224, w: 224, c: 3))
    #expect(last == Shape(h: 7, w: 7, c: 512))
    let fcs = gemms(layers)
    #expect(fcs.map(\.name) == ["fc6", "fc7", "fc8"])
    #expect(fcs.map(\.gemm) == [GEMM(m: 1, n: 4096, k: 25088), GEMM(m: 1, n: 4096, k: 4096), GEMM(m: 1, n: 1000, k: 4096)])
}

@Test func mobileNetV2Structure() throws {
    let layers = try table("mobilenetv2")
    let cs = convs(layers)
    // torchvision: features[0] stem, 17 InvertedResidual blocks (the first without expansion:
    // 2 convs; the other 16: 3 convs), features[18] 1×1 to 1280: 1 + 2 + 48 + 1 = 52.
    #expect(cs.count == 52)
    let depthwise = cs.filter { $0.name.hasSuffix(".dw") }
    #expect(depthwise.count == 17)
    for d in depthwise {
        #expect(d.conv.groups == d.conv.channels && d.conv.filters == d.conv.channels, "\(d.name)")
        #expect(d.conv.kernelH == 3 && d.conv.padding == 1)
    }
    #expect(cs.filter { $0.conv.groups == 1 }.count == 35)
    // Residual adds: stride 1 with unchanged width, n − 1 per group after the first: 1+2+3+2+2.
    #expect(layers.filter { $0.op.name == "add" }.count == 10)
    let last = expectChained(layers, from: Shape(h: 224, w: 224, c: 3))
    #expect(last == Shape(h: 1, w: 1, c: 1280))
    let convLast = try #require(shapes(try layer(layers, "conv_last")))
    #expect(convLast.input == Shape(h: 7, w: 7, c: 320) && convLast.output == Shape(h: 7, w: 7, c: 1280))
    #expect(try layer(layers, "classifier") == .gemm(GEMM(m: 1, n: 1000, k: 1280)))
}

@Test func transformerLayerTables() throws {
    let bert = try table("bert-base", sequence: 128)
    #expect(try layer(bert, "encoder.0.attn.qkv") == .gemm(GEMM(m: 128, n: 2304, k: 768)))
    #expect(try layer(bert, "encoder.11.attn.qk") == .matmul(BatchedMatmul(count: 12, m: 128, n: 128, k: 64)))
    #expect(try layer(bert, "encoder.5.attn.softmax") == .elementwise(Elementwise(kind: .softmax, elements: 12 * 128 * 128)))
    #expect(try layer(bert, "encoder.5.attn.av") == .matmul(BatchedMatmul(count: 12, m: 128, n: 64, k: 128)))
    #expect(try layer(bert, "encoder.5.attn.proj") == .gemm(GEMM(m: 128, n: 768, k: 768)))
    #expect(try layer(bert, "encoder.5.ffn.fc1") == .gemm(GEMM(m: 128, n: 3072, k: 768)))
    #expect(try layer(bert, "encoder.5.ffn.gelu") == .elementwise(Elementwise(kind: .gelu, elements: 128 * 3072)))
    #expect(try layer(bert, "encoder.5.ffn.fc2") == .gemm(GEMM(m: 128, n: 768, k: 3072)))
    #expect(bert.filter { $0.op.name == "layernorm" }.count == 1 + 24)
    #expect(bert.filter { $0.op.name == "gemm" }.count == 48)
    // Post-norm: each layer norm follows its residual add.
    let names = bert.map(\.name)
    if let add = names.firstIndex(of: "encoder.0.attn.add"), let norm = names.firstIndex(of: "encoder.0.attn.layernorm") {
        #expect(norm == add + 1)
    } else {
        Issue.record("encoder.0 add/layernorm missing")
    }

    let vit = try table("vit-b16")
    let patch = try #require(shapes(try layer(vit, "patch_embed")))
    #expect(patch.input == Shape(h: 224, w: 224, c: 3) && patch.output == Shape(h: 14, w: 14, c: 768))
    #expect(try layer(vit, "encoder.0.attn.qkv") == .gemm(GEMM(m: 197, n: 2304, k: 768)))
    #expect(try layer(vit, "head") == .gemm(GEMM(m: 1, n: 1000, k: 768)))
    // Pre-norm: the layer norm comes before the QKV projection.
    let vitNames = vit.map(\.name)
    if let norm = vitNames.firstIndex(of: "encoder.0.attn.layernorm"), let qkv = vitNames.firstIndex(of: "encoder.0.attn.qkv") {
        #expect(norm + 1 == qkv)
    } else {
        Issue.record("encoder.0 layernorm/qkv missing")
    }

    let gpt2 = try table("gpt2-small", sequence: 256)
    #expect(try layer(gpt2, "decoder.11.attn.qk") == .matmul(BatchedMatmul(count: 12, m: 256, n: 256, k: 64)))
    #expect(try layer(gpt2, "lm_head") == .gemm(GEMM(m: 256, n: 50257, k: 768)))
    #expect(gpt2.last?.name == "lm_head")
}
