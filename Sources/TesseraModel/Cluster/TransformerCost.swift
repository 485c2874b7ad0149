import TesseraSpec

/// What one GPU spends on one transformer layer for one microbatch, and what it must hold.
///
/// Every matrix product is timed by `GEMMModel` (floor `kernelFloor`: kernels queue back to back).
/// Per GPU with tensor parallelism t, microbatch b, sequence s, T = b·s tokens, hidden h, a heads
/// of d, g key/value heads, FFN f (doubled up-projection when gated), e bytes per element:
/// - attention block: QKV `T × (h + 2gd)/t × h`; scores `b·a/t·s × s/2 × d` and context
///   `b·a/t·s × d × s/2` (causal, as FlashAttention skips the masked half; scores are never
///   written to memory); output projection `T × h × h/t`; plus 6·T·h·e bytes of element-wise
///   traffic (norm, residual add) at the HBM rate.
/// - `attention: materialized` (Megatron-LM before FlashAttention, e.g. Narayanan et al. SC21):
///   scores `b·a/t·s × s × d` and context `b·a/t·s × d × s` over the whole square (the mask is
///   applied, not skipped), and the S = b·a/t·s² scores pass through memory between the two
///   products: a fused scale-mask-softmax reads them and writes the probabilities, dropout reads
///   those and writes the kept ones with a one-byte mask, so 4·S·e + S bytes more at the HBM rate
///   (the products' own reads and writes are in the GEMM model); doubled backward. Model FLOPs stay
///   the causal ones (the useful work).
/// - feed-forward block: `T × f/t × h` (×2 when gated) and `T × h × f/t`, plus 5·T·h·e + 3·T·f/t·e
///   bytes (norm, residual, activation). A mixture of experts routes T·k tokens to E/ep local
///   experts, T·k·ep/E rows each (perfect balance), plus a `T × E × h` router.
/// - backward: each product `m × n × k` costs its data gradient `m × k × n` and its weight
///   gradient `k × n × m`; element-wise traffic doubles. Recomputation adds the core attention
///   (selective) or the whole forward (full) to the backward.
/// - output layer (last stage): `T × V/t × h` forward, two products backward, 3·T·V/t·e bytes of
///   cross-entropy traffic.
/// - optimizer: mixed-precision Adam reads and writes 28 bytes per parameter it updates.
/// - FP8 (`matmul`: Transformer Engine style): the linear layers' products (QKV, output
///   projection, FFN, router) forward and backward at the GPU's FP8 rate with 1-byte operands;
///   the attention core, the output layer, element-wise work and what is stored stay in BF16 (but
///   for the linear layers' saved inputs, see `activationBytesPerLayer`).
/// Model FLOPs (for MFU) are the forward products' 2mnk, times three for a training step.
public struct TransformerCost: Sendable {
    public var model: TransformerSpec
    public var gpu: GPUPreset
    public var precision: String
    public var bytesPerElement: Int
    public var tp: Int
    public var ep: Int
    public var cp: Int
    public var microbatch: Int
    public var recompute: ParallelismSpec.Recompute
    public var sequenceParallel: Bool
    public var attention: ParallelismSpec.Attention
    /// The precision and operand bytes of the linear layers' products when they differ from the
    /// rest (FP8 training); nil: all products at `precision`.
    public var matmul: (precision: String, bytes: Int)?

    public init(
        model: TransformerSpec, gpu: GPUPreset, precision: String, bytesPerElement: Int, parallelism p: ParallelismSpec, matmul: (precision: String, bytes: Int)? = nil
    ) {
        self.matmul = matmul
        self.model = model
        self.gpu = gpu
        self.precision = precision
        self.bytesPerElement = bytesPerElement
        self.tp = p.tp
        self.ep = p.ep
        self.cp = p.cp
        self.microbatch = p.microbatch
        self.recompute = p.recompute
        self.sequenceParallel = p.sequenceParallel
        self.attention = p.attention
    }

