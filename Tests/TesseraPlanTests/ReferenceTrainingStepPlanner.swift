import TesseraCore
@testable import TesseraGraph
import TesseraModel
import TesseraSpec

@testable import TesseraPlan

/// The training-step planner as it was before the step was elaborated into a dataflow graph
/// first: it built the tasks of every class of replicas directly from the model and its layout.
/// `ParallelStepEquivalenceTests` requires the graph-then-map planner to give exactly these tasks,
/// streams and entities.
enum ReferenceTrainingStepPlanner {
    /// The most tasks one step may have (memory and time of the simulation grow with them).
    /// `mergeReplicas: false` simulates every data-parallel replica on its own (the reference that
    /// checks merging identical replicas changes nothing).
    static func plan(
        _ spec: LLMTrainingSpec, precision: Precision, topology: ClusterTopology, batch: Int, batchLocation: SourceLocation, mergeReplicas: Bool = true,
        budget: WorkBudget = .standard
    ) throws(InputError) -> (tasks: [StepTask], streams: [StepStream], entities: [StepEntity]) {
        let p = spec.parallelism, m = spec.transformer
        var bag = DiagnosticBag()
        if p.gpus != topology.ranks {
            bag.error(
                p.location, "the parallel layout does not cover the cluster", expected: "tp × pp × dp\(p.cp > 1 ? " × cp" : "") = \(topology.ranks) GPUs (\(topology.nodes) nodes × \(topology.gpusPerNode))",
                found: "tp \(p.tp) × pp \(p.pp) × dp \(p.dp)\(p.cp > 1 ? " × cp \(p.cp)" : "") = \(p.gpus)")
        }
        let stageLayers = p.stageLayers(total: m.layers) ?? []
        if stageLayers.isEmpty, !p.unevenStages {
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
        if p.ep > 1, p.gpus / p.pp * p.ep > CollectivePlanner.maxMessagesPerStep {
            bag.error(p.location, "one expert all-to-all would send more messages than the simulator takes", expected: "stage GPUs × ep ≤ \(CollectivePlanner.maxMessagesPerStep)", found: "\(p.gpus / p.pp) × \(p.ep)")
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
        if estimatedTasks > Double(ParallelStepElaborator.maxTasks) {
            throw InputError(Diagnostic(
                at: batchLocation, "the training step has too many tasks to simulate (about \(formatDecimal(estimatedTasks, maxDecimals: 0)))",
                expected: "at most \(ParallelStepElaborator.maxTasks) tasks: fewer microbatches per replica (batch / (dp × microbatch) = \(M)) or fewer layers", found: "batch: \(batch)"))
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
            var activations = Double(stageLayers[s] / v) * cost.activationBytesPerLayer * Double(inFlightUnits(s))
            if s == p.pp - 1 { activations += 4 * T * Double(m.vocab / p.tp) }  // fp32 logits
            memory.append(StageMemory(stage: s, weights: weights, gradients: grads, optimizer: optimizer, activations: activations))
        }
        if let worst = memory.max(by: { $0.total < $1.total }), worst.total > topology.gpu.hbmCapacity {
            func gb(_ x: Double) -> String { formatDecimal((x / 1e9 * 10).rounded() / 10) + " GB" }
            throw InputError(Diagnostic(
                at: spec.transformerLocation, "\(m.name) does not fit in GPU memory on stage \(worst.stage)",
                expected: "at most \(gb(topology.gpu.hbmCapacity)) per GPU (\(topology.gpu.name))",
                found: "\(gb(worst.total)) = weights \(gb(worst.weights)) + gradients \(gb(worst.gradients)) + optimizer \(gb(worst.optimizer)) + activations \(gb(worst.activations)) (\(inFlightUnits(worst.stage)) microbatch chunks of \(stageLayers[worst.stage] / v) layers in flight, recompute: \(p.recompute.rawValue), zero: \(p.zero))",
                hint: "raise tp or pp, use zero: 1–3, or recompute: selective or full"))
        }

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

        var b = Builder()
        var entity = [[Int]](repeating: [], count: classes.count)  // class → stage → entity
        for (c, replicas) in classes.enumerated() {
            for s in 0..<p.pp {
                let ranks = replicas.flatMap { d in (0..<p.cp).flatMap { c in (0..<p.tp).map { $0 + p.tp * (c + p.cp * (d + p.dp * s)) } } }
                let label = classes.count == 1 ? "stage\(s)" : c == 0 && !healthy.isEmpty && mergeReplicas ? "stage\(s)" : "stage\(s).replica\(replicas[0])"
                entity[c].append(b.entities.count)
                b.entities.append(StepEntity(stage: s, replicas: replicas, ranks: ranks, name: label))
            }
        }
        var computeStream = [Int](), sendForward = [Int](), sendBackward = [Int]()
        for (i, en) in b.entities.enumerated() {
            computeStream.append(b.stream("\(en.name).compute", entity: i, stage: en.stage))
            sendForward.append(b.stream("\(en.name).send-forward", entity: i, stage: en.stage))
            sendBackward.append(b.stream("\(en.name).send-backward", entity: i, stage: en.stage))
        }
        let dpStream = (0..<p.pp).map { b.stream("stage\($0).data-parallel", entity: nil, stage: $0) }

        let fwd = cost.forward, bwd = cost.backward
        // A tensor-parallel all-reduce of the block's output, or with sequence parallelism its
        // reduce-scatter and the next block's all-gather (the same bytes over the ring).
        func tpCollective(_ name: String, _ s: Int, _ en: Int, _ deps: [Int]) -> Int {
            guard p.sequenceParallel else {
                return b.add(name + ".tp-all-reduce", .tp, stream: computeStream[en], entity: en, .collective(GroupCollective(op: .allReduce, group: .tp, stage: s, bytes: activationBytes)), deps: deps)
            }
            _ = b.add(name + ".tp-reduce-scatter", .tp, stream: computeStream[en], entity: en, .collective(GroupCollective(op: .reduceScatter, group: .tp, stage: s, bytes: activationBytes)), deps: deps)
            return b.add(name + ".tp-all-gather", .tp, stream: computeStream[en], entity: en, .collective(GroupCollective(op: .allGather, group: .tp, stage: s, bytes: activationBytes)), deps: [])
        }
        // Activations between stages: sequence-parallel ranks each send their share.
        let sendBytes = p.sequenceParallel ? activationBytes / UInt64(p.tp) : activationBytes
        let tpOn = p.tp > 1, epOn = m.isMoE && p.ep > 1, cpOn = p.cp > 1
        // Full recomputation repeats the forward's collectives before each layer's backward
        // (Megatron's full activation recomputation reruns the layer's forward, communication too).
        let repeatForwardCollectives = p.recompute == .full && p.repeatRecomputedCollectives
        let kvBytes = UInt64(cost.kvBytes)
        let a2aBytes = UInt64(T * Double(m.topK) * Double(m.hidden) * e)
        let layerDense = cost.layerParametersPerGPU - cost.layerExpertParametersPerGPU
        let layerExpert = cost.layerExpertParametersPerGPU
        let layerParamBytes = UInt64(cost.layerParametersPerGPU * e)
        let useDP = p.dp * p.cp > 1 && p.co2LocalSteps == nil
        let gradOp: CollectiveSpec.Op = p.zero >= 1 ? .reduceScatter : .allReduce

        // Per stage: forward/backward task ids of each class, by microbatch, and per-stage DP bookkeeping.
        var lastForward = [[Int]](repeating: [], count: b.entities.count)
        var forwardSend = [[Int]](repeating: [], count: b.entities.count)
        var backwardSend = [[Int]](repeating: [], count: b.entities.count)
        for i in b.entities.indices {
            lastForward[i] = Array(repeating: -1, count: M * v)
            forwardSend[i] = Array(repeating: -1, count: M * v)
            backwardSend[i] = Array(repeating: -1, count: M * v)
        }
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
                "stage\(s).mb\(mb).layer\(offset[s] + l).\(pass == 0 ? "forward" : "backward").param-all-gather", .dp, stream: dpStream[s], entity: entity[0][s],
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
        func chunkLayers(_ s: Int) -> Int { stageLayers[s] / v }
        func modelLayer(_ k: Int, _ s: Int, _ l: Int) -> Int { v == 1 ? offset[s] + l : k * (L / v) + l }
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
        // Per-class gradient-ready tasks of the last microbatch (layer-granular), per stage.
        var gradReady = [[[(task: Int, dense: Double, expert: Double)]]](repeating: [[(Int, Double, Double)]](repeating: [], count: p.pp), count: classes.count)
        var lastBackward = [[Int]](repeating: [Int](repeating: -1, count: p.pp), count: classes.count)
        // ZeRO 3: each layer's gradient of each microbatch, per class, and the order they appear.
        var layerGrad = [[Int: Int]](repeating: [:], count: classes.count)
        var layerGradOrder = [[(Int, Int)]](repeating: [], count: p.pp)
        for c in classes.indices {
            // Walk all stages' orders in "rounds" so that dependencies exist before use: a
            // forward of stage s needs stage s−1's forward; a backward of s needs s+1's backward.
            var cursor = [Int](repeating: 0, count: p.pp)
            var progress = true
            while progress {
                progress = false
                for s in 0..<p.pp {
                    while cursor[s] < orders[s].count {
                        let (isForward, mb, chunk) = orders[s][cursor[s]]
                        let en = entity[c][s]
                        let k = chunk * p.pp + s  // virtual stage
                        let slot = chunk * M + mb
                        if isForward {
                            // The previous virtual stage's activations (stage s − 1, or the last stage's previous chunk).
                            let from = k > 0 ? forwardSend[entity[c][(k - 1) % p.pp]][((k - 1) / p.pp) * M + mb] : -1
                            if k > 0, from < 0 { break }
                            var deps: [Int] = k > 0 ? [from] : []
                            var last = -1
                            for l in 0..<chunkLayers(s) {
                                let layer = modelLayer(k, s, l)
                                if p.zero >= 3, p.dp * p.cp > 1 { deps.append(gather(s, mb, chunk * chunkLayers(s) + l, 0)) }
                                if cpOn {
                                    last = b.add("stage\(s).mb\(mb).layer\(layer).kv-all-gather", .cp, stream: computeStream[en], entity: en, .collective(GroupCollective(op: .allGather, group: .cp, stage: s, bytes: kvBytes)), deps: deps)
                                    deps = []
                                }
                                last = b.add("stage\(s).mb\(mb).layer\(layer).attention.forward", .forward, stream: computeStream[en], entity: en, .compute(fwd.attention), deps: deps)
                                deps = []
                                if tpOn { last = tpCollective("stage\(s).mb\(mb).layer\(layer).attention", s, en, []) }
                                if epOn { last = b.add("stage\(s).mb\(mb).layer\(layer).dispatch", .ep, stream: computeStream[en], entity: en, .collective(GroupCollective(op: .allToAll, group: .ep, stage: s, bytes: a2aBytes)), deps: []) }
                                last = b.add("stage\(s).mb\(mb).layer\(layer).ffn.forward", .forward, stream: computeStream[en], entity: en, .compute(fwd.ffn), deps: [])
                                if epOn { last = b.add("stage\(s).mb\(mb).layer\(layer).combine", .ep, stream: computeStream[en], entity: en, .collective(GroupCollective(op: .allToAll, group: .ep, stage: s, bytes: a2aBytes)), deps: []) }
                                if tpOn { last = tpCollective("stage\(s).mb\(mb).layer\(layer).ffn", s, en, []) }
                                if c == 0 { layerEnds[s].append(last) }
                            }
                            if k == K - 1 { last = b.add("stage\(s).mb\(mb).output.forward", .head, stream: computeStream[en], entity: en, .compute(cost.headForward), deps: []) }
                            lastForward[en][slot] = last
                            if k < K - 1 {
                                forwardSend[en][slot] = b.add("stage\(s).mb\(mb).chunk\(chunk).send-activations", .pp, stream: sendForward[en], entity: en, .collective(GroupCollective(op: .sendRecv, group: .ppForward, stage: s, bytes: sendBytes)), deps: [last])
                            }
                        } else {
                            let from = k < K - 1 ? backwardSend[entity[c][(k + 1) % p.pp]][((k + 1) / p.pp) * M + mb] : -1
                            if k < K - 1, from < 0 { break }
                            var deps: [Int] = k < K - 1 ? [from] : [lastForward[en][slot]]
                            var last = -1
                            let lastMB = mb == M - 1
                            if k == K - 1 {
                                last = b.add("stage\(s).mb\(mb).output.backward", .head, stream: computeStream[en], entity: en, .compute(cost.headBackward), deps: deps)
                                deps = []
                                if lastMB { gradReady[c][s].append((last, headParams, 0)) }
                            }
                            for l in (0..<chunkLayers(s)).reversed() {
                                let layer = modelLayer(k, s, l)
                                if p.zero >= 3, p.dp * p.cp > 1 { deps.append(gather(s, mb, chunk * chunkLayers(s) + l, 1)) }
                                if repeatForwardCollectives {
                                    // Full recomputation reruns the layer's forward, its collectives included
                                    // (their compute is in the backward kernels' time).
                                    let name = "stage\(s).mb\(mb).layer\(layer).recompute"
                                    if cpOn { last = b.add(name + ".kv-all-gather", .cp, stream: computeStream[en], entity: en, .collective(GroupCollective(op: .allGather, group: .cp, stage: s, bytes: kvBytes)), deps: deps); deps = [] }
                                    if tpOn { last = tpCollective(name + ".attention", s, en, deps); deps = [] }
                                    if epOn {
                                        last = b.add(name + ".dispatch", .ep, stream: computeStream[en], entity: en, .collective(GroupCollective(op: .allToAll, group: .ep, stage: s, bytes: a2aBytes)), deps: deps)
                                        last = b.add(name + ".combine", .ep, stream: computeStream[en], entity: en, .collective(GroupCollective(op: .allToAll, group: .ep, stage: s, bytes: a2aBytes)), deps: [])
                                        deps = []
                                    }
                                    if tpOn { last = tpCollective(name + ".ffn", s, en, deps); deps = [] }
                                }
                                if tpOn { last = tpCollective("stage\(s).mb\(mb).layer\(layer).ffn.backward", s, en, deps); deps = [] }
                                if epOn { last = b.add("stage\(s).mb\(mb).layer\(layer).combine.backward", .ep, stream: computeStream[en], entity: en, .collective(GroupCollective(op: .allToAll, group: .ep, stage: s, bytes: a2aBytes)), deps: deps); deps = [] }
                                last = b.add("stage\(s).mb\(mb).layer\(layer).ffn.backward", .backward, stream: computeStream[en], entity: en, .compute(bwd.ffn), deps: deps)
                                deps = []
                                if epOn { last = b.add("stage\(s).mb\(mb).layer\(layer).dispatch.backward", .ep, stream: computeStream[en], entity: en, .collective(GroupCollective(op: .allToAll, group: .ep, stage: s, bytes: a2aBytes)), deps: []) }
                                if tpOn { last = tpCollective("stage\(s).mb\(mb).layer\(layer).attention.backward", s, en, []) }
                                last = b.add("stage\(s).mb\(mb).layer\(layer).attention.backward", .backward, stream: computeStream[en], entity: en, .compute(bwd.attention), deps: [])
                                if cpOn { last = b.add("stage\(s).mb\(mb).layer\(layer).kv-grad-reduce-scatter", .cp, stream: computeStream[en], entity: en, .collective(GroupCollective(op: .reduceScatter, group: .cp, stage: s, bytes: kvBytes)), deps: []) }
                                if p.zero >= 3, useDP {
                                    if c == 0 { layerGradOrder[s].append((mb, layer)) }
                                    layerGrad[c][mb * m.layers + layer] = last
                                }
                                if lastMB { gradReady[c][s].append((last, layerDense, layerExpert)) }
                                if c == 0 { layerEnds[s].append(last) }
                            }
                            if k == 0, lastMB { gradReady[c][s].append((last, headParams, 0)) }
                            if lastMB { lastBackward[c][s] = last }
                            if k > 0 {
                                backwardSend[en][slot] = b.add("stage\(s).mb\(mb).chunk\(chunk).send-gradients", .pp, stream: sendBackward[en], entity: en, .collective(GroupCollective(op: .sendRecv, group: .ppBackward, stage: s, bytes: sendBytes)), deps: [last])
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

        // Gradient reduction in buckets, then the optimizer (and ZeRO's parameter all-gather).
        for s in 0..<p.pp {
            var reductions: [Int] = []
            if useDP, p.zero < 3 {
                let items = gradReady[0][s]
                var dense = 0.0, expert = 0.0
                func flush(_ k: Int) {
                    let deps = (0..<classes.count).map { c in p.overlap ? gradReady[c][s][k].task : lastBackward[c][s] }
                    if dense > 0 {
                        reductions.append(b.add("stage\(s).bucket\(reductions.count).grad-\(gradOp.rawValue)", .dp, stream: dpStream[s], entity: entity[0][s],
                            .collective(GroupCollective(op: gradOp, group: .dp, stage: s, bytes: UInt64(dense * e))), deps: deps))
                    }
                    if expert > 0, p.dp / p.ep > 1 {
                        reductions.append(b.add("stage\(s).bucket\(reductions.count).expert-grad-\(gradOp.rawValue)", .dp, stream: dpStream[s], entity: entity[0][s],
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
                let rs = b.stream("stage\(s).reduce-scatter", entity: nil, stage: s)
                var lastRS = -1
                for (mb, layer) in layerGradOrder[s] {
                    let ready = classes.indices.compactMap { layerGrad[$0][mb * m.layers + layer] }
                    lastRS = b.add("stage\(s).mb\(mb).layer\(layer).grad-reduce-scatter", .dp, stream: rs, entity: entity[0][s],
                        .collective(GroupCollective(op: .reduceScatter, group: .dp, stage: s, bytes: layerParamBytes)), deps: ready)
                }
                // The embedding and output layer stay whole on every rank: their gradients are all-reduced.
                let outer = (s == 0 ? headParams : 0) + (s == p.pp - 1 ? headParams : 0)
                if outer > 0 {
                    lastRS = b.add("stage\(s).embedding-grad-all-reduce", .dp, stream: rs, entity: entity[0][s],
                        .collective(GroupCollective(op: .allReduce, group: .dp, stage: s, bytes: UInt64(outer * e))), deps: classes.indices.map { lastBackward[$0][s] })
                }
                reductions.append(lastRS)
            }
            let shard = p.zero >= 1 && useDP ? Double(p.dp * p.cp) : 1
            var optimizers: [Int] = []
            for c in classes.indices {
                let en = entity[c][s]
                optimizers.append(b.add("stage\(s).optimizer", .optimizer, stream: computeStream[en], entity: en, .compute(cost.optimizerSeconds(parameters: stageParameters[s] / shard)), deps: reductions.filter { $0 >= 0 }))
            }
            if useDP, p.zero == 1 || p.zero == 2 {
                _ = b.add("stage\(s).param-all-gather", .dp, stream: dpStream[s], entity: entity[0][s],
                    .collective(GroupCollective(op: .allGather, group: .dp, stage: s, bytes: UInt64(stageParameters[s] * e))), deps: optimizers)
            }
        }

        return (b.tasks, b.streams, b.entities)
    }

    struct Builder {
        var tasks: [StepTask] = []
        var streams: [StepStream] = []
        var entities: [StepEntity] = []
        mutating func stream(_ name: String, entity: Int?, stage: Int) -> Int {
            streams.append(StepStream(name: name, entity: entity, stage: stage))
            return streams.count - 1
        }
        mutating func add(_ name: String, _ kind: StepTask.Kind, stream: Int, entity: Int, _ work: StepTask.Work, deps: [Int]) -> Int {
            tasks.append(StepTask(name: name, kind: kind, stream: stream, entity: entity, work: work, deps: deps.filter { $0 >= 0 }))
            return tasks.count - 1
        }
    }
}
