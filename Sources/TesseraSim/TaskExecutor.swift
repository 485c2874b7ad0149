import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraPlan
import TesseraSpec

/// The cluster executor: replays a `TaskPlan` (a training step, a collective microbenchmark) on
/// in-order streams, event by event in time order: a task starts when the task before it on its
/// stream and all its dependencies have ended, and
/// - a compute task lasts its healthy seconds × the largest slowdown among its GPUs' faults in
///   force at its start (the `FaultPolicy`);
/// - a collective alone on its links lasts T₀, the `LinkSimulator`'s time for it with every group
///   sending at once (`TaskPlan.collectivePlan`), on the network the `FaultPolicy` has in force at
///   its start.
///
/// Collectives that run at the same time share the links they have in common, at the granularity
/// of whole collectives: collective c alone uses link l at its average rate u_{c,l} = bytes_{c,l}/T₀;
/// together, each progresses at a fraction r_c ≤ 1 of its standalone speed, the fractions max-min
/// fair under Σ_c r_c·u_{c,l} ≤ capacity_l (progressive filling over collectives, recomputed whenever
/// one sharing a link starts or ends). This is a fluid approximation: within a collective, its
/// steps' bursts are averaged over its duration. An entity carries its `trafficShare` of a
/// collective's traffic (a class of k of the dp replicas k/dp; its T₀ is still that of all groups
/// at once: conservative).
///
/// Streams do not compete for a GPU's compute or memory (communication kernels are assumed not to
/// slow the compute they overlap). Finishes are events on `EventEngine` in integer picoseconds (a
/// compute task's seconds rounded to the nearest picosecond, a collective's remaining time rounded
/// up), ordered by (time, insertion), so runs are deterministic; `Result` gives times in seconds.
///
/// A `TaskSource` adds work while the run goes on (continuous batching): its tasks begin when it
/// submits them and it hears when they end, on the same clock and the same network as the plan's
/// tasks. Every collective of a run with a source takes part in the link sharing (the plan-wide
/// shortcuts below assume every collective is known before time starts).
public struct TaskExecutor {
    public struct Result: Sendable {
        /// Each task's start and end, seconds and engine picoseconds.
        public var start: [Double]
        public var end: [Double]
        public var startPicoseconds: [Picoseconds]
        public var endPicoseconds: [Picoseconds]
        public var stepSeconds: Double
        /// The links that carried traffic, ascending id.
        public var linkIDs: [Int]
        /// By link id (dense: 0 for links with no traffic): bytes carried and seconds busy (bytes /
        /// capacity in force), over the step.
        public var linkBytes: [Double]
        public var linkBusy: [Double]
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
        /// The links each distinct collective (at its fault epoch) carried traffic on, with the bytes
        /// one run of it puts on each (the arrays the link simulator returned, shared, not copied).
        public var collectiveLinks: [[(id: Int, bytes: Double)]]
        /// The NCCL protocol each distinct collective ran with (as `collectiveLinks`; nil under the fabric model).
        public var collectiveProtocols: [CollectiveProtocol?] = []
    }

    public let plan: TaskPlan
    /// Whether concurrent collectives share their common links (false: each runs as if alone).
    public let sharedLinks: Bool

    public init(plan: TaskPlan, sharedLinks: Bool = true) {
        self.plan = plan
        self.sharedLinks = sharedLinks
    }

    /// A pending finish; `generation` drops finishes a rate change replaced. A negative `task` is
    /// a task source's event, ~task its tag or token: a timer (`generation` 0), or the end of a
    /// compute task on healthy GPUs (`generation` = began·2 + 1), which needs no slot: nothing
    /// can change its end once it has begun.
    struct Finish: Sendable {
        var task: Int
        var generation: Int
    }

