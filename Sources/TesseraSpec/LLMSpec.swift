import TesseraCore

/// A decoder-only transformer as large-model training describes it: its depth and widths, its
/// sequence length and vocabulary, and (for a mixture of experts) its experts.
public struct TransformerSpec: Sendable, Hashable {
    public var name: String
    public var layers: Int
    public var hidden: Int
    public var heads: Int
    /// Key/value heads (grouped-query attention); `heads` for multi-head attention.
    public var kvHeads: Int
    public var ffn: Int
    public var seqLen: Int
    public var vocab: Int
    /// Gated (SwiGLU) feed-forward: two up projections of `ffn` instead of one.
    public var gatedFFN: Bool
    /// Experts per feed-forward layer (1: a dense model) and how many each token is routed to.
    public var experts: Int
    public var topK: Int

    public var headDim: Int { hidden / heads }
    public var isMoE: Bool { experts > 1 }

    /// Parameters of one transformer layer: attention (Q and output h×h, K and V h×kv·d each),
    /// the feed-forward network (2 or 3 matrices of h×ffn, per expert) and, for a mixture of
    /// experts, the router (h×experts). Biases and norms are left out (under 0.1%).
    public var attentionParameters: Double { Double(hidden) * Double(2 * hidden + 2 * kvHeads * headDim) }
    public var expertParameters: Double { Double(gatedFFN ? 3 : 2) * Double(hidden) * Double(ffn) }
    public var layerParameters: Double { attentionParameters + Double(experts) * expertParameters + (isMoE ? Double(hidden * experts) : 0) }
    /// Token embedding (and, untied, the output projection: `untiedHead`).
    public var embeddingParameters: Double { Double(vocab) * Double(hidden) }
    /// Whether the output projection has its own weights (Llama) or reuses the embedding (GPT-3).
    public var untiedHead: Bool
    /// Learned absolute position embeddings (GPT-2: one per position); 0 with rotary positions.
    public var positionEmbeddings: Int
    /// All weights: the layers, the token embedding (twice when the head is untied) and learned
    /// position embeddings.
    public var parameters: Double {
        Double(layers) * layerParameters + embeddingParameters * (untiedHead ? 2 : 1) + Double(positionEmbeddings) * Double(hidden)
    }

    public init(
        name: String, layers: Int, hidden: Int, heads: Int, kvHeads: Int? = nil, ffn: Int, seqLen: Int, vocab: Int, gatedFFN: Bool = false,
        experts: Int = 1, topK: Int = 1, untiedHead: Bool = false, positionEmbeddings: Int = 0
    ) {
        self.positionEmbeddings = positionEmbeddings
        self.name = name
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.kvHeads = kvHeads ?? heads
        self.ffn = ffn
        self.seqLen = seqLen
        self.vocab = vocab
        self.gatedFFN = gatedFFN
        self.experts = experts
        self.topK = topK
        self.untiedHead = untiedHead
    }

