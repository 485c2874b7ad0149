import Foundation
import TesseraSpec

/// What one GPU of a tensor-parallel inference instance spends on a prefill batch and on one decode
/// iteration, and how many KV-cache tokens it can hold.
///
/// Per GPU with tensor parallelism t, hidden h, a heads of d, g key/value heads (g_t = ⌈g/t⌉ per
/// GPU: heads are replicated when t > g, as vLLM does), FFN f (doubled up-projection when gated),
/// L layers, vocabulary V, e bytes per element. Every product is timed by `GEMMModel` (floor
/// `kernelFloor`), whose memory term e·(MK + KN + MN)/(B_hbm·η_hbm) at small M is the stream of the
/// weights: that is what bounds a decode iteration at small batches.
/// - A layer on T tokens (the dense part): QKV `T × (h + 2gd)/t × h`, output `T × h × h/t`, FFN
///   `T × f/t × h` (×2 gated) and `T × h × f/t`, plus (11h + 3f/t)·T·e bytes of element-wise
///   traffic (norms, residuals, activation) at the HBM rate. A mixture of experts adds a
///   `T × E × h` router and runs n_e = E·(1 − (1 − k/E)^T) experts (the expected number a batch of
///   T tokens routed to k of E uniformly touches; all E when T·k ≥ 4E) on ⌈T·k/n_e⌉ rows each.
/// - Prefill of prompts p₁…p_n (T = Σp): the dense part at T tokens, plus causal attention per
///   prompt, scores `a/t·p × p/2 × d` and context `a/t·p × d × p/2` (FlashAttention skips the
///   masked half and never writes the scores), plus the output layer on the last position of each
///   prompt, `n × V/t × h`. All times L for the layers.
/// - Decode iteration of a batch of B requests with contexts c₁…c_B (tokens in each one's KV
///   cache, the new one included): the dense part at T = B, the output layer `B × V/t × h`, and
///   attention as a read of the KV cache, L·2·g_t·d·e·Σc bytes at the HBM rate (its arithmetic
///   intensity, a/g flops per byte, is far below the GPU's ridge point).
/// - Memory: weights P·e/t per GPU (embedding and output layer split over t as well); the KV cache
///   gets `memoryUtilization` × HBM minus the weights (vLLM's gpu_memory_utilization default 0.9:
///   the rest is activations, workspace and the framework), 2·L·g_t·d·e bytes per token.
/// Tensor-parallel all-reduces (2 per layer, T·h·e bytes) are not here: the simulator runs them on
/// the instance's links.
public struct ServingCost: Sendable {
    public var model: TransformerSpec
    public var gpu: GPUPreset
    public var precision: String
    public var bytesPerElement: Int
    public var tp: Int

    /// vLLM's default share of GPU memory for weights, activations and the KV cache.
    public static let memoryUtilization = 0.9

    public init(model: TransformerSpec, gpu: GPUPreset, precision: String, bytesPerElement: Int, tp: Int) {
        self.model = model
        self.gpu = gpu
        self.precision = precision
        self.bytesPerElement = bytesPerElement
        self.tp = tp
    }

    var e: Double { Double(bytesPerElement) }
    /// Key/value heads held by one GPU.
    public var kvHeadsPerGPU: Int { (model.kvHeads + tp - 1) / tp }

    func seconds(_ p: TransformerCost.Product) -> Double {
        let one = GEMMModel.seconds(m: p.m, n: p.n, k: p.k, precision: precision, bytesPerElement: bytesPerElement, gpu: gpu, floor: GEMMModel.kernelFloor) ?? 0
        return one * Double(p.count)
    }
    func memorySeconds(_ bytes: Double) -> Double { bytes / (gpu.hbmBandwidth * GEMMModel.hbmEfficiency) }

