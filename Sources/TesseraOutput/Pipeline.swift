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

    /// What `simulate` has settled before it simulates: the pair of files accepted by the family's
    /// rules, the workload elaborated and mapped or planned, and its size bounded.
    enum Prepared {
        case array(DataflowGraph, Plan)
        case multiUnit(DataflowGraph, Plan)
        case edge(DataflowGraph, Plan)
        case collectives(CollectiveSpec, healthy: ClusterTopology, faulty: ClusterTopology, plans: [CollectivePlan])
        case training(LLMTrainingSpec, ClusterTopology, TrainingStepPlan)
        case serving(ServingSpec, ClusterTopology, ServingPlan)
    }

    /// Every check `simulate` makes before it simulates, through the same code: what
    /// `tessera validate HARDWARE WORKLOAD` runs. Throws the `InputError` `run()` would throw
    /// before its first event.
    public func check() throws { _ = try prepare() }

    /// The pair rules, elaboration and mapping (or planning) of every family.
    func prepare() throws -> Prepared {
        if hardware.kind == "gpu-cluster" { return try prepareCluster() }
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
        if hardware.kind == "sparse-training-array" {
            let graph = TrainingElaborator.elaborate(workload)
            try checkMappingWork(graph, model)
            return .multiUnit(graph, try TrainingMapper.plan(graph: graph, hardware: model, workload: workload.name, optimizations: hardware.optimizations))
        }
        if hardware.kind == "edge-soc" {
            let graph = TrainingElaborator.elaborate(workload)
            try checkMappingWork(graph, model)
            return .edge(graph, try EdgeMapper.plan(graph: graph, hardware: model, workload: workload))
        }
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
        try checkMappingWork(graph, model)
        return .array(graph, try Mapper.plan(graph: graph, hardware: model, workload: workload.name))
    }

    /// Refuses a layer workload whose mapping and simulation would walk more folds than the budget.
    private func checkMappingWork(_ graph: DataflowGraph, _ model: HardwareModel) throws {
        try workBudget.check(
            WorkEstimate.folds(graph, on: model), of: .folds, at: workload.batchLocation ?? SourceLocation(file: workload.file, line: 1, column: 1),
            key: "batch or layer size")
    }

    /// `composeContinual: false` simulates one step of a continual-learning workload without
    /// composing the schedule (what the composition itself runs).
    func run(recordTimeline: Bool, composeContinual: Bool) throws -> Output {
        switch try prepare() {
        case .array(let graph, let plan):
            let result = try Simulator(plan: plan, recordTimeline: recordTimeline).run()
            var report = Report(plan: plan, result: result, hardwareName: hardware.name, workloadName: workload.name)
            report.batch = workload.batch
            return Output(graph: graph, plan: plan, result: result, report: report)
        case .multiUnit(let graph, let plan):
            return try runMultiUnit(graph, plan, recordTimeline: recordTimeline, composeContinual: composeContinual)
        case .edge(let graph, let plan):
            return try runEdge(graph, plan, recordTimeline: recordTimeline, composeContinual: composeContinual)
        case .collectives(let collective, let healthy, let faulty, let plans):
            return try runCollectives(collective, healthy: healthy, topology: faulty, plans: plans)
        case .training(let llm, let topology, let plan):
            return try runClusterTraining(llm, topology: topology, plan: plan)
        case .serving(let serving, let topology, let plan):
            return try runServing(serving, topology: topology, plan: plan)
        }
    }

    /// A sparse training accelerator: training elaboration, mapping with an offline schedule, and
    /// the multi-unit simulator.
    func runMultiUnit(_ graph: DataflowGraph, _ plan: Plan, recordTimeline: Bool, composeContinual: Bool) throws -> Output {
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
    func runEdge(_ graph: DataflowGraph, _ plan: Plan, recordTimeline: Bool, composeContinual: Bool) throws -> Output {
        let (result, step) = try simulateMultiUnit(plan, recordTimeline: recordTimeline)
        var report = step
        report.placement = plan.ops.map { ($0.name, $0.unit ?? "") }
        if let power = plan.schedule?.power {
            let period = plan.hardware.clock.periodPicoseconds
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
