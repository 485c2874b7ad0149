import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraPlan
import TesseraSpec

/// Iteration-level (continuous) batching of a request trace on the instances of a serving plan,
/// as a task source of the cluster executor (`TaskExecutor`): every iteration is a compute task of
/// its instance and every KV-cache transfer a collective on the executor's one network, on the
/// engine's integer picosecond clock.
///
/// - Dispatch: an arriving request goes to the instance (colocated) or prefill instance
///   (disaggregated) with the fewest unfinished requests assigned, the lowest index on ties; a
///   prefilled request goes to the decode instance with the fewest.
/// - An instance runs one iteration at a time. When it is free it first forms a prefill batch from
///   its queue, first come first served, while the prompts fit `maxPrefillTokens` (at least one),
///   the running batch stays within `maxBatch` and the KV cache has room for each request's
///   prompt + output tokens (reserved in full on admission, so nothing is ever preempted); a
///   colocated instance runs that prefill before its next decode iteration (vLLM's default
///   scheduler without chunked prefill: this is the prefill–decode interference DistServe removes).
///   Otherwise it runs a decode iteration that gives every running request one token.
/// - The prefill produces a request's first token (TTFT = its end − arrival). Colocated, the
///   request joins the instance's running batch; disaggregated, its KV cache (2·L·g·d·p·e bytes)
///   goes to the chosen decode instance as one collective task of the executor (its messages
///   `ServingPlan.kvTransferFlows`). KV transfers running at once, of one prefill batch or of
///   several, share the links they have in common (the executor's max-min fair share over whole
///   transfers, a fluid approximation: k equal transfers on one link take k times one transfer's
///   time, latency included). The request waits in the decode instance's queue from the moment
///   its transfer ends; the prefill instance keeps the KV cache until then and goes on with its
///   next batch meanwhile (copies do not use the SMs).
/// - Iteration time: compute from `ServingCost` plus 2·L tensor-parallel ring all-reduces of
///   T·h·e bytes (T tokens in the iteration), each the link simulator's time for it on idle links,
///   exposed (not overlapped). APPROXIMATION: the all-reduces are part of the iteration's compute
///   task, not flows on the shared network, so a KV transfer crossing an instance's links does not
///   slow its all-reduces (nor they the transfer). An instance's all-reduces stay on its own GPUs'
///   links, so instances' all-reduces never meet each other.
/// - TPOT of a request of o > 1 tokens = (last token − first token)/(o − 1).
/// Complexity: O(iterations × (log events + finishing requests)) plus one link simulation per
/// distinct all-reduce size and per distinct KV transfer.
public struct ContinuousBatching: TaskSource {
    public struct RequestResult: Sendable {
        public var arrival: Double
        public var prompt: Int
        public var output: Int
        public var firstToken: Double
        public var finish: Double
        /// Seconds from the end of the prefill until the KV cache reached the decode instance (0 colocated).
        public var kvTransfer: Double
        public var prefillInstance: Int
        public var decodeInstance: Int
        /// (finish − first token)/(output − 1); nil for a single-token request.
        public var tpot: Double? { output > 1 ? (finish - firstToken) / Double(output - 1) : nil }
        public var ttft: Double { firstToken - arrival }
    }

    public struct InstanceStats: Sendable {
        public var prefillSeconds = 0.0
        public var decodeSeconds = 0.0
        public var prefillBatches = 0
        public var decodeIterations = 0
        /// Σ batch size over decode iterations (mean batch = this / iterations).
        public var decodeTokens = 0
        public var peakBatch = 0
        public var peakKVTokens = 0
        public var busySeconds: Double { prefillSeconds + decodeSeconds }
    }

    public struct Result: Sendable {
        public var requests: [RequestResult]
        public var instances: [InstanceStats]
        /// Seconds from time zero to the last token.
        public var end: Double
        public var events: UInt64
        /// Link id → bytes carried (all-reduces and KV transfers).
        public var linkBytes: [Int: Double]
        /// Link simulations run: one per distinct all-reduce size and per distinct KV transfer.
        public var linkSimulations: Int
        /// Every instance's iterations as runs, in start order: back-to-back iterations of one
        /// kind on one instance are one run (a million requests make tens of millions of decode
        /// steps; their runs are what a timeline can draw and what the energy ledger needs).
        public var iterationRuns: [IterationRun] = []
    }

