import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraOutput
import TesseraPlan
import TesseraSim
import TesseraSpec

/// What the accelerator families (`array`, `sparse-training-array`, `edge-soc`) share.
extension RunRequest {
    /// Collective, transformer-training and serving workloads run on a GPU cluster only.
    func refuseClusterWorkloads() throws(InputError) {
        if let c = workload.collective {
            throw InputError(Diagnostic(
                at: c.location, "collective microbenchmarks run on a 'gpu-cluster'", expected: "a hardware file with kind: gpu-cluster", found: "kind '\(hardware.kind)' in \(hardware.file)"))
        }
        if let llm = workload.llm {
            throw InputError(Diagnostic(
                at: llm.transformerLocation, "transformer training steps run on a 'gpu-cluster'", expected: "a hardware file with kind: gpu-cluster", found: "kind '\(hardware.kind)' in \(hardware.file)"))
        }
        if let serving = workload.serving {
            throw InputError(Diagnostic(
                at: serving.location, "LLM serving runs on a 'gpu-cluster'", expected: "a hardware file with kind: gpu-cluster", found: "kind '\(hardware.kind)' in \(hardware.file)"))
        }
    }

    /// Refuses a layer workload whose mapping and simulation would walk more folds than the budget.
    func checkMappingWork(_ graph: DataflowGraph, _ model: HardwareModel) throws {
        try workBudget.check(
            WorkEstimate.folds(graph, on: model), of: .folds, at: workload.batchLocation ?? SourceLocation(file: workload.file, line: 1, column: 1),
            key: "batch or layer size")
    }

    /// The multi-unit families' front half: the pair checked, the workload elaborated with its
    /// training passes (FF, BP, WG, update, masks) and its mapping work bounded.
    func elaborateTraining() throws -> (HardwareModel, DataflowGraph) {
        try refuseClusterWorkloads()
        let model = HardwareModel(hardware)
        let graph = TrainingElaborator.elaborate(workload)
        try checkMappingWork(graph, model)
        return (model, graph)
    }

    /// Runs a multi-unit plan (an offline schedule over several units) and starts its report.
    func simulateMultiUnit(_ plan: Plan, recordTimeline: Bool) throws -> (SimResult, Report) {
        let result = try StreamSimulator(plan: plan, recordTimeline: recordTimeline).run()
        var report = Report(plan: plan, result: result, hardwareName: hardware.name, workloadName: workload.name)
        report.batch = workload.batch
        report.isTrainingStep = workload.phase == .training
        return (result, report)
    }

    /// The training section of a sparse or dense training step's report.
    func addTraining(to report: inout Report, plan: Plan, result: SimResult, phase: String) {
        let sparse = workload.layerSparsity.contains { $0 != nil }
        report.addTraining(
            plan: plan, result: result, phase: phase, scheme: sparse ? (workload.sparsity?.scheme.rawValue ?? "dense") : "dense",
            pattern: sparse ? workload.sparsity?.pattern.description : nil, leftDense: workload.sparsity?.leftDense ?? [])
    }
}

/// An accelerator run's views: its dataflow graph, and its cycle-level timeline.
struct AcceleratorViews: RunViews {
    var graph: DataflowGraph
    var plan: Plan
    var result: SimResult
    /// The report's energy account (its power over time goes into the trace).
    var energy: EnergyAccount
    var hardwareFile: String { plan.hardware.spec.file }

    func dataflowGraph() throws -> DataflowGraph { graph }

    func timeline() throws -> Timeline {
        .accelerator(plan: plan, result: result, hardwareName: plan.hardware.spec.name, workloadName: plan.workload, energy: energy)
    }
}

/// The hardware picture of an accelerator: its arrays, buffers and memories.
func acceleratorPicture(_ spec: HardwareSpec) -> DOTDocument { HardwareDOT(HardwareModel(spec)).build() }
