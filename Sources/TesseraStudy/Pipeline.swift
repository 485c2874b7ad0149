import TesseraCore
import TesseraFamilies
import TesseraGraph
import TesseraModel
import TesseraOutput
import TesseraPlan
import TesseraSim
import TesseraSpec

/// The whole pipeline in one call: load → elaborate → map → simulate → report, through the family
/// `FamilyTable` gives for the hardware's kind.
public struct Pipeline: Sendable {
    public var hardware: HardwareSpec
    public var workload: WorkloadSpec
    /// The most work a run may do before it is refused (`--allow-large` lifts it).
    public var workBudget = WorkBudget.standard

    public init(hardware: HardwareSpec, workload: WorkloadSpec) {
        self.hardware = hardware
        self.workload = workload
    }

    /// Loads both files, reporting every problem in either of them at once.
    public static func load(hardwarePath: String, workloadPath: String) throws(InputError) -> Pipeline {
        var diagnostics: [Diagnostic] = []
        var hw: HardwareSpec?
        var wl: WorkloadSpec?
        do { hw = try KindTable.hardwareLoader.load(path: hardwarePath) } catch { diagnostics += error.diagnostics }
        do { wl = try WorkloadLoader.load(path: workloadPath) } catch { diagnostics += error.diagnostics }
        guard let hw, let wl, diagnostics.isEmpty else { throw InputError(diagnostics) }
        return Pipeline(hardware: hw, workload: wl)
    }

    public typealias Output = RunOutput

    /// The family that runs this hardware.
    public func family() throws(InputError) -> any HardwareFamily { try FamilyTable.family(of: hardware) }

    /// Runs every stage after loading.
    ///
    /// A workload that outlasts the engine's clock is bad input, not an internal error: it is
    /// reported at the workload file with the hardware it ran on.
    public func run(recordTimeline: Bool = true) throws -> Output {
        do {
            return try run(recordTimeline: recordTimeline, composeContinual: true)
        } catch SimError.pastHorizon(let now) {
            throw InputError(Diagnostic(
                at: SourceLocation(file: workload.file, line: 1, column: 1),
                SimError.pastHorizon(now: now).description,
                expected: "a workload that finishes within 2^62 ps on \(hardware.file)",
                found: "'\(workload.name)' still running", hint: "make the workload smaller, or the clock, bandwidths or buffers of the hardware larger"))
        }
    }

    /// Every check `simulate` makes before it simulates, through the same code: what
    /// `tessera validate HARDWARE WORKLOAD` runs. Throws the `InputError` `run()` would throw
    /// before its first event.
    public func check() throws { _ = try prepare() }

    /// The pair rules, elaboration and mapping (or planning) of the hardware's family.
    func prepare() throws -> PreparedRun {
        try family().prepare(RunRequest(hardware: hardware, workload: workload, workBudget: workBudget))
    }

    /// `composeContinual: false` simulates one step of a continual-learning workload without
    /// composing the schedule (what the composition itself runs).
    func run(recordTimeline: Bool, composeContinual: Bool) throws -> Output {
        let family = try family()
        var output = try family.prepare(RunRequest(hardware: hardware, workload: workload, workBudget: workBudget)).execute(recordTimeline: recordTimeline)
        output.report.family = family.kind
        output.report.modelNotes += workload.importNotes
        if workload.continual != nil, composeContinual, family.capabilities.contains(.continualLearning) {
            output.report.continual = try ContinualRun.run(self, step: output.report)
            output.report.modelNotes.append(Report.continualNote)
        }
        return output
    }

    /// The same run with every layer dense (the baseline of a sparse run).
    public var dense: Pipeline { Pipeline(hardware: hardware, workload: workload.densified) }
}
