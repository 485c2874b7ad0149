import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraOutput
import TesseraPlan
import TesseraSim
import TesseraSpec

/// `kind: array`: a dense accelerator (systolic arrays, SRAM buffers, DRAM) running inference,
/// mapped layer by layer and simulated fold by fold, exact against SCALE-Sim.
public struct ArrayFamily: HardwareFamily {
    public init() {}
    public var kind: String { "array" }
    public var capabilities: FamilyCapabilities { [] }

    public func prepare(_ request: RunRequest) throws -> PreparedRun {
        try request.refuseClusterWorkloads()
        let hardware = request.hardware, workload = request.workload
        var bag = DiagnosticBag()
        if let c = workload.continual {
            bag.error(
                c.location, "continual learning runs on \(FamilyTable.kinds(offering: .continualLearning))", expected: "no 'continual' on kind '\(hardware.kind)'",
                found: "'continual'")
        }
        if workload.phase == .training {
            bag.error(
                workload.phaseLocation, "training runs on a 'sparse-training-array' or an 'edge-soc' (it needs a vector unit or CPU for the backward and update passes)",
                expected: "phase: inference on kind '\(hardware.kind)' (\(hardware.file))", found: "phase: training")
        }
        if let s = workload.sparsity, s.scheme != .dense {
            bag.error(
                s.location, "N:M sparsity runs on a 'sparse-training-array'", expected: "no 'sparsity' on kind '\(hardware.kind)' (\(hardware.file))",
                found: "sparsity \(s.pattern) \(s.scheme.rawValue)")
        }
        try bag.throwIfErrors()
        let model = HardwareModel(hardware)
        let graph = Elaborator.elaborate(workload)
        try request.checkMappingWork(graph, model)
        let plan = try Mapper.plan(graph: graph, hardware: model, workload: workload.name)
        return PreparedRun { recordTimeline in
            let result = try StreamSimulator(plan: plan, recordTimeline: recordTimeline).run()
            var report = Report(plan: plan, result: result, hardwareName: hardware.name, workloadName: workload.name)
            report.batch = workload.batch
            return RunOutput(graph: graph, plan: plan, result: result, report: report, views: AcceleratorViews(graph: graph, plan: plan, result: result, energy: report.energy))
        }
    }

    public func hardwarePicture(_ spec: HardwareSpec) throws -> DOTDocument { acceleratorPicture(spec) }
}
