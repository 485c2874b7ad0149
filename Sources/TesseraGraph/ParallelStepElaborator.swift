import TesseraCore
import TesseraModel
import TesseraSpec

/// A collective of one kind run by every group of that kind in a pipeline stage at once (the
/// groups of a stage work in lockstep, so their messages share the links together).
public struct GroupCollective: Sendable, Hashable {
    public enum Group: String, Sendable, Hashable {
        /// Tensor-parallel ranks of one replica and stage.
        case tp
        /// Data-parallel ranks holding the same shard (all replicas).
        case dp
        /// Ranks holding the same expert shard (dp/ep of them).
        case expertDP = "expert-dp"
        /// Expert-parallel ranks (ep consecutive replicas).
        case ep
        /// Context-parallel ranks of one replica, stage and tensor index.
        case cp
        /// Stage `stage` to stage `stage + 1` (forward) or `stage − 1` (backward), every rank to its
        /// peer; with virtual stages the last stage sends on to the first (and back), modulo pp.
        case ppForward = "pp-forward", ppBackward = "pp-backward"
        /// A serving deployment's KV caches, from a prefill instance to a decode instance.
        case kvCache = "kv-cache"
        /// Every GPU of the cluster (a collective microbenchmark).
        case all
    }
    public var op: CollectiveSpec.Op
    public var group: Group
    public var stage: Int
    /// The nccl-tests size S of each group's collective (per rank), bytes.
    public var bytes: UInt64
    public init(op: CollectiveSpec.Op, group: Group, stage: Int, bytes: UInt64) {
        self.op = op
        self.group = group
        self.stage = stage
        self.bytes = bytes
    }
}

/// The kind of work of a cluster task (a training step's operation, a microbenchmark's collective).
public enum StepWorkKind: String, Sendable, CaseIterable {
    case forward, backward, head, optimizer
    case tp, pp, dp, ep, cp
    /// A collective over every GPU (a microbenchmark's).
    case collective
    public var isCompute: Bool { self == .forward || self == .backward || self == .head || self == .optimizer }
}

/// Where an operation of an elaborated training step runs within the cluster, before it is mapped
/// onto GPUs.
public struct StepPlacement: Sendable, Hashable {
    /// The in-order stream of its pipeline stage that runs it.
    public enum Stream: Sendable, Hashable {
        /// Kernels, and the tensor-, context- and expert-parallel collectives the GPU waits for.
        case compute
        /// Activations to the next stage, and activation gradients to the previous one.
        case sendForward, sendBackward
        /// Gradient reductions and parameter gathers over the data-parallel ranks.
        case dataParallel
        /// ZeRO 3's per-layer gradient reduce-scatters.
        case reduceScatter
        /// Tensor-parallel collectives overlapped with the compute beside them (`tp_comm_overlap`).
        case tensorParallel
    }
    public enum Scope: Sendable, Hashable {
        /// Every class of replicas runs its own copy, on its own GPUs of the stage.
        case replica
        /// Runs once for all classes (a data-parallel collective spans them); it waits for every
        /// class's copy of the replica operations it depends on.
        case afterEveryReplica
        /// Runs once for all classes, paced by the first class's copies of the replica operations
        /// it depends on (ZeRO 3's prefetched parameter gathers).
        case afterFirstReplica
    }
    public var kind: StepWorkKind
    public var stage: Int
    public var stream: Stream
    public var scope: Scope
    /// Consecutive operations of one block are mapped together: each class of replicas runs the
    /// block's replica operations in turn, and its shared operations come with the first class.
    public var block: Int
}

/// Per-GPU memory of one stage, bytes.
public struct StageMemory: Sendable {
    public var stage: Int
    public var weights: Double
    public var gradients: Double
    public var optimizer: Double
    public var activations: Double
    public var total: Double { weights + gradients + optimizer + activations }
}

/// One operation of an elaborated training step: what it does, where it runs and what it waits for.
public struct StepOperation: Sendable {
    /// `stage<s>.mb<m>.layer<l>.<part>` (or `stage<s>.<part>` for per-stage work).
    public var name: String
    public var work: DeviceWork
    /// Indices of the operations it waits for.
    public var dependencies: [Int]
    public var placement: StepPlacement
}

/// One training step of a transformer elaborated for a cluster: its operations and their
/// dependencies (the step's dataflow graph, kept compactly: a GPT-3 step has over 10⁵ of them),
/// where each runs, and the figures of the layout the planner and the report need.
public struct ParallelStep: Sendable {
    public var spec: LLMTrainingSpec
    public var cost: TransformerCost
    /// One operation per kernel sequence or collective of one replica, and each shared
    /// data-parallel operation, in the order their streams run them.
    public var operations: [StepOperation]
    /// GPUs of one pipeline stage (all replicas).
    public var gpusPerStage: Int
    /// Bytes per element of what is stored and sent.
    public var bytesPerElement: Int
    /// Microbatches per replica: batch / (dp · microbatch).
    public var microbatches: Int
    /// The most layers a stage holds.
    public var layersPerStage: Int
    public var memory: [StageMemory]
    /// Model FLOPs of the whole step on all GPUs.
    public var modelFlops: Double
    /// Parameters one GPU of each stage holds (before ZeRO sharding).
    public var stageParameters: [Double]

    /// The step as a `DataflowGraph`: one `.device` operation per step operation, same order,
    /// names and dependencies; each operation is its own entry of `layers`.
    public var graph: DataflowGraph {
        var ops: [Operation] = []
        ops.reserveCapacity(operations.count)
        for (i, o) in operations.enumerated() {
            ops.append(.device(id: OpID(i), name: o.name, layer: i, op: o.placement.kind.rawValue, work: o.work, gpus: gpusPerStage, dependencies: o.dependencies.map(OpID.init)))
        }
        return DataflowGraph(operations: ops, tensors: [], layers: operations.map(\.name), bytesPerElement: bytesPerElement, isTraining: true)
    }
}