    /// The dense products of one layer on T tokens.
    public func layerProducts(tokens T: Int) -> [TransformerCost.Product] {
        let h = model.hidden, d = model.headDim, f = max(1, model.ffn / tp)
        let up = model.gatedFFN ? 2 * f : f
        var out = [
            TransformerCost.Product(m: T, n: max(1, (h + 2 * model.kvHeads * d) / tp), k: h),
            TransformerCost.Product(m: T, n: h, k: max(1, h / tp)),
        ]
        if model.isMoE {
            let E = Double(model.experts), k = Double(model.topK)
            let touched = max(1, min(model.experts, Int((E * (1 - pow(1 - k / E, Double(T)))).rounded(.up))))
            let rows = max(1, (T * model.topK + touched - 1) / touched)
            out += [
                TransformerCost.Product(m: T, n: model.experts, k: h), TransformerCost.Product(m: rows, n: up, k: h, count: touched),
                TransformerCost.Product(m: rows, n: h, k: f, count: touched),
            ]
        } else {
            out += [TransformerCost.Product(m: T, n: up, k: h), TransformerCost.Product(m: T, n: h, k: f)]
        }
        return out
    }

    /// Seconds of one layer's dense part on T tokens, element-wise traffic included.
    public func layerDenseSeconds(tokens T: Int) -> Double {
        let ffnShare = Double(model.ffn / tp) * Double(model.isMoE ? model.topK : 1)
        return layerProducts(tokens: T).map(seconds).reduce(0, +) + memorySeconds((11 * Double(model.hidden) + 3 * ffnShare) * Double(T) * e)
    }

    /// Seconds of the output layer on `rows` positions.
    public func headSeconds(rows: Int) -> Double { seconds(TransformerCost.Product(m: rows, n: max(1, model.vocab / tp), k: model.hidden)) }

    /// Seconds of causal attention over one prompt of p tokens in one layer (scores and context).
    public func promptAttentionSeconds(prompt p: Int) -> Double {
        let rows = (model.heads / tp) * p, half = max(1, p / 2), d = model.headDim
        return seconds(TransformerCost.Product(m: rows, n: half, k: d)) + seconds(TransformerCost.Product(m: rows, n: d, k: half))
    }

    /// Compute seconds of a prefill batch (no all-reduces): L·(dense(T) + Σ attention(p)) + head(n).
    public func prefillSeconds(prompts: [Int]) -> Double {
        let T = prompts.reduce(0, +)
        let attention = prompts.map { promptAttentionSeconds(prompt: $0) }.reduce(0, +)
        return Double(model.layers) * (layerDenseSeconds(tokens: T) + attention) + headSeconds(rows: prompts.count)
    }

    /// Seconds of a decode iteration's dense part and output layer at batch B (no KV reads, no all-reduces).
    public func decodeDenseSeconds(batch B: Int) -> Double { Double(model.layers) * layerDenseSeconds(tokens: B) + headSeconds(rows: B) }

    /// KV-cache bytes one GPU holds per token: 2·L·g_t·d·e.
    public var kvBytesPerTokenPerGPU: Double { 2 * Double(model.layers) * Double(kvHeadsPerGPU) * Double(model.headDim) * e }

    /// KV-cache bytes of a request's p tokens over the whole model (all heads): 2·L·g·d·p·e.
    public func kvBytes(tokens p: Int) -> Double { 2 * Double(model.layers) * Double(model.kvHeads) * Double(model.headDim) * Double(p) * e }

    /// Seconds to read the KV cache of `contextTokens` tokens (summed over the batch) in every layer.
    public func decodeAttentionSeconds(contextTokens: Int) -> Double { decodeAttentionSeconds(contextTokens: contextTokens, kvBytesPerToken: kvBytesPerTokenPerGPU) }

    /// The same, given `kvBytesPerTokenPerGPU` (which a caller running millions of decode
    /// iterations computes once).
    public func decodeAttentionSeconds(contextTokens: Int, kvBytesPerToken: Double) -> Double { memorySeconds(kvBytesPerToken * Double(contextTokens)) }

    /// Compute seconds of one decode iteration (no all-reduces).
    public func decodeSeconds(contexts: [Int]) -> Double { decodeDenseSeconds(batch: contexts.count) + decodeAttentionSeconds(contextTokens: contexts.reduce(0, +)) }

    /// Weight bytes on one GPU.
    public var weightBytesPerGPU: Double { model.parameters * e / Double(tp) }

    /// KV-cache tokens one instance holds (each of its GPUs holds g_t heads of every token); ≤ 0 when the weights do not fit.
    public var kvCapacityTokens: Int {
        let free = Self.memoryUtilization * gpu.hbmCapacity - weightBytesPerGPU
        return free <= 0 ? 0 : Int(free / kvBytesPerTokenPerGPU)
    }
}