    /// Back-to-back iterations of one kind on one instance: prefills of up to `batch` prompts or
    /// decode steps of up to `batch` running requests, seconds.
    public struct IterationRun: Sendable {
        public var instance: Int32
        public var prefill: Bool
        /// Iterations in the run.
        public var count: Int32
        /// The smallest and largest batch of its iterations.
        public var minBatch: Int32
        public var batch: Int32
        public var start: Double
        public var end: Double
    }

    struct Instance {
        var queue: [Int] = []
        var head = 0
        /// Requests in the running batch.
        var running = 0
        /// Σ (prompt + tokens generated) over the running batch: the context a decode step reads.
        var context = 0
        /// Decode iterations completed, and the running requests that leave after each coming
        /// iteration: a ring of slots indexed by iteration modulo its length, which is longer
        /// than any request's remaining output, so live iterations never share a slot. Each step
        /// costs O(1 + finishing), not O(batch), and no priority queue stands beside the
        /// executor's engine (this is a count of iterations, not of time).
        var steps = 0
        var finishing: [[Int]] = []
        var batch: [Int] = []
        var prefilling = false
        var busy = false
        var kvUsed = 0
        var assigned = 0
        var waiting: Int { queue.count - head }
    }

    /// Runs the plan's request trace: the executor on a task plan of the instances (one entity
    /// and one stream each) with this source.
    public static func run(_ plan: ServingPlan) throws(SimError) -> Result {
        let count = plan.instances.count
        let entities = plan.instances.map { StepEntity(stage: 0, replicas: [], ranks: $0.ranks, name: $0.name) }
        let streams = plan.instances.indices.map { StepStream(name: plan.instances[$0].name, entity: $0, stage: 0) }
        let taskPlan = TaskPlan(
            topology: plan.topology, tasks: [], streams: streams, entities: entities, faults: [], replicatedEntities: false,
            collectivePlan: { c in
                // A KV transfer: stage = prefill instance × instances + decode instance.
                c.group == .kvCache
                    ? plan.transferPlan(plan.kvTransferFlows(from: c.stage / count, to: c.stage % count, bytes: Double(c.bytes)))
                    : plan.allReducePlan(instance: c.stage, bytes: c.bytes)
            })
        var source = try ContinuousBatching(plan)
        let executed = try TaskExecutor(plan: taskPlan).run(source: &source)
        return try source.result(executed)
    }

    let plan: ServingPlan
    let spec: ServingSpec
    let reqs: [ServingSpec.Request]
    let links: LinkSimulator
    let L: Int
    let elementBytes: UInt64
    let hidden: UInt64
    var inst: [Instance]
    var stats: [InstanceStats]
    var runs: [IterationRun] = []
    var lastRun: [Int]  // each instance's open run
    var lastRunEnd: [UInt64]
    var out: [RequestResult]
    var generated: [Int]
    var finished = 0
    var linkSimulations = 0
    // Caches: all-reduce (ps, link bytes) per instance and size; compute per size.
    var allReduce: [[UInt64: (UInt64, [(id: Int, bytes: Double)])]]
    var allReduceCount: [[UInt64: Int]]
    var dense: [[Int: Double]]
    var attention: [[Int: Double]]
    var decodeDense: [[Int: Double]]
    let roles: [ServingSpec.Group.Role]
    let costs: [ServingCost]
    let capacities: [Int]
    /// Each instance's `ServingCost.kvBytesPerTokenPerGPU`, computed once.
    let kvBytesPerToken: [Double]
    let entry: [Int]
    let decoders: [Int]
    let disaggregated: Bool
    // Token counts up to the largest batch (every decode step's) index arrays, not dictionaries.
    let small: Int
    var allReduceSmall: [[UInt64?]]
    var allReduceSmallCount: [[Int]]
    var decodeDenseSmall: [[Double?]]
    /// Arrivals in (time, index) order; each is a timer set when the one before it fires, ahead of
    /// any other event at the same time (priority −1): the order a queue holding them all would
    /// give, with a queue of a few events instead of every request.
    let arrivalPs: [UInt64]
    let arrivalOrder: [Int]
    var nextArrival = 0

