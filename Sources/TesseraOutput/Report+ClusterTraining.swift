import TesseraCore
import TesseraSpec

extension Report {
    /// One training step of a transformer on a GPU cluster.
    public struct ClusterStep: Sendable {
        /// Where one class of GPUs spends the step: compute, communication that compute hides
        /// (overlapped), communication it waits for (exposed) and nothing (idle, the pipeline bubble).
        public struct Split: Sendable {
            public var compute = 0.0, exposedComm = 0.0, overlappedComm = 0.0, idle = 0.0
            var json: JSONValue {
                .object([("compute_s", .double(compute)), ("exposed_comm_s", .double(exposedComm)), ("overlapped_comm_s", .double(overlappedComm)), ("idle_s", .double(idle))])
            }

            public init(compute: Double = 0.0, exposedComm: Double = 0.0, overlappedComm: Double = 0.0, idle: Double = 0.0) {
                self.compute = compute
                self.exposedComm = exposedComm
                self.overlappedComm = overlappedComm
                self.idle = idle
            }
        }
        public struct Stage: Sendable {
            public var name: String
            public var stage: Int
            public var gpus: Int
            public var split: Split
            /// Seconds of each kind of communication on this GPU's streams (tp, pp, dp, ep).
            public var comm: [(String, Double)]
            public var memory: (weights: Double, gradients: Double, optimizer: Double, activations: Double)

            public init(name: String, stage: Int, gpus: Int, split: Split, comm: [(String, Double)], memory: (weights: Double, gradients: Double, optimizer: Double, activations: Double)) {
                self.name = name
                self.stage = stage
                self.gpus = gpus
                self.split = split
                self.comm = comm
                self.memory = memory
            }
        }
        public var model: String
        public var parameters: Double
        public var gpus: Int
        public var tp: Int, pp: Int, dp: Int, ep: Int, zero: Int
        public var cp = 1
        public var virtualStages = 1
        public var sequenceParallel = false
        public var microbatches: Int
        public var microbatch: Int
        public var recompute: String
        public var overlap: Bool
        public var stepSeconds: Double
        public var tokensPerSecond: Double
        public var modelFlops: Double
        public var mfu: Double
        public var split: Split
        public var stages: [Stage]
        public var memoryCapacity: Double
        public var slowestRank: (rank: Int, seconds: Double, medianSeconds: Double)?
        public var slowestLink: (name: String, slowed: Int, messages: Int)?
        public var busiestLink: (name: String, utilization: Double)?
        public var faults: [(component: String, effect: String, at: Double)]
        public var failure: (component: String, at: Double)?
        public var co2: (localSteps: Int, localStepSeconds: Double, outerSeconds: Double)?
        public var tasks: Int
        public var collectivesSimulated: Int