    /// One matrix product: m × n × k, repeated `count` times; `linear` for a layer's weights
    /// (run in FP8 under FP8 training), false for the attention core and the output layer.
    public struct Product: Sendable {
        public var m: Int, n: Int, k: Int, count: Int = 1
        public var linear = false
        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) * Double(count) }
    }

    /// Tokens of one microbatch on one GPU (a context-parallel GPU holds 1/cp of each sequence).
    var tokens: Int { max(1, microbatch * model.seqLen / cp) }
    var e: Double { Double(bytesPerElement) }

    /// The forward products of the attention block (causal: the useful work, what model FLOPs
    /// count); the core (scores and context) last two.
    public var attentionProducts: [Product] { attentionProducts(keys: max(1, model.seqLen / 2)) }

    /// The products as they run: over the causal half with FlashAttention, over every key when the
    /// scores are materialized.
    var timedAttentionProducts: [Product] { attention == .materialized ? attentionProducts(keys: model.seqLen) : attentionProducts }

    private func attentionProducts(keys: Int) -> [Product] {
        let T = tokens, h = model.hidden, d = model.headDim, s = model.seqLen
        let rows = microbatch * max(1, model.heads / tp) * max(1, s / cp)  // this GPU's queries against all s keys
        return [
            Product(m: T, n: max(1, (h + 2 * model.kvHeads * d) / tp), k: h, linear: true),
            Product(m: T, n: h, k: max(1, h / tp), linear: true),
            Product(m: rows, n: keys, k: d),
            Product(m: rows, n: d, k: keys),
        ]
    }

    /// Materialized attention: the scores' round trips through memory (softmax, dropout and its
    /// mask), 4·S·e + S bytes for S = b·a/t·(s/cp)·s scores; 0 with FlashAttention.
    var scoreTraffic: Double {
        guard attention == .materialized else { return 0 }
        let scores = Double(microbatch) * Double(max(1, model.heads / tp)) * Double(max(1, model.seqLen / cp)) * Double(model.seqLen)
        return memorySeconds(4 * scores * e + scores)
    }

    public var ffnProducts: [Product] {
        let T = tokens, h = model.hidden, f = max(1, model.ffn / tp)
        let up = model.gatedFFN ? 2 * f : f
        guard model.isMoE else { return [Product(m: T, n: up, k: h, linear: true), Product(m: T, n: h, k: f, linear: true)] }
        let local = max(1, model.experts / ep)
        let rows = max(1, T * model.topK * ep / model.experts)
        return [
            Product(m: T, n: model.experts, k: h, linear: true), Product(m: rows, n: up, k: h, count: local, linear: true),
            Product(m: rows, n: h, k: f, count: local, linear: true),
        ]
    }

    public var headProduct: Product { Product(m: tokens, n: max(1, model.vocab / tp), k: model.hidden) }

    func seconds(_ p: Product) -> Double {
        let (name, bytes) = p.linear ? matmul ?? (precision, bytesPerElement) : (precision, bytesPerElement)
        let one = GEMMModel.seconds(m: p.m, n: p.n, k: p.k, precision: name, bytesPerElement: bytes, gpu: gpu, floor: GEMMModel.kernelFloor) ?? 0
        return one * Double(p.count)
    }
    func backwardSeconds(_ p: Product) -> Double {
        seconds(Product(m: p.m, n: p.k, k: p.n, count: p.count, linear: p.linear)) + seconds(Product(m: p.k, n: p.n, k: p.m, count: p.count, linear: p.linear))
    }
    func memorySeconds(_ bytes: Double) -> Double { bytes / (gpu.hbmBandwidth * GEMMModel.hbmEfficiency) }

    /// Element-wise work on the hidden-size activations is split t ways with sequence parallelism.
    var hiddenShare: Double { sequenceParallel ? 1 / Double(tp) : 1 }
    var attentionElementwise: Double { memorySeconds(6 * Double(tokens) * Double(model.hidden) * e * hiddenShare) }
    var ffnElementwise: Double {
        memorySeconds((5 * Double(model.hidden) * hiddenShare + 3 * Double(model.ffn / tp) * Double(model.isMoE ? model.topK : 1)) * Double(tokens) * e)
    }

    /// Forward seconds of the attention block and of the feed-forward block of one layer.
    public var forward: (attention: Double, ffn: Double) {
        (timedAttentionProducts.map(seconds).reduce(0, +) + attentionElementwise + scoreTraffic, ffnProducts.map(seconds).reduce(0, +) + ffnElementwise)
    }

    /// Backward seconds of each block, with recomputation.
    public var backward: (attention: Double, ffn: Double) { backward(recompute: recompute) }

    /// Backward seconds of each block of a layer recomputed as `recompute` says (partial
    /// recomputation recomputes some layers of a chunk and not others).
    public func backward(recompute: ParallelismSpec.Recompute) -> (attention: Double, ffn: Double) {
        var attention = timedAttentionProducts.map(backwardSeconds).reduce(0, +) + 2 * attentionElementwise + 2 * scoreTraffic
        var ffn = ffnProducts.map(backwardSeconds).reduce(0, +) + 2 * ffnElementwise
        let f = forward
        switch recompute {
        case .none: break
        case .selective: attention += timedAttentionProducts.suffix(2).map(seconds).reduce(0, +) + scoreTraffic
        case .full:
            attention += f.attention
            ffn += f.ffn
        }
        return (attention, ffn)
    }

    public var headForward: Double { seconds(headProduct) + memorySeconds(3 * Double(tokens) * Double(model.vocab / tp) * e) }
    public var headBackward: Double { backwardSeconds(headProduct) + memorySeconds(3 * Double(tokens) * Double(model.vocab / tp) * e) }

    /// Model FLOPs of one layer for one microbatch on one GPU (forward + backward = 3 × forward).
    public var layerFlops: Double { 3 * (attentionProducts + ffnProducts).map(\.flops).reduce(0, +) }
    public var headFlops: Double { 3 * headProduct.flops }

    /// Bytes of keys and values of one layer and microbatch over the whole sequence, per tensor
    /// rank: what a context-parallel group all-gathers before attention (and reduce-scatters back
    /// as gradients). With fewer key/value heads than tensor ranks each rank holds one head.
    public var kvBytes: Double {
        2 * Double(microbatch * model.seqLen) * Double(max(1, model.kvHeads / tp) * model.headDim) * e
    }

    /// Adam's update of `parameters` on one GPU.
    public func optimizerSeconds(parameters: Double) -> Double { memorySeconds(28 * parameters) }

    /// Parameters of one layer held by one GPU (attention and dense FFN split t ways; E/ep experts).
    public var layerParametersPerGPU: Double {
        let experts = model.isMoE ? Double(model.experts / ep) : 1
        return model.attentionParameters / Double(tp) + experts * model.expertParameters / Double(tp) + (model.isMoE ? Double(model.hidden * model.experts) : 0)
    }

    /// Expert parameters of one layer on one GPU (reduced over dp/ep ranks, not dp).
    public var layerExpertParametersPerGPU: Double { model.isMoE ? Double(model.experts / ep) * model.expertParameters / Double(tp) : 0 }

    /// Bytes of activations one layer keeps for one microbatch until its backward (Korthikanti et
    /// al. 2022, "Reducing Activation Recomputation in Large Transformer Models", §4, without
    /// sequence parallelism): s·b·h·(10 + 24/t + 5·a·s/(h·t)); selective recomputation drops the
    /// 5as/(ht) term, full keeps only the layer's input (2sbh). Derived for 16-bit activations and
    /// an FFN of 4h; the FFN's 16/t share is scaled by f/(4h) (×1.5 gated, ×k routed experts).
    /// Sequence parallelism (§4.2.2) splits the remaining 10 over t as well: s·b·h·(34/t + 5as/(ht)),
    /// and full recomputation keeps 2sbh/t. Context parallelism divides it all by cp (each GPU keeps
    /// s/cp of the tokens; the scores term still spans all s keys). The 5as/(ht) term is the
    /// attention scores, softmax and dropout mask, which only materialized attention stores: with
    /// FlashAttention (Dao et al. 2022, §3.1) a layer keeps instead each query row's softmax
    /// log-sum-exp, 4 bytes (fp32) per head and token: s·b·h·4a/(ht). With FP8 linear layers
    /// (`matmul`), each linear layer keeps its input for the weight gradient in FP8, as Transformer
    /// Engine's Linear saves the FP8 copy it casts (ASSUMPTION: read from TE's implementation, not a
    /// published figure): of the terms above, the QKV and first FFN inputs (2 + 2 of the 10), the
    /// projection input (2 of the 8) and the second FFN input (8 of the 16) shrink by the ratio of
    /// the byte widths (1/2: 10 → 8, 8 → 7, 16 → 12).
    public var activationBytesPerLayer: Double { activationBytesPerLayer(recompute: recompute) }

    /// The bytes a layer recomputed as `recompute` says keeps (see `activationBytesPerLayer`).
    public func activationBytesPerLayer(recompute: ParallelismSpec.Recompute) -> Double {
        let s = Double(model.seqLen), b = Double(microbatch) / Double(cp), h = Double(model.hidden), a = Double(model.heads), t = Double(tp)
        let ffnScale = Double(model.ffn) / (4 * h) * (model.gatedFFN ? 1.5 : 1) * Double(model.isMoE ? model.topK : 1)
        // Bytes of a linear layer's saved input relative to 16 bits (1/2 with FP8 linear layers).
        let saved = matmul.map { Double($0.bytes) / 2 } ?? 1
        let unsplit = 10 - 4 * (1 - saved), eight = 8 - 2 * (1 - saved), sixteen = 16 - 8 * (1 - saved)
        let whole = sequenceParallel ? unsplit / t : unsplit
        switch recompute {
        case .full: return 2 * s * b * h / (sequenceParallel ? t : 1)
        case .selective: return s * b * h * (whole + (eight + sixteen * ffnScale) / t)
        case .none:
            let scores = attention == .materialized ? 5 * a * s / (h * t) : 4 * a / (h * t)
            return s * b * h * (whole + (eight + sixteen * ffnScale) / t + scores)
        }
    }
}
