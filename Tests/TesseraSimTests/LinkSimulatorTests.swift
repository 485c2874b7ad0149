import Foundation
import Testing
import TesseraCore
import TesseraModel
import TesseraPlan
import TesseraSpec

@testable import TesseraSim

/// A cluster from YAML text, built the way the pipeline builds it.
func cluster(_ body: String) throws -> ClusterTopology {
    let spec = try KindTable.hardwareLoader.parse("tessera: 1\nname: c\nkind: gpu-cluster\n" + body, file: "c.yaml")
    return try #require(spec.cluster.flatMap(ClusterTopology.init))
}

/// `n` single-GPU nodes on a ring or a switch: β = 50 GB/s per link, α = 700 ns per message.
func flat(_ kind: String, _ n: Int) throws -> ClusterTopology {
    try cluster("nodes: \(n)\ninter_node: {kind: \(kind), bandwidth: 50 GB/s, latency: 700 ns}\n")
}

func simulate(_ op: CollectiveSpec.Op, _ algorithm: CollectiveSpec.Algorithm, bytes: UInt64, on t: ClusterTopology, chunk: UInt64 = 1 << 20) throws -> (ps: UInt64, steps: Int) {
    let at = SourceLocation(file: "w.yaml", line: 1, column: 1)
    let spec = CollectiveSpec(op: op, sizes: [bytes], algorithm: algorithm, chunk: chunk, location: at, algorithmLocation: at)
    let plan = try CollectivePlanner.plan(spec, bytes: bytes, topology: t)
    let r = try LinkSimulator(topology: t).run(plan)
    return (r.picoseconds, plan.steps.reduce(0) { $0 + $1.repeats })
}

/// The α-β closed forms documented on `CollectivePlanner`, in picoseconds.
func closedForm(_ op: CollectiveSpec.Op, _ algorithm: CollectiveSpec.Algorithm, n: Int, S: Double, alpha: Double, beta: Double, chunk: Double = 1_048_576) -> Double {
    let N = Double(n), a = alpha * 1e12, b = beta / 1e12
    let log2n = log2(N)
    switch (op, algorithm) {
    case (.allReduce, .ring): return 2 * (N - 1) * (a + S / (N * b))
    case (.reduceScatter, .ring), (.allGather, .ring): return (N - 1) * (a + S / (N * b))
    case (.broadcast, .ring), (.reduce, .ring):
        let C = max(1, (S / chunk).rounded(.up))
        return (N - 2 + C) * (a + S / (C * b))
    case (.reduceScatter, .halvingDoubling), (.allGather, .halvingDoubling): return log2n * a + (N - 1) / N * S / b
    case (.allReduce, .halvingDoubling):
        let p = pow(2, log2n.rounded(.down))
        let extra = p < N ? 2 * (a + S / b) : 0
        return extra + 2 * log2(p) * a + 2 * (p - 1) / p * S / b
    case (.broadcast, .halvingDoubling), (.reduce, .halvingDoubling): return log2n.rounded(.up) * (a + S / b)
    case (.reduceScatter, .direct), (.allGather, .direct), (.allToAll, .direct): return a + (N - 1) * S / (N * b)
    case (.allReduce, .direct): return 2 * (a + (N - 1) * S / (N * b))
    case (.broadcast, .direct), (.reduce, .direct): return a + (N - 1) * S / b
    case (.sendRecv, .direct): return a + S / b
    default: return .nan
    }
}

/// Simulated time equals the closed form up to rounding each step to whole picoseconds.
func expectClosedForm(_ op: CollectiveSpec.Op, _ algorithm: CollectiveSpec.Algorithm, _ kind: String, n: Int, bytes: UInt64) throws {
    let t = try flat(kind, n)
    let (ps, steps) = try simulate(op, algorithm, bytes: bytes, on: t)
    let expected = closedForm(op, algorithm, n: n, S: Double(bytes), alpha: 700e-9, beta: 50e9)
    #expect(abs(Double(ps) - expected) <= Double(steps) + 1e-9 * expected, "\(op.rawValue) \(algorithm.rawValue) on \(kind), n=\(n), S=\(bytes): \(ps) ps, closed form \(expected) ps")
}

