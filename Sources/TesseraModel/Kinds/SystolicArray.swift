import TesseraCore
import TesseraSpec

/// A dense 2-D systolic array of `rows × cols` MAC units running one dataflow.
///
/// Closed-form timing (the model of SCALE-Sim v3, Samajdar et al., ISPASS 2020, re-derived and
/// checked against SCALE-Sim 3.0.0 fixtures and a register-level PE grid in the tests):
///
/// The GEMM `[m×k]·[k×n]` is mapped onto the array as three extents: `Sr` spatially along the rows,
/// `Sc` spatially along the columns, and `T` in time:
///
/// | dataflow | Sr | Sc | T | cycles per fold |
/// | --- | --- | --- | --- | --- |
/// | output-stationary | m | n | k | T + R + C − 2 |
/// | weight-stationary | k | n | m | 2R + C + T − 2 |
/// | input-stationary | k | m | n | 2R + C + T − 2 |
///
/// Folds: ⌈Sr/R⌉·⌈Sc/C⌉, run one after another with no overlap. Like SCALE-Sim, the cycle count
/// is the index of the last compute cycle counted from 0 (the final cycle's drain overlaps
/// what follows): cycles = count·folds·(cycles per fold) − 1.
///
/// Mapping efficiency is the mean over folds of the PEs mapped, which sums in closed form to
/// Sr·Sc / (R·C·folds). Compute utilization is SCALE-Sim's per-fold mean
/// Sr·Sc·T / (R·C·folds·Lc) with Lc = cycles per fold for output-stationary and cycles per fold
/// + C − 1 for the other two (SCALE-Sim's own accounting, kept so the figures compare). The
/// layer's overall `utilization` is MACs / (cycles · R · C). Complexity O(1).
public struct SystolicArray: ComponentModel {
    public static let schema = ComponentSchema(
        kind: "systolic-array", role: .compute, summary: "dense 2-D systolic array of MAC units",
        parameters: [
            ParameterDecl("rows", .int(min: 1, max: 65536), "PE rows (R)"),
            ParameterDecl("cols", .int(min: 1, max: 65536), "PE columns (C)"),
            ParameterDecl(
                "dataflow", .choice(Dataflow.allCases.map(\.rawValue), aliases: Dataflow.aliases),
                default: .string(Dataflow.outputStationary.rawValue), "which operand stays in the PEs"),
            ParameterDecl(
                "depthwise", .choice(DepthwiseMapping.allCases.map(\.rawValue), aliases: [:]), default: .string(DepthwiseMapping.perGroup.rawValue),
                "depthwise convs: one GEMM per channel (per-group, SCALE-Sim's), or channels across columns with a feed per column (channel-parallel)"),
        ])

    /// How a depthwise convolution (one filter per channel) is mapped.
    public enum DepthwiseMapping: String, Sendable, Hashable, CaseIterable {
        /// `groups` GEMMs of n = 1, one after another (SCALE-Sim's mapping of grouped convolutions).
        case perGroup = "per-group"
        /// One GEMM of (m, channels, R·S): each column computes one channel, fed by its own
        /// activation stream (NPUs with per-column input buffers). Same MACs; activations are read
        /// once per channel.
        case channelParallel = "channel-parallel"
    }

    public var name: String
    public var rows: Int
    public var cols: Int
    public var dataflow: Dataflow
    public var depthwise: DepthwiseMapping = .perGroup

    public init(spec: ComponentSpec) {
        name = spec.name
        rows = max(1, spec.int("rows"))
        cols = max(1, spec.int("cols"))
        dataflow = Dataflow(rawValue: spec.string("dataflow")) ?? .outputStationary
        depthwise = DepthwiseMapping(rawValue: spec.string("depthwise")) ?? .perGroup
    }

    /// The shape the array computes for `g`: a depthwise GEMM (count > 1, n = 1) becomes one GEMM of
    /// (m, count, k) under channel-parallel mapping; anything else is itself.
    public func mapped(_ g: GemmShape) -> (shape: GemmShape, channelParallel: Bool) {
        guard depthwise == .channelParallel, g.count > 1, g.n == 1 else { return (g, false) }
        return (GemmShape(m: g.m, n: g.count, k: g.k), true)
    }

    public init(name: String = "array", rows: Int, cols: Int, dataflow: Dataflow) {
        self.name = name
        self.rows = max(1, rows)
        self.cols = max(1, cols)
        self.dataflow = dataflow
    }

    public var peCount: Int { rows * cols }

    /// The spatial/temporal extents (Sr, Sc, T) of one GEMM under this array's dataflow.
    public func extents(_ g: GemmShape) -> (sr: Int, sc: Int, t: Int) {
        switch dataflow {
        case .outputStationary: (g.m, g.n, g.k)
        case .weightStationary: (g.k, g.n, g.m)
        case .inputStationary: (g.k, g.m, g.n)
        }
    }

    /// Row and column folds of one GEMM: ⌈Sr/R⌉ and ⌈Sc/C⌉.
    public func folds(_ g: GemmShape) -> (row: Int, col: Int) {
        let e = extents(g)
        return (ceilDiv(e.sr, rows), ceilDiv(e.sc, cols))
    }

    /// Cycles of one fold, including pipeline fill and drain (see the type's table).
    public func cyclesPerFold(t: Int) -> Int {
        switch dataflow {
        case .outputStationary: t + rows + cols - 2
        case .weightStationary, .inputStationary: 2 * rows + cols + t - 2
        }
    }

    /// Cycles to compute all `count` GEMMs back to back: count · folds · cycles per fold − 1.
    public func computeCycles(_ g: GemmShape) -> Int {
        let f = folds(g)
        return max(0, g.count * f.row * f.col * cyclesPerFold(t: extents(g).t) - 1)
    }

    /// Mean over folds of the fraction of PEs mapped: Sr·Sc / (R·C·folds).
    public func mappingEfficiency(_ g: GemmShape) -> Double {
        let e = extents(g), f = folds(g)
        return Double(e.sr * e.sc) / Double(peCount * f.row * f.col)
    }

    /// Mean over folds of MACs / (PEs · Lc): Sr·Sc·T / (R·C·folds·Lc), Lc as in the type's notes.
    public func computeUtilization(_ g: GemmShape) -> Double {
        let e = extents(g), f = folds(g)
        let lc = cyclesPerFold(t: e.t) + (dataflow == .outputStationary ? 0 : cols - 1)
        return Double(e.sr * e.sc * e.t) / Double(peCount * f.row * f.col * lc)
    }

    /// MACs / (cycles · R · C): the share of PE-cycles doing useful work.
    public func utilization(_ g: GemmShape) -> Double {
        let c = computeCycles(g)
        return c == 0 ? 0 : Double(g.macs) / (Double(c) * Double(peCount))
    }
}