    /// The bundled models. Sources:
    /// - `gpt3-175b`: Brown et al. 2020, "Language Models are Few-Shot Learners", Table 2.1 (96
    ///   layers, d_model 12288, 96 heads, n_ctx 2048; FFN 4·d_model); vocabulary 50257 (GPT-2 BPE);
    ///   the output layer shares the embedding.
    /// - `llama3-8b`, `llama3-70b`: Llama Team 2024, "The Llama 3 Herd of Models", Table 3 (32/80
    ///   layers, 4096/8192 wide, FFN 14336/28672, 32/64 heads, 8 KV heads, vocabulary 128000 —
    ///   128256 in the released tokenizer, used here), SwiGLU, untied output; sequence 8192.
    /// - `mixtral-8x7b`: Jiang et al. 2024, "Mixtral of Experts", Table 1 (32 layers, dim 4096,
    ///   hidden_dim 14336, 32 heads, 8 KV heads, vocabulary 32000, 8 experts, top-2), SwiGLU,
    ///   untied output; sequence 4096 (the paper's context is 32k; 4096 is a training default).
    public static let zoo: [TransformerSpec] = [
        TransformerSpec(name: "gpt3-175b", layers: 96, hidden: 12288, heads: 96, ffn: 49152, seqLen: 2048, vocab: 50257),
        TransformerSpec(name: "llama3-8b", layers: 32, hidden: 4096, heads: 32, kvHeads: 8, ffn: 14336, seqLen: 8192, vocab: 128_256, gatedFFN: true, untiedHead: true),
        TransformerSpec(name: "llama3-70b", layers: 80, hidden: 8192, heads: 64, kvHeads: 8, ffn: 28672, seqLen: 8192, vocab: 128_256, gatedFFN: true, untiedHead: true),
        TransformerSpec(
            name: "mixtral-8x7b", layers: 32, hidden: 4096, heads: 32, kvHeads: 8, ffn: 14336, seqLen: 4096, vocab: 32000, gatedFFN: true, experts: 8, topK: 2,
            untiedHead: true),
    ]
    public static func named(_ name: String) -> TransformerSpec? { zoo.first { $0.name == name } }
}

/// How a training step is split over the GPUs: tensor (tp), pipeline (pp), data (dp) and expert
/// (ep, within the data-parallel ranks) parallelism, microbatching, ZeRO, gradient buckets and
/// activation recomputation.
public struct ParallelismSpec: Sendable, Hashable {
    public enum Recompute: String, Sendable, Hashable, CaseIterable { case none, selective, full }
    /// How the attention core runs: `flash` (fused, the masked half skipped, the score matrix never
    /// written) or `materialized` (the full b·a·s² score matrix computed, written, soft-maxed and
    /// dropped out in memory, as Megatron-LM did before FlashAttention).
    public enum Attention: String, Sendable, Hashable, CaseIterable { case flash, materialized }
    public var tp = 1, pp = 1, dp = 1, ep = 1
    /// Context parallelism: each sequence split over `cp` GPUs, keys and values gathered per layer.
    public var cp = 1
    /// Sequences per microbatch.
    public var microbatch = 1
    /// Model chunks per pipeline stage (Megatron's interleaved 1F1B; 1: plain 1F1B).
    public var virtualStages = 1
    /// Layers on the first and on the last pipeline stage when they differ from the others
    /// (Megatron-LM's --decoder-first/last-pipeline-num-layers); the other stages share the rest
    /// evenly. nil: every stage holds layers / pp.
    public var firstStageLayers: Int?
    public var lastStageLayers: Int?
    /// Megatron-LM's --account-for-embedding-in-pipeline-split and --account-for-loss-in-pipeline-split:
    /// the embedding takes one layer's place in the first model chunk and the loss one in the last,
    /// and layers + those places split evenly over the pp × virtual_stages chunks.
    public var embeddingAsLayer = false
    public var lossAsLayer = false
    /// ZeRO stage 0 (plain data parallelism) to 3.
    public var zero = 0
    /// Gradient bucket size, bytes (PyTorch DDP's default bucket_cap_mb = 25).
    public var bucket: UInt64 = 25 << 20
    /// Gradient reduction overlapped with the backward pass (buckets launched as they fill).
    public var overlap = true
    public var recompute = Recompute.none
    /// With full recomputation, how many layers of each model chunk are recomputed: the first k of
    /// every chunk (Megatron-LM's `--recompute-method block --recompute-num-layers k`); the others
    /// keep all their activations. nil: every layer.
    public var recomputeLayers: Int?
    /// ZeRO 1 and 2: the updated parameters' all-gather overlapped with the next step's forward
    /// (Megatron-LM's --overlap-param-gather): gathered in buckets at the step's start, each layer's
    /// first forward waiting for its bucket, instead of all of them after the optimizer.
    public var overlapParamGather = false
    /// Full recomputation reruns each layer's forward collectives (tensor, expert, context) before
    /// its backward, as Megatron-LM does; false leaves them out (to measure what they cost).
    public var repeatRecomputedCollectives = true
    public var attention = Attention.flash
    /// Tensor-parallel communication overlapped with the GEMMs beside it, as Megatron-Core and
    /// NeMo do with Transformer Engine's userbuffers (`--tp-comm-overlap`): each block's compute and
    /// its collective run in tp pipelined chunks.
    public var tpCommOverlap = false
    /// Megatron's sequence parallelism: the element-wise parts of each layer split over the tensor
    /// group, each all-reduce becoming a reduce-scatter and an all-gather.
    public var sequenceParallel = false
    /// CO2 (local updating, asynchronous outer all-reduce every `localSteps` steps); nil: off.
    public var co2LocalSteps: Int?
    public var location: SourceLocation
    public var gpus: Int { tp * cp * pp * dp }
    public init(location: SourceLocation) { self.location = location }