/// Elaborates one training step of a transformer over tensor, pipeline, data, context and expert
/// parallelism into a dataflow graph: the operations of one replica (each pipeline stage's layer
/// compute per microbatch chunk, forward, backward and recompute, its tensor-, context- and
/// expert-parallel collectives and pipeline sends) and the data-parallel collectives and optimizer
/// of each stage, in the order each stream runs them, with their dependencies as edges.
///
/// The graph is the same for every class of replicas; `TrainingStepPlanner` maps it onto the
/// cluster (one copy per class of replicas that behave alike, streams, GPUs). Each operation's
/// `StepPlacement` says which stream of its stage runs it and whether each class runs its own copy.
///
/// - Layers split evenly over `pp` stages; the first stage also holds the embedding, the last the
///   output layer. Microbatches M = batch / (dp · microbatch).
/// - Each stage runs 1F1B (PipeDream-Flush, Narayanan et al. 2021): min(pp − p − 1, M) warm-up
///   forwards, then one forward and one backward alternately, then the remaining backwards; with
///   `virtual_stages` v, the interleaved 1F1B over v model chunks per stage (see `orders`).
/// - A layer's forward is attention, a tensor-parallel all-reduce of T·h·e bytes, the FFN (a
///   mixture of experts: an expert all-to-all of T·k·h·e before and after it), another all-reduce
///   (Megatron-LM's two per layer, Shoeybi et al. 2019); the backward mirrors it. Tensor and expert
///   collectives sit on the compute stream: the GPU waits for them (exposed).
/// - Context parallelism (cp): each GPU holds s/cp of every sequence; before each layer's attention
///   its context-parallel group all-gathers keys and values (2·b·s·g·d·e/t bytes) and after the
///   attention backward reduce-scatters their gradients, on the compute stream (exposed: Megatron
///   overlaps its ring exchange with attention, which this model does not); gradients reduce over
///   the dp × cp copies of each weight.
/// - Tensor-parallel communication overlap (`tp_comm_overlap`, Megatron-Core's --tp-comm-overlap
///   with Transformer Engine's userbuffers): each attention and FFN block and the tensor-parallel
///   collective beside it split into tp chunks; collective chunk i (S/tp bytes) follows compute
///   chunk i on the tensor-parallel stream and the next block's chunk i follows it, so the
///   communication hides behind the GEMMs (assumed not to slow them: optimistic).
/// - Sequence parallelism (Korthikanti et al. 2022): each all-reduce becomes a reduce-scatter and an
///   all-gather of the same size, element-wise work and activations split t ways, and stages
///   exchange T·h·e/t bytes per rank.
/// - Activations (forward) and their gradients (backward) of T·h·e bytes go to the neighbouring
///   stage on a stream of their own; the receiving microbatch waits for them.
/// - Gradients are reduced over the data-parallel ranks in buckets of `bucket` bytes, filled in
///   backward order during the last microbatch's backward and launched as each fills (`overlap`;
///   otherwise all after the backward), on the stage's data-parallel stream: all-reduce (ZeRO 0),
///   reduce-scatter (ZeRO 1 and 2; ZeRO 3 per layer and microbatch). Expert gradients reduce over
///   the dp/ep ranks that hold the same experts. ZeRO 1 and 2 all-gather the updated parameters
///   after the optimizer; ZeRO 3 all-gathers each layer's parameters before its forward and its
///   backward, prefetched one layer ahead on the data-parallel stream (a gather waits for the layer
///   two before it; two gathered layers are counted in memory); the embedding and output layer
///   stay whole and their gradients are all-reduced once.
/// - CO2 (`co2.local_steps` τ): the step has no gradient reduction; the outer all-reduce of the
///   parameters runs asynchronously every τ steps (the caller adds it).
public enum ParallelStepElaborator {
    /// The most operations one step may have (memory and time of the simulation grow with them).
    public static let maxTasks = 20_000_000