let sizes: [UInt64] = [1, 1000, 65_537, 1 << 20, 100_000_000, 1 << 30]
let rankCounts = [2, 3, 5, 7, 8, 12, 16, 31]

@Suite struct LinkSimulatorClosedFormTests {
    @Test(arguments: ["ring", "switch"], rankCounts)
    func ringAlgorithms(kind: String, n: Int) throws {
        for s in sizes {
            for op in [CollectiveSpec.Op.allReduce, .reduceScatter, .allGather] { try expectClosedForm(op, .ring, kind, n: n, bytes: s) }
        }
    }

    @Test(arguments: rankCounts)
    func pipelinedBroadcastAndReduceOnASwitch(n: Int) throws {
        for s in sizes {
            try expectClosedForm(.broadcast, .ring, "switch", n: n, bytes: s)
            try expectClosedForm(.reduce, .ring, "switch", n: n, bytes: s)
        }
    }

    @Test(arguments: rankCounts)
    func halvingDoublingOnASwitch(n: Int) throws {
        for s in sizes {
            try expectClosedForm(.allReduce, .halvingDoubling, "switch", n: n, bytes: s)
            try expectClosedForm(.broadcast, .halvingDoubling, "switch", n: n, bytes: s)
            try expectClosedForm(.reduce, .halvingDoubling, "switch", n: n, bytes: s)
            if n & (n - 1) == 0 {
                try expectClosedForm(.reduceScatter, .halvingDoubling, "switch", n: n, bytes: s)
                try expectClosedForm(.allGather, .halvingDoubling, "switch", n: n, bytes: s)
            }
        }
    }

    @Test(arguments: rankCounts)
    func directOnASwitch(n: Int) throws {
        for s in sizes {
            for op in [CollectiveSpec.Op.allReduce, .reduceScatter, .allGather, .allToAll, .broadcast, .reduce, .sendRecv] {
                try expectClosedForm(op, .direct, "switch", n: n, bytes: s)
            }
        }
    }

    @Test func sendRecvOnARing() throws {
        for n in rankCounts { for s in sizes { try expectClosedForm(.sendRecv, .direct, "ring", n: n, bytes: s) } }
    }

    /// Hierarchical all-reduce on g GPUs per NVSwitch node and m nodes with one NIC per GPU:
    /// 2(g−1)(α₁ + S/(gβ₁)) + 2(m−1)(α₂ + S/(gmβ₂)).
    @Test(arguments: [(2, 2), (4, 3), (8, 2), (8, 5)])
    func hierarchical(g: Int, m: Int) throws {
        let t = try cluster("""
            nodes: \(m)
            gpus_per_node: \(g)
            intra_node: {kind: nvswitch, bandwidth: 300 GB/s, latency: 1 us}
            inter_node: {kind: switch, bandwidth: 25 GB/s, nics_per_node: \(g), latency: 5 us}

            """)
        for s in sizes {
            let (ps, steps) = try simulate(.allReduce, .hierarchical, bytes: s, on: t)
            let S = Double(s), G = Double(g), M = Double(m)
            let expected = 2 * (G - 1) * (1e6 + S / (G * 0.3)) + 2 * (M - 1) * (5e6 + S / (G * M * 0.025))
            #expect(abs(Double(ps) - expected) <= Double(steps) + 1e-9 * expected, "g=\(g) m=\(m) S=\(s): \(ps) vs \(expected)")
        }
    }
}