    /// Max-min fair fractions r_c ≤ 1 of standalone speed for collectives with link demands
    /// `demand[c]` = [(link, u)], under Σ_c r_c·u ≤ `capacity(link)` (`MaxMinFairShare` with the
    /// demands as weights and a ceiling of 1); at least 10⁻⁹, so that every collective progresses.
    static func fairShares(_ demand: [[(link: Int, rate: Double)]], capacity: (Int) -> Double) -> [Double] {
        var local: [Int: Int] = [:]
        var ids: [Int] = []
        let paths = demand.map { d in
            d.filter { $0.rate > 0 }.map { x -> (link: Int, weight: Double) in
                if let k = local[x.link] { return (k, x.rate) }
                local[x.link] = ids.count
                ids.append(x.link)
                return (ids.count - 1, x.rate)
            }
        }
        let network = MaxMinFairShare(paths: paths, capacity: ids.map(capacity))
        return network.rates(active: Array(repeating: true, count: demand.count), ceiling: 1).map { max($0, 1e-9) }
    }

    struct Key: Hashable {
        var collective: GroupCollective
        var epoch: Int
    }

    /// Links with the same users, the same bytes from each and the same capacity: one constraint.
    struct Signature: Hashable {
        var users: [Int]
        var bytes: [Double]
        var capacity: Double
    }

    public func run() throws(SimError) -> Result {
        var none = NoTaskSource()
        return try run(source: &none)
    }

