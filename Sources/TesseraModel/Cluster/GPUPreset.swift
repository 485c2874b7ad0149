import TesseraSpec

/// One GPU's peak figures: dense and 2:4-sparse tensor throughput per precision, HBM and SMs.
///
/// Figures are the vendor datasheets' peak numbers (SXM boards, boost clock):
/// - `a100-sxm`: NVIDIA A100 Tensor Core GPU datasheet (A100 80GB SXM): FP64 tensor 19.5, TF32 156,
///   BF16/FP16 312, INT8 624 TFLOP/s (TOPS) dense, twice that with 2:4 sparsity; HBM2e 2,039 GB/s,
///   80 GB; 108 SMs (NVIDIA A100 Tensor Core GPU Architecture whitepaper).
/// - `h100-sxm`: NVIDIA H100 Tensor Core GPU datasheet (H100 SXM): FP64 tensor 67, TF32 494.7,
///   BF16/FP16 989.4, FP8 and INT8 1,978.9 dense (the datasheet's sparse figures halved); HBM3
///   3.35 TB/s, 80 GB; 132 SMs (NVIDIA H100 Tensor Core GPU Architecture whitepaper).
/// - `h200-sxm`: NVIDIA H200 Tensor Core GPU datasheet: the H100's compute, HBM3e 4.8 TB/s, 141 GB.
/// - `b200`: NVIDIA HGX B200 datasheet (per GPU of eight): FP64 tensor 40, TF32 1,100, BF16/FP16
///   2,250, FP8 and INT8 4,500 dense (sparse figures halved); HBM3e 8 TB/s, 180 GB; 148 SMs.
///
/// FP64 has no 2:4 sparse mode: its sparse figure is the dense one.
///
/// GEMM efficiency per generation (`gemmScale`, multiplying `GEMMModel.efficiency`, which is
/// calibrated on one H100): the ratio of each GPU's maximum achievable matmul FLOPS to the H100's,
/// both as shares of their datasheet peaks, from one source and one method (S. Bekman,
/// "Machine Learning Engineering", compute/accelerator README, "Maximum Achievable Matmul FLOPS
/// comparison table", BF16 v2 rows: A100 SXM 271.2 of 312 (86.9%), H100 SXM 794.5 of 989 (80.3%);
/// FP8 `float8_e4m3fn`: H100 SXM 1,402.6 of 1,979 (70.9%)). So A100 1.082 (86.9/80.3); H100 and
/// H200 1 (the H200 has the H100's compute and no row of its own); FP8 on Hopper 0.883 (70.9/80.3).
/// B200: 0.966 from the same book's "~1,745 of 2,250 TFLOPS BF16" (77.6%); its FP8 takes the
/// Hopper FP8 ratio, an assumption.
///
/// Board power: the datasheets' maximum TDP (A100 SXM 400 W, H100 SXM and H200 SXM 700 W, B200 in
/// HGX B200 1,000 W). Idle power is not published: 10% of TDP is this model's assumption (about
/// what an idle H100 SXM reports), overridable as `gpu.idle_power`.
public struct GPUPreset: Sendable, Hashable {
    public var name: String
    /// Precision → peak dense TFLOP/s (TOPS for int8).
    public var denseTFLOPS: [String: Double]
    /// Precision → peak 2:4-sparse TFLOP/s.
    public var sparseTFLOPS: [String: Double]
    public var hbmBandwidth: Double
    public var hbmCapacity: Double
    public var sms: Int
    public var tdpWatts: Double
    public var idleWatts: Double
    /// GEMM efficiency relative to the H100 calibration, per precision (absent: 1).
    public var gemmScale: [String: Double] = [:]
    /// NCCL's LL-protocol bandwidth cap for this GPU's architecture, GB/s, on one node, two nodes
    /// and more (`llMaxBws` in NCCL's src/graph/tuning.cc, commit 5067397c: Ampere 87.7/22.5/19.0,
    /// Hopper 141/45/35, Blackwell 282/90/70). Empty: none.
    public var llMaxBandwidth: [Double] = []
    /// NVLink SHARP (NVLS: the NVSwitch reduces all-reduces in the switch): Hopper and Blackwell
    /// on third-generation NVSwitch (DGX H100/H200/B200); not the A100.
    public var nvls = false