    /// The recomputation of the `l`-th layer (from 0) of a model chunk: with `recomputeLayers` k,
    /// full for the first k, none for the rest.
    public func recompute(layerInChunk l: Int) -> Recompute {
        guard recompute == .full, let k = recomputeLayers else { return recompute }
        return l < k ? .full : .none
    }

    /// Whether the stages hold different numbers of layers.
    public var unevenStages: Bool { firstStageLayers != nil || lastStageLayers != nil }

    /// The layers of each model chunk in virtual-stage order (chunk c of stage s is virtual stage
    /// c·pp + s; the model's layers fill them in that order), or nil when they do not split. With
    /// `embeddingAsLayer`/`lossAsLayer` the layers and those places split evenly over the pp × v
    /// chunks, the first chunk one layer short for the embedding and the last for the loss (each
    /// chunk keeps at least one layer); otherwise each stage's layers split evenly over its chunks.
    public func chunkLayers(total layers: Int) -> [Int]? {
        let K = pp * virtualStages
        guard K > 0 else { return nil }
        if embeddingAsLayer || lossAsLayer {
            guard !unevenStages else { return nil }
            let slots = layers + (embeddingAsLayer ? 1 : 0) + (lossAsLayer ? 1 : 0)
            guard slots % K == 0 else { return nil }
            var out = Array(repeating: slots / K, count: K)
            if embeddingAsLayer { out[0] -= 1 }
            if lossAsLayer { out[K - 1] -= 1 }
            return out.allSatisfy({ $0 >= 1 }) ? out : nil
        }
        guard let stages = stageLayers(total: layers) else { return nil }
        return (0..<K).map { k in stages[k % pp] / virtualStages }
    }

    /// The layers of each pipeline stage for a model of `layers` layers: the first and last as set,
    /// the rest shared evenly by the other stages; nil when they do not split (a stage left empty
    /// or a remainder), or when interleaving (virtual stages) asks for equal chunks.
    public func stageLayers(total layers: Int) -> [Int]? {
        if embeddingAsLayer || lossAsLayer {
            guard let chunks = chunkLayers(total: layers) else { return nil }
            return (0..<pp).map { s in (0..<virtualStages).reduce(0) { $0 + chunks[$1 * pp + s] } }
        }
        guard unevenStages else { return layers % (pp * virtualStages) == 0 ? Array(repeating: layers / pp, count: pp) : nil }
        guard pp >= 2, virtualStages == 1 else { return nil }
        let first = firstStageLayers, last = lastStageLayers
        let others = pp - (first != nil ? 1 : 0) - (last != nil ? 1 : 0)
        let rest = layers - (first ?? 0) - (last ?? 0)
        guard rest >= 0, others > 0 ? rest > 0 && rest % others == 0 : rest == 0 else { return nil }
        let each = others > 0 ? rest / others : 0
        return (0..<pp).map { s in s == 0 ? first ?? each : s == pp - 1 ? last ?? each : each }
    }
}