        var json: JSONValue {
            var pairs: [(String, JSONValue)] = [
                ("model", .string(model)), ("parameters", .double(parameters)), ("gpus", .int(Int64(gpus))),
                ("parallelism", .object([
                    ("tp", .int(Int64(tp))), ("pp", .int(Int64(pp))), ("dp", .int(Int64(dp))), ("ep", .int(Int64(ep))), ("cp", .int(Int64(cp))), ("zero", .int(Int64(zero))),
                    ("microbatch", .int(Int64(microbatch))), ("microbatches", .int(Int64(microbatches))), ("virtual_stages", .int(Int64(virtualStages))),
                    ("sequence_parallel", .bool(sequenceParallel)), ("recompute", .string(recompute)), ("overlap", .bool(overlap)),
                ])),
                ("step_seconds", .double(stepSeconds)), ("tokens_per_second", .double(tokensPerSecond)), ("model_flops", .double(modelFlops)), ("mfu", .double(mfu)),
                ("time_split", split.json),
            ]
            pairs.append(("stages", .array(stages.map { s in
                .object([
                    ("name", .string(s.name)), ("stage", .int(Int64(s.stage))), ("gpus", .int(Int64(s.gpus))), ("time_split", s.split.json),
                    ("comm_s", .object(s.comm.map { ($0.0, JSONValue.double($0.1)) })),
                    ("memory_bytes", .object([
                        ("weights", .double(s.memory.weights)), ("gradients", .double(s.memory.gradients)), ("optimizer", .double(s.memory.optimizer)),
                        ("activations", .double(s.memory.activations)),
                        ("total", .double(s.memory.weights + s.memory.gradients + s.memory.optimizer + s.memory.activations)),
                    ])),
                ])
            })))
            pairs.append(("memory_capacity_bytes", .double(memoryCapacity)))
            if let r = slowestRank {
                pairs.append(("slowest_rank", .object([("rank", .int(Int64(r.rank))), ("name", .string("gpu\(r.rank)")), ("compute_s", .double(r.seconds)), ("median_compute_s", .double(r.medianSeconds))])))
            }
            if let l = slowestLink {
                pairs.append(("slowest_link", .object([("name", .string(l.name)), ("slowed_messages", .int(Int64(l.slowed))), ("messages", .int(Int64(l.messages)))])))
            }
            if let l = busiestLink { pairs.append(("busiest_link", .object([("name", .string(l.name)), ("utilization", .double(l.utilization))]))) }
            if !faults.isEmpty {
                pairs.append(("faults", .array(faults.map { .object([("component", .string($0.component)), ("effect", .string($0.effect)), ("at_s", .double($0.at))]) })))
            }
            if let f = failure { pairs.append(("failure", .object([("component", .string(f.component)), ("at_s", .double(f.at))]))) }
            if let c = co2 {
                pairs.append(("co2", .object([
                    ("local_steps", .int(Int64(c.localSteps))), ("local_step_s", .double(c.localStepSeconds)), ("outer_all_reduce_s", .double(c.outerSeconds)),
                    ("exposed_per_step_s", .double(max(0, c.outerSeconds - Double(c.localSteps) * c.localStepSeconds) / Double(c.localSteps))),
                ])))
            }
            pairs.append(("tasks", .int(Int64(tasks))))
            pairs.append(("collectives_simulated", .int(Int64(collectivesSimulated))))
            return .object(pairs)
        }

        /// One CSV row per class of GPUs (a stage): its time split, communication by kind and memory.
        func csv() -> String {
            let kinds = ["tp", "pp", "dp", "ep", "cp"]
            var s = "stage,name,gpus,compute_s,exposed_comm_s,overlapped_comm_s,idle_s," + kinds.map { "\($0)_comm_s" }.joined(separator: ",")
            s += ",weights_bytes,gradients_bytes,optimizer_bytes,activations_bytes\n"
            for st in stages {
                let comm = Dictionary(st.comm, uniquingKeysWith: { a, _ in a })
                let fields = ["\(st.stage)", st.name, "\(st.gpus)"] + [st.split.compute, st.split.exposedComm, st.split.overlappedComm, st.split.idle].map(JSONValue.number)
                    + kinds.map { JSONValue.number(comm[$0] ?? 0) } + [st.memory.weights, st.memory.gradients, st.memory.optimizer, st.memory.activations].map(JSONValue.number)
                s += fields.joined(separator: ",") + "\n"
            }
            return s
        }

