import TesseraCore
import TesseraModel
import TesseraPlan
import TesseraSpec

@testable import TesseraSim

/// The serving engine as it was before continuous batching became a task source of the cluster
/// executor (`ContinuousBatching`), kept as the reference the equivalence test compares against:
/// it runs its own event loop, and simulates each prefill batch's KV transfers alone on an empty
/// network (they never share links with another batch's).
///
/// Runs a request trace on the instances of a serving plan: an event-driven simulation of
/// iteration-level (continuous) batching, on the engine's integer picosecond clock.
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
///   goes to the chosen decode instance over the links, all requests of a prefill batch in one
///   step from an empty network (`LinkSimulator`, max-min fair), and the request waits in the
///   decode instance's queue from the moment it arrives. The prefill instance keeps the KV cache
///   until the transfer ends and goes on with its next batch meanwhile (copies do not use the SMs).
/// - Iteration time: compute from `ServingCost` plus 2·L tensor-parallel ring all-reduces of
///   T·h·e bytes (T tokens in the iteration) on the instance's links, exposed (not overlapped).
///   All-reduces of different instances, and KV transfers of different prefill batches, are
///   simulated separately: they do not slow each other.
/// - TPOT of a request of o > 1 tokens = (last token − first token)/(o − 1).
/// Complexity: O(iterations × batch) plus one link simulation per distinct all-reduce size and
/// per prefill batch in disaggregated mode.
struct ReferenceServingSimulator {
    struct RequestResult: Sendable {
        var arrival: Double
        var prompt: Int
        var output: Int
        var firstToken: Double
        var finish: Double
        /// Seconds from the end of the prefill until the KV cache reached the decode instance (0 colocated).
        var kvTransfer: Double
        var prefillInstance: Int
        var decodeInstance: Int
        /// (finish − first token)/(output − 1); nil for a single-token request.
        var tpot: Double? { output > 1 ? (finish - firstToken) / Double(output - 1) : nil }
        var ttft: Double { firstToken - arrival }
    }

    struct InstanceStats: Sendable {
        var prefillSeconds = 0.0
        var decodeSeconds = 0.0
        var prefillBatches = 0
        var decodeIterations = 0
        /// Σ batch size over decode iterations (mean batch = this / iterations).
        var decodeTokens = 0
        var peakBatch = 0
        var peakKVTokens = 0
        var busySeconds: Double { prefillSeconds + decodeSeconds }
    }

    struct Result: Sendable {
        var requests: [RequestResult]
        var instances: [InstanceStats]
        /// Seconds from time zero to the last token.
        var end: Double
        var events: UInt64
        /// Link id → bytes carried (all-reduces and KV transfers).
        var linkBytes: [Int: Double]
        var linkSimulations: Int
        /// Every instance's iterations as runs, in start order: back-to-back iterations of one
        /// kind on one instance are one run (a million requests make tens of millions of decode
        /// steps; their runs are what a timeline can draw and what the energy ledger needs).
        var iterationRuns: [IterationRun] = []
    }

    /// Back-to-back iterations of one kind on one instance: prefills of up to `batch` prompts or
    /// decode steps of up to `batch` running requests, seconds.
    struct IterationRun: Sendable {
        var instance: Int32
        var prefill: Bool
        /// Iterations in the run.
        var count: Int32
        /// The smallest and largest batch of its iterations.
        var minBatch: Int32
        var batch: Int32
        var start: Double
        var end: Double
    }

    enum Event: Sendable {
        case arrival(Int)
        case iterationDone(Int)
        case kvArrived(request: Int, instance: Int)
        case kvReleased(instance: Int, tokens: Int)
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
        /// costs O(1 + finishing), not O(batch), and no second priority queue stands beside
        /// `EventEngine` (every event in time is the engine's; this is a count of iterations).
        var steps = 0
        var finishing: [[Int]] = []
        var batch: [Int] = []
        var prefilling = false
        var busy = false
        var kvUsed = 0
        var assigned = 0
        var waiting: Int { queue.count - head }
    }

