import TesseraCore
import TesseraModel
import TesseraPlan
import TesseraSpec

/// Executes a collective plan on a cluster's links: every link a resource shared max-min fairly
/// among the messages that cross it.
///
/// Within a step all messages start together; rates come from `MaxMinFairShare` (progressive
/// filling: raise every unfrozen message's rate equally until some link is full, freeze the
/// messages on full links, repeat) and are recomputed whenever a message
/// finishes transmitting (integer picoseconds; the next finish is found by scanning the messages,
/// so no event queue stands beside the executor's). A message of b bytes sent
/// at rate r arrives ⌈b/r⌉ ps after it starts plus its route's latency; the step ends when the
/// last arrives. A step repeated k times lasts k times as long (the network is empty between
/// steps, so each repetition is identical). Complexity per step: O(events × (flows + links)).
public struct LinkSimulator {
    public struct Result: Sendable {
        public var picoseconds: UInt64
        /// Link id → bytes carried, in link-id order.
        public var linkBytes: [(id: Int, bytes: Double)]
        public var events: UInt64
        /// Per step, each message's arrival after the step's start, picoseconds (only when asked).
        public var arrivals: [[UInt64]] = []
        /// The NCCL protocol it ran with (`nccl_protocol`; the fastest under `auto`), nil under the fabric model.
        public var ncclProtocol: CollectiveProtocol?
    }

    public let topology: ClusterTopology

    public init(topology: ClusterTopology) { self.topology = topology }

    /// Runs `plan`; under `nccl_protocol` with each protocol the cluster allows, keeping the fastest
    /// (the earlier of LL, LL128, Simple on a tie), its launch latency included.
    /// A plan with messages takes at least the cluster's `collective_floor` (one call's host-bound
    /// issue time); its arrivals are the links' as simulated.
    public func run(_ plan: CollectivePlan, arrivals wantArrivals: Bool = false) throws(SimError) -> Result {
        var r = try runOnLinks(plan, arrivals: wantArrivals)
        let floor = topology.spec.collectiveFloor
        if floor > 0, plan.steps.contains(where: { !$0.flows.isEmpty }) { r.picoseconds = max(r.picoseconds, Saturating.uint64Rounded(floor * 1e12)) }
        return r
    }

    /// The plan on the links alone: under `nccl_protocol` with each protocol the cluster allows,
    /// keeping the fastest.
    func runOnLinks(_ plan: CollectivePlan, arrivals wantArrivals: Bool) throws(SimError) -> Result {
        let row = Self.row(plan.algorithm)
        guard let choices = topology.protocolChoices?.filter({ $0.applies(to: row) }), let first = choices.first else {
            return try run(plan, protocol: nil, arrivals: wantArrivals)
        }
        var best = try run(plan, protocol: first, arrivals: wantArrivals)
        for p in choices.dropFirst() {
            let r = try run(plan, protocol: p, arrivals: wantArrivals)
            if r.picoseconds < best.picoseconds { best = r }
        }
        return best
    }

    /// The row of NCCL's constants an algorithm takes.
    static func row(_ algorithm: CollectiveSpec.Algorithm) -> CollectiveProtocol.Row {
        switch algorithm {
        case .doubleBinaryTree: .tree
        case .nvls: .nvls
        default: .ring
        }
    }

    func run(_ plan: CollectivePlan, protocol p: CollectiveProtocol?, arrivals wantArrivals: Bool) throws(SimError) -> Result {
        let row = Self.row(plan.algorithm)
        var total: UInt64 = 0
        var bytesByLink: [Int: Double] = [:]
        var events: UInt64 = 0
        var arrivals: [[UInt64]] = []
        for step in plan.steps {
            let (ps, carried, n, arrive) = try runStep(step.flows, protocol: p, row: row)
            if wantArrivals { arrivals.append(arrive) }
            total += ps * UInt64(step.repeats)
            events += n
            for (id, b) in carried { bytesByLink[id, default: 0] += b * Double(step.repeats) }
        }
        if let p, plan.steps.contains(where: { !$0.flows.isEmpty }) { total = Saturating.add(total, Saturating.uint64Rounded(p.launchLatency(row) * 1e12)) }
        return Result(picoseconds: total, linkBytes: bytesByLink.keys.sorted().map { ($0, bytesByLink[$0] ?? 0) }, events: events, arrivals: arrivals, ncclProtocol: p)
    }

