import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraOutput
import TesseraPlan
import TesseraSim
import TesseraSpec

/// `kind: sparse-training-array`: an N:M sparse training accelerator in the style of SAT
/// (an nm-sparse-array, a vector unit, a mask generator, SRAM and DRAM): training elaborated into
/// FF/BP/WG/update, mapped with interleave and pre-generation, offline-scheduled over its units.
public struct SparseTrainingArrayFamily: HardwareFamily {
    public init() {}
    public var kind: String { "sparse-training-array" }
    public var capabilities: FamilyCapabilities { [.compareDense, .ablate, .optimizationFlags, .continualLearning] }

    public func prepare(_ request: RunRequest) throws -> PreparedRun {
        let (model, graph) = try request.elaborateTraining()
        let hardware = request.hardware, workload = request.workload
        let plan = try TrainingMapper.plan(graph: graph, hardware: model, workload: workload.name, optimizations: hardware.optimizations)
        return PreparedRun { recordTimeline in
            let (result, step) = try request.simulateMultiUnit(plan, recordTimeline: recordTimeline)
            var report = step
            request.addTraining(to: &report, plan: plan, result: result, phase: workload.phase.rawValue)
            return RunOutput(graph: graph, plan: plan, result: result, report: report, views: AcceleratorViews(graph: graph, plan: plan, result: result, energy: report.energy))
        }
    }

    public func hardwarePicture(_ spec: HardwareSpec) throws -> DOTDocument { acceleratorPicture(spec) }
}