    init(_ plan: ServingPlan) throws(SimError) {
        self.plan = plan
        spec = plan.spec
        reqs = spec.requests
        links = LinkSimulator(topology: plan.topology)
        L = spec.transformer.layers
        elementBytes = UInt64(plan.instances.first?.cost.bytesPerElement ?? 2)
        hidden = UInt64(spec.transformer.hidden)
        let count = plan.instances.count
        var fresh = Instance()
        fresh.finishing = Array(repeating: [], count: (reqs.map(\.output).max() ?? 0) + 2)
        inst = Array(repeating: fresh, count: count)
        stats = Array(repeating: InstanceStats(), count: count)
        lastRun = Array(repeating: -1, count: count)
        lastRunEnd = Array(repeating: 0, count: count)
        out = reqs.map { RequestResult(arrival: $0.arrival, prompt: $0.prompt, output: $0.output, firstToken: 0, finish: 0, kvTransfer: 0, prefillInstance: -1, decodeInstance: -1) }
        generated = Array(repeating: 0, count: reqs.count)
        allReduce = Array(repeating: [:], count: count)
        allReduceCount = Array(repeating: [:], count: count)
        dense = Array(repeating: [:], count: count)
        attention = Array(repeating: [:], count: count)
        decodeDense = Array(repeating: [:], count: count)
        roles = plan.instances.map(\.role)
        costs = plan.instances.map(\.cost)
        capacities = plan.instances.map(\.kvCapacityTokens)
        kvBytesPerToken = plan.instances.map(\.cost.kvBytesPerTokenPerGPU)
        let roles = self.roles
        entry = roles.indices.filter { roles[$0] != .decode }
        decoders = roles.indices.filter { roles[$0] == .decode }
        disaggregated = !decoders.isEmpty
        small = max(0, spec.maxBatch) + 1
        allReduceSmall = Array(repeating: [UInt64?](repeating: nil, count: small), count: count)
        allReduceSmallCount = Array(repeating: [Int](repeating: 0, count: small), count: count)
        decodeDenseSmall = Array(repeating: [Double?](repeating: nil, count: small), count: count)
        let arrivalPs = reqs.map { Self.ps($0.arrival) }
        self.arrivalPs = arrivalPs
        arrivalOrder = reqs.indices.sorted { a, b in arrivalPs[a] != arrivalPs[b] ? arrivalPs[a] < arrivalPs[b] : a < b }
    }

    static func ps(_ seconds: Double) -> UInt64 { Saturating.uint64Rounded(seconds * 1e12) }

    // Tokens: instance i's iteration is token i; request r's KV transfer is token instances + r.

    public mutating func start(_ out: inout TaskSubmissions) throws(SimError) {
        scheduleNextArrival(&out)
    }

    public mutating func timer(_ tag: Int, at now: Picoseconds, _ sub: inout TaskSubmissions) throws(SimError) {
        let r = tag
        scheduleNextArrival(&sub)
        let i = leastLoaded(entry)
        inst[i].queue.append(r)
        inst[i].assigned += 1
        out[r].prefillInstance = i
        if !disaggregated { out[r].decodeInstance = i }
        try tryStart(i, now, &sub)
    }

    public mutating func ended(_ token: Int, began: Picoseconds, at now: Picoseconds, _ sub: inout TaskSubmissions) throws(SimError) {
        let count = plan.instances.count
        guard token < count else {
            // A KV cache arrived: the request queues at its decode instance, and the prefill
            // instance frees the cache.
            let r = token - count, d = out[r].decodeInstance, p = out[r].prefillInstance
            out[r].kvTransfer = Double(now - began) / 1e12
            inst[d].queue.append(r)
            try tryStart(d, now, &sub)
            inst[p].kvUsed -= reqs[r].prompt
            try tryStart(p, now, &sub)
            return
        }
        let i = token
        inst[i].busy = false
        if inst[i].prefilling {
            let batch = inst[i].batch
            inst[i].batch = []
            inst[i].prefilling = false
            for r in batch {
                out[r].firstToken = Double(now) / 1e12
                generated[r] = 1
                if !disaggregated {
                    if reqs[r].output == 1 {
                        finish(r, at: now, on: i)
                    } else {
                        join(r, i)
                    }
                    continue
                }
                // Disaggregated: the prefill instance is done with it once its KV cache has left.
                inst[i].assigned -= 1
                if reqs[r].output == 1 {
                    inst[i].kvUsed -= reqs[r].prompt
                    out[r].finish = out[r].firstToken
                    finished += 1
                    continue
                }
                let d = leastLoaded(decoders)
                inst[d].assigned += 1
                out[r].decodeInstance = d
                let bytes = Saturating.uint64(plan.instances[i].cost.kvBytes(tokens: reqs[r].prompt))
                sub.begin(count + r, stream: i, entity: i, .collective(GroupCollective(op: .sendRecv, group: .kvCache, stage: i * count + d, bytes: bytes)))
            }
        } else {
            // Every running request generated a token; those at their last leave.
            inst[i].steps += 1
            var context = inst[i].context + inst[i].running
            let slot = inst[i].steps % inst[i].finishing.count
            for r in inst[i].finishing[slot] {
                finish(r, at: now, on: i)
                inst[i].running -= 1
                context -= reqs[r].prompt + reqs[r].output
            }
            inst[i].finishing[slot].removeAll(keepingCapacity: true)
            inst[i].context = context
        }
        try tryStart(i, now, &sub)
    }

