import Testing
import TesseraCore
import TesseraSpec

@testable import TesseraModel

/// The attention kernels: FlashAttention-style (the default) against the materialized score matrix
/// of pre-2022 Megatron-LM.
@Suite struct TransformerCostTests {
    static func cost(_ attention: ParallelismSpec.Attention, recompute: ParallelismSpec.Recompute = .none, tp: Int = 1) throws -> TransformerCost {
        var p = ParallelismSpec(location: SourceLocation(file: "w.yaml", line: 1, column: 1))
        p.tp = tp
        p.microbatch = 4
        p.attention = attention
        p.recompute = recompute
        let model = try #require(TransformerSpec.named("llama3-8b"))
        let gpu = try #require(GPUPreset.all.first { $0.name == "a100-sxm" })
        return TransformerCost(model: model, gpu: gpu, precision: "fp16", bytesPerElement: 2, parallelism: p)
    }

    @Test func materializedCostsMoreButCountsTheSameModelFlops() throws {
        let flash = try Self.cost(.flash), full = try Self.cost(.materialized)
        #expect(full.layerFlops == flash.layerFlops)
        #expect(full.forward.attention > flash.forward.attention)
        #expect(full.forward.ffn == flash.forward.ffn)
        #expect(full.backward.attention > flash.backward.attention)
        // The core products run over every key instead of the causal half.
        #expect(full.timedAttentionProducts[2].n == 2 * flash.timedAttentionProducts[2].n)
        #expect(full.timedAttentionProducts[3].k == 2 * flash.timedAttentionProducts[3].k)
        #expect(flash.scoreTraffic == 0)
    }

    /// 4·S·e + S bytes of score traffic at the HBM rate, S = b·a/t·s² (b 4, a 32, s 8192 here).
    @Test func scoreTrafficIsTheClosedForm() throws {
        for tp in [1, 2, 8] {
            let c = try Self.cost(.materialized, tp: tp)
            let scores = 4.0 * Double(32 / tp) * 8192 * 8192
            let expected = (4 * scores * 2 + scores) / (c.gpu.hbmBandwidth * GEMMModel.hbmEfficiency)
            #expect(abs(c.scoreTraffic - expected) <= 1e-12 * expected, "tp \(tp)")
        }
    }

    /// Recomputation repeats the score traffic with the core (selective) or the whole forward (full).
    @Test func recomputationRepeatsTheScoreTraffic() throws {
        let none = try Self.cost(.materialized), selective = try Self.cost(.materialized, recompute: .selective), full = try Self.cost(.materialized, recompute: .full)
        let core = none.timedAttentionProducts.suffix(2).map(none.seconds).reduce(0, +)
        #expect(abs(selective.backward.attention - none.backward.attention - core - none.scoreTraffic) <= 1e-12 * selective.backward.attention)
        #expect(abs(full.backward.attention - none.backward.attention - none.forward.attention) <= 1e-12 * full.backward.attention)
    }
}

/// FP8 training: the linear layers' products at the FP8 rate with 1-byte operands, the attention
/// core and everything else as in BF16.
@Suite struct TransformerCostFP8Tests {
    static func cost(fp8: Bool) throws -> TransformerCost {
        var p = ParallelismSpec(location: SourceLocation(file: "w.yaml", line: 1, column: 1))
        p.tp = 8
        let model = try #require(TransformerSpec.named("gpt3-175b"))
        let gpu = try #require(GPUPreset.all.first { $0.name == "h100-sxm" })
        return TransformerCost(model: model, gpu: gpu, precision: "bf16", bytesPerElement: 2, parallelism: p, matmul: fp8 ? ("fp8", 1) : nil)
    }