        func markdown() -> String {
            func ms(_ s: Double) -> String { formatDecimal(s * 1e3, maxDecimals: 3) + " ms" }
            func gb(_ b: Double) -> String { formatDecimal(b / 1e9, maxDecimals: 2) + " GB" }
            func pct(_ x: Double) -> String { formatDecimal(x * 100, maxDecimals: 2) + "%" }
            var s = "\n## Training step\n\n| figure | value |\n| --- | --- |\n"
            s += "| model | \(model), \(formatDecimal(parameters / 1e9, maxDecimals: 2)) B parameters |\n"
            s += "| layout | \(gpus) GPUs: tp \(tp) × pp \(pp) × dp \(dp)\(cp > 1 ? " × cp \(cp)" : "")\(ep > 1 ? ", ep \(ep)" : ""), ZeRO \(zero), \(microbatches) microbatches of \(microbatch), recompute \(recompute) |\n"
            s += "| step | \(ms(stepSeconds)), \(formatDecimal(tokensPerSecond, maxDecimals: 0)) tokens/s, MFU \(pct(mfu)) |\n"
            s += "| per GPU | compute \(ms(split.compute)), exposed communication \(ms(split.exposedComm)), overlapped \(ms(split.overlappedComm)), idle \(ms(split.idle)) |\n"
            if let r = slowestRank { s += "| slowest rank | gpu\(r.rank): \(ms(r.seconds)) of compute (median \(ms(r.medianSeconds))) |\n" }
            if let l = slowestLink { s += "| slowest link | \(l.name): \(l.slowed) of \(l.messages) messages late |\n" }
            if let l = busiestLink { s += "| busiest link | \(l.name), \(pct(l.utilization)) busy |\n" }
            if let f = failure { s += "| failure | \(f.component) cut at \(ms(f.at)): the step does not complete |\n" }
            if let c = co2 { s += "| CO2 | outer all-reduce \(ms(c.outerSeconds)) every \(c.localSteps) local steps of \(ms(c.localStepSeconds)) |\n" }
            s += "\n| stage | GPUs | compute | exposed comm | overlapped comm | idle | memory (weights + grads + optimizer + activations) |\n| --- | ---: | ---: | ---: | ---: | ---: | --- |\n"
            for st in stages {
                let m = st.memory
                s += "| \(st.name) | \(st.gpus) | \(ms(st.split.compute)) | \(ms(st.split.exposedComm)) | \(ms(st.split.overlappedComm)) | \(ms(st.split.idle)) | \(gb(m.weights + m.gradients + m.optimizer + m.activations)) = \(gb(m.weights)) + \(gb(m.gradients)) + \(gb(m.optimizer)) + \(gb(m.activations)) of \(gb(memoryCapacity)) |\n"
            }
            return s
        }

        public init(model: String, parameters: Double, gpus: Int, tp: Int, pp: Int, dp: Int, ep: Int, zero: Int, cp: Int = 1, virtualStages: Int = 1, sequenceParallel: Bool = false, microbatches: Int, microbatch: Int, recompute: String, overlap: Bool, stepSeconds: Double, tokensPerSecond: Double, modelFlops: Double, mfu: Double, split: Split, stages: [Stage], memoryCapacity: Double, slowestRank: (rank: Int, seconds: Double, medianSeconds: Double)?, slowestLink: (name: String, slowed: Int, messages: Int)?, busiestLink: (name: String, utilization: Double)?, faults: [(component: String, effect: String, at: Double)], failure: (component: String, at: Double)?, co2: (localSteps: Int, localStepSeconds: Double, outerSeconds: Double)?, tasks: Int, collectivesSimulated: Int) {
            self.model = model
            self.parameters = parameters
            self.gpus = gpus
            self.tp = tp
            self.pp = pp
            self.dp = dp
            self.ep = ep
            self.zero = zero
            self.cp = cp
            self.virtualStages = virtualStages
            self.sequenceParallel = sequenceParallel
            self.microbatches = microbatches
            self.microbatch = microbatch
            self.recompute = recompute
            self.overlap = overlap
            self.stepSeconds = stepSeconds
            self.tokensPerSecond = tokensPerSecond
            self.modelFlops = modelFlops
            self.mfu = mfu
            self.split = split
            self.stages = stages
            self.memoryCapacity = memoryCapacity
            self.slowestRank = slowestRank
            self.slowestLink = slowestLink
            self.busiestLink = busiestLink
            self.faults = faults
            self.failure = failure
            self.co2 = co2
            self.tasks = tasks
            self.collectivesSimulated = collectivesSimulated
        }
    }