    /// One step from an empty network: (duration, bytes per link id in first-use order, events,
    /// each message's arrival).
    func runStep(_ flows: [CollectiveFlow], protocol p: CollectiveProtocol? = nil, row: CollectiveProtocol.Row = .ring) throws(SimError) -> (UInt64, [(Int, Double)], UInt64, [UInt64]) {
        guard !flows.isEmpty else { return (0, [], 0, []) }
        // Compact the links this step uses.
        var local: [Int: Int] = [:]
        var ids: [Int] = []
        var paths: [[Int]] = []
        var latency: [UInt64] = []
        paths.reserveCapacity(flows.count)
        var scratch: [Int] = []
        for f in flows {
            let route = topology.route(f.src, f.dst, into: &scratch)
            latency.append(p.map { topology.protocolLatency(f.src, f.dst, route: route, protocol: $0, row: row) } ?? route)
            paths.append(scratch.map { id in
                if let i = local[id] { return i }
                local[id] = ids.count
                ids.append(id)
                return ids.count - 1
            })
        }
        let capacity = ids.map { id in (p.map { topology.protocolCapacity(id, protocol: $0, row: row) } ?? topology.capacity(id)) / 1e12 }  // bytes per ps
        let network = MaxMinFairShare(paths: paths.map { $0.map { (link: $0, weight: 1.0) } }, capacity: capacity)

        // Progressive filling in time: rates are solved at time 0 and again at each time some
        // message finishes (once for all that finish then); between two such times every rate is
        // constant, so the next finish is the earliest of the active messages' ⌊remaining/rate⌋.
        // No event queue is needed: the messages are scanned for the earliest finish. `events`
        // counts what a queue of finishes would have delivered (one per finish computed, the
        // replaced ones included, and one per re-solve), the figure reports have always given.
        var remaining = flows.map(\.bytes)
        var rate = Array(repeating: 0.0, count: flows.count)
        var active = Array(repeating: true, count: flows.count)
        var finishAt = Array(repeating: UInt64(0), count: flows.count)
        var activeCount = flows.count
        var now: UInt64 = 0, lastUpdate: UInt64 = 0, end: UInt64 = 0
        var events: UInt64 = 1  // the first solve
        var arrive = Array(repeating: UInt64(0), count: flows.count)
        while activeCount > 0 {
            let dt = Double(now - lastUpdate)
            for f in flows.indices where active[f] { remaining[f] = max(0, remaining[f] - rate[f] * dt) }
            lastUpdate = now
            network.solve(active: active, into: &rate)
            var next = UInt64.max
            for f in flows.indices where active[f] {
                guard rate[f] > 0 else { throw .deadlock(time: now, pending: "a message from rank \(flows[f].src) to rank \(flows[f].dst) gets no bandwidth") }
                let t = remaining[f] <= 0 ? 0 : Saturating.uint64(remaining[f] / rate[f])
                let at = Saturating.add(now, t)
                guard at <= EventEngine<Int>.horizon else { throw .pastHorizon(now: now) }
                finishAt[f] = at
                next = min(next, at)
                events += 1
            }
            // Every message due at `next` finishes; a re-solve follows when another was active too.
            if activeCount > 1 { events += 1 }
            now = next
            for f in flows.indices where active[f] && finishAt[f] == next {
                active[f] = false
                activeCount -= 1
                remaining[f] = 0
                end = max(end, Saturating.add(now, latency[f]))
                arrive[f] = Saturating.add(now, latency[f])
            }
        }
        var carried = Array(repeating: 0.0, count: ids.count)
        for (f, p) in paths.enumerated() { for l in p { carried[l] += flows[f].bytes } }
        return (end, Array(zip(ids, carried)), events, arrive)
    }
}

extension LinkSimulator {
    /// C4's way of finding a faulty link from collective timing: for each message of `plan`, whether
    /// it arrived more than 5% later on the faulty network than on the healthy one; every link on
    /// its (faulty) route counts it, and late ones.
    public static func countLateMessages(
        _ plan: CollectivePlan, faulty: Result, healthy: Result, on topology: ClusterTopology, into counts: inout [Int: (slowed: Int, messages: Int)]
    ) {
        var scratch: [Int] = []
        for (k, step) in plan.steps.enumerated() where k < faulty.arrivals.count && k < healthy.arrivals.count {
            for (f, flow) in step.flows.enumerated() where f < faulty.arrivals[k].count && f < healthy.arrivals[k].count {
                _ = topology.route(flow.src, flow.dst, into: &scratch)
                let slowed = Double(faulty.arrivals[k][f]) > 1.05 * Double(healthy.arrivals[k][f]) + 1
                for l in scratch {
                    var e = counts[l] ?? (0, 0)
                    e.messages += 1
                    if slowed { e.slowed += 1 }
                    counts[l] = e
                }
            }
        }
    }

    /// Links carrying late messages, most suspicious first: the largest share of late messages,
    /// then the most late messages, then the lowest id.
    public static func rankSuspects(_ counts: [Int: (slowed: Int, messages: Int)]) -> [(link: Int, slowed: Int, messages: Int)] {
        counts.filter { $0.value.slowed > 0 }.map { (link: $0.key, slowed: $0.value.slowed, messages: $0.value.messages) }
            .sorted { a, b in
                let fa = Double(a.slowed) / Double(a.messages), fb = Double(b.slowed) / Double(b.messages)
                return fa != fb ? fa > fb : a.slowed != b.slowed ? a.slowed > b.slowed : a.link < b.link
            }
    }
}