    mutating func scheduleNextArrival(_ sub: inout TaskSubmissions) {
        guard nextArrival < arrivalOrder.count else { return }
        let r = arrivalOrder[nextArrival]
        nextArrival += 1
        sub.timer(at: arrivalPs[r], priority: -1, tag: r)
    }

    /// Records an iteration of instance `i` from `now` to `end`: extends its run when it starts
    /// where the run ended and is of the same kind.
    mutating func record(_ i: Int, prefill: Bool, _ now: UInt64, _ end: UInt64, batch: Int) {
        let k = lastRun[i]
        if k >= 0, runs[k].prefill == prefill, lastRunEnd[i] == now {
            runs[k].end = Double(end) / 1e12
            runs[k].count += 1
            runs[k].batch = max(runs[k].batch, Int32(clamping: batch))
            runs[k].minBatch = min(runs[k].minBatch, Int32(clamping: batch))
        } else {
            lastRun[i] = runs.count
            runs.append(IterationRun(
                instance: Int32(i), prefill: prefill, count: 1, minBatch: Int32(clamping: batch), batch: Int32(clamping: batch), start: Double(now) / 1e12,
                end: Double(end) / 1e12))
        }
        lastRunEnd[i] = end
    }

    /// The 2·L all-reduces of an iteration of `tokens` tokens on instance `i`, picoseconds.
    mutating func allReducePs(_ i: Int, tokens: Int) throws(SimError) -> UInt64 {
        guard plan.instances[i].ranks.count > 1 else { return 0 }
        if tokens >= 0, tokens < small, let ps = allReduceSmall[i][tokens] {
            allReduceSmallCount[i][tokens] += 2 * L
            return 2 * UInt64(L) * ps
        }
        let bytes = UInt64(tokens) * hidden * elementBytes
        if allReduce[i][bytes] == nil {
            let r = try links.run(plan.allReducePlan(instance: i, bytes: bytes))
            allReduce[i][bytes] = (r.picoseconds, r.linkBytes)
            linkSimulations += 1
        }
        let ps = allReduce[i][bytes]?.0 ?? 0
        if tokens >= 0, tokens < small {
            allReduceSmall[i][tokens] = ps
            allReduceSmallCount[i][tokens] += 2 * L
        } else {
            allReduceCount[i][bytes, default: 0] += 2 * L
        }
        return 2 * UInt64(L) * ps
    }

    func reserve(_ r: Int, _ role: ServingSpec.Group.Role) -> Int { role == .prefill ? reqs[r].prompt : reqs[r].prompt + reqs[r].output }

    func leastLoaded(_ candidates: [Int]) -> Int {
        var best = candidates[0]
        for c in candidates where inst[c].assigned < inst[best].assigned { best = c }
        return best
    }

    /// Request `r`, which has generated `generated[r]` tokens, joins instance `i`'s running batch.
    mutating func join(_ r: Int, _ i: Int) {
        inst[i].running += 1
        inst[i].context += reqs[r].prompt + generated[r]
        // It leaves after the iteration that generates its last token, at the earliest the next one.
        let ring = inst[i].finishing.count
        inst[i].finishing[(inst[i].steps + max(1, reqs[r].output - generated[r])) % ring].append(r)
    }

    mutating func finish(_ r: Int, at now: UInt64, on i: Int) {
        out[r].finish = Double(now) / 1e12
        inst[i].kvUsed -= reqs[r].prompt + reqs[r].output
        inst[i].assigned -= 1
        finished += 1
    }

