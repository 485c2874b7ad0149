import TesseraCore
import TesseraGraph
import TesseraOutput
import TesseraPlan
import TesseraSim
import TesseraSpec

/// One hardware family (`kind:` of a hardware file): the choices it plugs into the shared stages.
///
/// Contract: `prepare` makes every check `simulate` makes before its first event (the pair rules
/// of hardware and workload, elaboration, mapping or planning, the work bounds) and throws an
/// `InputError` located in the files for anything it refuses; what it returns runs without
/// further input checks. Nothing outside `TesseraFamilies` asks which family it is running:
/// callers read `capabilities` and call the family's methods.
public protocol HardwareFamily: Sendable {
    /// The `kind:` of the hardware files this family runs.
    var kind: String { get }
    /// What this family offers beyond `simulate`.
    var capabilities: FamilyCapabilities { get }
    /// Checks the pair and settles everything before simulation.
    func prepare(_ request: RunRequest) throws -> PreparedRun
    /// The picture of the hardware alone.
    func hardwarePicture(_ spec: HardwareSpec) throws -> DOTDocument
}

/// Options a family may offer, read by the CLI and the study layer instead of family names.
public struct FamilyCapabilities: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// `simulate --compare-dense`: the same run with every layer dense, side by side.
    public static let compareDense = FamilyCapabilities(rawValue: 1 << 0)
    /// `tessera ablate`: the run with each optimization switched off in turn.
    public static let ablate = FamilyCapabilities(rawValue: 1 << 1)
    /// `--no-interleave`, `--no-pregen`, … : the optimizations of an offline-scheduled training array.
    public static let optimizationFlags = FamilyCapabilities(rawValue: 1 << 2)
    /// `continual:` workloads (a schedule composed from simulated training steps).
    public static let continualLearning = FamilyCapabilities(rawValue: 1 << 3)
}

/// What a run is asked to do: the two files read, and the most work it may do.
public struct RunRequest: Sendable {
    public var hardware: HardwareSpec
    public var workload: WorkloadSpec
    /// The most work a run may do before it is refused (`--allow-large` lifts it).
    public var workBudget: WorkBudget

    public init(hardware: HardwareSpec, workload: WorkloadSpec, workBudget: WorkBudget = .standard) {
        self.hardware = hardware
        self.workload = workload
        self.workBudget = workBudget
    }
}

/// A run whose inputs have all been checked: executing it simulates.
public struct PreparedRun: Sendable {
    private let body: @Sendable (_ recordTimeline: Bool) throws -> RunOutput
    public init(_ body: @escaping @Sendable (_ recordTimeline: Bool) throws -> RunOutput) { self.body = body }
    /// Simulates; `recordTimeline: false` skips the intervals only pictures and traces need.
    public func execute(recordTimeline: Bool = true) throws -> RunOutput { try body(recordTimeline) }
}

/// Everything one simulation produced.
public struct RunOutput: Sendable {
    /// The dataflow graph, the mapped plan and the cycle-level result of a run on clocked hardware;
    /// nil for a GPU cluster, whose plans and results its `views` hold.
    public var graph: DataflowGraph?
    public var plan: Plan?
    public var result: SimResult?
    public var report: Report
    /// The run's timeline as the trace writer and the schedule renderer draw it.
    public var views: any RunViews

    public init(graph: DataflowGraph?, plan: Plan?, result: SimResult?, report: Report, views: any RunViews) {
        self.graph = graph
        self.plan = plan
        self.result = result
        self.report = report
        self.views = views
    }
}

/// The pictures and traces of one run: its dataflow graph, and its one `Timeline`, which the one
/// Chrome-trace writer and the one schedule renderer draw for every family.
public protocol RunViews: Sendable {
    /// The dataflow graph to draw; throws a located `InputError` where the run has none.
    func dataflowGraph() throws -> DataflowGraph
    /// The run's timeline, from its family's lane provider; throws a located `InputError` where the run has none.
    func timeline() throws -> Timeline
    /// The hardware file, where a window bound this run cannot read is located.
    var hardwareFile: String { get }
}

extension RunViews {
    /// Chrome trace-event JSON of the timeline.
    public func chromeTrace() throws -> String { ChromeTrace(try timeline()).json() }

    /// The schedule picture over a window of the run: `from`/`to` mean the same time on every
    /// family; counts of cycles are read on clocked hardware and refused elsewhere, located at the
    /// hardware file.
    public func schedule(from: TimeBound?, to: TimeBound?) throws -> DOTDocument {
        let tl = try timeline()
        func ps(_ bound: TimeBound?, _ option: String) throws(InputError) -> Picoseconds? {
            guard let bound else { return nil }
            switch bound {
            case .seconds(let s): return Saturating.uint64((s * 1e12).rounded(.down))
            case .cycles(let n):
                guard let period = tl.clockPeriod else {
                    _ = try bound.nanoseconds(option: option, file: hardwareFile)
                    return nil
                }
                return Saturating.multiply(n, period)
            }
        }
        return try ScheduleDOT(tl, options: .init(from: try ps(from, "--from"), to: try ps(to, "--to"))).build()
    }
}
