import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraSpec

/// Maps an elaborated training step (`ParallelStepElaborator`) onto a GPU cluster: classes of
/// replicas, the GPUs of each class's stages, and in-order streams.
///
/// - Classes of replicas: replicas that behave identically are simulated once. All healthy
///   replicas form one class; a replica holding a GPU that a fault names is a class of its own
///   (`mergeReplicas: false` makes every replica its own class, the reference that checks merging
///   changes nothing).
/// - Each class of each stage (an entity) has three streams: compute (kernels and the collectives
///   the GPU waits for), sends to the next stage and sends to the previous one, and with
///   `tp_comm_overlap` a fourth for its tensor-parallel collectives (made after all the others).
///   Each stage has one data-parallel stream shared by its classes (and, with ZeRO 3, one for its
///   gradient reduce-scatters).
/// - The graph's blocks are copied in order: each class runs its copy of a block's replica
///   operations in turn, and the block's shared operations run once, with the first class. A
///   shared operation waits for every class's copy of the replica operations it depends on (a
///   gradient reduction), or for the first class's only (ZeRO 3's prefetched gathers).
public enum TrainingStepPlanner {
    /// Elaborates the step (`ParallelStepElaborator.elaborate`) and maps it.
    public static func plan(
        _ spec: LLMTrainingSpec, precision: Precision, topology: ClusterTopology, batch: Int, batchLocation: SourceLocation, mergeReplicas: Bool = true,
        budget: WorkBudget = .standard
    ) throws(InputError) -> TrainingStepPlan {
        let step = try ParallelStepElaborator.elaborate(spec, precision: precision, topology: topology, batch: batch, batchLocation: batchLocation, budget: budget)
        return plan(step, topology: topology, mergeReplicas: mergeReplicas)
    }

    /// Maps an elaborated step onto `topology` (the cluster it was elaborated for).
    public static func plan(_ step: ParallelStep, topology: ClusterTopology, mergeReplicas: Bool = true) -> TrainingStepPlan {
        let spec = step.spec, p = spec.parallelism
        // Classes of replicas: the healthy ones together, each replica with a faulty GPU alone.
        var faulty = Set<Int>()
        for f in spec.faults { if case .gpu(let r) = f.target, r < topology.ranks { faulty.insert((r / (p.tp * p.cp)) % p.dp) } }
        var classes: [[Int]] = []
        let healthy = (0..<p.dp).filter { !faulty.contains($0) }
        if mergeReplicas {
            if !healthy.isEmpty { classes.append(healthy) }
        } else {
            classes += healthy.map { [$0] }
        }
        for d in faulty.sorted() { classes.append([d]) }

        var entities: [StepEntity] = []
        var streams: [StepStream] = []
        func stream(_ name: String, entity: Int?, stage: Int) -> Int {
            streams.append(StepStream(name: name, entity: entity, stage: stage))
            return streams.count - 1
        }
        var entity = [[Int]](repeating: [], count: classes.count)  // class → stage → entity
        for (c, replicas) in classes.enumerated() {
            for s in 0..<p.pp {
                let ranks = replicas.flatMap { d in (0..<p.cp).flatMap { c in (0..<p.tp).map { $0 + p.tp * (c + p.cp * (d + p.dp * s)) } } }
                let label = classes.count == 1 ? "stage\(s)" : c == 0 && !healthy.isEmpty && mergeReplicas ? "stage\(s)" : "stage\(s).replica\(replicas[0])"
                entity[c].append(entities.count)
                entities.append(StepEntity(stage: s, replicas: replicas, ranks: ranks, name: label, trafficShare: Double(replicas.count) / Double(p.dp)))
            }
        }
        var entityStreams: [(compute: Int, sendForward: Int, sendBackward: Int)] = []
        for (i, en) in entities.enumerated() {
            entityStreams.append((
                stream("\(en.name).compute", entity: i, stage: en.stage), stream("\(en.name).send-forward", entity: i, stage: en.stage),
                stream("\(en.name).send-backward", entity: i, stage: en.stage)
            ))
        }
        let dpStream = (0..<p.pp).map { stream("stage\($0).data-parallel", entity: nil, stage: $0) }
        var rsStream = [Int](repeating: -1, count: p.pp)
        // Tensor-parallel overlap's stream of each entity, made when first used (after every other).
        var tpStream = [Int](repeating: -1, count: entities.count)

        let ops = step.operations
        let n = ops.count, classCount = classes.count
        // Task of each class's copy of a replica operation (class-major), or of a shared one.
        var copy = [Int](repeating: -1, count: n * classCount)
        var shared = [Int](repeating: -1, count: n)
        var tasks: [StepTask] = []
        tasks.reserveCapacity(n * classCount)
        var first = 0
        while first < n {
            var end = first + 1
            while end < n, ops[end].placement.block == ops[first].placement.block { end += 1 }
            for c in 0..<classCount {
                for i in first..<end {
                    let place = ops[i].placement
                    let work: StepTask.Work
                    switch ops[i].work {
                    case .compute(let seconds): work = .compute(seconds)
                    case .collective(let collective): work = .collective(collective)
                    }
                    var deps: [Int] = []
                    let dependencies = ops[i].dependencies
                    deps.reserveCapacity(dependencies.count)
                    switch place.scope {
                    case .replica:
                        for d in dependencies { deps.append(ops[d].placement.scope == .replica ? copy[c * n + d] : shared[d]) }
                        let en = entity[c][place.stage], st = entityStreams[en]
                        let s: Int
                        switch place.stream {
                        case .sendForward: s = st.sendForward
                        case .sendBackward: s = st.sendBackward
                        case .tensorParallel:
                            if tpStream[en] < 0 { tpStream[en] = stream("\(entities[en].name).tensor-parallel", entity: en, stage: entities[en].stage) }
                            s = tpStream[en]
                        default: s = st.compute
                        }
                        copy[c * n + i] = tasks.count
                        tasks.append(StepTask(name: ops[i].name, kind: place.kind, stream: s, entity: en, work: work, deps: deps))
                    case .afterEveryReplica, .afterFirstReplica:
                        guard c == 0 else { continue }
                        let every = place.scope == .afterEveryReplica
                        for d in dependencies {
                            if ops[d].placement.scope != .replica {
                                deps.append(shared[d])
                            } else {
                                for k in 0..<(every ? classCount : 1) { deps.append(copy[k * n + d]) }
                            }
                        }
                        let s: Int
                        if place.stream == .reduceScatter {
                            if rsStream[place.stage] < 0 { rsStream[place.stage] = stream("stage\(place.stage).reduce-scatter", entity: nil, stage: place.stage) }
                            s = rsStream[place.stage]
                        } else {
                            s = dpStream[place.stage]
                        }
                        shared[i] = tasks.count
                        tasks.append(StepTask(name: ops[i].name, kind: place.kind, stream: s, entity: entity[0][place.stage], work: work, deps: deps.filter { $0 >= 0 }))
                    }
                }
            }
            first = end
        }
        return TrainingStepPlan(
            step: step, spec: spec, cost: step.cost, topology: topology, tasks: tasks, streams: streams, entities: entities, microbatches: step.microbatches,
            layersPerStage: step.layersPerStage, memory: step.memory, modelFlops: step.modelFlops, stageParameters: step.stageParameters)
    }
}
