import TesseraCore
import TesseraModel
import TesseraPlan
import TesseraSpec

/// Runs a training step's tasks on in-order streams: a task starts when the task before it on its
/// stream and all its dependencies have ended, and lasts
/// - a compute task: its healthy seconds × the largest slowdown among its GPUs' faults in force
///   at its start;
/// - a collective: the `LinkSimulator`'s time for the collective with every group of its stage
///   sending at once, on the links as they are (faults in force) at its start.
///
/// Streams do not compete for a GPU's compute or memory (communication kernels are assumed not to
/// slow the compute they overlap), and collectives that overlap in time do not share links with
/// one another: each is simulated with its own copies on an otherwise idle network. Every start
/// time is the maximum of earlier end times, so the result does not depend on the order tasks are
/// visited (Kahn's algorithm over dependencies plus stream order).
public struct StepSimulator {
    public struct Result: Sendable {
        public var start: [Double]
        public var end: [Double]
        public var stepSeconds: Double
        /// Link id → bytes carried and seconds busy (bytes / capacity in force), over the step.
        public var linkBytes: [Int: Double]
        public var linkBusy: [Int: Double]
        public var events: UInt64
        public var collectivesSimulated: Int
        /// Rank → seconds its own kernels took (for the GPUs named by faults, and one healthy
        /// GPU of each entity).
        public var rankCompute: [(rank: Int, seconds: Double)]
        /// Links whose messages arrived later than on a healthy network: (link, slowed messages,
        /// messages), most suspicious first.
        public var suspectLinks: [(link: Int, slowed: Int, messages: Int)]
        /// A cut GPU: (rank, time) where the step stopped.
        public var failure: (rank: Int, at: Double)?
        /// For each task, the index in `collectiveLinks` of the links its collective used (−1: compute).
        public var taskCollective: [Int32]
        /// The links each distinct collective (at its fault epoch) carried traffic on.
        public var collectiveLinks: [[Int]]
    }

    public let plan: TrainingStepPlan

    public init(plan: TrainingStepPlan) { self.plan = plan }

    /// The topology with the link faults in force at `epoch` (the number of fault times passed).
    struct Epochs {
        var times: [Double]
        var topologies: [ClusterTopology]
        func index(_ t: Double) -> Int {
            var i = 0
            while i < times.count, times[i] <= t { i += 1 }
            return i
        }
    }

    func epochs() -> Epochs {
        let faults = plan.spec.faults.filter { if case .gpu = $0.target { return false } else { return true } }
        let times = Array(Set(faults.map(\.at))).sorted()
        var topologies: [ClusterTopology] = [plan.topology]
        for t in times {
            var topo = plan.topology
            for f in faults where f.at <= t {
                switch f.target {
                case .link(let name):
                    if let id = topo.link(named: name) { topo.linkSlowdown[id] = max(topo.linkSlowdown[id] ?? 1, f.slowdown) }
                case .nic(let name):
                    guard let nic = topo.nic(named: name) else { continue }
                    if f.isCut { topo.cutNICs.insert(nic) } else { for id in topo.nicLinks(nic) { topo.linkSlowdown[id] = max(topo.linkSlowdown[id] ?? 1, f.slowdown) } }
                case .gpu: break
                }
            }
            topologies.append(topo)
        }
        return Epochs(times: times, topologies: topologies)
    }

    struct Key: Hashable {
        var collective: GroupCollective
        var epoch: Int
    }