    /// The GEMM efficiency scale at `precision`.
    public func gemmScale(_ precision: String) -> Double { gemmScale[precision] ?? gemmScale["*"] ?? 1 }

    static func dense(_ fp64: Double, _ tf32: Double, _ half: Double, _ fp8: Double?, _ int8: Double) -> [String: Double] {
        var d = ["fp64": fp64, "tf32": tf32, "bf16": half, "fp16": half, "int8": int8]
        if let fp8 { d["fp8"] = fp8 }
        return d
    }

    static func sparse(_ dense: [String: Double]) -> [String: Double] {
        var s = dense.mapValues { $0 * 2 }
        s["fp64"] = dense["fp64"]
        return s
    }

    static func make(_ name: String, _ dense: [String: Double], hbm: Double, capacity: Double, sms: Int, tdp: Double, gemm: [String: Double] = [:], ll: [Double], nvls: Bool) -> GPUPreset {
        GPUPreset(
            name: name, denseTFLOPS: dense, sparseTFLOPS: sparse(dense), hbmBandwidth: hbm, hbmCapacity: capacity, sms: sms, tdpWatts: tdp, idleWatts: idleShare * tdp,
            gemmScale: gemm, llMaxBandwidth: ll, nvls: nvls)
    }

    /// NCCL's llMaxBws rows (see `llMaxBandwidth`).
    static let llAmpere = [87.7, 22.5, 19.0], llHopper = [141.0, 45.0, 35.0], llBlackwell = [282.0, 90.0, 70.0]

    /// Maximum achievable matmul FLOPS as shares of peak (the table cited above).
    static let mamfH100BF16 = 0.803, mamfA100BF16 = 0.869, mamfH100FP8 = 0.709, mamfB200BF16 = 0.776

    /// Idle power as a share of TDP when the file gives none (an assumption).
    public static let idleShare = 0.1

    /// Every bundled preset, by name.
    public static let all: [GPUPreset] = [
        make("a100-sxm", dense(19.5, 156, 312, nil, 624), hbm: 2.039e12, capacity: 80e9, sms: 108, tdp: 400, gemm: ["*": mamfA100BF16 / mamfH100BF16], ll: llAmpere, nvls: false),
        make("h100-sxm", dense(67, 494.7, 989.4, 1978.9, 1978.9), hbm: 3.35e12, capacity: 80e9, sms: 132, tdp: 700, gemm: ["fp8": mamfH100FP8 / mamfH100BF16], ll: llHopper, nvls: true),
        make("h200-sxm", dense(67, 494.7, 989.4, 1978.9, 1978.9), hbm: 4.8e12, capacity: 141e9, sms: 132, tdp: 700, gemm: ["fp8": mamfH100FP8 / mamfH100BF16], ll: llHopper, nvls: true),
        make(
            "b200", dense(40, 1100, 2250, 4500, 4500), hbm: 8e12, capacity: 180e9, sms: 148, tdp: 1000,
            gemm: ["*": mamfB200BF16 / mamfH100BF16, "fp8": mamfB200BF16 / mamfH100BF16 * mamfH100FP8 / mamfH100BF16], ll: llBlackwell, nvls: true),
    ]

    public static func named(_ name: String) -> GPUPreset? { all.first { $0.name == name } }

    /// The preset named by `gpu`, with the file's overrides applied field by field.
    public static func resolve(_ gpu: ClusterSpec.GPU) -> GPUPreset? {
        guard var p = named(gpu.preset) else { return nil }
        if let v = gpu.overrides["hbm_bandwidth"] { p.hbmBandwidth = v }
        if let v = gpu.overrides["hbm_capacity"] { p.hbmCapacity = v }
        if let v = gpu.overrides["sms"] { p.sms = Int(v) }
        if let v = gpu.overrides["tdp"] {
            p.tdpWatts = v
            p.idleWatts = idleShare * v
        }
        if let v = gpu.overrides["idle_power"] { p.idleWatts = v }
        for (k, v) in gpu.denseTFLOPS { p.denseTFLOPS[k] = v }
        for (k, v) in gpu.sparseTFLOPS { p.sparseTFLOPS[k] = v }
        return p
    }
}
