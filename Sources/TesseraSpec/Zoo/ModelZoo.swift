/// The built-in model zoo: exact per-sample layer tables of well-known networks, so that a workload
/// can say `model: resnet50` instead of listing layers.
///
/// Every table is per sample (batch 1); elaboration applies the batch. The tables hold every layer
/// that does arithmetic on activations: convolutions, matrix products, pooling, residual adds,
/// softmax, GELU and layer norms. Modelling choices shared by all tables:
/// - Batch norm is folded into the preceding convolution and ReLU/ReLU6 is fused into it (as every
///   inference compiler does), so neither appears as a layer.
/// - Dropout is the identity at inference and does not appear.
/// - Reshapes, transposes, concatenations and embedding lookups move data only and do not appear.
/// - The classifier's global average pool is an `avgpool` whose kernel is the whole feature map.
public enum ModelZoo {
    /// The canonical names of the built-in models.
    public static let names: [String] = [
        "resnet18", "resnet50", "vgg16", "mobilenetv2", "bert-base", "vit-b16", "deit-small", "gpt2-small",
    ]

    /// Other spellings accepted by `layers(model:sequence:)` and `describe(_:)`, mapped to the
    /// canonical name.
    public static let aliases: [String: String] = [
        "resnet-18": "resnet18",
        "resnet-50": "resnet50",
        "vgg-16": "vgg16",
        "mobilenet-v2": "mobilenetv2",
        "bert": "bert-base",
        "vit-b/16": "vit-b16",
        "deit-s": "deit-small",
        "vit-s16": "deit-small",
        "gpt2": "gpt2-small",
    ]

    /// Default sequence length of BERT-base when the workload gives none.
    public static let defaultBERTSequence = 128
    /// Default prefill length of GPT-2 small when the workload gives none (its full context).
    public static let defaultGPT2Sequence = 1024

    /// The canonical name for `name` (itself, or the name an alias stands for), matched
    /// case-insensitively; `nil` when the zoo has no such model.
    public static func canonicalName(_ name: String) -> String? {
        let key = name.lowercased()
        if names.contains(key) { return key }
        return aliases[key]
    }

    /// Whether the model takes a sequence length (BERT-base and GPT-2 small do; the CNNs and
    /// ViT-B/16, whose 197 tokens follow from the 224×224 image, do not).
    public static func takesSequence(_ name: String) -> Bool {
        switch canonicalName(name) {
        case "bert-base", "gpt2-small": true
        default: false
        }
    }

    /// The per-sample layer table of a built-in model, or `nil` when the name is unknown or the
    /// sequence length is not positive.
    ///
    /// - Parameters:
    ///   - model: a name from `names` or `aliases` (case-insensitive).
    ///   - sequence: tokens per sample for `bert-base` (default 128) and the prefill length for
    ///     `gpt2-small` (default 1024); ignored by the other models.
    ///   - training: keep batch norm and ReLU as layers (training runs them forward and backward);
    ///     inference folds batch norm into the convolution and fuses ReLU into it.
    public static func layers(model: String, sequence: Int?, training: Bool = false) -> [LayerSpec]? {
        guard let name = canonicalName(model) else { return nil }
        switch name {
        case "resnet18": return ResNet.resnet18(training: training)
        case "resnet50": return ResNet.resnet50(training: training)
        case "vgg16": return VGG.vgg16(training: training)
        case "mobilenetv2": return MobileNetV2.layers(training: training)
        case "deit-small": return Transformers.deitSmall()
        case "bert-base":
            let seq = sequence ?? defaultBERTSequence
            guard seq > 0 else { return nil }
            return Transformers.bertBase(sequence: seq)
        case "vit-b16": return Transformers.vitB16()
        case "gpt2-small":
            let seq = sequence ?? defaultGPT2Sequence
            guard seq > 0 else { return nil }
            return Transformers.gpt2Small(sequence: seq)
        default: return nil
        }
    }