    /// Runs the plan's tasks and whatever `source` adds as it goes (`Result` covers the plan's
    /// tasks; the source keeps its own record).
    public func run<Source: TaskSource>(source: inout Source) throws(SimError) -> Result {
        let tasks = plan.tasks
        let n = tasks.count
        let dynamic = Source.self != NoTaskSource.self
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
        // Faults are the policy's: GPU slowdowns by time, and the network of each epoch.
        let faults = FaultPolicy(plan.faults, on: plan.topology)
        let faultyRanksOf: [[Int]] = plan.entities.map { e in e.ranks.filter { faults.isFaulty(gpu: $0) } }
        // Distinct collectives (a collective at a fault epoch), by index: found by key once, then by index.
        var cache: [Key: Int] = [:]
        var infos: [(picoseconds: Picoseconds, links: [(id: Int, bytes: Double)], index: Int)] = []
        var infoKeys: [Key] = []
        var useCount: [Int] = []  // collective index → how many tasks ran it
        var taskIndex0 = [Int32](repeating: -1, count: n)  // each task's collective on the healthy network
        var taskCollective = [Int32](repeating: -1, count: n)
        var collectiveLinks: [[(id: Int, bytes: Double)]] = []
        var collectiveProtocols: [CollectiveProtocol?] = []
        let linkSlots = faults.topologies.map(\.linkCount).max() ?? 0
        var linkBytes = [Double](repeating: 0, count: linkSlots), linkBusy = [Double](repeating: 0, count: linkSlots)
        var carried = [Bool](repeating: false, count: linkSlots)
        var events: UInt64 = 0
        var suspect: [Int: (slowed: Int, messages: Int)] = [:]
        var start = [Picoseconds](repeating: 0, count: n), end = [Picoseconds](repeating: 0, count: n)
        var entityBase = [Double](repeating: 0, count: plan.entities.count)
        var rankOwn: [Int: Double] = [:]
        var failure: (rank: Int, at: Double)?
        var linkSets: [LinkSet] = []
        var conflicts: [[Int]] = []
        var deferConflicts = false
        let multipleClasses = plan.replicatedEntities
        // Active collectives: standalone time, remaining fraction, current fraction of speed, demand.
        // Standalone time in picoseconds, remaining fraction, fraction of speed, when last updated.
        var t0 = [Double](repeating: 0, count: n), remaining = [Double](repeating: 0, count: n)
        var share = [Double](repeating: 1, count: n), updated = [Picoseconds](repeating: 0, count: n)
        var generation = [Int](repeating: 0, count: n)
        var demand: [Int: [(link: Int, rate: Double)]] = [:]
        // The running collectives on each link, by link id: how many, and the XOR of their task
        // indices (which, when one is left, is that one).
        var linkUserCount = [Int32](repeating: 0, count: faults.topologies.map(\.linkCount).max() ?? 0)
        var linkUserXor = [Int](repeating: 0, count: linkUserCount.count)
        var sharing = [Int](repeating: 0, count: n)  // links of an active collective that others use too
        var engine = EventEngine<Finish>()
        var now: Picoseconds = 0
        func seconds(_ ps: Picoseconds) -> Double { Double(ps) / 1e12 }
        var contested: [[(id: Int, bytes: Double)]?] = []  // collective index → the links it may share (nil: all)
        var fastActive: [[Int]] = []  // collective index → running tasks not yet registered on links
        var linksKnown = [Bool](repeating: false, count: n)  // a running collective task that may join the link accounting
        // The source's tasks: slots n, n + 1, … (reused once a task has ended and its source heard of it).
        var sourceTasks: [TaskSubmissions.Task] = []
        var freeSlots: [Int] = []
        var submissions = TaskSubmissions()
        func entityOf(_ i: Int) -> Int { i < n ? tasks[i].entity : sourceTasks[i - n].entity }
        func streamOf(_ i: Int) -> Int { i < n ? tasks[i].stream : sourceTasks[i - n].stream }
        func schedule(_ i: Int, at time: Picoseconds, priority: Int = 0) throws(SimError) {
            generation[i] += 1
            try engine.schedule(at: time, priority: priority, Finish(task: i, generation: generation[i]))
        }
        /// `now` plus a fraction of a collective's standalone time at a fraction of its speed, rounded up.
        func after(_ fraction: Double, of standalone: Double, at speed: Double) -> Picoseconds {
            Saturating.add(now, Saturating.uint64((fraction * standalone / speed).rounded(.up)))
        }
        /// New fair shares for every collective that shares a link; the others run at full speed.
        func reshare() throws(SimError) {
            let contended = demand.keys.filter { sharing[$0] > 0 }.sorted()
            let topo = faults.topologies[faults.epoch(at: seconds(now))]
            let shares = Self.fairShares(contended.map { demand[$0] ?? [] }, capacity: { topo.capacity($0) })
            var newShare: [Int: Double] = [:]
            for (k, c) in contended.enumerated() { newShare[c] = shares[k] }
            for c in demand.keys.sorted() {
                let x = newShare[c] ?? 1
                guard x != share[c] else { continue }
                remaining[c] = max(0, remaining[c] - Double(now - updated[c]) * share[c] / t0[c])
                updated[c] = now
                share[c] = x
                try schedule(c, at: after(remaining[c], of: t0[c], at: x))
            }
        }
        /// Puts running collective `i` on its links; true when it shares one with another.
        func register(_ i: Int) -> Bool {
            guard linksKnown[i], taskCollective[i] >= 0 else { return false }  // a running collective
            let c = Int(taskCollective[i])
            let links = c < contested.count ? (contested[c] ?? infos[c].links) : infos[c].links
            // A class of k replicas carries k/dp of a per-replica collective's messages (tensor,
            // expert, pipeline); a collective on a shared stream (data-parallel) is every class's at once.
            let fraction = plan.streams[streamOf(i)].entity == nil ? 1 : plan.entities[entityOf(i)].trafficShare
            let d = links.map { (link: $0.id, rate: fraction * $0.bytes / (t0[i] / 1e12)) }
            demand[i] = d
            var contended = false
            for (l, _) in d {
                if linkUserCount[l] == 1 { sharing[linkUserXor[l]] += 1 }
                if linkUserCount[l] > 0 {
                    sharing[i] += 1
                    contended = true
                }
                linkUserCount[l] += 1
                linkUserXor[l] ^= i
            }
            return contended
        }
        // Collective details at an epoch: T₀, bytes per link, its index; computed once per key.
        func info(_ c: GroupCollective, _ epoch: Int) throws(SimError) -> (picoseconds: Picoseconds, links: [(id: Int, bytes: Double)], index: Int) {
            let key = Key(collective: c, epoch: epoch)
            if let k = cache[key] { return infos[k] }
            guard epoch < faults.topologies.count else { throw .misuse("a collective (\(c.group.rawValue)) in a plan that has no network") }
            let topo = faults.topologies[epoch]
            let cp = plan.collectivePlan(c)
            let r = try LinkSimulator(topology: topo).run(cp, arrivals: epoch > 0)
            events += r.events
            let hit = (r.picoseconds, r.linkBytes, collectiveLinks.count)
            cache[key] = hit.2
            infos.append(hit)
            infoKeys.append(key)
            useCount.append(0)
            fastActive.append([])
            collectiveLinks.append(r.linkBytes)
            collectiveProtocols.append(r.ncclProtocol)
            // Which distinct collectives could share a link with this one (itself too when several
            // classes of replicas each run it: their groups' messages compete).
            let mine = LinkSet(sortedIDs: r.linkBytes.map(\.id))
            conflicts.append([])
            linkSets.append(mine)
            if !deferConflicts {
                for (j, other) in linkSets.enumerated() where j != hit.2 && other.intersects(mine) {
                    conflicts[j].append(hit.2)
                    conflicts[hit.2].append(j)
                }
                // A source may run copies of one collective at once (two requests' KV caches).
                if multipleClasses || dynamic, !mine.isEmpty { conflicts[hit.2].append(hit.2) }
            }
            // Runs of collectives that could not share a link until now join the link accounting.
            if sharedLinks {
                var contended = false
                for j in conflicts[hit.2] where j != hit.2 {
                    let waiting = fastActive[j]
                    fastActive[j] = []
                    for task in waiting { contended = register(task) || contended }
                }
                if contended { try reshare() }
            }
            if epoch > 0, let network = plan.topology {
                let healthy = try LinkSimulator(topology: network).run(cp, arrivals: true)
                events += healthy.events
                LinkSimulator.countLateMessages(cp, faulty: r, healthy: healthy, on: topo, into: &suspect)
            }
            return hit
        }

        func begin(_ i: Int) throws(SimError) {
            start[i] = now
            if i < n {
                switch tasks[i].work {
                case .compute(let duration): try beginCompute(i, entity: tasks[i].entity, seconds: duration, picoseconds: nil)
                case .collective(let c): try beginCollective(i, c)
                }
            } else {
                let t = sourceTasks[i - n]
                switch t.work {
                case .picoseconds(let ps): try beginCompute(i, entity: t.entity, seconds: Double(ps) / 1e12, picoseconds: ps, priority: t.priority)
                case .collective(let c): try beginCollective(i, c)
                }
            }
        }
        /// Compute of `seconds` on a healthy GPU (exactly `picoseconds` when given and no fault slows it).
        func beginCompute(_ i: Int, entity: Int, seconds duration: Double, picoseconds: Picoseconds?, priority: Int = 0) throws(SimError) {
            let s = now, sSeconds = seconds(now)
            var f = 1.0
            if !faultyRanksOf[entity].isEmpty {
                for r in faultyRanksOf[entity] {
                    let own = faults.slowdown(gpu: r, at: sSeconds)
                    f = max(f, own)
                    if own.isFinite { rankOwn[r, default: 0] += duration * own }
                }
            }
            entityBase[entity] += duration
            if f.isInfinite {
                if failure == nil { failure = (faultyRanksOf[entity].first { faults.slowdown(gpu: $0, at: sSeconds).isInfinite } ?? -1, sSeconds) }
                try schedule(i, at: s)
            } else if f == 1, let picoseconds {
                try schedule(i, at: Saturating.add(s, picoseconds), priority: priority)
            } else {
                try schedule(i, at: Saturating.add(s, Saturating.uint64((duration * f * 1e12).rounded())))
            }
        }
        func beginCollective(_ i: Int, _ c: GroupCollective) throws(SimError) {
            let s = now, sSeconds = seconds(now)
            let epoch = faults.epoch(at: sSeconds)
            let hit = epoch == 0 && taskIndex0[i] >= 0 ? infos[Int(taskIndex0[i])] : try info(c, epoch)
            taskCollective[i] = Int32(hit.index)
            useCount[hit.index] += 1
            guard hit.picoseconds > 0 else {
                try schedule(i, at: s)
                return
            }
            t0[i] = Double(hit.picoseconds)
            remaining[i] = 1
            updated[i] = s
            share[i] = 1
            guard sharedLinks else {
                try schedule(i, at: Saturating.add(s, hit.picoseconds))
                return
            }
            linksKnown[i] = true
            guard !conflicts[hit.index].isEmpty else {
                fastActive[hit.index].append(i)
                try schedule(i, at: Saturating.add(s, hit.picoseconds))
                return
            }
            let before = generation[i]
            if register(i) { try reshare() }
            if generation[i] == before { try schedule(i, at: after(1, of: t0[i], at: share[i])) }
        }
        func finishCollective(_ i: Int) throws(SimError) {
            guard taskCollective[i] >= 0 else { return }  // compute
            if linksKnown[i] {
                linksKnown[i] = false
                fastActive[Int(taskCollective[i])].removeAll { $0 == i }
            }
            guard let d = demand.removeValue(forKey: i) else { return }
            let wasShared = sharing[i] > 0
            for (l, _) in d {
                linkUserCount[l] -= 1
                linkUserXor[l] ^= i
                if linkUserCount[l] == 1 { sharing[linkUserXor[l]] -= 1 }
            }
            sharing[i] = 0
            if wasShared { try reshare() }
        }

        // Every collective on the healthy network first, so that which can share a link is known:
        // two share one when their links meet, unless every run of both is on one in-order stream
        // (a tensor-parallel reduce-scatter and all-gather never run at once).
        if sharedLinks {
            deferConflicts = true
            var streamsOf: [Int: [Int]] = [:]  // collective index → up to two streams it runs on
            for (i, t) in tasks.enumerated() {
                guard case .collective(let c) = t.work else { continue }
                let idx = try info(c, 0).index
                taskIndex0[i] = Int32(idx)
                var st = streamsOf[idx] ?? []
                if st.count < 2, !st.contains(t.stream) { st.append(t.stream) }
                streamsOf[idx] = st
            }
            deferConflicts = false
            func oneStream(_ i: Int) -> Int? { (streamsOf[i]?.count ?? 0) == 1 ? streamsOf[i]?[0] : nil }
            for i in linkSets.indices {
                if multipleClasses, !linkSets[i].isEmpty, oneStream(i) == nil { conflicts[i].append(i) }
                for j in (i + 1)..<linkSets.count where linkSets[i].intersects(linkSets[j]) {
                    if let a = oneStream(i), let b = oneStream(j), a == b { continue }
                    conflicts[i].append(j)
                    conflicts[j].append(i)
                }
            }
            // With no link faults every distinct collective is known now. A link that no collective
            // it can run beside uses is never shared while it runs (unless it runs on two streams at
            // once), and alone on a link a collective never exceeds it (its standalone average rate
            // fits the capacity, and its share is at most 1): such links are left out of its demand,
            // which changes no share and saves registering a data-parallel collective's tens of
            // thousands of links each time it runs.
            if !faults.changesNetwork {
                let restricted: [[(id: Int, bytes: Double)]] = infos.indices.map { c in
                    guard oneStream(c) != nil else { return infos[c].links }
                    let shared = linkSets[c].shared(with: conflicts[c].filter { $0 != c }.map { linkSets[$0] })
                    return infos[c].links.filter { shared.contains($0.id) }
                }
                // Links with the same users, the same bytes from each and the same capacity are
                // the same constraint (a data-parallel ring crosses thousands of NICs alike): each
                // collective's demand keeps one link of each such class, the first by id.
                var users = [[Int]](repeating: [], count: linkSlots), bytes = [[Double]](repeating: [], count: linkSlots)
                for (c, links) in restricted.enumerated() {
                    for (id, b) in links where id >= 0 && id < linkSlots {
                        users[id].append(c)
                        bytes[id].append(b)
                    }
                }
                var first: [Signature: Int] = [:]
                var representative = [Bool](repeating: false, count: linkSlots)
                for id in 0..<linkSlots where !users[id].isEmpty {
                    let key = Signature(users: users[id], bytes: bytes[id], capacity: plan.topology?.capacity(id) ?? 0)
                    if first[key] == nil {
                        first[key] = id
                        representative[id] = true
                    }
                }
                contested = restricted.map { links in links.filter { $0.id >= 0 && $0.id < linkSlots && representative[$0.id] } }
            }
        }
        /// Carries out what the source answered, in its order: its tasks take free slots (or new
        /// ones) and begin now; its timers are events whose task index is the tag's complement.
        func submit() throws(SimError) {
            guard let head = submissions.first else { return }
            submissions.first = nil
            try carryOut(head)
            guard !submissions.rest.isEmpty else { return }
            var k = 0
            while k < submissions.rest.count {
                try carryOut(submissions.rest[k])
                k += 1
            }
            submissions.rest.removeAll(keepingCapacity: true)
        }
        func carryOut(_ entry: TaskSubmissions.Entry) throws(SimError) {
            switch entry {
            case .timer(let time, let priority, let tag):
                guard tag >= 0 else { throw .misuse("a task source's timer tag \(tag) (tags are at least 0)") }
                try engine.schedule(at: time, priority: priority, Finish(task: ~tag, generation: 0))
            case .task(let task):
                guard task.token >= 0 else { throw .misuse("a task source's token \(task.token) (tokens are at least 0)") }
                if case .picoseconds(let ps) = task.work, faultyRanksOf[task.entity].isEmpty {
                    entityBase[task.entity] += Double(ps) / 1e12
                    try engine.schedule(at: Saturating.add(now, ps), priority: task.priority, Finish(task: ~task.token, generation: Int(bitPattern: UInt(now) << 1 | 1)))
                    return
                }
                let i: Int
                if let slot = freeSlots.popLast() {
                    i = slot
                    sourceTasks[i - n] = task
                    if taskCollective[i] >= 0 { taskCollective[i] = -1 }
                } else {
                    i = start.count
                    sourceTasks.append(task)
                    start.append(0)
                    end.append(0)
                    updated.append(0)
                    t0.append(0)
                    remaining.append(0)
                    share.append(1)
                    generation.append(0)
                    linksKnown.append(false)
                    taskCollective.append(-1)
                    taskIndex0.append(-1)
                    sharing.append(0)
                }
                try begin(i)
            }
        }
        var visited = 0
        try source.start(&submissions)
        try submit()
        for i in 0..<n where indegree[i] == 0 { try begin(i) }
        while let (time, f) = engine.next() {
            if f.task < 0 {
                now = time
                if f.generation & 1 == 1 {
                    try source.ended(~f.task, began: Picoseconds(UInt(bitPattern: f.generation) >> 1), at: now, &submissions)
                } else {
                    try source.timer(~f.task, at: now, &submissions)
                }
                try submit()
                continue
            }
            guard f.generation == generation[f.task] else { continue }
            now = time
            let i = f.task
            end[i] = now
            try finishCollective(i)
            if i >= n {
                freeSlots.append(i)
                try source.ended(sourceTasks[i - n].token, began: start[i], at: now, &submissions)
                try submit()
                continue
            }
            visited += 1
            for j in successors[i] {
                indegree[j] -= 1
                if indegree[j] == 0 { try begin(j) }
            }
        }
        // Link traffic: each distinct collective's bytes times the tasks that ran it.
        for index in useCount.indices where useCount[index] > 0 {
            let key = infoKeys[index], count = useCount[index], hit = infos[index]
            let topo = faults.topologies[key.epoch]
            for (id, b) in hit.links {
                guard id >= 0, id < linkSlots else { continue }
                carried[id] = true
                linkBytes[id] += b * Double(count)
                linkBusy[id] += b * Double(count) / topo.capacity(id)
            }
        }
        guard visited == n else { throw .deadlock(time: now, pending: "\(n - visited) tasks of the training step wait on each other") }
        var rankCompute: [(Int, Double)] = []
        for (e, en) in plan.entities.enumerated() {
            if let healthy = en.ranks.first(where: { !faults.isFaulty(gpu: $0) }) { rankCompute.append((healthy, entityBase[e])) }
        }
        for r in rankOwn.keys.sorted() { rankCompute.append((r, rankOwn[r] ?? 0)) }
        let suspects = LinkSimulator.rankSuspects(suspect)
        let step = failure?.at ?? seconds(end.max() ?? 0)
        if start.count > n {
            start.removeLast(start.count - n)
            end.removeLast(end.count - n)
            taskCollective.removeLast(taskCollective.count - n)
        }
        return Result(
            start: start.map(seconds), end: end.map(seconds), startPicoseconds: start, endPicoseconds: end, stepSeconds: step, linkIDs: carried.indices.filter { carried[$0] }, linkBytes: linkBytes, linkBusy: linkBusy, events: events + engine.eventCount,
            collectivesSimulated: cache.count,
            rankCompute: rankCompute, suspectLinks: suspects, failure: failure, taskCollective: taskCollective, collectiveLinks: collectiveLinks, collectiveProtocols: collectiveProtocols)
    }
}