    public func run() throws(SimError) -> Result {
        let tasks = plan.tasks
        let n = tasks.count
        var indegree = [Int](repeating: 0, count: n)
        var successors = [[Int]](repeating: [], count: n)
        var previousOnStream = [Int](repeating: -1, count: n)
        var lastOnStream = [Int](repeating: -1, count: plan.streams.count)
        for (i, t) in tasks.enumerated() {
            let p = lastOnStream[t.stream]
            if p >= 0 {
                previousOnStream[i] = p
                successors[p].append(i)
                indegree[i] += 1
            }
            lastOnStream[t.stream] = i
            for d in t.deps {
                successors[d].append(i)
                indegree[i] += 1
            }
        }
        // GPU faults: rank → [(at, slowdown)].
        var gpuFaults: [Int: [(Double, Double)]] = [:]
        for f in plan.spec.faults { if case .gpu(let r) = f.target { gpuFaults[r, default: []].append((f.at, f.slowdown)) } }
        func factor(_ rank: Int, _ t: Double) -> Double {
            var x = 1.0
            for (at, s) in gpuFaults[rank] ?? [] where at <= t { x = max(x, s) }
            return x
        }
        let faultyRanksOf: [[Int]] = plan.entities.map { e in e.ranks.filter { gpuFaults[$0] != nil } }

        let epochs = self.epochs()
        var cache: [Key: (seconds: Double, links: [(id: Int, bytes: Double)], index: Int)] = [:]
        var taskCollective = [Int32](repeating: -1, count: n)
        var collectiveLinks: [[Int]] = []
        var uses: [Int: (Key, Int)] = [:]  // collective index → its key and how many tasks ran it
        var linkBytes: [Int: Double] = [:], linkBusy: [Int: Double] = [:]
        var events: UInt64 = 0
        var suspect: [Int: (slowed: Int, messages: Int)] = [:]
        var start = [Double](repeating: 0, count: n), end = [Double](repeating: 0, count: n)
        var entityBase = [Double](repeating: 0, count: plan.entities.count)
        var rankOwn: [Int: Double] = [:]
        var failure: (rank: Int, at: Double)?
        var stack = (0..<n).filter { indegree[$0] == 0 }.reversed() as [Int]
        var visited = 0
        while let i = stack.popLast() {
            visited += 1
            let t = tasks[i]
            var s = previousOnStream[i] >= 0 ? end[previousOnStream[i]] : 0
            for d in t.deps { s = max(s, end[d]) }
            start[i] = s
            switch t.work {
            case .compute(let seconds):
                var f = 1.0
                for r in faultyRanksOf[t.entity] {
                    let own = factor(r, s)
                    f = max(f, own)
                    if own.isFinite { rankOwn[r, default: 0] += seconds * own }
                }
                entityBase[t.entity] += seconds
                if f.isInfinite {
                    if failure == nil { failure = (faultyRanksOf[t.entity].first { factor($0, s).isInfinite } ?? -1, s) }
                    end[i] = s
                } else {
                    end[i] = s + seconds * f
                }
            case .collective(let c):
                let epoch = epochs.index(s)
                let key = Key(collective: c, epoch: epoch)
                if cache[key] == nil {
                    let topo = epochs.topologies[epoch]
                    let cp = plan.collectivePlan(c)
                    let r = try LinkSimulator(topology: topo).run(cp, arrivals: epoch > 0)
                    events += r.events
                    cache[key] = (Double(r.picoseconds) / 1e12, r.linkBytes, collectiveLinks.count)
                    collectiveLinks.append(r.linkBytes.map(\.id))
                    if epoch > 0 {
                        let healthy = try LinkSimulator(topology: plan.topology).run(cp, arrivals: true)
                        events += healthy.events
                        var scratch: [Int] = []
                        for (k, step) in cp.steps.enumerated() where k < r.arrivals.count && k < healthy.arrivals.count {
                            for (f, flow) in step.flows.enumerated() {
                                _ = topo.route(flow.src, flow.dst, into: &scratch)
                                let slowed = Double(r.arrivals[k][f]) > 1.05 * Double(healthy.arrivals[k][f]) + 1
                                for l in scratch {
                                    var e = suspect[l] ?? (0, 0)
                                    e.messages += 1
                                    if slowed { e.slowed += 1 }
                                    suspect[l] = e
                                }
                            }
                        }
                    }
                }
                guard let hit = cache[key] else { break }
                end[i] = s + hit.seconds
                taskCollective[i] = Int32(hit.index)
                uses[hit.index] = (key, (uses[hit.index]?.1 ?? 0) + 1)
            }
            for j in successors[i] {
                indegree[j] -= 1
                if indegree[j] == 0 { stack.append(j) }
            }
        }
        // Link traffic: each distinct collective's bytes times the tasks that ran it.
        for index in uses.keys.sorted() {
            guard let (key, count) = uses[index], let hit = cache[key] else { continue }
            let topo = epochs.topologies[key.epoch]
            for (id, b) in hit.links {
                linkBytes[id, default: 0] += b * Double(count)
                linkBusy[id, default: 0] += b * Double(count) / topo.capacity(id)
            }
        }
        guard visited == n else { throw .deadlock(time: 0, pending: "\(n - visited) tasks of the training step wait on each other") }
        var rankCompute: [(Int, Double)] = []
        for (e, en) in plan.entities.enumerated() {
            if let healthy = en.ranks.first(where: { gpuFaults[$0] == nil }) { rankCompute.append((healthy, entityBase[e])) }
        }
        for r in rankOwn.keys.sorted() { rankCompute.append((r, rankOwn[r] ?? 0)) }
        let suspects = suspect.filter { $0.value.slowed > 0 }.map { (link: $0.key, slowed: $0.value.slowed, messages: $0.value.messages) }
            .sorted { a, b in
                let fa = Double(a.slowed) / Double(a.messages), fb = Double(b.slowed) / Double(b.messages)
                return fa != fb ? fa > fb : a.slowed != b.slowed ? a.slowed > b.slowed : a.link < b.link
            }
        let step = failure?.at ?? (end.max() ?? 0)
        return Result(
            start: start, end: end, stepSeconds: step, linkBytes: linkBytes, linkBusy: linkBusy, events: events, collectivesSimulated: cache.count,
            rankCompute: rankCompute, suspectLinks: suspects, failure: failure, taskCollective: taskCollective, collectiveLinks: collectiveLinks)
    }
}