    /// A one-line description of a built-in model with its input size, or `nil` when unknown.
    public static func describe(_ name: String) -> String? {
        switch canonicalName(name) {
        case "resnet18":
            "ResNet-18 (He et al. 2016, torchvision), 224×224×3 image, 1000 classes, ~1.82 GMACs"
        case "resnet50":
            "ResNet-50 v1.5 (torchvision, stride on the 3×3 conv), 224×224×3 image, 1000 classes, ~4.09 GMACs"
        case "vgg16":
            "VGG-16 (Simonyan & Zisserman 2015, configuration D), 224×224×3 image, 1000 classes, ~15.47 GMACs"
        case "mobilenetv2":
            "MobileNetV2 1.0 (Sandler et al. 2018, torchvision), 224×224×3 image, 1000 classes, ~300 M MACs"
        case "bert-base":
            "BERT-base encoder (12 layers, hidden 768, 12 heads, FFN 3072), sequence of tokens (default 128), ~11.2 GMACs at 128"
        case "vit-b16":
            "ViT-B/16 (Dosovitskiy et al. 2021, torchvision), 224×224×3 image as 196 patches + class token = 197 tokens, ~17.56 GMACs"
        case "deit-small":
            "DeiT-S / ViT-S/16 (Touvron et al. 2021: 12 layers, hidden 384, 6 heads, FFN 1536), 197 tokens, ~4.6 GMACs"
        case "gpt2-small":
            "GPT-2 small prefill (12 layers, hidden 768, 12 heads, vocabulary 50257) with LM head, prompt of tokens (default 1024)"
        default: nil
        }
    }
}

/// Builds a CNN layer table while tracking the current activation shape, so that each layer's input
/// is the previous layer's output.
struct CNNBuilder {
    var layers: [LayerSpec] = []
    /// Training keeps batch norm and ReLU as layers of their own (they are folded and fused only
    /// for inference); `batchNorm` is false for networks without it (VGG-16).
    var training = false
    var batchNorm = true
    /// The current activation shape (height, width, channels).
    var h: Int, w: Int, c: Int

    init(input: (h: Int, w: Int, c: Int)) {
        h = input.h
        w = input.w
        c = input.c
    }

    var shape: (h: Int, w: Int, c: Int) { (h, w, c) }
    var elements: Int { h * w * c }

    /// Appends a convolution on the current activation and makes its output current.
    mutating func conv(
        _ name: String, kernel: Int, filters: Int, stride: Int = 1, padding: Int = 0, groups: Int = 1, relu: Bool = true
    ) {
        let op = Conv2D(
            input: shape, kernel: (kernel, kernel), filters: filters, stride: stride, padding: padding, groups: groups)
        layers.append(LayerSpec(name: name, op: .conv2d(op)))
        h = op.outputH
        w = op.outputW
        c = filters
        trainingLayers(after: name, elements: elements, batchNorm: batchNorm, relu: relu)
    }

    /// In training, the batch norm and ReLU that inference folds and fuses into a layer.
    private mutating func trainingLayers(after name: String, elements: Int, batchNorm: Bool, relu: Bool) {
        guard training else { return }
        if batchNorm { layers.append(LayerSpec(name: "\(name).bn", op: .elementwise(Elementwise(kind: .batchnorm, elements: elements)))) }
        if relu { layers.append(LayerSpec(name: "\(name).relu", op: .elementwise(Elementwise(kind: .relu, elements: elements)))) }
    }

    /// Appends a convolution on `input` (a side branch such as a downsample) without changing the
    /// current activation.
    mutating func branchConv(
        _ name: String, input: (h: Int, w: Int, c: Int), kernel: Int, filters: Int, stride: Int = 1, padding: Int = 0
    ) {
        let op = Conv2D(input: input, kernel: (kernel, kernel), filters: filters, stride: stride, padding: padding)
        layers.append(LayerSpec(name: name, op: .conv2d(op)))
        trainingLayers(after: name, elements: op.outputH * op.outputW * filters, batchNorm: batchNorm, relu: false)
    }

    mutating func pool(_ name: String, kind: Pool.Kind, kernel: Int, stride: Int, padding: Int = 0) {
        let op = Pool(kind: kind, input: shape, kernel: (kernel, kernel), stride: stride, padding: padding)
        layers.append(LayerSpec(name: name, op: .pool(op)))
        h = op.outputH
        w = op.outputW
    }

    /// Global average pool: the kernel is the whole feature map, leaving 1×1×C.
    mutating func globalAveragePool(_ name: String) {
        let op = Pool(kind: .avgpool, input: shape, kernel: (h, w), stride: max(h, w))
        layers.append(LayerSpec(name: name, op: .pool(op)))
        h = 1
        w = 1
    }

    /// A residual add of two tensors of the current shape.
    mutating func add(_ name: String, relu: Bool = false) {
        layers.append(LayerSpec(name: name, op: .elementwise(Elementwise(kind: .add, elements: elements))))
        trainingLayers(after: name, elements: elements, batchNorm: false, relu: relu)
    }

    /// A fully connected layer on the flattened current activation.
    mutating func fc(_ name: String, outputs: Int, relu: Bool = false) {
        layers.append(LayerSpec(name: name, op: .gemm(GEMM(m: 1, n: outputs, k: elements))))
        h = 1
        w = 1
        c = outputs
        trainingLayers(after: name, elements: outputs, batchNorm: false, relu: relu)
    }
}