    public static func elaborate(
        _ spec: LLMTrainingSpec, precision: Precision, topology: ClusterTopology, batch: Int, batchLocation: SourceLocation, budget: WorkBudget = .standard
    ) throws(InputError) -> ParallelStep {
        let p = spec.parallelism, m = spec.transformer
        var bag = DiagnosticBag()
        if p.gpus != topology.ranks {
            bag.error(
                p.location, "the parallel layout does not cover the cluster", expected: "tp × pp × dp\(p.cp > 1 ? " × cp" : "") = \(topology.ranks) GPUs (\(topology.nodes) nodes × \(topology.gpusPerNode))",
                found: "tp \(p.tp) × pp \(p.pp) × dp \(p.dp)\(p.cp > 1 ? " × cp \(p.cp)" : "") = \(p.gpus)")
        }
        let stageLayers = p.stageLayers(total: m.layers) ?? []
        if stageLayers.isEmpty, p.embeddingAsLayer || p.lossAsLayer {
            let slots = m.layers + (p.embeddingAsLayer ? 1 : 0) + (p.lossAsLayer ? 1 : 0)
            bag.error(
                p.location, "the layers, with the embedding and loss counted as layers, do not split evenly into model chunks",
                expected: "pp × virtual_stages dividing \(slots) (\(m.layers) layers\(p.embeddingAsLayer ? " + the embedding" : "")\(p.lossAsLayer ? " + the loss" : "")), at least one layer in every chunk",
                found: "pp: \(p.pp), virtual_stages: \(p.virtualStages)")
        } else if stageLayers.isEmpty, !p.unevenStages {
            bag.error(
                p.location, "the layers do not split evenly into pipeline stages", expected: "pp × virtual_stages dividing the \(m.layers) layers of \(m.name)",
                found: "pp: \(p.pp), virtual_stages: \(p.virtualStages)")
        } else if stageLayers.isEmpty {
            let set = (p.firstStageLayers ?? 0) + (p.lastStageLayers ?? 0)
            let others = p.pp - (p.firstStageLayers != nil ? 1 : 0) - (p.lastStageLayers != nil ? 1 : 0)
            bag.error(
                p.location, "the layers left after the first and last stages do not split evenly over the others",
                expected: others > 0 ? "\(m.layers) − \(set) layers, at least one per stage, a multiple of the \(others) other stages" : "first + last = the \(m.layers) layers of \(m.name) with pp 2",
                found: "first_stage_layers: \(p.firstStageLayers.map(String.init) ?? "–"), last_stage_layers: \(p.lastStageLayers.map(String.init) ?? "–"), pp: \(p.pp)")
        }
        if p.virtualStages > 1, batch % (p.dp * p.microbatch * p.pp) != 0 {
            bag.error(p.location, "the interleaved schedule runs microbatches in groups of pp", expected: "microbatches per replica a multiple of pp = \(p.pp)", found: "batch: \(batch)")
        }
        if p.cp > 1, m.seqLen % (2 * p.cp) != 0 {
            bag.error(p.location, "context parallelism splits each sequence into 2·cp balanced pieces", expected: "seq_len (\(m.seqLen)) a multiple of 2 × cp = \(2 * p.cp)", found: "cp: \(p.cp)")
        }
        if m.heads % p.tp != 0 || m.ffn % p.tp != 0 {
            bag.error(p.location, "tensor parallelism must split the heads and the FFN evenly", expected: "tp dividing heads (\(m.heads)) and ffn (\(m.ffn))", found: "tp: \(p.tp)")
        }
        if batch % (p.dp * p.microbatch) != 0 {
            bag.error(batchLocation, "the global batch does not split into microbatches", expected: "batch a multiple of dp × microbatch = \(p.dp * p.microbatch)", found: "batch: \(batch)")
        }
        if p.ep > 1, !m.isMoE {
            bag.error(p.location, "expert parallelism needs a mixture of experts", expected: "ep: 1 for \(m.name)", found: "ep: \(p.ep)")
        } else if m.isMoE, m.experts % p.ep != 0 {
            bag.error(p.location, "the experts do not split evenly over the expert-parallel ranks", expected: "ep dividing the \(m.experts) experts", found: "ep: \(p.ep)")
        }
        if p.ep > 1, p.gpus / p.pp * p.ep > WorkEstimate.maxMessagesPerStep {
            bag.error(p.location, "one expert all-to-all would send more messages than the simulator takes", expected: "stage GPUs × ep ≤ \(WorkEstimate.maxMessagesPerStep)", found: "\(p.gpus / p.pp) × \(p.ep)")
        }
        let precisionName = precision.rawValue
        if topology.gpu.denseTFLOPS[precisionName] == nil {
            bag.error(
                batchLocation, "the GPU has no throughput figure for this precision", expected: "one of " + topology.gpu.denseTFLOPS.keys.sorted().joined(separator: ", "),
                found: "precision: \(precisionName)")
        }
        try bag.throwIfErrors()

        let M = batch / (p.dp * p.microbatch)
        // Tasks per class of replicas: about 10 per layer and microbatch (kernels and collectives).
        let estimatedTasks = WorkEstimate.trainingTasks(microbatches: M, layers: m.layers, faults: spec.faults.count)
        try budget.check(estimatedTasks, of: .tasks, at: batchLocation, key: "batch (microbatches per replica: batch / (dp × microbatch) = \(M)) or number of layers")
        if estimatedTasks > Double(maxTasks) {
            throw InputError(Diagnostic(
                at: batchLocation, "the training step has too many tasks to simulate (about \(formatDecimal(estimatedTasks, maxDecimals: 0)))",
                expected: "at most \(maxTasks) tasks: fewer microbatches per replica (batch / (dp × microbatch) = \(M)) or fewer layers", found: "batch: \(batch)"))
        }
        // FP8 training: the linear layers' products in FP8, everything stored and sent in BF16.
        let storage = precision.storage
        let cost = TransformerCost(
            model: m, gpu: topology.gpu, precision: storage.rawValue, bytesPerElement: storage.bytes, parallelism: p,
            matmul: precision == storage ? nil : (precisionName, precision.bytes))
        // Layers per stage (all equal unless first/last are set) and the first layer of each.
        let L = stageLayers.max() ?? m.layers / p.pp
        var offset = [0]
        for n in stageLayers { offset.append((offset.last ?? 0) + n) }
        // Layers of each model chunk (virtual stage k = chunk · pp + s), the model layer each starts
        // at, and where each chunk starts inside its stage.
        let chunkCounts = p.chunkLayers(total: m.layers) ?? Array(repeating: L / max(1, p.virtualStages), count: p.pp * p.virtualStages)
        var chunkStart = [0]
        for n in chunkCounts { chunkStart.append((chunkStart.last ?? 0) + n) }
        let stageChunkOffset: [[Int]] = (0..<p.pp).map { s in
            var o = [0]
            for c in 0..<p.virtualStages { o.append((o.last ?? 0) + chunkCounts[c * p.pp + s]) }
            return o
        }
        let e = Double(storage.bytes)
        let T = Double(p.microbatch * m.seqLen / p.cp)  // tokens of a microbatch on one GPU
        let activationBytes = UInt64(T * Double(m.hidden) * e)

        // Microbatch-chunks whose activations a stage holds at once: its warm-up forwards plus one.
        let v = p.virtualStages
        func inFlightUnits(_ s: Int) -> Int {
            let units = M * v
            return min(min(v == 1 ? p.pp - s - 1 : (p.pp - s - 1) * 2 + (v - 1) * p.pp, units) + 1, units)
        }
        // Parameters per GPU of each stage, and memory.
        let headParams = m.embeddingParameters / Double(p.tp)
        var stageParameters: [Double] = []
        var memory: [StageMemory] = []
        for s in 0..<p.pp {
            var params = Double(stageLayers[s]) * cost.layerParametersPerGPU
            if s == 0 { params += headParams }
            if s == p.pp - 1 { params += headParams }  // the output layer (its own, or the tied copy)
            stageParameters.append(params)
            let shard = Double(p.dp * p.cp)  // every copy of a shard: data- and context-parallel ranks
            // ZeRO 3 holds its shard plus two gathered layers (the one computing, the one prefetched).
            let weights = p.zero >= 3 ? 2 * params / shard + 2 * 2 * cost.layerParametersPerGPU : 2 * params
            let grads = 2 * params / (p.zero >= 2 ? shard : 1)
            let optimizer = 12 * params / (p.zero >= 1 ? shard : 1)
            // One chunk's layers, each keeping what its recomputation leaves (partial recomputation:
            // the first k of the chunk keep only their input).
            // (The largest of the stage's chunks: any of them may be the one in flight.)
            let chunkActivations = (0..<v).map { c in
                (0..<chunkCounts[c * p.pp + s]).reduce(0.0) { $0 + cost.activationBytesPerLayer(recompute: p.recompute(layerInChunk: $1)) }
            }.max() ?? 0
            var activations = chunkActivations * Double(inFlightUnits(s))
            if s == p.pp - 1 { activations += 4 * T * Double(m.vocab / p.tp) }  // fp32 logits
            memory.append(StageMemory(stage: s, weights: weights, gradients: grads, optimizer: optimizer, activations: activations))
        }
        if let worst = memory.max(by: { $0.total < $1.total }), worst.total > topology.gpu.hbmCapacity {
            func gb(_ x: Double) -> String { formatDecimal((x / 1e9 * 10).rounded() / 10) + " GB" }
            throw InputError(Diagnostic(
                at: spec.transformerLocation, "\(m.name) does not fit in GPU memory on stage \(worst.stage)",
                expected: "at most \(gb(topology.gpu.hbmCapacity)) per GPU (\(topology.gpu.name))",
                found: "\(gb(worst.total)) = weights \(gb(worst.weights)) + gradients \(gb(worst.gradients)) + optimizer \(gb(worst.optimizer)) + activations \(gb(worst.activations)) (\(inFlightUnits(worst.stage)) microbatch chunks of \((0..<v).map { chunkCounts[$0 * p.pp + worst.stage] }.max() ?? 0) layers in flight, recompute: \(p.recompute.rawValue)\(p.recomputeLayers.map { " of \($0) layers per chunk" } ?? ""), zero: \(p.zero))",
                hint: "raise tp or pp, use zero: 1–3, or recompute: selective or full"))
        }

        var b = Builder(stages: p.pp, capacity: Int(min(estimatedTasks / Double(1 + spec.faults.count), Double(maxTasks))))
        // Tensor-parallel communication overlap: each block's compute and the collective beside it
        // in tp pipelined chunks (1: no overlap).
        let overlapChunks = p.tpCommOverlap && p.tp > 1 ? p.tp : 1
        /// A block's compute: one operation, or `overlapChunks` chunks each after its collective chunk.
        func block(_ name: String, _ kind: StepWorkKind, _ s: Int, _ seconds: Double, deps: [Int]) -> Int {
            overlapChunks > 1
                ? b.chunkedCompute(name, kind, s, chunks: overlapChunks, seconds: seconds, deps: deps)
                : b.add(name, kind, stage: s, .compute, .compute(seconds: seconds), deps: deps)
        }
        let fwd = cost.forward
        // Backward seconds of the l-th layer of a chunk (partial recomputation: some layers rerun
        // their forward, the others do not).
        let backwardFull = cost.backward(recompute: .full), backwardBase = cost.backward
        let backwardPartial = p.recomputeLayers == nil ? backwardBase : cost.backward(recompute: .none)
        func bwd(_ l: Int) -> (attention: Double, ffn: Double) {
            p.recomputeLayers == nil ? backwardBase : (p.recompute(layerInChunk: l) == .full ? backwardFull : backwardPartial)
        }
        // A tensor-parallel all-reduce of the block's output, or with sequence parallelism its
        // reduce-scatter and the next block's all-gather (the same bytes over the ring).
        func tpCollective(_ name: String, _ s: Int, _ deps: [Int]) -> Int {
            if overlapChunks > 1 { return b.chunkedCollective(name, s, chunks: overlapChunks, sequenceParallel: p.sequenceParallel, bytes: activationBytes, deps: deps) }
            guard p.sequenceParallel else {
                return b.add(name + ".tp-all-reduce", .tp, stage: s, .compute, .collective(GroupCollective(op: .allReduce, group: .tp, stage: s, bytes: activationBytes)), deps: deps)
            }
            _ = b.add(name + ".tp-reduce-scatter", .tp, stage: s, .compute, .collective(GroupCollective(op: .reduceScatter, group: .tp, stage: s, bytes: activationBytes)), deps: deps)
            return b.add(name + ".tp-all-gather", .tp, stage: s, .compute, .collective(GroupCollective(op: .allGather, group: .tp, stage: s, bytes: activationBytes)), deps: [])
        }
        // Activations between stages: sequence-parallel ranks each send their share.
        let sendBytes = p.sequenceParallel ? activationBytes / UInt64(p.tp) : activationBytes
        let tpOn = p.tp > 1, epOn = m.isMoE && p.ep > 1, cpOn = p.cp > 1
        // Full recomputation repeats the forward's collectives before each layer's backward
        // (Megatron's full activation recomputation reruns the layer's forward, communication too).
        func repeatForwardCollectives(_ l: Int) -> Bool { p.recompute(layerInChunk: l) == .full && p.repeatRecomputedCollectives }
        let kvBytes = UInt64(cost.kvBytes)
        let a2aBytes = UInt64(T * Double(m.topK) * Double(m.hidden) * e)
        let layerDense = cost.layerParametersPerGPU - cost.layerExpertParametersPerGPU
        let layerExpert = cost.layerExpertParametersPerGPU
        let layerParamBytes = UInt64(cost.layerParametersPerGPU * e)
        let useDP = p.dp * p.cp > 1 && p.co2LocalSteps == nil
        let gradOp: CollectiveSpec.Op = p.zero >= 1 ? .reduceScatter : .allReduce

        // Per stage: forward/backward task ids of each class, by microbatch, and per-stage DP bookkeeping.
        var lastForward = [[Int]](repeating: Array(repeating: -1, count: M * v), count: p.pp)
        var forwardSend = lastForward, backwardSend = lastForward
        // ZeRO-3 gathers per (stage, microbatch, layer, pass), created lazily on the stage's DP stream.
        var gathers: [Int: Int] = [:]
        // Prefetch depth one: a layer's gather waits for the layer two before it to finish, so it
        // overlaps the layer just before (the first class's layers, in the stage's order).
        var layerEnds = [[Int]](repeating: [], count: p.pp)
        func gather(_ s: Int, _ mb: Int, _ l: Int, _ pass: Int) -> Int {
            let key = ((s * M + mb) * L + l) * 2 + pass
            if let id = gathers[key] { return id }
            let ends = layerEnds[s]
            let id = b.add(
                "stage\(s).mb\(mb).layer\(offset[s] + l).\(pass == 0 ? "forward" : "backward").param-all-gather", .dp, stage: s, .dataParallel, shared: .afterFirstReplica,
                .collective(GroupCollective(op: .allGather, group: .dp, stage: s, bytes: layerParamBytes)), deps: ends.count >= 2 ? [ends[ends.count - 2]] : [])
            gathers[key] = id
            return id
        }

        // The 1F1B order of every stage, interleaved across stages in microbatch order so that
        // task ids follow a valid topological order of the cross-stage dependencies.
        // With v virtual stages (Narayanan et al. 2021, §2.2.2), stage s holds chunks s, s + pp, …,
        // s + (v−1)·pp of Lc = L/v layers each; microbatches go through the chunks in groups of pp:
        // unit i is microbatch ⌊i/(pp·v)⌋·pp + i mod pp of chunk ⌊i/pp⌋ mod v (backward: v−1 minus
        // that), with (pp − s − 1)·2 + (v − 1)·pp warm-up forwards (pp − s − 1 without interleaving).
        // Layers of one chunk of stage s, and the model layer of a chunk's l-th layer (uneven stages
        // run without interleaving, so their chunk is the stage).
        func chunkLayers(_ s: Int, _ chunk: Int) -> Int { chunkCounts[chunk * p.pp + s] }
        func modelLayer(_ k: Int, _ l: Int) -> Int { chunkStart[k] + l }
        // ZeRO 1/2 with overlap_param_gather: the parameters updated by the previous step's
        // optimizer are all-gathered at this step's start, in buckets of `bucket` bytes in the
        // order the stage's first forwards need them (the embedding first, the output layer last);
        // a layer's first forward waits for its bucket. Per stage: bucket of each stage-local layer,
        // the last bucket (the output layer's), and the gathers.
        let overlapGather = p.overlapParamGather && useDP && (p.zero == 1 || p.zero == 2)
        var layerBucket = [[Int]](repeating: [], count: p.pp)
        var lastGather = [Int](repeating: -1, count: p.pp)
        if overlapGather {
            for s in 0..<p.pp {
                var items: [Double] = s == 0 ? [headParams] : []  // parameters, in need order
                for c in 0..<v { for _ in 0..<chunkLayers(s, c) { items.append(cost.layerParametersPerGPU) } }
                if s == p.pp - 1 { items.append(headParams) }
                var bucketOf: [Int] = [], gathers: [Int] = [], pending = 0.0
                func flush() {
                    guard pending > 0 else { return }
                    gathers.append(b.add("stage\(s).bucket\(gathers.count).param-all-gather", .dp, stage: s, .dataParallel, shared: .afterFirstReplica,
                        .collective(GroupCollective(op: .allGather, group: .dp, stage: s, bytes: UInt64(pending * e))), deps: []))
                    pending = 0
                }
                for (k, x) in items.enumerated() {
                    pending += x
                    bucketOf.append(gathers.count)
                    if pending * e >= Double(p.bucket) || k == items.count - 1 { flush() }
                }
                // Stage-local layer i is item i (+1 on stage 0, after the embedding).
                let first = s == 0 ? 1 : 0
                layerBucket[s] = (0..<stageLayers[s]).map { gathers[bucketOf[first + $0]] }
                lastGather[s] = gathers.last ?? -1
            }
        }
        let K = p.pp * v
        var orders: [[(forward: Bool, mb: Int, chunk: Int)]] = []
        for s in 0..<p.pp {
            let units = M * v
            let warm = min(v == 1 ? p.pp - s - 1 : (p.pp - s - 1) * 2 + (v - 1) * p.pp, units)
            func unit(_ i: Int, forward: Bool) -> (Bool, Int, Int) {
                let chunk = (i / p.pp) % v
                return (forward, (i / (p.pp * v)) * p.pp + i % p.pp, forward ? chunk : v - 1 - chunk)
            }
            var o: [(Bool, Int, Int)] = (0..<warm).map { unit($0, forward: true) }
            for i in 0..<(units - warm) {
                o.append(unit(warm + i, forward: true))
                o.append(unit(i, forward: false))
            }
            for i in (units - warm)..<units where i >= 0 { o.append(unit(i, forward: false)) }
            orders.append(o)
        }
        // Gradient-ready operations of the last microbatch (layer-granular), per stage.
        var gradReady = [[(task: Int, dense: Double, expert: Double)]](repeating: [], count: p.pp)
        var lastBackward = [Int](repeating: -1, count: p.pp)
        // ZeRO 3: each layer's gradient of each microbatch, and the order they appear.
        var layerGrad: [Int: Int] = [:]
        var layerGradOrder = [[(Int, Int)]](repeating: [], count: p.pp)
        do {
            // Walk all stages' orders in "rounds" so that dependencies exist before use: a
            // forward of stage s needs stage s−1's forward; a backward of s needs s+1's backward.
            var cursor = [Int](repeating: 0, count: p.pp)
            var progress = true
            while progress {
                progress = false
                for s in 0..<p.pp {
                    while cursor[s] < orders[s].count {
                        let (isForward, mb, chunk) = orders[s][cursor[s]]
                        let k = chunk * p.pp + s  // virtual stage
                        let slot = chunk * M + mb
                        if isForward {
                            // The previous virtual stage's activations (stage s − 1, or the last stage's previous chunk).
                            let from = k > 0 ? forwardSend[(k - 1) % p.pp][((k - 1) / p.pp) * M + mb] : -1
                            if k > 0, from < 0 { break }
                            var deps: [Int] = k > 0 ? [from] : []
                            var last = -1
                            for l in 0..<chunkLayers(s, chunk) {
                                let layer = modelLayer(k, l)
                                if p.zero >= 3, p.dp * p.cp > 1 { deps.append(gather(s, mb, stageChunkOffset[s][chunk] + l, 0)) }
                                if overlapGather, mb == 0 { deps.append(layerBucket[s][stageChunkOffset[s][chunk] + l]) }
                                if cpOn {
                                    last = b.add("stage\(s).mb\(mb).layer\(layer).kv-all-gather", .cp, stage: s, .compute, .collective(GroupCollective(op: .allGather, group: .cp, stage: s, bytes: kvBytes)), deps: deps)
                                    deps = []
                                }
                                last = block("stage\(s).mb\(mb).layer\(layer).attention.forward", .forward, s, fwd.attention, deps: deps)
                                deps = []
                                if tpOn { last = tpCollective("stage\(s).mb\(mb).layer\(layer).attention", s, []) }
                                if epOn { last = b.add("stage\(s).mb\(mb).layer\(layer).dispatch", .ep, stage: s, .compute, .collective(GroupCollective(op: .allToAll, group: .ep, stage: s, bytes: a2aBytes)), deps: []) }
                                last = block("stage\(s).mb\(mb).layer\(layer).ffn.forward", .forward, s, fwd.ffn, deps: [])
                                if epOn { last = b.add("stage\(s).mb\(mb).layer\(layer).combine", .ep, stage: s, .compute, .collective(GroupCollective(op: .allToAll, group: .ep, stage: s, bytes: a2aBytes)), deps: []) }
                                if tpOn { last = tpCollective("stage\(s).mb\(mb).layer\(layer).ffn", s, []) }
                                layerEnds[s].append(last)
                            }
                            if k == K - 1 {
                                last = b.add("stage\(s).mb\(mb).output.forward", .head, stage: s, .compute, .compute(seconds: cost.headForward), deps: overlapGather && mb == 0 ? [lastGather[s]] : [])
                            }
                            lastForward[s][slot] = last
                            if k < K - 1 {
                                forwardSend[s][slot] = b.add("stage\(s).mb\(mb).chunk\(chunk).send-activations", .pp, stage: s, .sendForward, .collective(GroupCollective(op: .sendRecv, group: .ppForward, stage: s, bytes: sendBytes)), deps: [last])
                            }
                        } else {
                            let from = k < K - 1 ? backwardSend[(k + 1) % p.pp][((k + 1) / p.pp) * M + mb] : -1
                            if k < K - 1, from < 0 { break }
                            var deps: [Int] = k < K - 1 ? [from] : [lastForward[s][slot]]
                            var last = -1
                            let lastMB = mb == M - 1
                            if k == K - 1 {
                                last = b.add("stage\(s).mb\(mb).output.backward", .head, stage: s, .compute, .compute(seconds: cost.headBackward), deps: deps)
                                deps = []
                                if lastMB { gradReady[s].append((last, headParams, 0)) }
                            }
                            for l in (0..<chunkLayers(s, chunk)).reversed() {
                                let layer = modelLayer(k, l)
                                if p.zero >= 3, p.dp * p.cp > 1 { deps.append(gather(s, mb, stageChunkOffset[s][chunk] + l, 1)) }
                                if repeatForwardCollectives(l) {
                                    // Full recomputation reruns the layer's forward, its collectives included
                                    // (their compute is in the backward kernels' time).
                                    let name = "stage\(s).mb\(mb).layer\(layer).recompute"
                                    if cpOn { last = b.add(name + ".kv-all-gather", .cp, stage: s, .compute, .collective(GroupCollective(op: .allGather, group: .cp, stage: s, bytes: kvBytes)), deps: deps); deps = [] }
                                    if tpOn { last = tpCollective(name + ".attention", s, deps); deps = [] }
                                    if epOn {
                                        last = b.add(name + ".dispatch", .ep, stage: s, .compute, .collective(GroupCollective(op: .allToAll, group: .ep, stage: s, bytes: a2aBytes)), deps: deps)
                                        last = b.add(name + ".combine", .ep, stage: s, .compute, .collective(GroupCollective(op: .allToAll, group: .ep, stage: s, bytes: a2aBytes)), deps: [])
                                        deps = []
                                    }
                                    if tpOn { last = tpCollective(name + ".ffn", s, deps); deps = [] }
                                }
                                if tpOn { last = tpCollective("stage\(s).mb\(mb).layer\(layer).ffn.backward", s, deps); deps = [] }
                                if epOn { last = b.add("stage\(s).mb\(mb).layer\(layer).combine.backward", .ep, stage: s, .compute, .collective(GroupCollective(op: .allToAll, group: .ep, stage: s, bytes: a2aBytes)), deps: deps); deps = [] }
                                last = block("stage\(s).mb\(mb).layer\(layer).ffn.backward", .backward, s, bwd(l).ffn, deps: deps)
                                deps = []
                                if epOn { last = b.add("stage\(s).mb\(mb).layer\(layer).dispatch.backward", .ep, stage: s, .compute, .collective(GroupCollective(op: .allToAll, group: .ep, stage: s, bytes: a2aBytes)), deps: []) }
                                if tpOn { last = tpCollective("stage\(s).mb\(mb).layer\(layer).attention.backward", s, []) }
                                last = block("stage\(s).mb\(mb).layer\(layer).attention.backward", .backward, s, bwd(l).attention, deps: [])
                                if cpOn { last = b.add("stage\(s).mb\(mb).layer\(layer).kv-grad-reduce-scatter", .cp, stage: s, .compute, .collective(GroupCollective(op: .reduceScatter, group: .cp, stage: s, bytes: kvBytes)), deps: []) }
                                if p.zero >= 3, useDP {
                                    layerGradOrder[s].append((mb, layer))
                                    layerGrad[mb * m.layers + layer] = last
                                }
                                if lastMB { gradReady[s].append((last, layerDense, layerExpert)) }
                                layerEnds[s].append(last)
                            }
                            if k == 0, lastMB { gradReady[s].append((last, headParams, 0)) }
                            if lastMB { lastBackward[s] = last }
                            if k > 0 {
                                backwardSend[s][slot] = b.add("stage\(s).mb\(mb).chunk\(chunk).send-gradients", .pp, stage: s, .sendBackward, .collective(GroupCollective(op: .sendRecv, group: .ppBackward, stage: s, bytes: sendBytes)), deps: [last])
                            }
                        }
                        cursor[s] += 1
                        progress = true
                    }
                }
            }
            if cursor.enumerated().contains(where: { $0.element < orders[$0.offset].count }) {
                throw InputError(Diagnostic(at: p.location, "internal error: the pipeline schedule could not be ordered", expected: "a 1F1B schedule", found: "a cycle"))
            }
        }

        // Gradient reduction in buckets, then the optimizer (and ZeRO's parameter all-gather): each
        // operation a block of its own, so that every class of replicas has run its own before the next.
        b.tail = true
        for s in 0..<p.pp {
            var reductions: [Int] = []
            if useDP, p.zero < 3 {
                let items = gradReady[s]
                var dense = 0.0, expert = 0.0
                func flush(_ k: Int) {
                    let deps = [p.overlap ? gradReady[s][k].task : lastBackward[s]]
                    if dense > 0 {
                        reductions.append(b.add("stage\(s).bucket\(reductions.count).grad-\(gradOp.rawValue)", .dp, stage: s, .dataParallel, shared: .afterEveryReplica,
                            .collective(GroupCollective(op: gradOp, group: .dp, stage: s, bytes: UInt64(dense * e))), deps: deps))
                    }
                    if expert > 0, p.dp / p.ep > 1 {
                        reductions.append(b.add("stage\(s).bucket\(reductions.count).expert-grad-\(gradOp.rawValue)", .dp, stage: s, .dataParallel, shared: .afterEveryReplica,
                            .collective(GroupCollective(op: gradOp, group: .expertDP, stage: s, bytes: UInt64(expert * e))), deps: deps))
                    }
                    dense = 0
                    expert = 0
                }
                for (k, item) in items.enumerated() {
                    dense += item.dense
                    expert += item.expert
                    if (dense + expert) * e >= Double(p.bucket) || k == items.count - 1 { flush(k) }
                }
            }
            if p.zero >= 3, useDP {
                // Each layer's gradient of each microbatch is reduce-scattered once every class has it.
                var lastRS = -1
                for (mb, layer) in layerGradOrder[s] {
                    let ready = layerGrad[mb * m.layers + layer].map { [$0] } ?? []
                    lastRS = b.add("stage\(s).mb\(mb).layer\(layer).grad-reduce-scatter", .dp, stage: s, .reduceScatter, shared: .afterEveryReplica,
                        .collective(GroupCollective(op: .reduceScatter, group: .dp, stage: s, bytes: layerParamBytes)), deps: ready)
                }
                // The embedding and output layer stay whole on every rank: their gradients are all-reduced.
                let outer = (s == 0 ? headParams : 0) + (s == p.pp - 1 ? headParams : 0)
                if outer > 0 {
                    lastRS = b.add("stage\(s).embedding-grad-all-reduce", .dp, stage: s, .reduceScatter, shared: .afterEveryReplica,
                        .collective(GroupCollective(op: .allReduce, group: .dp, stage: s, bytes: UInt64(outer * e))), deps: [lastBackward[s]])
                }
                reductions.append(lastRS)
            }
            let shard = p.zero >= 1 && useDP ? Double(p.dp * p.cp) : 1
            let optimizer = b.add("stage\(s).optimizer", .optimizer, stage: s, .compute, .compute(seconds: cost.optimizerSeconds(parameters: stageParameters[s] / shard)), deps: reductions.filter { $0 >= 0 })
            if useDP, p.zero == 1 || p.zero == 2, !overlapGather {
                _ = b.add("stage\(s).param-all-gather", .dp, stage: s, .dataParallel, shared: .afterEveryReplica,
                    .collective(GroupCollective(op: .allGather, group: .dp, stage: s, bytes: UInt64(stageParameters[s] * e))), deps: [optimizer])
            }
        }

        let flops = (Double(m.layers) * cost.layerFlops + cost.headFlops) * Double(M * p.dp * p.tp * p.cp)
        return ParallelStep(
            spec: spec, cost: cost, operations: b.operations, gpusPerStage: p.gpus / p.pp, bytesPerElement: storage.bytes, microbatches: M, layersPerStage: L,
            memory: memory, modelFlops: flops, stageParameters: stageParameters)
    }

