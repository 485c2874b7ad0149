import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraOutput
import TesseraPlan
import TesseraSim
import TesseraSpec

/// `kind: gpu-cluster`: GPUs in nodes joined by an intra-node fabric and an inter-node network,
/// running collective microbenchmarks, transformer training steps (tp/pp/dp/cp/ep/ZeRO) and
/// LLM serving.
public struct GPUClusterFamily: HardwareFamily {
    public init() {}
    public var kind: String { "gpu-cluster" }
    public var capabilities: FamilyCapabilities { [] }

    public func prepare(_ request: RunRequest) throws -> PreparedRun { try request.prepareCluster() }

    /// The topology: nodes, GPUs, the fabric and its switches.
    public func hardwarePicture(_ spec: HardwareSpec) throws -> DOTDocument { ClusterDOT(try Self.topology(spec)).build() }

    /// The cluster a validated `gpu-cluster` file describes (validation leaves nothing that fails
    /// here; the error is located all the same).
    static func topology(_ spec: HardwareSpec) throws(InputError) -> ClusterTopology {
        guard let cluster = spec.cluster, let topology = ClusterTopology(cluster) else {
            throw InputError(Diagnostic(at: SourceLocation(file: spec.file, line: 1, column: 1), "the cluster could not be built", expected: "a valid gpu-cluster", found: "none"))
        }
        return topology
    }
}

/// A transformer training step: per-GPU-class lanes (compute, tensor/expert collectives, pipeline
/// transfers, data-parallel collectives) and the busiest links.
public struct TrainingStepViews: RunViews {
    public var plan: TrainingStepPlan
    public var result: TaskExecutor.Result
    var file: String
    var energy: EnergyAccount
    /// Bytes per element of the workload's precision, for the dataflow graph.
    var bytesPerElement: Int
    public var hardwareFile: String { file }

    /// The elaborated step's dataflow graph, the one the plan was mapped from (see
    /// `ParallelStep.pictureGraph`).
    public func dataflowGraph() throws -> DataflowGraph { plan.step.pictureGraph() }
    public func timeline() throws -> Timeline { .trainingStep(plan: plan, result: result, energy: energy) }
}

/// An LLM serving run: one lane per instance (prefill and decode iterations, KV caches arriving).
public struct ServingViews: RunViews {
    public var plan: ServingPlan
    public var result: ContinuousBatching.Result
    var file: String
    var energy: EnergyAccount
    /// The workload's graph, elaborated before the plan (`ServingElaborator`).
    var graph: DataflowGraph
    public var hardwareFile: String { file }

    /// One reference request's prefill, all-reduces, KV-cache transfer and decode step, as
    /// elaborated from the workload before it was placed and run (`ServingElaborator`).
    public func dataflowGraph() throws -> DataflowGraph { graph }
    public func timeline() throws -> Timeline { .serving(plan: plan, result: result, energy: energy) }
}

/// A collective microbenchmark: its sizes, one after another.
struct CollectiveViews: RunViews {
    var file: String
    var plans: [CollectivePlan]
    var bytesPerElement: Int
    /// Each size's plan, span and bandwidths, in the order they ran.
    var runs: [(plan: CollectivePlan, start: Picoseconds, end: Picoseconds, algbwGBps: Double, busbwGBps: Double)]
    var ranks: Int
    var energy: EnergyAccount
    var hardwareFile: String { file }

    /// One operation per message size, in the order they run.
    func dataflowGraph() throws -> DataflowGraph { plans.dataflowGraph(bytesPerElement: bytesPerElement) }
    func timeline() throws -> Timeline { .collectives(runs, ranks: ranks, energy: energy) }
}

extension RunOutput {
    /// A transformer training step's plan and simulated times, when this run is one.
    public var clusterStep: TrainingStepViews? { views as? TrainingStepViews }
    /// A serving run's plan and simulated iterations, when this run is one.
    public var servingRun: ServingViews? { views as? ServingViews }
}