/// A component that is slowed down or cut from a given time.
public struct FaultSpec: Sendable, Hashable {
    public enum Target: Sendable, Hashable {
        /// A GPU by rank.
        case gpu(Int)
        /// A link by the name reports give it (for example `node3.nic0.up`).
        case link(String)
        /// A NIC (`node3.nic0`): both its up and down links.
        case nic(String)
    }
    public var target: Target
    /// Time multiplier ≥ 1 (compute on a GPU, transfers on a link); infinity when cut.
    public var slowdown: Double
    /// Seconds from the start of the step.
    public var at: Double
    public var location: SourceLocation
    public var isCut: Bool { slowdown.isInfinite }
    public var name: String {
        switch target {
        case .gpu(let r): "gpu\(r)"
        case .link(let s), .nic(let s): s
        }
    }
}

/// A large-model training step on a GPU cluster.
public struct LLMTrainingSpec: Sendable, Hashable {
    public var transformer: TransformerSpec
    public var parallelism: ParallelismSpec
    public var faults: [FaultSpec]
    public var transformerLocation: SourceLocation
    /// Where `batch:` was written (the transformer's place when it was not).
    public var batchLocation: SourceLocation? = nil
}

enum LLMReader {
    static let transformerFields = ["preset", "hf_config", "layers", "hidden", "heads", "kv_heads", "ffn", "seq_len", "vocab", "gated_ffn", "experts", "top_k", "untied_head"]

    static func transformer(_ node: SpecNode, bag: inout DiagnosticBag) -> TransformerSpec? {
        let names = TransformerSpec.zoo.map(\.name)
        let expectedNames = "one of " + names.map { "'\($0)'" }.joined(separator: ", ")
        if let s = node.scalar {
            if let t = TransformerSpec.named(s) { return t }
            bag.error(node.location, "unknown transformer '\(s)'", expected: expectedNames + ", or a mapping of layers, hidden, heads, ffn, seq_len, vocab", found: "'\(s)'",
                hint: closestMatch(to: s, in: names).map { "did you mean '\($0)'?" })
            return nil
        }
        guard var r = MappingReader(node, what: "'transformer'", bag: &bag) else { return nil }
        var base: TransformerSpec?
        if let p = r.optional("preset"), let c = r.optional("hf_config") {
            bag.error(c.location, "'preset' and 'hf_config' cannot both be given", expected: "one of them", found: "both", hint: "'preset' is at \(p.location)")
        }
        if let c = r.optional("hf_config") {
            guard let t = HuggingFaceConfig.read(c, bag: &bag) else {
                r.finish(allowed: transformerFields, bag: &bag)
                return nil
            }
            base = t
        } else if let p = r.optional("preset") {
            if let s = p.scalar, let t = TransformerSpec.named(s) {
                base = t
            } else {
                bag.error(p.location, "unknown transformer preset", expected: expectedNames, found: p.kindDescription,
                    hint: closestMatch(to: p.scalar ?? "", in: names).map { "did you mean '\($0)'?" })
                r.finish(allowed: transformerFields, bag: &bag)
                return nil
            }
        }
        func int(_ key: String, min: Int = 1) -> Int? {
            guard let n = r.optional(key) else {
                if base == nil, ["layers", "hidden", "heads", "ffn", "seq_len", "vocab"].contains(key) {
                    bag.error(node.location, "'transformer' is missing the key '\(key)'", expected: "'\(key)': an integer, or 'preset: <zoo name>'", found: "no '\(key)'")
                }
                return nil
            }
            return Scalar.int(n, min: min, what: "'transformer.\(key)'", bag: &bag)
        }
        func bool(_ key: String) -> Bool? { r.optional(key).flatMap { Scalar.bool($0, what: "'transformer.\(key)'", bag: &bag) } }
        let layers = int("layers"), hidden = int("hidden"), heads = int("heads"), kv = int("kv_heads"), ffn = int("ffn")
        let seq = int("seq_len"), vocab = int("vocab"), experts = int("experts"), topK = int("top_k")
        let gated = bool("gated_ffn"), untied = bool("untied_head")
        r.finish(bag: &bag)
        guard let h = hidden ?? base?.hidden, let a = heads ?? base?.heads, let l = layers ?? base?.layers, let f = ffn ?? base?.ffn,
            let s = seq ?? base?.seqLen, let v = vocab ?? base?.vocab
        else { return nil }
        var t = TransformerSpec(
            name: base?.name ?? "transformer", layers: l, hidden: h, heads: a, kvHeads: kv ?? base?.kvHeads ?? a, ffn: f, seqLen: s, vocab: v,
            gatedFFN: gated ?? base?.gatedFFN ?? false, experts: experts ?? base?.experts ?? 1, topK: topK ?? base?.topK ?? 1, untiedHead: untied ?? base?.untiedHead ?? false,
            positionEmbeddings: base?.positionEmbeddings ?? 0)
        if base != nil, [layers, hidden, heads, kv, ffn, seq, vocab, experts, topK].contains(where: { $0 != nil }) { t.name += "*" }
        if h % a != 0 {
            bag.error(node.location, "the heads do not divide the hidden size", expected: "heads dividing hidden (\(h))", found: "heads: \(a)")
        } else if a % t.kvHeads != 0 {
            bag.error(node.location, "the key/value heads do not divide the heads", expected: "kv_heads dividing heads (\(a))", found: "kv_heads: \(t.kvHeads)")
        }
        if t.topK > t.experts {
            bag.error(node.location, "a token cannot be routed to more experts than there are", expected: "top_k ≤ experts (\(t.experts))", found: "top_k: \(t.topK)")
        }
        return t
    }