    public static let fp8Note =
        "fp8 (Transformer Engine style): the linear layers' products (QKV, output projection, FFN, router) run forward and backward at the GPU's dense FP8 rate with 1-byte operands, with the GEMM efficiency scaled by the H100's measured FP8/BF16 share of peak (70.9% / 80.3%, the maximum achievable matmul FLOPS table of S. Bekman's Machine Learning Engineering); the attention core, the output layer, element-wise work, weights, gradients and all communication stay in BF16, and so do activations except each linear layer's input saved for its weight gradient, kept in FP8 (ASSUMED from Transformer Engine's Linear, which saves the FP8 copy it casts: 10 -> 8 and 24/t -> 19/t of Korthikanti's per-layer terms for a 4h FFN); MFU is against the BF16 peak"

    public static let gpuEnergyNote =
        "energy: each GPU draws its TDP while computing and its idle power otherwise (communication and the bubble): E = sum over GPUs of TDP x t_compute + P_idle x (T - t_compute); idle power is 10% of TDP unless gpu.idle_power says otherwise (an assumption); peak power is the largest 1 us (or step/4096) window, with link energy spread evenly over the step"

    /// What the options a run uses add to the model, one note each.
    public static func clusterTrainingOptionNotes(_ p: ParallelismSpec, faults: Bool) -> [String] {
        var notes: [String] = []
        if p.virtualStages > 1 {
            notes.append("interleaved 1F1B: \(p.virtualStages) model chunks per stage, microbatches in groups of pp, (pp - s - 1) x 2 + (v - 1) x pp warm-up chunk-forwards (Narayanan et al. 2021)")
        }
        if p.recompute == .full, let k = p.recomputeLayers {
            notes.append(
                "partial recomputation (Megatron-LM --recompute-method block --recompute-num-layers \(k)): the first \(k) layers of each model chunk keep only their input and rerun their forward before their backward"
                    + (p.repeatRecomputedCollectives ? ", its tensor/expert/context collectives too" : " (not its collectives: recompute_collectives: false)")
                    + "; the other layers keep all their activations and rerun nothing")
        } else if p.recompute == .full {
            notes.append(
                p.repeatRecomputedCollectives
                    ? "full recomputation: each layer's forward is rerun before its backward, its compute and its tensor/expert/context collectives too (on the compute stream, exposed)"
                    : "full recomputation: each layer's forward compute is rerun before its backward; its collectives are not repeated (recompute_collectives: false)")
        }
        if p.embeddingAsLayer || p.lossAsLayer {
            notes.append(
                "pipeline split (Megatron-LM --account-for-embedding/loss-in-pipeline-split): the \([p.embeddingAsLayer ? "embedding" : nil, p.lossAsLayer ? "loss" : nil].compactMap { $0 }.joined(separator: " and ")) take\(p.embeddingAsLayer && p.lossAsLayer ? "" : "s") a layer's place in the \(p.embeddingAsLayer ? "first" : "")\(p.embeddingAsLayer && p.lossAsLayer ? " and " : "")\(p.lossAsLayer ? "last" : "") model chunk; the layers fill the pp x virtual_stages chunks evenly around them. Only the split changes: the embedding lookup costs no time here and the output layer keeps its own time on the last chunk; a stage's activation memory counts its largest chunk")
        }
        if p.overlapParamGather {
            notes.append(
                "parameter all-gather overlapped with the forward (Megatron-LM --overlap-param-gather): the parameters the previous step's optimizer updated are all-gathered at the step's start in buckets of \(p.bucket) bytes, in the order the stage's first forwards need them; each layer's first forward waits for its bucket (steady state: one step's gather stands for the previous one's)")
        }
        if p.tpCommOverlap {
            notes.append(
                "tensor-parallel communication overlap (Megatron-Core/NeMo --tp-comm-overlap, Transformer Engine userbuffers): each attention and FFN block and the tensor-parallel collective beside it run in tp pipelined chunks, collective chunk i after compute chunk i on a stream of its own and the next block's chunk i after it; each chunk carries S/tp bytes and pays its own latency. Approximation: the overlapped communication does not slow the GEMMs (userbuffers use SMs for it, so this is optimistic)")
        }
        if p.unevenStages {
            let first = p.firstStageLayers.map { "the first stage holds \($0) layers" }, last = p.lastStageLayers.map { "the last \($0)" }
            notes.append(
                "uneven pipeline stages (Megatron-LM's --decoder-first/last-pipeline-num-layers): " + [first, last].compactMap { $0 }.joined(separator: ", ")
                    + "; the other stages share the remaining layers evenly; each stage's compute, memory and gradient traffic follow its own layer count")
        }
        if p.attention == .materialized {
            notes.append(
                "attention: materialized (Megatron-LM before FlashAttention): scores and context products over all s keys (the mask applied, not skipped), and the b·a/t·s² scores through memory between them, 4·S·e + S bytes (fused scale-mask-softmax read and write, dropout read and write with a 1-byte mask) at the HBM rate, doubled backward; model FLOPs stay causal")
        }
        if p.sequenceParallel { notes.append("sequence parallelism: each tensor all-reduce is a reduce-scatter and an all-gather of the same size; element-wise work and activations split tp ways") }
        if p.cp > 1 {
            notes.append("context parallelism: keys and values all-gathered before each attention and their gradients reduce-scattered after, on the compute stream (exposed; Megatron overlaps its ring exchange with attention)")
        }
        if p.zero >= 3 { notes.append("ZeRO 3: a layer's gather waits for the layer two before it (prefetch one layer ahead); two gathered layers count in memory; embedding and output layer stay whole") }
        if faults {
            notes.append(
                "faults: a fault in force when a kernel or collective starts holds for all of it; a cut NIC's traffic moves to the node's next NIC, a cut ring link's goes round the other way; slowest_link is the link that messages arriving over 5% later than on healthy links share")
        }
        return notes
    }

