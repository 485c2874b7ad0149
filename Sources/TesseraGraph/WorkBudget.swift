import Foundation
import TesseraCore
import TesseraModel
import TesseraSpec

/// How much work a run may do before the user must ask for more (DESIGN convention 12): estimated
/// from the graph or plan before the expensive stage starts, refused with a located error that
/// names the key to change and the estimate, unless the budget is lifted (`--allow-large`).
///
/// Each kind of work has its own standard limit, set to about 15 s of a release build on one core
/// of the 2-core x86-64 machine the speed figures in docs/speed.md come from:
/// - array folds (the mapper walks every fold of every GEMM; the simulator runs the tiles they
///   merge into): MobileNetV2 at batch 16384 on a 128×128 output-stationary array walks 3.0·10⁸
///   folds in 4.5 s, so 10⁹;
/// - point-to-point messages of collective microbenchmarks (`WorkEstimate.messages`): 8000
///   all-to-all sizes over 128 GPUs, 1.3·10⁸ messages, take 131 s, and an `auto` all-reduce of three
///   sizes over 65536 GPUs, 1.3·10⁷, takes 18 s, so 5·10⁶;
/// - tasks of a transformer training step (`WorkEstimate.trainingTasks`): Llama-3 8B at batch 16000
///   on 8 GPUs, 1.3·10⁶ tasks, takes 3.4 s and 360 MB, so 4·10⁶ (the planner's own hard bound,
///   2·10⁷, holds with --allow-large too);
/// - serving events (requests × 3 + output tokens / max batch): 10⁶ Llama-3 8B requests of 128
///   output tokens at max batch 64, 5·10⁶ events, take 18 s, so 3·10⁶.
public struct WorkBudget: Sendable {
    /// Multiplies every standard limit (1 standard, +∞ unlimited).
    public var scale: Double
    /// Told, before a run starts, of work above a tenth of the standard limit (at least a second
    /// or two of a release build), so that no long run starts without saying so; the CLI prints it
    /// on a terminal.
    public var notice: (@Sendable (String) -> Void)?
    public init(scale: Double, notice: (@Sendable (String) -> Void)? = nil) {
        self.scale = scale
        self.notice = notice
    }
    public static let standard = WorkBudget(scale: 1)
    public static let unlimited = WorkBudget(scale: .infinity)

    /// A kind of work with its standard limit.
    public enum Work: String, Sendable {
        case folds = "array folds"
        case messages = "point-to-point messages"
        case servingEvents = "serving events"
        case tasks = "training-step tasks"
        public var standardLimit: Double {
            switch self {
            case .folds: 1e9
            case .messages: 5e6
            case .servingEvents: 3e6
            case .tasks: 4e6
            }
        }
    }

    /// Throws when `estimate` exceeds the limit: the error is at `location`, names `key` and says
    /// how to go on.
    public func check(_ estimate: Double, of work: Work, at location: SourceLocation, key: String) throws(InputError) {
        let limit = work.standardLimit * scale
        guard estimate > limit else {
            if estimate > work.standardLimit / 10 {
                notice?("about \(formatDecimal(estimate, maxDecimals: 0)) \(work.rawValue) to go (\(formatDecimal(estimate / work.standardLimit * 100, maxDecimals: 0))% of the standard work budget): this may take a while")
            }
            return
        }
        throw InputError(Diagnostic(
            at: location, "the run would take about \(formatDecimal(estimate, maxDecimals: 0)) \(work.rawValue), more than the work budget of \(formatDecimal(limit, maxDecimals: 0))",
            expected: "a smaller \(key)", found: "about \(formatDecimal(estimate / limit, maxDecimals: 1))× the budget",
            hint: "pass --allow-large to run it anyway (it may take minutes and much memory)"))
    }
}

/// Estimates of the work a run will do, cheap to compute from what is known before it starts.
public enum WorkEstimate {
    /// The most point-to-point messages one step of a collective may send (the link simulator
    /// holds each in memory).
    public static let maxMessagesPerStep = 1 << 22
    /// Folds the mapper walks over every GEMM of the graph: count × row folds × column folds on the
    /// hardware's first array (systolic, else N:M sparse at its own size), one per other operation.
    public static func folds(_ graph: DataflowGraph, on hardware: HardwareModel) -> Double {
        var total = 0.0
        for op in graph.operations {
            guard case .gemm(let g) = op.kind else {
                total += 1
                continue
            }
            if let a = hardware.arrays.first {
                let f = a.folds(g)
                total += Double(g.count) * Double(f.row) * Double(f.col)
            } else if let s = hardware.sparseArrays.first {
                total += Double(g.count) * (Double(g.m) / Double(max(1, s.rows))).rounded(.up) * (Double(g.n) / Double(max(1, s.cols))).rounded(.up)
            } else {
                total += Double(g.count)
            }
        }
        return total
    }

    /// Messages the link simulator sends for a collective microbenchmark, before it is planned
    /// (planning `auto` times every candidate). Identical consecutive steps are merged and
    /// simulated once, so the count does not grow with the number of chunks; per size and
    /// algorithm, with n ranks and H = ⌈log₂ n⌉: direct n(n − 1) (n for a broadcast, reduce or
    /// send-recv), ring n · channels (a pipelined broadcast or reduce about n² over its fill and
    /// drain steps), double binary tree (4H + 2) steps of n, halving-doubling and hierarchical
    /// 2(H + 1) steps of n.
    public static func messages(_ spec: CollectiveSpec, ranks: Int, channels: Int, algorithms: [CollectiveSpec.Algorithm]) -> Double {
        let n = Double(max(2, ranks)), h = log2(n).rounded(.up)
        var perSize = 0.0
        for algorithm in algorithms {
            switch algorithm {
            case .direct:
                perSize += spec.op == .broadcast || spec.op == .reduce || spec.op == .sendRecv ? n : n * (n - 1)
            case .ring:
                perSize += spec.op == .broadcast || spec.op == .reduce ? n * n : n * Double(max(1, channels))
            case .doubleBinaryTree:
                perSize += (4 * h + 2) * n
            case .nvls:
                perSize += n
            case .halvingDoubling, .hierarchical, .auto:
                perSize += 2 * (h + 1) * n
            }
        }
        return Double(spec.sizes.count) * perSize
    }

    /// Tasks of a transformer training step: about 10 per layer and microbatch of each class of
    /// replicas (kernels and collectives), times 1 + the faults (each fault splits the step).
    public static func trainingTasks(microbatches: Int, layers: Int, faults: Int) -> Double {
        Double(microbatches) * Double(layers) * 10 * Double(1 + faults)
    }

    /// Iterations and request events of a serving run: each request arrives, is prefilled and
    /// finishes, and decode iterations run at least output tokens / max batch times.
    public static func servingEvents(_ spec: ServingSpec) -> Double {
        let tokens = spec.requests.reduce(0.0) { $0 + Double($1.output) }
        return Double(spec.requests.count) * 3 + tokens / Double(max(1, spec.maxBatch))
    }
}
