import Testing
import TesseraCore
import TesseraModel
import TesseraPlan
import TesseraSpec
import TesseraTestSupport

@testable import TesseraSim

/// One collective step as the link simulator ran it before it found each next finish by scanning
/// the messages: finishes and re-solves as events on an `EventEngine` queue. Kept as the
/// reference `LinkStepEquivalenceTests` compares the scan against.
extension LinkSimulator {
    enum ReferenceEvent: Sendable {
        case finish(flow: Int, generation: Int)
        case recompute
    }

    /// One step from an empty network: (duration, bytes per link id in first-use order, events,
    /// each message's arrival).
    func referenceStep(_ flows: [CollectiveFlow], protocol p: CollectiveProtocol? = nil, row: CollectiveProtocol.Row = .ring) throws(SimError) -> (UInt64, [(Int, Double)], UInt64, [UInt64]) {
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

        var remaining = flows.map(\.bytes)
        var rate = Array(repeating: 0.0, count: flows.count)
        var active = Array(repeating: true, count: flows.count)
        var generation = Array(repeating: 0, count: flows.count)
        var activeCount = flows.count
        var engine = EventEngine<ReferenceEvent>()
        var lastUpdate: UInt64 = 0
        var end: UInt64 = 0
        var recomputePending = true
        var arrive = Array(repeating: UInt64(0), count: flows.count)
        try engine.schedule(at: 0, priority: 1, .recompute)
        while let (now, event) = engine.next() {
            switch event {
            case .finish(let f, let gen):
                guard active[f], generation[f] == gen else { continue }
                active[f] = false
                activeCount -= 1
                remaining[f] = 0
                end = max(end, Saturating.add(now, latency[f]))
                arrive[f] = Saturating.add(now, latency[f])
                if !recomputePending, activeCount > 0 {
                    recomputePending = true
                    try engine.schedule(at: now, priority: 1, .recompute)
                }
            case .recompute:
                recomputePending = false
                let dt = Double(now - lastUpdate)
                for f in flows.indices where active[f] { remaining[f] = max(0, remaining[f] - rate[f] * dt) }
                lastUpdate = now
                network.solve(active: active, into: &rate)
                for f in flows.indices where active[f] {
                    generation[f] += 1
                    guard rate[f] > 0 else { throw .deadlock(time: now, pending: "a message from rank \(flows[f].src) to rank \(flows[f].dst) gets no bandwidth") }
                    let t = remaining[f] <= 0 ? 0 : Saturating.uint64(remaining[f] / rate[f])
                    try engine.schedule(at: Saturating.add(now, t), .finish(flow: f, generation: generation[f]))
                }
            }
        }
        guard activeCount == 0 else { throw .deadlock(time: engine.now, pending: "\(activeCount) messages of a collective step") }
        var carried = Array(repeating: 0.0, count: ids.count)
        for (f, p) in paths.enumerated() { for l in p { carried[l] += flows[f].bytes } }
        return (end, Array(zip(ids, carried)), engine.eventCount, arrive)
    }
}

/// The link simulator's scan for the next finish against the event queue it replaced: random
/// steps (random pairs, sizes, zero-byte messages, messages sharing links) on a switch, a ring and
/// a two-level fabric give the same duration, arrivals, link bytes and event count.
@Suite struct LinkStepEquivalenceTests {
    @Test func randomStepsMatchTheEventQueue() throws {
        let topologies = [try flat("switch", 8), try flat("ring", 8), try cluster("nodes: 2\ngpus_per_node: 4\nintra_node: {kind: nvswitch, bandwidth: 450 GB/s, latency: 1 us}\ninter_node: {kind: switch, nic: 400 Gb/s, nics_per_node: 2, latency: 5 us}\n")]
        var rng = SplitMix64(seed: 2026)
        var steps = 0
        for t in topologies {
            let sim = LinkSimulator(topology: t)
            for _ in 0..<80 {
                let count = 1 + Int(rng.next() % 12)
                let flows = (0..<count).map { _ -> CollectiveFlow in
                    let src = Int(rng.next() % UInt64(t.ranks))
                    var dst = Int(rng.next() % UInt64(t.ranks))
                    if dst == src { dst = (dst + 1) % t.ranks }
                    let bytes = rng.next() % 5 == 0 ? 0 : Double(1 + rng.next() % (64 << 20))
                    return CollectiveFlow(src: src, dst: dst, bytes: bytes)
                }
                let a = try sim.runStep(flows), b = try sim.referenceStep(flows)
                #expect(a.0 == b.0 && a.2 == b.2 && a.3 == b.3, "step \(steps): \(a.0) vs \(b.0) ps, \(a.2) vs \(b.2) events")
                #expect(a.1.map(\.0) == b.1.map(\.0) && a.1.map(\.1) == b.1.map(\.1))
                steps += 1
            }
        }
        #expect(steps == 240)
    }
}
