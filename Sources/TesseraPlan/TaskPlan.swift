import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraSpec

/// A cluster run as tasks on in-order streams, the plan the cluster executor (`TaskExecutor`)
/// replays: a training step's kernels and collectives on every class of replicas, or a
/// collective microbenchmark's sizes one after another. A task starts when the task before it on
/// its stream and all its dependencies have ended; compute tasks last their seconds on healthy
/// GPUs, collectives are flows on the network (`collectivePlan` lays each out as point-to-point
/// steps on `topology`).
public struct TaskPlan: Sendable {
    /// The healthy network (nil: a plan with no network, an accelerator's units, whose tasks
    /// are all compute).
    public var topology: ClusterTopology?
    public var tasks: [StepTask]
    public var streams: [StepStream]
    public var entities: [StepEntity]
    /// GPU slowdowns and link faults, by time (`FaultPolicy`).
    public var faults: [FaultSpec]
    /// Whether several entities run copies of the same collective at once (classes of replicas),
    /// so that one collective can meet its own copies on the links.
    public var replicatedEntities: Bool
    /// Every group of a collective's point-to-point steps on the cluster.
    public var collectivePlan: @Sendable (GroupCollective) -> CollectivePlan

    public init(
        topology: ClusterTopology?, tasks: [StepTask], streams: [StepStream], entities: [StepEntity], faults: [FaultSpec], replicatedEntities: Bool,
        collectivePlan: @escaping @Sendable (GroupCollective) -> CollectivePlan
    ) {
        self.topology = topology
        self.tasks = tasks
        self.streams = streams
        self.entities = entities
        self.faults = faults
        self.replicatedEntities = replicatedEntities
        self.collectivePlan = collectivePlan
    }
}

/// One piece of work of a cluster run: a compute kernel sequence on one set of GPUs or a
/// collective, on an in-order stream, after its dependencies.
public struct StepTask: Sendable {
    public typealias Kind = StepWorkKind
    public enum Work: Sendable {
        /// Seconds on a healthy GPU.
        case compute(Double)
        case collective(GroupCollective)
    }
    public var name: String
    public var kind: Kind
    public var stream: Int
    /// The GPU class whose timeline this task is on (a collective shared by classes: the first).
    public var entity: Int
    public var work: Work
    public var deps: [Int]
    public init(name: String, kind: Kind, stream: Int, entity: Int, work: Work, deps: [Int]) {
        self.name = name
        self.kind = kind
        self.stream = stream
        self.entity = entity
        self.work = work
        self.deps = deps
    }
}

/// A set of GPUs that behave identically: in a training step one pipeline stage of one class of
/// replicas (all healthy replicas form one class; a replica holding a faulty GPU is a class of its
/// own); in a collective microbenchmark every GPU.
public struct StepEntity: Sendable {
    public var stage: Int
    public var replicas: [Int]
    /// The GPUs (ranks) it stands for.
    public var ranks: [Int]
    public var name: String
    /// The share of a collective's traffic its tasks put on the links: a class of k of the dp
    /// replicas carries k/dp of a per-replica collective's messages (1 for a set that is all of them).
    public var trafficShare: Double = 1
    public init(stage: Int, replicas: [Int], ranks: [Int], name: String, trafficShare: Double = 1) {
        self.stage = stage
        self.replicas = replicas
        self.ranks = ranks
        self.name = name
        self.trafficShare = trafficShare
    }
}

public struct StepStream: Sendable {
    public var name: String
    /// The entity whose GPUs run it (nil: a stream shared by several entities, such as a stage's
    /// data-parallel stream, whose collectives carry all their traffic).
    public var entity: Int?
    public var stage: Int
    public init(name: String, entity: Int?, stage: Int) {
        self.name = name
        self.entity = entity
        self.stage = stage
    }
}

