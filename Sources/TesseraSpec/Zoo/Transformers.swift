/// BERT-base, ViT-B/16 and GPT-2 small: twelve 768-wide layers with 12 heads of 64 and a 3072-wide
/// feed-forward network.
///
/// Each layer is, per sample of `seq` tokens:
/// - `attn.qkv`: Q, K and V projections as one gemm `seq × 2304 × 768`;
/// - `attn.qk`: attention scores, 12 heads of `seq × seq × 64`;
/// - `attn.softmax`: over `12·seq·seq` scores; the 1/√64 scale and GPT-2's causal mask are fused
///   into it;
/// - `attn.av`: context, 12 heads of `seq × 64 × seq`;
/// - `attn.proj`: output projection `seq × 768 × 768`; `attn.add`: residual add;
/// - `ffn.fc1` (`seq × 3072 × 768`), `ffn.gelu`, `ffn.fc2` (`seq × 768 × 3072`), `ffn.add`;
/// - `attn.layernorm` and `ffn.layernorm`: after each add (BERT, post-norm) or before each
///   sub-block (ViT and GPT-2, pre-norm).
///
/// Biases are added by the gemms and splitting/merging heads is data movement; neither is a layer.
/// Embedding lookups are gathers, not arithmetic, and are omitted; the adds that combine embeddings
/// are kept.
enum Transformers {
    /// The widths of one transformer family member.
    struct Config {
        var hidden: Int, heads: Int, headDim: Int, ffn: Int, depth: Int
    }
    /// BERT-base, ViT-B and GPT-2 small.
    static let base = Config(hidden: 768, heads: 12, headDim: 64, ffn: 3072, depth: 12)
    /// DeiT-S (Touvron et al. 2021, Table 1) = ViT-S/16: hidden 384, 6 heads of 64, FFN 1536, 12 layers.
    static let small = Config(hidden: 384, heads: 6, headDim: 64, ffn: 1536, depth: 12)
    static let hidden = base.hidden
    static let depth = base.depth

    /// BERT-base encoder (Devlin et al. 2019), post-norm. The embedding sums (word + position +
    /// token type, two adds) and the embedding layer norm lead; the pooler and any task head are
    /// not part of the encoder and are omitted.
    static func bertBase(sequence seq: Int) -> [LayerSpec] {
        var layers: [LayerSpec] = [
            elementwise("embeddings.add.position", .add, seq * hidden),
            elementwise("embeddings.add.token_type", .add, seq * hidden),
            elementwise("embeddings.layernorm", .layernorm, seq * hidden),
        ]
        for i in 0..<depth {
            layers += layer(prefix: "encoder.\(i)", sequence: seq, preNorm: false)
        }
        return layers
    }

    /// ViT-B/16 (Dosovitskiy et al. 2021) on a 224×224×3 image: the 16×16/16 patch embedding conv
    /// gives 14×14×768 (196 patches); with the class token that is 197 tokens, to which the
    /// position embedding is added. Twelve pre-norm encoder layers, the final layer norm (over all
    /// tokens, as torchvision applies it) and the 768→1000 head on the class token.
    static func vitB16() -> [LayerSpec] { vit(base) }

    /// DeiT-small: ViT-B/16's structure at DeiT-S widths (197 tokens, 1000-class head).
    static func deitSmall() -> [LayerSpec] { vit(small) }

    static func vit(_ config: Config) -> [LayerSpec] {
        let hidden = config.hidden
        let patches = Conv2D(input: (224, 224, 3), kernel: (16, 16), filters: hidden, stride: 16)
        let seq = patches.outputH * patches.outputW + 1  // 197
        var layers: [LayerSpec] = [
            LayerSpec(name: "patch_embed", op: .conv2d(patches)),
            elementwise("embeddings.add", .add, seq * hidden),
        ]
        for i in 0..<config.depth {
            layers += layer(prefix: "encoder.\(i)", sequence: seq, preNorm: true, config: config)
        }
        layers.append(elementwise("encoder.layernorm", .layernorm, seq * hidden))
        layers.append(LayerSpec(name: "head", op: .gemm(GEMM(m: 1, n: 1000, k: hidden))))
        return layers
    }

    /// GPT-2 small (Radford et al. 2019) prefill of `seq` tokens: token + position embedding add,
    /// twelve pre-norm decoder layers, the final layer norm and the LM head (`seq × 50257 × 768`,
    /// the tied token embedding, over every position as a prefill computes the logits of each).
    /// Attention is counted dense: the scores and context matmuls cover the whole `seq × seq` square
    /// and the causal mask is applied in the softmax, as dense kernels do.
    static func gpt2Small(sequence seq: Int) -> [LayerSpec] {
        var layers: [LayerSpec] = [elementwise("embeddings.add", .add, seq * hidden)]
        for i in 0..<depth {
            layers += layer(prefix: "decoder.\(i)", sequence: seq, preNorm: true)
        }
        layers.append(elementwise("decoder.layernorm", .layernorm, seq * hidden))
        layers.append(LayerSpec(name: "lm_head", op: .gemm(GEMM(m: seq, n: gpt2Vocabulary, k: hidden))))
        return layers
    }

    static let gpt2Vocabulary = 50257

    /// One transformer layer (attention then feed-forward network), post- or pre-norm.
    static func layer(prefix p: String, sequence seq: Int, preNorm: Bool, config: Config = base) -> [LayerSpec] {
        let hidden = config.hidden, heads = config.heads, headDim = config.headDim, ffn = config.ffn
        var l: [LayerSpec] = []
        if preNorm { l.append(elementwise("\(p).attn.layernorm", .layernorm, seq * hidden)) }
        l.append(gemm("\(p).attn.qkv", m: seq, n: 3 * hidden, k: hidden))
        l.append(LayerSpec(
            name: "\(p).attn.qk", op: .matmul(BatchedMatmul(count: heads, m: seq, n: seq, k: headDim))))
        l.append(elementwise("\(p).attn.softmax", .softmax, heads * seq * seq))
        l.append(LayerSpec(
            name: "\(p).attn.av", op: .matmul(BatchedMatmul(count: heads, m: seq, n: headDim, k: seq))))
        l.append(gemm("\(p).attn.proj", m: seq, n: hidden, k: hidden))
        l.append(elementwise("\(p).attn.add", .add, seq * hidden))
        if !preNorm { l.append(elementwise("\(p).attn.layernorm", .layernorm, seq * hidden)) }
        if preNorm { l.append(elementwise("\(p).ffn.layernorm", .layernorm, seq * hidden)) }
        l.append(gemm("\(p).ffn.fc1", m: seq, n: ffn, k: hidden))
        l.append(elementwise("\(p).ffn.gelu", .gelu, seq * ffn))
        l.append(gemm("\(p).ffn.fc2", m: seq, n: hidden, k: ffn))
        l.append(elementwise("\(p).ffn.add", .add, seq * hidden))
        if !preNorm { l.append(elementwise("\(p).ffn.layernorm", .layernorm, seq * hidden)) }
        return l
    }

    private static func gemm(_ name: String, m: Int, n: Int, k: Int) -> LayerSpec {
        LayerSpec(name: name, op: .gemm(GEMM(m: m, n: n, k: k)))
    }

    private static func elementwise(_ name: String, _ kind: Elementwise.Kind, _ elements: Int) -> LayerSpec {
        LayerSpec(name: name, op: .elementwise(Elementwise(kind: kind, elements: elements)))
    }
}