    static func parallelism(_ node: SpecNode, bag: inout DiagnosticBag) -> ParallelismSpec {
        var p = ParallelismSpec(location: node.location)
        guard var r = MappingReader(node, what: "'parallelism'", bag: &bag) else { return p }
        func int(_ key: String, min: Int = 1) -> Int? { r.optional(key).flatMap { Scalar.int($0, min: min, what: "'parallelism.\(key)'", bag: &bag) } }
        func bool(_ key: String) -> Bool? { r.optional(key).flatMap { Scalar.bool($0, what: "'parallelism.\(key)'", bag: &bag) } }
        p.tp = int("tp") ?? 1
        p.pp = int("pp") ?? 1
        p.dp = int("dp") ?? 1
        p.ep = int("ep") ?? 1
        p.cp = int("cp") ?? 1
        p.microbatch = int("microbatch") ?? 1
        p.virtualStages = int("virtual_stages") ?? 1
        p.firstStageLayers = int("first_stage_layers")
        p.lastStageLayers = int("last_stage_layers")
        if let z = r.optional("zero"), let v = Scalar.int(z, min: 0, what: "'parallelism.zero'", bag: &bag) {
            if v <= 3 { p.zero = v } else { bag.error(z.location, "unknown ZeRO stage", expected: "0, 1, 2 or 3", found: "\(v)") }
        }
        if let b = r.optional("bucket"), case .number(let x)? = Scalar.quantity(b, .size, what: "'parallelism.bucket'", bag: &bag) {
            if x >= 1, x < 1e13 { p.bucket = UInt64(x.rounded()) } else { bag.error(b.location, "'parallelism.bucket' is out of range", expected: "between 1 B and 10 TB", found: b.kindDescription) }
        }
        if let b = bool("overlap") { p.overlap = b }
        if let b = bool("sequence_parallel") { p.sequenceParallel = b }
        if let rc = r.optional("recompute") {
            let names = ParallelismSpec.Recompute.allCases.map(\.rawValue)
            if let v = rc.scalar.flatMap(ParallelismSpec.Recompute.init(rawValue:)) {
                p.recompute = v
            } else {
                bag.error(rc.location, "unknown recomputation", expected: "one of " + names.map { "'\($0)'" }.joined(separator: ", "), found: rc.kindDescription,
                    hint: closestMatch(to: rc.scalar ?? "", in: names).map { "did you mean '\($0)'?" })
            }
        }
        if let b = bool("tp_comm_overlap") { p.tpCommOverlap = b }
        if let b = bool("overlap_param_gather") { p.overlapParamGather = b }
        if let b = bool("embedding_as_layer") { p.embeddingAsLayer = b }
        if let b = bool("loss_as_layer") { p.lossAsLayer = b }
        p.recomputeLayers = int("recompute_num_layers")
        if let b = bool("recompute_collectives") { p.repeatRecomputedCollectives = b }
        if let a = r.optional("attention") {
            let names = ParallelismSpec.Attention.allCases.map(\.rawValue)
            if let v = a.scalar.flatMap(ParallelismSpec.Attention.init(rawValue:)) {
                p.attention = v
            } else {
                bag.error(a.location, "unknown attention kernel", expected: "one of " + names.map { "'\($0)'" }.joined(separator: ", "), found: a.kindDescription,
                    hint: closestMatch(to: a.scalar ?? "", in: names).map { "did you mean '\($0)'?" })
            }
        }
        if let c = r.optional("co2") {
            if var cr = MappingReader(c, what: "'parallelism.co2'", bag: &bag) {
                p.co2LocalSteps = cr.required("local_steps", expected: "an integer ≥ 1", bag: &bag).flatMap { Scalar.int($0, min: 1, what: "'co2.local_steps'", bag: &bag) }
                cr.finish(bag: &bag)
            }
        }
        r.finish(bag: &bag)
        if p.ep > 1, p.dp % p.ep != 0 {
            bag.error(node["ep"]?.location ?? node.location, "the expert-parallel groups do not divide the data-parallel ranks", expected: "ep dividing dp (\(p.dp))", found: "ep: \(p.ep)")
        }
        if p.unevenStages, p.pp < 2 {
            bag.error(
                node["first_stage_layers"]?.location ?? node["last_stage_layers"]?.location ?? node.location, "first and last stage sizes shape a pipeline",
                expected: "pp ≥ 2 with 'first_stage_layers' or 'last_stage_layers'", found: "pp: \(p.pp)")
        }
        if p.unevenStages, p.embeddingAsLayer || p.lossAsLayer {
            bag.error(
                node["embedding_as_layer"]?.location ?? node["loss_as_layer"]?.location ?? node.location, "uneven stages and the embedding or loss counted as a layer do not combine",
                expected: "either 'first_stage_layers'/'last_stage_layers' or 'embedding_as_layer'/'loss_as_layer'", found: "both")
        }
        if p.unevenStages, p.virtualStages > 1 {
            bag.error(
                node["virtual_stages"]?.location ?? node.location, "uneven stages and interleaving do not combine here",
                expected: "either 'virtual_stages' or 'first_stage_layers'/'last_stage_layers'", found: "both")
        }
        if p.virtualStages > 1, p.pp < 2 {
            bag.error(node["virtual_stages"]?.location ?? node.location, "virtual stages interleave a pipeline", expected: "pp ≥ 2 with 'virtual_stages'", found: "pp: \(p.pp)")
        }
        if p.tpCommOverlap, p.tp < 2 {
            bag.error(node["tp_comm_overlap"]?.location ?? node.location, "tensor-parallel communication overlap needs tensor parallelism", expected: "tp ≥ 2 with 'tp_comm_overlap: true'", found: "tp: \(p.tp)")
        }
        if p.recomputeLayers != nil, p.recompute != .full {
            bag.error(
                node["recompute_num_layers"]?.location ?? node.location, "recompute_num_layers chooses the layers that full recomputation reruns",
                expected: "recompute: full with 'recompute_num_layers'", found: "recompute: \(p.recompute.rawValue)")
        }
        if p.overlapParamGather, p.zero != 1 && p.zero != 2 {
            bag.error(
                node["overlap_param_gather"]?.location ?? node.location,
                p.zero == 3 ? "ZeRO 3 already gathers each layer's parameters before its forward, prefetched" : "overlapping the parameter all-gather needs the distributed optimizer",
                expected: "zero: 1 or 2 with 'overlap_param_gather: true'", found: "zero: \(p.zero)")
        }
        if p.sequenceParallel, p.tp < 2 {
            bag.error(node["sequence_parallel"]?.location ?? node.location, "sequence parallelism splits a tensor-parallel group's activations", expected: "tp ≥ 2 with 'sequence_parallel: true'", found: "tp: \(p.tp)")
        }
        if p.co2LocalSteps != nil, p.cp > 1 {
            bag.error(node["co2"]?.location ?? node.location, "CO2's local steps keep replicas apart, but the context-parallel ranks of one replica must agree every step", expected: "cp: 1 with 'co2'", found: "cp: \(p.cp)")
        }
        if p.co2LocalSteps != nil, p.zero > 0 {
            bag.error(node["co2"]?.location ?? node.location, "CO2 local updating keeps a full optimizer on every rank", expected: "zero: 0 with 'co2'", found: "zero: \(p.zero)")
        }
        return p
    }

