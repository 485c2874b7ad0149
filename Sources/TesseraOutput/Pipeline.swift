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
        /// A transformer training step on a GPU cluster: its tasks and their simulated times.
        public var clusterStep: (plan: TrainingStepPlan, result: StepSimulator.Result)? = nil
        /// An LLM serving run: its instances and every iteration and request.
        public var servingRun: (plan: ServingPlan, result: ServingSimulator.Result)? = nil
    }

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

    /// `composeContinual: false` simulates one step of a continual-learning workload without
    /// composing the schedule (what the composition itself runs).
    func run(recordTimeline: Bool, composeContinual: Bool) throws -> Output {
        if hardware.kind == "gpu-cluster" { return try runCluster() }
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
        let model = HardwareModel(hardware)
        if hardware.kind == "sparse-training-array" { return try runMultiUnit(model, recordTimeline: recordTimeline, composeContinual: composeContinual) }
        if hardware.kind == "edge-soc" { return try runEdge(model, recordTimeline: recordTimeline, composeContinual: composeContinual) }
        var bag = DiagnosticBag()
        if let c = workload.continual {
            bag.error(c.location, "continual learning runs on an 'edge-soc' or a 'sparse-training-array'", expected: "no 'continual' on kind '\(hardware.kind)'", found: "'continual'")
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
        let graph = Elaborator.elaborate(workload)
        let plan = try Mapper.plan(graph: graph, hardware: model, workload: workload.name)
        let result = try Simulator(plan: plan, recordTimeline: recordTimeline).run()
        var report = Report(plan: plan, result: result, hardwareName: hardware.name, workloadName: workload.name)
        report.batch = workload.batch
        return Output(graph: graph, plan: plan, result: result, report: report)
    }

    /// A sparse training accelerator: training elaboration, mapping with an offline schedule, and
    /// the multi-unit simulator.
    func runMultiUnit(_ model: HardwareModel, recordTimeline: Bool, composeContinual: Bool) throws -> Output {
        let graph = TrainingElaborator.elaborate(workload)
        let plan = try TrainingMapper.plan(graph: graph, hardware: model, workload: workload.name, optimizations: hardware.optimizations)
        let (result, step) = try simulateMultiUnit(plan, recordTimeline: recordTimeline)
        var report = step
        let sparse = workload.layerSparsity.contains { $0 != nil }
        report.addTraining(
            plan: plan, result: result, phase: workload.phase.rawValue, scheme: sparse ? (workload.sparsity?.scheme.rawValue ?? "dense") : "dense",
            pattern: sparse ? workload.sparsity?.pattern.description : nil, leftDense: workload.sparsity?.leftDense ?? [])
        if workload.continual != nil, composeContinual {
            report.continual = try ContinualRun.run(self, step: report)
            report.modelNotes.append(Report.continualNote)
        }
        return Output(graph: graph, plan: plan, result: result, report: report)
    }

    /// An edge SoC: placement on its units, a static schedule, DVFS and the power governor.
    func runEdge(_ model: HardwareModel, recordTimeline: Bool, composeContinual: Bool) throws -> Output {
        let graph = TrainingElaborator.elaborate(workload)
        let plan = try EdgeMapper.plan(graph: graph, hardware: model, workload: workload)
        let (result, step) = try simulateMultiUnit(plan, recordTimeline: recordTimeline)
        var report = step
        report.placement = plan.ops.map { ($0.name, $0.unit ?? "") }
        if let power = plan.schedule?.power {
            let period = model.clock.periodPicoseconds
            report.operatingPoints = result.operatingPoints.map { c in (c.start / period, power.points[c.point].hertz, c.scale) }
        }
        if workload.phase == .training {
            let sparse = workload.layerSparsity.contains { $0 != nil }
            report.addTraining(
                plan: plan, result: result, phase: "training", scheme: sparse ? (workload.sparsity?.scheme.rawValue ?? "dense") : "dense",
                pattern: sparse ? workload.sparsity?.pattern.description : nil, leftDense: workload.sparsity?.leftDense ?? [])
        }
        report.modelNotes = Report.edgeNotes + [Report.energyNote]
        if workload.continual != nil, composeContinual {
            report.continual = try ContinualRun.run(self, step: report)
            report.modelNotes.append(Report.continualNote)
        }
        return Output(graph: graph, plan: plan, result: result, report: report)
    }

    /// Runs a multi-unit plan and starts its report.
    private func simulateMultiUnit(_ plan: Plan, recordTimeline: Bool) throws -> (SimResult, Report) {
        guard let simulator = StreamSimulator(plan: plan, recordTimeline: recordTimeline) else {
            throw SimError.deadlock(time: 0, pending: "the plan has no schedule")
        }
        let result = try simulator.run()
        var report = Report(plan: plan, result: result, hardwareName: hardware.name, workloadName: workload.name)
        report.batch = workload.batch
        report.isTrainingStep = workload.phase == .training
        return (result, report)
    }

    /// The same run with every layer dense (the baseline of a sparse run).
    public var dense: Pipeline { Pipeline(hardware: hardware, workload: workload.densified) }
}