@Suite struct LinkSimulatorSharingTests {
    /// Two messages on one link share it equally; when one finishes the other speeds up.
    @Test func maxMinFairSharingAndRecompute() throws {
        let t = try flat("switch", 3)
        let flows = [CollectiveFlow(src: 0, dst: 2, bytes: 1e6), CollectiveFlow(src: 1, dst: 2, bytes: 3e6)]
        let (ps, carried, _, _) = try LinkSimulator(topology: t).runStep(flows)
        // Rank 2's down port: both at 25 GB/s until the first finishes (2e6 bytes moved in 40 µs),
        // then the second alone at 50 GB/s for its last 2e6 bytes (40 µs): 80 µs + α.
        #expect(ps == 80_000_000 + 700_000)
        #expect(carried.reduce(0) { $0 + $1.1 } == 2 * 4e6)
    }

    /// Progressive filling: a message bottlenecked elsewhere leaves the rest of a link to the others.
    @Test func bottleneckElsewhereFreesCapacity() throws {
        let t = try cluster("""
            nodes: 4
            inter_node: {kind: fat-tree, bandwidth: 40 GB/s, latency: 0 ns, nodes_per_leaf: 2, oversubscription: 4}

            """)
        // Leaf 0's up link has 2 × 40 / 4 = 20 GB/s. 0→2 crosses it; 1→0 does not.
        var r: [Int] = []
        _ = t.route(0, 2, into: &r)
        #expect(r.count == 4)
        #expect(t.capacity(r[1]) == 20e9)
        let flows = [CollectiveFlow(src: 0, dst: 2, bytes: 2e6), CollectiveFlow(src: 1, dst: 0, bytes: 4e6)]
        let (ps, _, _, _) = try LinkSimulator(topology: t).runStep(flows)
        #expect(ps == 100_000_000)  // both 100 µs: 2 MB at 20 GB/s, 4 MB at 40 GB/s
    }

    /// A fat-tree oversubscribed 2:1 slows a direct all-reduce across its leaves by 4/3.
    ///
    /// Four nodes, two per leaf, one 50 GB/s NIC each. Each phase sends S/4 from every node to
    /// every other. Non-blocking (1:1) the NICs bind: each NIC carries 3 × S/4 at β, 3S/(4β).
    /// At 2:1 the leaf up link has 2β/2 = β for the 2 × 2 messages of S/4 that leave the leaf, S
    /// in all: S/β, which is 4/3 of 3S/(4β). Latency is the same in both.
    @Test func fatTreeOversubscriptionSlowsAllReduce() throws {
        func tree(_ o: String) throws -> ClusterTopology {
            try cluster("nodes: 4\ninter_node: {kind: fat-tree, bandwidth: 50 GB/s, latency: 0 ns, nodes_per_leaf: 2, oversubscription: \"\(o)\"}\n")
        }
        let S: UInt64 = 1 << 30
        let full = try simulate(.allReduce, .direct, bytes: S, on: try tree("1:1")).ps
        let half = try simulate(.allReduce, .direct, bytes: S, on: try tree("2:1")).ps
        let nicBound: Double = 2 * 3 * Double(S) / 4 / 50e9 * 1e12
        let spineBound: Double = 2 * Double(S) / 50e9 * 1e12
        let ratio: Double = Double(half) / Double(full)
        #expect(abs(Double(full) - nicBound) <= 2)
        #expect(abs(Double(half) - spineBound) <= 2)
        #expect(abs(ratio - 4.0 / 3.0) < 1e-9)
        // The ring all-reduce only crosses the spine between neighbouring nodes at a leaf edge, so
        // the same oversubscription does not slow it.
        let ringFull = try simulate(.allReduce, .ring, bytes: S, on: try tree("1:1")).ps
        let ringHalf = try simulate(.allReduce, .ring, bytes: S, on: try tree("2:1")).ps
        #expect(ringFull == ringHalf)
    }

