import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraSpec

/// The training step of a transformer on a GPU cluster, mapped and ordered: the elaborated step's
/// operations copied onto each class of replicas, on in-order streams.
public struct TrainingStepPlan: Sendable {
    /// The elaborated step the tasks come from (its dataflow graph is the step's picture).
    public var step: ParallelStep
    public var spec: LLMTrainingSpec
    public var cost: TransformerCost
    public var topology: ClusterTopology
    public var tasks: [StepTask]
    public var streams: [StepStream]
    public var entities: [StepEntity]
    public var microbatches: Int
    public var layersPerStage: Int
    public var memory: [StageMemory]
    /// Model FLOPs of the whole step on all GPUs.
    public var modelFlops: Double
    /// Parameters one GPU of each stage holds (before ZeRO sharding).
    public var stageParameters: [Double]

    /// The step as the cluster executor replays it.
    public var taskPlan: TaskPlan {
        TaskPlan(
            topology: topology, tasks: tasks, streams: streams, entities: entities, faults: spec.faults, replicatedEntities: entities.count > spec.parallelism.pp,
            collectivePlan: { [self] in self.collectivePlan($0) })
    }

    /// Rank of tensor index `t`, context index `c`, replica `d`, stage `p` (Megatron's order: tensor
    /// fastest, then context, data, pipeline).
    public func rank(tp t: Int, cp c: Int = 0, dp d: Int, pp p: Int) -> Int {
        let q = spec.parallelism
        return t + q.tp * (c + q.cp * (d + q.dp * p))
    }

    /// The point-to-point steps of a group collective, every group of the stage at once.
    ///
    /// Rings run over each group in rank order; a group with several GPUs in each of several nodes
    /// uses one ring per NIC it can use (as `CollectivePlanner.ringOrder` does), each carrying S/c.
    /// All-to-all is direct; pipeline transfers are one message per rank.
    public func collectivePlan(_ c: GroupCollective) -> CollectivePlan {
        let groups = self.groups(c)
        let S = Double(c.bytes)
        var steps: [CollectiveStep] = []
        switch c.group {
        case .ppForward, .ppBackward, .kvCache:
            steps = [CollectiveStep(flows: groups.map { CollectiveFlow(src: $0[0], dst: $0[1], bytes: S) }, repeats: 1)]
        case .ep:
            var flows: [CollectiveFlow] = []
            for g in groups { for a in g { for b in g where a != b { flows.append(CollectiveFlow(src: a, dst: b, bytes: S / Double(g.count))) } } }
            steps = [CollectiveStep(flows: flows, repeats: 1)]
        case .tp, .dp, .expertDP, .cp, .all:
            let n = groups.first?.count ?? 1
            let repeats = c.op == .allReduce ? 2 * (n - 1) : n - 1
            var flows: [CollectiveFlow] = []
            for g in groups where g.count > 1 {
                let orders = ringOrders(g)
                for order in orders {
                    for k in order.indices { flows.append(CollectiveFlow(src: order[k], dst: order[(k + 1) % order.count], bytes: S / Double(n * orders.count))) }
                }
            }
            if repeats > 0, !flows.isEmpty { steps = [CollectiveStep(flows: flows, repeats: repeats)] }
        }
        return CollectivePlan(op: c.op, algorithm: [.ep, .ppForward, .ppBackward, .kvCache].contains(c.group) ? .direct : .ring, ranks: groups.first?.count ?? 1, bytes: c.bytes, steps: steps)
    }

    /// The rings of one group: members by node; channel c rotates each node's members by c.
    func ringOrders(_ group: [Int]) -> [[Int]] {
        let g = topology.gpusPerNode
        var byNode: [[Int]] = []
        for r in group {
            if let last = byNode.last?.last, last / g == r / g { byNode[byNode.count - 1].append(r) } else { byNode.append([r]) }
        }
        let perNode = byNode.map(\.count).min() ?? 1
        let channels = byNode.count > 1 && perNode > 1 ? max(1, min(topology.spec.interNode?.nicsPerNode ?? 1, perNode)) : 1
        return (0..<channels).map { c in byNode.flatMap { node in (0..<node.count).map { node[($0 + c) % node.count] } } }
    }

    /// The groups of a collective kind in a stage, each a list of ranks.
    public func groups(_ c: GroupCollective) -> [[Int]] {
        let p = spec.parallelism, s = c.stage
        switch c.group {
        case .tp: return (0..<p.dp).flatMap { d in (0..<p.cp).map { c in (0..<p.tp).map { rank(tp: $0, cp: c, dp: d, pp: s) } } }
        case .cp: return (0..<p.dp).flatMap { d in (0..<p.tp).map { t in (0..<p.cp).map { rank(tp: t, cp: $0, dp: d, pp: s) } } }
        // Gradients reduce over every copy of a weight shard: the data- and context-parallel ranks.
        case .dp: return (0..<p.tp).map { t in (0..<p.dp).flatMap { d in (0..<p.cp).map { rank(tp: t, cp: $0, dp: d, pp: s) } } }
        case .expertDP:
            return (0..<p.tp).flatMap { t in (0..<p.ep).map { j in stride(from: j, to: p.dp, by: p.ep).flatMap { d in (0..<p.cp).map { rank(tp: t, cp: $0, dp: d, pp: s) } } } }
        case .ep:
            return (0..<p.tp).flatMap { t in (0..<p.cp).flatMap { c in stride(from: 0, to: p.dp, by: p.ep).map { b in (0..<p.ep).map { rank(tp: t, cp: c, dp: b + $0, pp: s) } } } }
        case .all: return [Array(0..<topology.ranks)]
        // A serving deployment moves its KV caches itself: a training step has none.
        case .kvCache: return []
        case .ppForward, .ppBackward:
            let next = c.group == .ppForward ? (s + 1) % p.pp : (s - 1 + p.pp) % p.pp
            return (0..<p.dp).flatMap { d in (0..<p.cp).flatMap { cc in (0..<p.tp).map { [rank(tp: $0, cp: cc, dp: d, pp: s), rank(tp: $0, cp: cc, dp: d, pp: next)] } } }
        }
    }
}