    let plan: ServingPlan
    init(plan: ServingPlan) { self.plan = plan }

    static func ps(_ seconds: Double) -> UInt64 { Saturating.uint64Rounded(seconds * 1e12) }

    func run() throws(SimError) -> Result {
        let spec = plan.spec, reqs = spec.requests
        let links = LinkSimulator(topology: plan.topology)
        let L = spec.transformer.layers
        let elementBytes = UInt64(plan.instances.first?.cost.bytesPerElement ?? 2)
        let hidden = UInt64(spec.transformer.hidden)
        var engine = EventEngine<Event>()
        var fresh = Instance()
        fresh.finishing = Array(repeating: [], count: (reqs.map(\.output).max() ?? 0) + 2)
        var inst = Array(repeating: fresh, count: plan.instances.count)
        var stats = Array(repeating: InstanceStats(), count: plan.instances.count)
        var runs: [IterationRun] = []
        var lastRun = Array(repeating: -1, count: plan.instances.count)  // each instance's open run
        var lastRunEnd = Array(repeating: UInt64(0), count: plan.instances.count)
        /// Records an iteration of instance `i` from `now` to `end`: extends its run when it starts
        /// where the run ended and is of the same kind.
        func record(_ i: Int, prefill: Bool, _ now: UInt64, _ end: UInt64, batch: Int) {
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
        var out = reqs.map { RequestResult(arrival: $0.arrival, prompt: $0.prompt, output: $0.output, firstToken: 0, finish: 0, kvTransfer: 0, prefillInstance: -1, decodeInstance: -1) }
        var generated = Array(repeating: 0, count: reqs.count)
        var finished = 0
        var linkBytes: [Int: Double] = [:]
        var linkSimulations = 0
        // Caches: all-reduce (ps, link bytes) per instance and size; compute per size.
        var allReduce = Array(repeating: [UInt64: (UInt64, [(id: Int, bytes: Double)])](), count: plan.instances.count)
        var allReduceCount = Array(repeating: [UInt64: Int](), count: plan.instances.count)
        var dense = Array(repeating: [Int: Double](), count: plan.instances.count)
        var attention = Array(repeating: [Int: Double](), count: plan.instances.count)
        var decodeDense = Array(repeating: [Int: Double](), count: plan.instances.count)

        let roles = plan.instances.map(\.role)
        let costs = plan.instances.map(\.cost), capacities = plan.instances.map(\.kvCapacityTokens)
        let entry = roles.indices.filter { roles[$0] != .decode }
        let decoders = roles.indices.filter { roles[$0] == .decode }
        let disaggregated = !decoders.isEmpty

        // Token counts up to the largest batch (every decode step's) index arrays, not dictionaries.
        let small = max(0, spec.maxBatch) + 1
        var allReduceSmall = Array(repeating: [UInt64?](repeating: nil, count: small), count: plan.instances.count)
        var allReduceSmallCount = Array(repeating: [Int](repeating: 0, count: small), count: plan.instances.count)
        var decodeDenseSmall = Array(repeating: [Double?](repeating: nil, count: small), count: plan.instances.count)

        func allReducePs(_ i: Int, tokens: Int) throws(SimError) -> UInt64 {
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
        func join(_ r: Int, _ i: Int) {
            inst[i].running += 1
            inst[i].context += reqs[r].prompt + generated[r]
            // It leaves after the iteration that generates its last token, at the earliest the next one.
            let ring = inst[i].finishing.count
            inst[i].finishing[(inst[i].steps + max(1, reqs[r].output - generated[r])) % ring].append(r)
        }
        func finish(_ r: Int, at now: UInt64, on i: Int) {
            out[r].finish = Double(now) / 1e12
            inst[i].kvUsed -= reqs[r].prompt + reqs[r].output
            inst[i].assigned -= 1
            finished += 1
        }

        func tryStart(_ i: Int, _ now: UInt64) throws(SimError) {
            guard !inst[i].busy else { return }
            // The cost model is read in place (`costs[i]`): copying it per iteration retains its strings.
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
                    try engine.schedule(at: Saturating.add(now, t), .iterationDone(i))
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
            let t = Self.ps(denseSeconds + costs[i].decodeAttentionSeconds(contextTokens: context)) + (try allReducePs(i, tokens: B))
            inst[i].prefilling = false
            inst[i].busy = true
            stats[i].decodeSeconds += Double(t) / 1e12
            stats[i].decodeIterations += 1
            record(i, prefill: false, now, Saturating.add(now, t), batch: B)
            stats[i].decodeTokens += B
            stats[i].peakBatch = max(stats[i].peakBatch, B)
            stats[i].peakKVTokens = max(stats[i].peakKVTokens, inst[i].kvUsed)
            try engine.schedule(at: Saturating.add(now, t), .iterationDone(i))
        }

        // Arrivals enter the queue one at a time, in (time, index) order, each scheduled when the one
        // before it is delivered, ahead of any other event at the same time (priority −1): the
        // order a queue holding them all would give, with a queue of a few events instead of every request.
        let arrivalPs = reqs.map { Self.ps($0.arrival) }
        let arrivalOrder = reqs.indices.sorted { a, b in arrivalPs[a] != arrivalPs[b] ? arrivalPs[a] < arrivalPs[b] : a < b }
        var nextArrival = 0
        func scheduleNextArrival() throws(SimError) {
            guard nextArrival < arrivalOrder.count else { return }
            let r = arrivalOrder[nextArrival]
            nextArrival += 1
            try engine.schedule(at: arrivalPs[r], priority: -1, .arrival(r))
        }
        try scheduleNextArrival()
        while let (now, event) = engine.next() {
            switch event {
            case .arrival(let r):
                try scheduleNextArrival()
                let i = leastLoaded(entry)
                inst[i].queue.append(r)
                inst[i].assigned += 1
                out[r].prefillInstance = i
                if !disaggregated { out[r].decodeInstance = i }
                try tryStart(i, now)
            case .iterationDone(let i):
                inst[i].busy = false
                if inst[i].prefilling {
                    let batch = inst[i].batch
                    inst[i].batch = []
                    inst[i].prefilling = false
                    var flows: [CollectiveFlow] = [], owner: [Int] = []
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
                        let f = plan.kvTransferFlows(from: i, to: d, bytes: plan.instances[i].cost.kvBytes(tokens: reqs[r].prompt))
                        flows += f
                        owner += Array(repeating: r, count: f.count)
                    }
                    if !flows.isEmpty {
                        let result = try links.run(plan.transferPlan(flows), arrivals: true)
                        linkSimulations += 1
                        for (id, b) in result.linkBytes { linkBytes[id, default: 0] += b }
                        var ready: [Int: UInt64] = [:]
                        for (k, r) in owner.enumerated() { ready[r] = max(ready[r] ?? 0, result.arrivals.first?[k] ?? 0) }
                        for r in batch where ready[r] != nil {
                            let t = ready[r] ?? 0
                            out[r].kvTransfer = Double(t) / 1e12
                            try engine.schedule(at: Saturating.add(now, t), .kvArrived(request: r, instance: out[r].decodeInstance))
                            try engine.schedule(at: Saturating.add(now, t), .kvReleased(instance: i, tokens: reqs[r].prompt))
                        }
                    }
                } else {
                    // Compacted in place (the batch keeps its order; no new array per iteration).
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
                try tryStart(i, now)
            case .kvArrived(let r, let d):
                inst[d].queue.append(r)
                try tryStart(d, now)
            case .kvReleased(let i, let tokens):
                inst[i].kvUsed -= tokens
                try tryStart(i, now)
            }
        }
        guard finished == reqs.count else { throw .deadlock(time: engine.now, pending: "\(reqs.count - finished) requests never finished") }
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
            requests: out, instances: stats, end: end, events: engine.eventCount, linkBytes: linkBytes, linkSimulations: linkSimulations, iterationRuns: runs)
    }
}