    /// Identical steps are simulated once: a 4096-rank ring all-reduce is two distinct steps.
    @Test func repeatedStepsAreSimulatedOnce() throws {
        let t = try flat("ring", 4096)
        let at = SourceLocation(file: "w.yaml", line: 1, column: 1)
        let spec = CollectiveSpec(op: .allReduce, sizes: [1 << 30], algorithm: .ring, chunk: 1 << 20, location: at, algorithmLocation: at)
        let plan = try CollectivePlanner.plan(spec, bytes: 1 << 30, topology: t)
        #expect(plan.steps.count == 1)
        #expect(plan.steps[0].repeats == 2 * 4095)
    }
}

@Suite struct TorusAndRailTests {
    /// A ring all-reduce over the nodes of a torus in rank order is uncongested: each step's
    /// messages use distinct links (a row's last node wraps in x and steps in y), so with no hop
    /// latency it takes the ring's closed form.
    @Test(arguments: [[4, 3], [3, 3, 2], [5, 2], [2, 2, 2]])
    func ringAllReduceOnATorus(dims: [Int]) throws {
        let n = dims.reduce(1, *)
        let t = try cluster("nodes: \(n)\ninter_node: {kind: torus, dims: \(dims), bandwidth: 50 GB/s, latency: 700 ns}\n")
        for s in sizes {
            let (ps, steps) = try simulate(.allReduce, .ring, bytes: s, on: t)
            let expected = closedForm(.allReduce, .ring, n: n, S: Double(s), alpha: 700e-9, beta: 50e9)
            #expect(abs(Double(ps) - expected) <= Double(steps) + 1e-9 * expected, "dims \(dims) S=\(s)")
        }
    }

    /// Dimension-order routing, the shorter way round: (0,0) → (3,2) on 4 × 4 is one hop back in x
    /// and two forward in y; hop latency counts each node passed.
    @Test func torusRoutes() throws {
        let t = try cluster("nodes: 16\ninter_node: {kind: torus, dims: [4, 4], bandwidth: 50 GB/s, latency: 1 us, hop_latency: 100 ns}\n")
        var links: [Int] = []
        let latency = t.route(0, 3 + 2 * 4, into: &links)
        #expect(links.count == 3)
        #expect(latency == 1_000_000 + 2 * 100_000)
        #expect(t.describe(links[0]).name == "node0.dim0-")
        #expect(t.describe(links[1]).name == "node3.dim1+")
        #expect(t.describe(links[2]).name == "node7.dim1+")
    }

    /// A rail-optimized network: the same rail is one switch; across rails a message climbs to the
    /// spine. Hierarchical all-reduce keeps every inter-node message on its rail, so it takes the
    /// same time as on a single switch.
    @Test func railOptimized() throws {
        let body = { (kind: String) in
            "nodes: 4\ngpus_per_node: 4\nintra_node: {kind: nvswitch, bandwidth: 300 GB/s, latency: 1 us}\ninter_node: {kind: \(kind), bandwidth: 25 GB/s, nics_per_node: 4, latency: 5 us}\n"
        }
        let rail = try cluster(body("rail-optimized")), flatSwitch = try cluster(body("switch"))
        var links: [Int] = []
        _ = rail.route(0, 4, into: &links)
        #expect(links.count == 2)
        _ = rail.route(0, 5, into: &links)
        #expect(links.count == 4)
        #expect(rail.describe(links[1]).name == "rail0.up")
        #expect(rail.capacity(links[1]) == 4 * 25e9)
        for s in sizes {
            #expect(try simulate(.allReduce, .hierarchical, bytes: s, on: rail).ps == simulate(.allReduce, .hierarchical, bytes: s, on: flatSwitch).ps)
        }
    }
}