    /// Starts instance `i`'s next iteration if it is free and has work: a compute task of the
    /// iteration's time.
    mutating func tryStart(_ i: Int, _ now: UInt64, _ sub: inout TaskSubmissions) throws(SimError) {
        guard !inst[i].busy else { return }
        let role = roles[i], capacity = capacities[i]
        if role == .decode {
            // Admit from the queue into the running batch.
            while inst[i].waiting > 0, inst[i].running < spec.maxBatch {
                let r = inst[i].queue[inst[i].head]
                guard inst[i].kvUsed + reserve(r, role) <= capacity else { break }
                inst[i].kvUsed += reserve(r, role)
                join(r, i)
                inst[i].head += 1
            }
        } else {
            var batch: [Int] = [], tokens = 0, kv = inst[i].kvUsed
            while inst[i].waiting > batch.count {
                let r = inst[i].queue[inst[i].head + batch.count]
                let p = reqs[r].prompt
                if !batch.isEmpty, tokens + p > spec.maxPrefillTokens { break }
                if inst[i].running + batch.count >= spec.maxBatch { break }
                if kv + reserve(r, role) > capacity { break }
                batch.append(r)
                tokens += p
                kv += reserve(r, role)
            }
            if !batch.isEmpty {
                inst[i].head += batch.count
                inst[i].kvUsed = kv
                inst[i].batch = batch
                inst[i].prefilling = true
                inst[i].busy = true
                var computeSeconds = 0.0
                for r in batch {
                    let p = reqs[r].prompt
                    if attention[i][p] == nil { attention[i][p] = costs[i].promptAttentionSeconds(prompt: p) }
                    computeSeconds += Double(L) * (attention[i][p] ?? 0)
                }
                if dense[i][tokens] == nil { dense[i][tokens] = Double(L) * costs[i].layerDenseSeconds(tokens: tokens) }
                computeSeconds += (dense[i][tokens] ?? 0) + costs[i].headSeconds(rows: batch.count)
                let t = Self.ps(computeSeconds) + (try allReducePs(i, tokens: tokens))
                stats[i].prefillSeconds += Double(t) / 1e12
                stats[i].prefillBatches += 1
                record(i, prefill: true, now, Saturating.add(now, t), batch: batch.count)
                stats[i].peakKVTokens = max(stats[i].peakKVTokens, inst[i].kvUsed)
                sub.begin(i, stream: i, entity: i, .picoseconds(t))
                return
            }
        }
        guard inst[i].running > 0 else { return }
        let B = inst[i].running
        let context = inst[i].context
        let denseSeconds: Double
        if B < small {
            if decodeDenseSmall[i][B] == nil { decodeDenseSmall[i][B] = costs[i].decodeDenseSeconds(batch: B) }
            denseSeconds = decodeDenseSmall[i][B] ?? 0
        } else {
            if decodeDense[i][B] == nil { decodeDense[i][B] = costs[i].decodeDenseSeconds(batch: B) }
            denseSeconds = decodeDense[i][B] ?? 0
        }
        let t = Self.ps(denseSeconds + costs[i].decodeAttentionSeconds(contextTokens: context, kvBytesPerToken: kvBytesPerToken[i])) + (try allReducePs(i, tokens: B))
        inst[i].prefilling = false
        inst[i].busy = true
        stats[i].decodeSeconds += Double(t) / 1e12
        stats[i].decodeIterations += 1
        record(i, prefill: false, now, Saturating.add(now, t), batch: B)
        stats[i].decodeTokens += B
        stats[i].peakBatch = max(stats[i].peakBatch, B)
        stats[i].peakKVTokens = max(stats[i].peakKVTokens, inst[i].kvUsed)
        sub.begin(i, stream: i, entity: i, .picoseconds(t))
    }

    /// The run's record once the executor is done: the requests, the instances, and the link
    /// traffic (the executor's KV transfers, then the iterations' all-reduces).
    func result(_ executed: TaskExecutor.Result) throws(SimError) -> Result {
        guard finished == reqs.count else {
            throw .deadlock(time: ContinuousBatching.ps(out.map(\.finish).max() ?? 0), pending: "\(reqs.count - finished) requests never finished")
        }
        var linkBytes: [Int: Double] = [:]
        for id in executed.linkIDs { linkBytes[id] = executed.linkBytes[id] }
        var allReduceCount = self.allReduceCount
        for i in plan.instances.indices {
            for tokens in 0..<small where allReduceSmallCount[i][tokens] > 0 {
                allReduceCount[i][UInt64(tokens) * hidden * elementBytes, default: 0] += allReduceSmallCount[i][tokens]
            }
            for bytes in allReduceCount[i].keys.sorted() {
                let count = allReduceCount[i][bytes] ?? 0
                for (id, b) in allReduce[i][bytes]?.1 ?? [] { linkBytes[id, default: 0] += b * Double(count) }
            }
        }
        let end = out.map(\.finish).max() ?? 0
        return Result(
            requests: out, instances: stats, end: end, events: executed.events, linkBytes: linkBytes, linkSimulations: linkSimulations + executed.collectivesSimulated,
            iterationRuns: runs)
    }
}
