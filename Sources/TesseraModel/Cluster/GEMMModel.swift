import Foundation

/// Time of one dense GEMM C[M×N] = A[M×K]·B[K×N] on a GPU: a roofline with tile and wave
/// quantization.
///
///     t = max(t₀, 2MNK / (P · η · e_tile · q_tile · q_wave · K/(K + K₀)), e·(MK + KN + MN) / (B_hbm · η_hbm))
///
/// - P: the preset's peak dense throughput at the precision; e: bytes per element.
/// - tile quantization q_tile = MN / (⌈M/T_m⌉T_m · ⌈N/T_n⌉T_n); wave quantization
///   q_wave = T / (⌈T/SMs⌉ · SMs) with T = ⌈M/T_m⌉⌈N/T_n⌉ tiles, one tile per SM at a time (the
///   tile-and-wave effects NVIDIA's "Matrix Multiplication Background User's Guide" describes).
/// - The kernel takes the fastest of four tile shapes, as a library's heuristics pick among
///   kernels: 256×128 (e_tile 1), 128×128 (0.95), 128×64 (0.8), 64×64 (0.6): smaller tiles
///   reuse less data per load.
/// - K/(K + K₀): each tile's prologue and epilogue cost about K₀ = 200 steps of its K loop.
/// - η = 0.70, η_hbm = 0.85, K₀ and t₀ = 24 µs (launch and synchronisation of one timed call) are
///   calibrated on one H100 SXM5 (`Tests/TesseraModelTests/Fixtures/gpu/`, 2026-11-27: 693
///   TFLOP/s fp16 at 16384³; the m = 16 and 128 GEMMs stream at about 2.85 TB/s, a little below
///   the 3.0 TB/s of copies; 8192×8192×1024 for K₀; 24.7 µs for 1024³).
/// Other GPUs and FP8 scale η by `GPUPreset.gemmScale` (their measured share of peak against the
/// H100's, from one published table).
/// Not modeled: dimensions that are not multiples of 8 (4095³ runs 4× slower on the H100, off
/// the tensor-core fast path) and 2:4 sparse kernels (measured far from the datasheet's 2×).
public enum GEMMModel {
    public static let efficiency = 0.70
    public static let hbmEfficiency = 0.85
    public static let launchSeconds = 24e-6
    public static let prologueK = 200.0
    /// Shortest kernel inside a stream of kernels (launch latency hidden by the queue): 3 µs, an assumption.
    public static let kernelFloor = 3e-6
    public static let tiles: [(m: Int, n: Int, efficiency: Double)] = [(256, 128, 1), (128, 128, 0.95), (128, 64, 0.8), (64, 64, 0.6)]

    /// q_wave = T / (⌈T/SMs⌉ · SMs): the share of the SMs' tile slots that the last wave leaves unused.
    public static func waveEfficiency(tiles: Int, sms: Int) -> Double {
        guard tiles > 0, sms > 0 else { return 1 }
        return Double(tiles) / Double(((tiles + sms - 1) / sms) * sms)
    }

    /// Seconds for one GEMM at `precision` ("fp16", "bf16", "tf32", …), or nil when the preset has
    /// no figure for that precision.
    ///
    /// `floor` is t₀ for a timed call; a kernel inside a training step, launched asynchronously
    /// behind others, costs `kernelFloor` at least instead.
    public static func seconds(m: Int, n: Int, k: Int, precision: String, bytesPerElement: Int, gpu: GPUPreset, floor: Double = launchSeconds) -> Double? {
        guard let peak = gpu.denseTFLOPS[precision], m > 0, n > 0, k > 0 else { return nil }
        let flops = 2 * Double(m) * Double(n) * Double(k)
        let bytes = Double(bytesPerElement) * (Double(m) * Double(k) + Double(k) * Double(n) + Double(m) * Double(n))
        let memory = bytes / (gpu.hbmBandwidth * hbmEfficiency)
        let kFactor = Double(k) / (Double(k) + prologueK)
        func waves(_ count: Int) -> Double { waveEfficiency(tiles: count, sms: gpu.sms) }
        var best = Double.infinity
        for tile in tiles {
            let tm = (m + tile.m - 1) / tile.m, tn = (n + tile.n - 1) / tile.n
            let qTile = Double(m) * Double(n) / (Double(tm * tile.m) * Double(tn * tile.n))
            let count = tm * tn
            let qWave = waves(count)
            let compute = flops / (peak * 1e12 * efficiency * gpu.gemmScale(precision) * tile.efficiency * qTile * qWave * kFactor)
            best = min(best, max(compute, memory))
        }
        return max(floor, best)
    }
}