    static func faults(_ node: SpecNode, bag: inout DiagnosticBag) -> [FaultSpec] {
        guard let items = node.items else {
            bag.error(node.location, "'faults' must be a list", expected: "a list such as [{gpu: 17, slowdown: 2}, {link: node3.nic0.up, slowdown: 4, at: 1 ms}]", found: node.kindDescription)
            return []
        }
        var out: [FaultSpec] = []
        for item in items {
            guard var r = MappingReader(item, what: "a fault", bag: &bag) else { continue }
            let gpu = r.optional("gpu"), link = r.optional("link"), nic = r.optional("nic")
            let present = [gpu, link, nic].compactMap { $0 }
            var target: FaultSpec.Target?
            if present.count != 1 {
                bag.error(item.location, "a fault names one component", expected: "exactly one of 'gpu: <rank>', 'link: <name>', 'nic: <nodeN.nicK>'", found: present.isEmpty ? "none" : "\(present.count) of them")
            } else if let g = gpu {
                target = Scalar.int(g, min: 0, what: "'gpu'", bag: &bag).map { .gpu($0) }
            } else if let l = link {
                target = Scalar.string(l, what: "'link'", bag: &bag).map { .link($0) }
            } else if let n = nic {
                target = Scalar.string(n, what: "'nic'", bag: &bag).map { .nic($0) }
            }
            var slowdown: Double?
            let slowNode = r.optional("slowdown"), cutNode = r.optional("cut")
            switch (slowNode, cutNode) {
            case (nil, nil):
                bag.error(item.location, "a fault says what happens", expected: "'slowdown: <factor ≥ 1>' or 'cut: true'", found: "neither")
            case (.some, .some(let c)):
                bag.error(c.location, "'slowdown' and 'cut' cannot both be given", expected: "one of them", found: "both")
            case (.some(let s), nil):
                if case .scalar(let v, false) = s.value, let x = Double(v), x.isFinite, x >= 1, x <= 1e6 {
                    slowdown = x
                } else {
                    bag.error(s.location, "'slowdown' must be a factor from 1 to 10^6", expected: "a number such as 2 (twice as slow)", found: s.kindDescription)
                }
            case (nil, .some(let c)):
                if c.scalar == "true" { slowdown = .infinity } else { bag.error(c.location, "'cut' must be true", expected: "cut: true", found: c.kindDescription) }
            }
            var at = 0.0
            if let a = r.optional("at"), case .number(let x)? = Scalar.quantity(a, .time, what: "'at'", allowZero: true, bag: &bag) { at = x }
            r.finish(bag: &bag)
            if let target, let slowdown { out.append(FaultSpec(target: target, slowdown: slowdown, at: at, location: item.location)) }
        }
        return out
    }
}