    struct Builder {
        var operations: [StepOperation] = []
        /// After the replica's body: every operation is a block of its own.
        var tail = false
        /// Tensor-parallel overlap only: the chunks of the last chunked compute or collective (a
        /// collective chunk waits for the compute chunk of its index, and the other way round), the
        /// last operation on the compute stream, and the last collective chunk the compute stream
        /// has not waited for yet.
        /// (Each per pipeline stage: the stages' operations interleave, their streams do not.)
        var pending: [[Int]]
        var lastCompute: [Int]
        var tensorTail: [Int]
        init(stages: Int, capacity: Int) {
            operations.reserveCapacity(capacity)
            pending = Array(repeating: [], count: stages)
            lastCompute = Array(repeating: -1, count: stages)
            tensorTail = Array(repeating: -1, count: stages)
        }
        mutating func add(
            _ name: String, _ kind: StepWorkKind, stage: Int, _ stream: StepPlacement.Stream, shared: StepPlacement.Scope = .replica, _ work: DeviceWork, deps: [Int]
        ) -> Int {
            var deps = deps
            if stream == .compute, shared == .replica {
                // Work on the compute stream after overlapped collectives waits for the last of them.
                if tensorTail[stage] >= 0 { deps.append(tensorTail[stage]) }
                tensorTail[stage] = -1
                pending[stage] = []
            }
            let block = tail ? (operations.last?.placement.block ?? 0) + 1 : 0
            operations.append(StepOperation(name: name, work: work, dependencies: deps.filter { $0 >= 0 }, placement: StepPlacement(kind: kind, stage: stage, stream: stream, scope: shared, block: block)))
            if stream == .compute, shared == .replica { lastCompute[stage] = operations.count - 1 }
            return operations.count - 1
        }