/// A set of link ids as a bitset over the range of ids it holds: whether two collectives' links
/// meet is a word-wise AND over the ranges both span (a data-parallel collective's links across
/// 131,072 GPUs: about 10⁴ words), with no hashing.
struct LinkSet: Sendable {
    /// The first word's index (id / 64).
    let base: Int
    let words: [UInt64]

    init(sortedIDs ids: [Int]) {
        guard let first = ids.first, let last = ids.last, first >= 0 else {
            base = 0
            words = []
            return
        }
        base = first >> 6
        var w = [UInt64](repeating: 0, count: (last >> 6) - base + 1)
        for id in ids where id >= 0 { w[(id >> 6) - base] |= 1 << UInt64(id & 63) }
        words = w
    }

    var isEmpty: Bool { words.isEmpty }

    private init(base: Int, words: [UInt64]) {
        self.base = base
        self.words = words
    }

    func contains(_ id: Int) -> Bool {
        guard id >= 0 else { return false }
        let w = (id >> 6) - base
        return w >= 0 && w < words.count && words[w] & (UInt64(1) << UInt64(id & 63)) != 0
    }

    /// The links of this set that some of `others` hold too.
    func shared(with others: [LinkSet]) -> LinkSet {
        var mask = [UInt64](repeating: 0, count: words.count)
        for o in others {
            let lo = max(base, o.base), hi = min(base + words.count, o.base + o.words.count)
            guard lo < hi else { continue }
            for k in lo..<hi { mask[k - base] |= o.words[k - o.base] }
        }
        for k in mask.indices { mask[k] &= words[k] }
        return LinkSet(base: base, words: mask)
    }

    func intersects(_ other: LinkSet) -> Bool {
        let lo = max(base, other.base), hi = min(base + words.count, other.base + other.words.count)
        guard lo < hi else { return false }
        for k in lo..<hi where words[k - base] & other.words[k - other.base] != 0 { return true }
        return false
    }
}