    public static let clusterTrainingNotes = [
        "one training step: 1F1B pipeline schedule per stage; per layer and microbatch, attention and FFN kernels timed by the GEMM model (roofline with tile and wave quantization) plus element-wise traffic at the HBM rate",
        "tensor-parallel all-reduces (2 per layer and pass) and expert all-to-alls sit on the compute stream (exposed); pipeline transfers and data-parallel gradient buckets run on streams of their own and overlap compute",
        "each collective is simulated on the links with every group of its stage at once (T0); collectives running at the same time share common links as whole collectives: each at a fraction r <= 1 of its own speed, max-min fair under sum of r x (bytes on the link / T0) <= capacity (a fluid approximation); communication kernels do not slow the compute they overlap",
        "GPUs of healthy replicas behave identically and are simulated once per stage; a replica holding a faulty GPU is simulated on its own",
        "memory: weights 2, gradients 2, optimizer 12 bytes per parameter (mixed-precision Adam), sharded by ZeRO; activations per Korthikanti et al. 2022 with the 1F1B in-flight count, where FlashAttention (the default) keeps each row's fp32 softmax log-sum-exp (4a/(ht) x sbh bytes) instead of the 5as/(ht) of scores, softmax and dropout mask that materialized attention stores",
        "MFU = model FLOPs (3 × forward matrix products, causal attention) / (step time × GPUs × peak dense throughput)",
        "attention (flash, the default) is timed as its two matrix products over the causal half of the scores, never written to memory (no FlashAttention kernel model); parallelism.attention: materialized times the pre-FlashAttention kernels; a mixture of experts routes tokens evenly (T x k x ep / E rows per expert)",
    ]
}
