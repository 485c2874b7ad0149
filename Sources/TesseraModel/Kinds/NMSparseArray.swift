import TesseraCore
import TesseraSpec

/// A systolic array that runs dense and N:M-sparse matrix products (the sparse tensor compute
/// engine of a SAT-style training accelerator), switching between output- and weight-stationary
/// dataflow per operation.
///
/// Sparse mode: the weight operand B is pruned N:M along the reduction dimension K, so each column
/// of B keeps exactly K·N/M values. Each kept value carries a ⌈log₂ M⌉-bit index that drives an M:1
/// multiplexer selecting its activation from the group of M the PE holds. The array therefore
/// runs the dense closed forms of `SystolicArray` on the reduced shape (m, n, K' = K·N/M), plus
/// `sparse_pipeline_stages` cycles per fold for the index-decode and multiplexer register stage(s)
/// on the fill path:
///
///     cycles = count · folds(K') · (L(K') + s) − 1,    s = sparse_pipeline_stages (0 when N = M)
///
/// with L and folds as in `SystolicArray` (os: T+R+C−2; ws: 2R+C+T−2). N = M is the dense array,
/// cycle for cycle. Only output- and weight-stationary dataflows can run N:M: in both, every PE
/// row of one fold consumes the same activation group in a cycle, which input-stationary (an
/// activation pinned per PE, weights with per-column indices streaming past) cannot provide.
/// Executed MACs are exactly dense MACs · N/M. Complexity O(1).
public struct NMSparseArray: ComponentModel {
    public static let sparseDataflows: [Dataflow] = [.outputStationary, .weightStationary]

    public static let schema = ComponentSchema(
        kind: "nm-sparse-array", role: .compute, summary: "systolic array running dense and N:M-sparse products, dataflow chosen per operation",
        parameters: [
            ParameterDecl("rows", .int(min: 1, max: 65536), "PE rows (R)"),
            ParameterDecl("cols", .int(min: 1, max: 65536), "PE columns (C)"),
            ParameterDecl("patterns", .patternList, default: .strings(["2:4", "2:8", "1:8"]), defaultText: "[\"2:4\", \"2:8\", \"1:8\"]", "N:M patterns the multiplexers support (dense always runs)"),
            ParameterDecl("precision", .choice(Precision.allCases.map(\.rawValue), aliases: [:]), default: .string("fp16"), "MAC precision"),
            ParameterDecl(
                "dataflows", .choiceList(sparseDataflows.map(\.rawValue)), default: .strings(sparseDataflows.map(\.rawValue)),
                defaultText: "[output-stationary, weight-stationary]", "dataflows the interconnect can switch between; the mapper picks the fastest per operation"),
            ParameterDecl("sparse_pipeline_stages", .int(min: 0), default: .int(1), "extra cycles per fold in sparse mode (index decode and M:1 multiplexer stage)"),
        ])

    public var name: String
    public var rows: Int
    public var cols: Int
    public var patterns: [NMPattern]
    public var precision: Precision
    public var dataflows: [Dataflow]
    public var sparseStages: Int

    public init(spec: ComponentSpec) {
        name = spec.name
        rows = max(1, spec.int("rows"))
        cols = max(1, spec.int("cols"))
        patterns = spec.strings("patterns").compactMap { try? NMPattern.parse($0).get() }
        precision = Precision(rawValue: spec.string("precision")) ?? .fp16
        let flows = spec.strings("dataflows").compactMap(Dataflow.init(rawValue:))
        dataflows = flows.isEmpty ? NMSparseArray.sparseDataflows : flows
        sparseStages = spec.int("sparse_pipeline_stages")
    }

    public init(name: String = "stce", rows: Int, cols: Int, patterns: [NMPattern], dataflows: [Dataflow] = NMSparseArray.sparseDataflows, sparseStages: Int = 1) {
        self.name = name
        self.rows = max(1, rows)
        self.cols = max(1, cols)
        self.patterns = patterns
        self.precision = .fp16
        self.dataflows = dataflows.isEmpty ? NMSparseArray.sparseDataflows : dataflows
        self.sparseStages = sparseStages
    }

    public var peCount: Int { rows * cols }

    /// Whether the array's multiplexers run `pattern` (dense always runs).
    public func supports(_ pattern: NMPattern) -> Bool { pattern.isDense || patterns.contains(pattern) }

    /// The dense array of this size with one dataflow.
    public func dense(_ dataflow: Dataflow) -> SystolicArray { SystolicArray(name: name, rows: rows, cols: cols, dataflow: dataflow) }

    /// The shape the array computes: K reduced to K·N/M (K must be a multiple of M).
    public static func reduced(_ g: GemmShape, _ p: NMPattern?) -> GemmShape {
        guard let p, !p.isDense else { return g }
        return GemmShape(m: g.m, n: g.n, k: g.k / p.m * p.n, count: g.count)
    }

    /// Extra cycles per fold in sparse mode.
    public func extraPerFold(_ p: NMPattern?) -> Int { (p.map { $0.isDense } ?? true) ? 0 : sparseStages }

    /// Cycles of `g` (dense shape) under `pattern` and `dataflow`: count·folds·(L(K')+s) − 1.
    public func computeCycles(_ g: GemmShape, pattern: NMPattern?, dataflow: Dataflow) -> Int {
        let r = NMSparseArray.reduced(g, pattern)
        let a = dense(dataflow)
        let f = a.folds(r)
        return max(0, r.count * f.row * f.col * (a.cyclesPerFold(t: a.extents(r).t) + extraPerFold(pattern)) - 1)
    }

    /// The fastest allowed dataflow for `g` (ties go to the one listed first).
    public func bestDataflow(_ g: GemmShape, pattern: NMPattern?) -> Dataflow {
        var best = dataflows[0]
        var bestCycles = computeCycles(g, pattern: pattern, dataflow: best)
        for d in dataflows.dropFirst() {
            let c = computeCycles(g, pattern: pattern, dataflow: d)
            if c < bestCycles { (best, bestCycles) = (d, c) }
        }
        return best
    }
}
