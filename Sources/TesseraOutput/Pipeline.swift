import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraPlan
import TesseraSim
import TesseraSpec

/// The whole pipeline in one call: load → elaborate → map → simulate → report.
public struct Pipeline: Sendable {
    public var hardware: HardwareSpec
    public var workload: WorkloadSpec

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

    public struct Output: Sendable {
        public var graph: DataflowGraph
        public var plan: Plan
        public var result: SimResult
        public var report: Report
    }

    /// Runs every stage after loading.
    public func run(recordTimeline: Bool = true) throws -> Output {
        let model = HardwareModel(hardware)
        let graph = Elaborator.elaborate(workload)
        let plan = try Mapper.plan(graph: graph, hardware: model, workload: workload.name)
        let result = try Simulator(plan: plan, recordTimeline: recordTimeline).run()
        let report = Report(plan: plan, result: result, hardwareName: hardware.name, workloadName: workload.name)
        return Output(graph: graph, plan: plan, result: result, report: report)
    }
}