    @Test func linearProductsRunAtTheFP8RateAndTheCoreDoesNot() throws {
        let bf16 = try Self.cost(fp8: false), fp8 = try Self.cost(fp8: true)
        #expect(fp8.layerFlops == bf16.layerFlops)
        let products = bf16.attentionProducts + bf16.ffnProducts
        for (i, p) in products.enumerated() {
            let a = bf16.seconds(p), b = fp8.seconds(p)
            if p.linear {
                // Twice the peak and half the bytes: at most half the time, and faster.
                #expect(b < a && b >= a / 2.001, "product \(i): \(a) → \(b)")
            } else {
                #expect(a == b, "the attention core stays in bf16")
            }
        }
        #expect(products.filter(\.linear).count == 4 && products.filter { !$0.linear }.count == 2)
        #expect(fp8.headForward == bf16.headForward, "the output layer stays in bf16")
        #expect(fp8.forward.ffn < bf16.forward.ffn && fp8.backward.attention < bf16.backward.attention)
    }
}

/// Activation memory per layer (Korthikanti et al. 2022): FlashAttention stores no scores, only
/// each row's softmax log-sum-exp; FP8 linear layers keep their saved inputs in FP8.
@Suite struct TransformerActivationMemoryTests {
    static func cost(_ attention: ParallelismSpec.Attention, recompute: ParallelismSpec.Recompute, fp8: Bool = false, tp: Int = 1, sp: Bool = false) throws -> TransformerCost {
        var p = ParallelismSpec(location: SourceLocation(file: "w.yaml", line: 1, column: 1))
        p.tp = tp
        p.sequenceParallel = sp
        p.attention = attention
        p.recompute = recompute
        // A GPT-style model with an FFN of 4h (not gated), so that the paper's terms apply as printed.
        let model = TransformerSpec(name: "t", layers: 4, hidden: 4096, heads: 32, kvHeads: 32, ffn: 16384, seqLen: 2048, vocab: 1000, gatedFFN: false, untiedHead: false)
        let gpu = try #require(GPUPreset.all.first { $0.name == "h100-sxm" })
        return TransformerCost(model: model, gpu: gpu, precision: "bf16", bytesPerElement: 2, parallelism: p, matmul: fp8 ? ("fp8", 1) : nil)
    }

    @Test func theScoresTermIsMaterializedAttentionsOnly() throws {
        let s = 2048.0, h = 4096.0, a = 32.0, sbh = s * h
        for tp in [1, 4] {
            let t = Double(tp)
            let materialized = try Self.cost(.materialized, recompute: .none, tp: tp).activationBytesPerLayer
            let flash = try Self.cost(.flash, recompute: .none, tp: tp).activationBytesPerLayer
            let selective = try Self.cost(.flash, recompute: .selective, tp: tp).activationBytesPerLayer
            #expect(abs(materialized - sbh * (10 + 24 / t + 5 * a * s / (h * t))) <= 1e-9 * materialized)
            #expect(abs(flash - sbh * (10 + 24 / t + 4 * a / (h * t))) <= 1e-9 * flash)
            #expect(flash > selective && flash - selective < 1e-3 * selective, "the log-sum-exp is small")
        }
    }

    @Test func fp8LinearLayersSaveTheirInputsInFP8() throws {
        let sbh = 2048.0 * 4096
        for (tp, sp) in [(1, false), (4, false), (4, true)] {
            let t = Double(tp)
            let bf16 = try Self.cost(.flash, recompute: .selective, tp: tp, sp: sp).activationBytesPerLayer
            let fp8 = try Self.cost(.flash, recompute: .selective, fp8: true, tp: tp, sp: sp).activationBytesPerLayer
            #expect(abs(bf16 - sbh * ((sp ? 10 / t : 10) + 24 / t)) <= 1e-9 * bf16)
            #expect(abs(fp8 - sbh * ((sp ? 8 / t : 8) + 19 / t)) <= 1e-9 * fp8, "tp \(tp) sp \(sp)")
        }
        // Full recomputation keeps only the layer's input, in BF16 either way.
        #expect(try Self.cost(.flash, recompute: .full, fp8: true).activationBytesPerLayer == Self.cost(.flash, recompute: .full).activationBytesPerLayer)
    }
}
