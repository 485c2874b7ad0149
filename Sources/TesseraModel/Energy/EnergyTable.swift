import Foundation
import TesseraCore
import TesseraSpec

/// An action a component performs, each with an energy per occurrence.
public enum EnergyAction: String, Sendable, Hashable, CaseIterable {
    case macInt8 = "mac.int8"
    case macFp16 = "mac.fp16"
    case macBf16 = "mac.bf16"
    case macFp32 = "mac.fp32"
    /// Per byte read from or written to an SRAM buffer of 8 KiB; larger buffers scale (see
    /// `EnergyTable.sramPerByte`).
    case sramRead = "sram.read"
    case sramWrite = "sram.write"
    /// Per byte.
    case dramRead = "dram.read"
    case dramWrite = "dram.write"
    /// One lane-operation of a vector unit, by its precision.
    case vectorOpInt8 = "vector.op.int8"
    case vectorOpFp16 = "vector.op.fp16"
    case vectorOpFp32 = "vector.op.fp32"
    /// One instruction issued by a CPU core (fetch, decode, register file, control), besides its
    /// arithmetic.
    case cpuInstruction = "cpu.instruction"
    /// One compare of a mask generator's top-N sorter.
    case maskCompare = "mask.compare"
    /// Per byte streamed from host memory over a host link.
    case linkByte = "link.byte"

    /// The actions a component kind performs (what `tessera kinds` lists with their energies).
    public static func performed(byKind kind: String) -> [EnergyAction] {
        switch kind {
        case "systolic-array", "nm-sparse-array": [.macInt8, .macFp16, .macBf16, .macFp32]
        case "sram": [.sramRead, .sramWrite]
        case "dram": [.dramRead, .dramWrite]
        case "vector-unit": [.vectorOpInt8, .vectorOpFp16, .vectorOpFp32]
        case "cpu-cluster": [.cpuInstruction, .macInt8, .macFp16, .macBf16, .macFp32, .vectorOpFp32]
        case "mask-generator": [.maskCompare]
        case "host-link": [.linkByte]
        default: []
        }
    }

    /// The MAC of a precision. FP8 never reaches an accelerator (the workload loader allows it only
    /// for a transformer training step on a GPU cluster); it is costed as FP16 should it ever.
    public static func mac(_ p: Precision) -> EnergyAction {
        switch p {
        case .int8: .macInt8
        case .fp16, .fp8: .macFp16
        case .bf16: .macBf16
        case .fp32: .macFp32
        }
    }

    public static func vectorOp(_ p: Precision) -> EnergyAction {
        switch p {
        case .int8: .vectorOpInt8
        case .fp16, .bf16, .fp8: .vectorOpFp16
        case .fp32: .vectorOpFp32
        }
    }
}

/// Energy per action, in joules, at the table's reference voltage.
///
/// Defaults: M. Horowitz, "Computing's Energy Problem (and what we can do about it)", ISSCC 2014,
/// 45 nm at 0.9 V (the table's numbers, not scaled to another node):
/// - 8-bit integer add 0.03 pJ, multiply 0.2 pJ → int8 MAC 0.23 pJ;
/// - 16-bit float add 0.4 pJ, multiply 1.1 pJ → FP16 MAC 1.5 pJ (BF16 taken equal);
/// - 32-bit float add 0.9 pJ, multiply 3.7 pJ → FP32 MAC 4.6 pJ;
/// - a vector lane-operation is the mean of the add and the multiply: int8 0.115, FP16 0.75,
///   FP32 2.3 pJ;
/// - SRAM, per 64-bit access: 10 pJ at 8 KB, 20 pJ at 32 KB, 100 pJ at 1 MB → 1.25, 2.5 and
///   12.5 pJ per byte, interpolated log-linearly in the size (`sramPerByte`); reads and writes
///   taken equal;
/// - DRAM, per 64-bit access: 1.3–2.6 nJ → the midpoint, 1.95 nJ, is 243.75 pJ per byte;
/// - a CPU instruction's overhead: about 70 pJ (the talk's "add: 0.1 pJ, instruction: 70 pJ");
/// - a mask-generator compare: an FP16 add, 0.4 pJ;
/// - a byte streamed over a host link: the host's DRAM read (243.75 pJ, the DRAM entry) plus an
///   ASSUMED 10 pJ/bit (80 pJ/byte) for the link's PHYs and protocol, 323.75 pJ in all.
/// A hardware file's `energy:` section overrides any entry (e.g. `dram.read: 32 pJ` for LPDDR4).
public struct EnergyTable: Sendable, Hashable {
    public var picojoules: [EnergyAction: Double]

    public static let horowitz45nm: [EnergyAction: Double] = [
        .macInt8: 0.23, .macFp16: 1.5, .macBf16: 1.5, .macFp32: 4.6,
        .sramRead: 1.25, .sramWrite: 1.25, .dramRead: 243.75, .dramWrite: 243.75,
        .vectorOpInt8: 0.115, .vectorOpFp16: 0.75, .vectorOpFp32: 2.3,
        .cpuInstruction: 70, .maskCompare: 0.4, .linkByte: 323.75,
    ]

    /// The defaults with a hardware file's overrides (in joules, by action name) applied.
    public init(overrides: [String: Double] = [:]) {
        var t = EnergyTable.horowitz45nm
        for (k, v) in overrides { if let a = EnergyAction(rawValue: k) { t[a] = v * 1e12 } }
        picojoules = t
    }

    /// Joules of `count` occurrences of `action`.
    public func joules(_ action: EnergyAction, _ count: Double) -> Double { (picojoules[action] ?? 0) * count * 1e-12 }

    /// Per-byte energy of an SRAM of `size` bytes, scaling the 8 KiB entry by Horowitz's sizes:
    /// ×1 at 8 KiB, ×2 at 32 KiB, ×10 at 1 MiB, log-linear between them and beyond (clamped at ×1
    /// below 8 KiB). Returns picojoules per byte.
    public func sramPerByte(_ action: EnergyAction, size: UInt64) -> Double {
        let base = picojoules[action] ?? 0
        let points: [(Double, Double)] = [(8192, 1), (32768, 2), (1_048_576, 10)]
        let s = Double(max(size, 1))
        if s <= points[0].0 { return base }
        var i = 0
        while i < points.count - 2, s > points[i + 1].0 { i += 1 }
        let (x0, y0) = points[i], (x1, y1) = points[i + 1]
        let f = (log(s) - log(x0)) / (log(x1) - log(x0))
        return base * exp(log(y0) + f * (log(y1) - log(y0)))
    }
}