        /// A block's compute in `chunks` equal chunks on the compute stream, chunk i after the
        /// collective chunk i before it (when one is pending); returns the last chunk.
        mutating func chunkedCompute(_ name: String, _ kind: StepWorkKind, _ stage: Int, chunks: Int, seconds: Double, deps: [Int]) -> Int {
            let before = pending[stage]
            var ids: [Int] = []
            for i in 0..<chunks {
                var d = i == 0 ? deps : []
                if before.count == chunks { d.append(before[i]) }
                let block = tail ? (operations.last?.placement.block ?? 0) + 1 : 0
                operations.append(StepOperation(
                    name: "\(name).chunk\(i)", work: .compute(seconds: seconds / Double(chunks)), dependencies: d.filter { $0 >= 0 },
                    placement: StepPlacement(kind: kind, stage: stage, stream: .compute, scope: .replica, block: block)))
                ids.append(operations.count - 1)
            }
            lastCompute[stage] = ids.last ?? lastCompute[stage]
            // The compute stream has waited for every collective chunk (the last chunk after the last).
            tensorTail[stage] = -1
            pending[stage] = ids
            return lastCompute[stage]
        }

        /// A tensor-parallel collective in `chunks` chunks of bytes / chunks on the tensor-parallel
        /// stream (a reduce-scatter and an all-gather each with sequence parallelism, else an
        /// all-reduce), chunk i after the compute chunk i before it (or, when the compute before it
        /// was not chunked, after the last compute); returns the last chunk.
        mutating func chunkedCollective(_ name: String, _ stage: Int, chunks: Int, sequenceParallel: Bool, bytes: UInt64, deps: [Int]) -> Int {
            let before = pending[stage]
            let share = bytes / UInt64(chunks)
            let ops: [(String, CollectiveSpec.Op)] = sequenceParallel ? [(".tp-reduce-scatter", .reduceScatter), (".tp-all-gather", .allGather)] : [(".tp-all-reduce", .allReduce)]
            var ids: [Int] = []
            for i in 0..<chunks {
                var d = i == 0 ? deps : []
                if before.count == chunks { d.append(before[i]) } else if i == 0 { d.append(lastCompute[stage]) }
                for (suffix, op) in ops {
                    let block = tail ? (operations.last?.placement.block ?? 0) + 1 : 0
                    operations.append(StepOperation(
                        name: "\(name)\(suffix).chunk\(i)", work: .collective(GroupCollective(op: op, group: .tp, stage: stage, bytes: share)), dependencies: d.filter { $0 >= 0 },
                        placement: StepPlacement(kind: .tp, stage: stage, stream: .tensorParallel, scope: .replica, block: block)))
                    d = []
                }
                ids.append(operations.count - 1)
            }
            tensorTail[stage] = ids.last ?? -1
            pending[stage] = ids
            return tensorTail[stage]
        }
    }
}