@Suite struct DoubleBinaryTreeTests {
    /// Every rank has one parent per tree except the roots, and (n even) is inner in one tree only.
    @Test(arguments: [2, 3, 4, 5, 6, 7, 8, 12, 16, 31, 64])
    func treesAreTreesAndComplementary(n: Int) {
        let trees = CollectivePlanner.binaryTrees(n)
        for parent in trees {
            #expect(parent.filter { $0 < 0 }.count == 1)
            for r in 0..<n {  // following parents reaches the root within n steps
                var x = r, hops = 0
                while parent[x] >= 0, hops <= n { x = parent[x]; hops += 1 }
                #expect(parent[x] < 0 && hops <= Int(log2(Double(n))) + 1, "n=\(n) rank \(r)")
            }
        }
        if n % 2 == 0, n > 2 {
            let inner = trees.map { p in Set(p.filter { $0 >= 0 }) }
            #expect(inner[0].isDisjoint(with: inner[1]), "n=\(n): \(inner)")
        }
    }

    /// On a switch a step lasts α + m·c/β, with m the most messages through one port (a rank's up or
    /// down link) in that step and c = S/(2C): the total is that sum over the steps.
    @Test(arguments: [2, 3, 5, 8, 12, 16])
    func stepTimesOnASwitch(n: Int) throws {
        let t = try flat("switch", n)
        for s in sizes {
            let at = SourceLocation(file: "w.yaml", line: 1, column: 1)
            let spec = CollectiveSpec(op: .allReduce, sizes: [s], algorithm: .doubleBinaryTree, chunk: 1 << 20, location: at, algorithmLocation: at)
            let plan = try CollectivePlanner.plan(spec, bytes: s, topology: t)
            let ps = try LinkSimulator(topology: t).run(plan).picoseconds
            var expected = 0.0
            var steps = 0
            for step in plan.steps {
                var up = [Int: Int](), down = [Int: Int]()
                for f in step.flows {
                    up[f.src, default: 0] += 1
                    down[f.dst, default: 0] += 1
                }
                let m = max(up.values.max() ?? 0, down.values.max() ?? 0)
                let c = step.flows.first?.bytes ?? 0
                expected += Double(step.repeats) * (700_000 + Double(m) * c / 0.05)
                steps += step.repeats
            }
            #expect(abs(Double(ps) - expected) <= Double(steps) + 1e-9 * expected, "n=\(n) S=\(s): \(ps) vs \(expected)")
        }
    }

    /// In the steady state a port carries four messages of S/(2C) per step: algbw → β/2, the
    /// ring's busbw for large n.
    @Test(arguments: [8, 16, 32])
    func largeMessagesReachHalfTheLinkBandwidth(n: Int) throws {
        let (ps, _) = try simulate(.allReduce, .doubleBinaryTree, bytes: 8 << 30, on: try flat("switch", n))
        let algbw = Double(8 << 30) / (Double(ps) / 1e12)
        #expect(abs(algbw - 25e9) / 25e9 < 0.02, "\(algbw)")
    }
}

/// Collectives running at once share links at the granularity of whole collectives.
@Suite struct TaskExecutorSharingTests {
    /// Two collectives each using 3/4 of one link: each runs at 2/3 of its standalone speed.
    /// Demands of 1/4 and 1 of the link: both at 0.8 (max-min fair on the fraction, not on bytes).
    /// A collective alone on a second, free link is still held by its busiest shared one.
    @Test func fairSharesAreMaxMinOverWholeCollectives() {
        let cap: (Int) -> Double = { _ in 100 }
        let a = TaskExecutor.fairShares([[(0, 75)], [(0, 75)]], capacity: cap)
        #expect(a.allSatisfy { abs($0 - 2.0 / 3) < 1e-12 })
        let b = TaskExecutor.fairShares([[(0, 25)], [(0, 100)]], capacity: cap)
        #expect(b.allSatisfy { abs($0 - 0.8) < 1e-12 })
        let c = TaskExecutor.fairShares([[(0, 100), (1, 100)], [(0, 100)], [(1, 10)]], capacity: cap)
        #expect(abs(c[0] - 0.5) < 1e-12 && abs(c[1] - 0.5) < 1e-12 && c[2] == 1)
        let d = TaskExecutor.fairShares([[(0, 40)], [(0, 50)]], capacity: cap)
        #expect(d == [1, 1])  // room for both
    }
}
