import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraSpec

/// One point-to-point message of a collective step.
public struct CollectiveFlow: Sendable, Hashable {
    public var src: Int
    public var dst: Int
    public var bytes: Double

    public init(src: Int, dst: Int, bytes: Double) {
        self.src = src
        self.dst = dst
        self.bytes = bytes
    }
}

/// Messages sent at the same time; the step ends when the last one arrives. `repeats` identical
/// steps follow one another (a ring's steps all send the same sizes between the same pairs).
public struct CollectiveStep: Sendable {
    public var flows: [CollectiveFlow]
    public var repeats: Int
}

/// A collective decomposed into point-to-point steps, executed in order with a barrier between steps.
public struct CollectivePlan: Sendable {
    public var op: CollectiveSpec.Op
    public var algorithm: CollectiveSpec.Algorithm
    public var ranks: Int
    public var bytes: UInt64
    public var steps: [CollectiveStep]

    public init(op: CollectiveSpec.Op, algorithm: CollectiveSpec.Algorithm, ranks: Int, bytes: UInt64, steps: [CollectiveStep]) {
        self.op = op
        self.algorithm = algorithm
        self.ranks = ranks
        self.bytes = bytes
        self.steps = steps
    }

    /// nccl-tests' bus-bandwidth factor: busbw = algbw × factor (nccl-tests doc/PERFORMANCE.md).
    public var busFactor: Double {
        let n = Double(ranks)
        switch op {
        case .allReduce: return 2 * (n - 1) / n
        case .reduceScatter, .allGather, .allToAll: return (n - 1) / n
        case .broadcast, .reduce, .sendRecv: return 1
        }
    }
}

/// Decomposes collectives into point-to-point steps.
///
/// Closed forms (α: latency of one message's route, β: effective link bandwidth, S: the nccl-tests
/// message size, n ranks), which an uncongested ring or switch reproduces exactly (up to rounding
/// each step to whole picoseconds):
/// - ring all-reduce: 2(n−1)(α + S/(nβ)) — reduce-scatter then all-gather around the ring
///   (Patarasuk and Yuan, JPDC 2009); with c channels each ring carries S/c and the
///   channels' messages share the links they have in common.
/// - ring reduce-scatter, all-gather: (n−1)(α + S/(nβ)).
/// - ring broadcast, reduce (pipelined in C = ⌈S/chunk⌉ chunks): (n−2+C)(α + S/(Cβ)).
/// - halving-doubling reduce-scatter, all-gather (n a power of two): log₂n·α + (n−1)/n·S/β;
///   all-reduce: both, 2log₂n·α + 2(n−1)/n·S/β (Rabenseifner, ICCS 2004; Thakur, Rabenseifner and
///   Gropp, IJHPCA 2005); when n is not a power of two, the n−p extra ranks (p = 2^⌊log₂n⌋) first
///   send their S to a partner and get the result back: + 2(α + S/β). These hold on a switch;
///   on a ring of n (nearest partner first, shorter way round) step k puts 2^k messages of
///   S/2^(k+1) on a link: log₂n·S/(2β) for reduce-scatter or all-gather, twice that for all-reduce.
/// - halving-doubling (binomial tree) broadcast, reduce: ⌈log₂n⌉(α + S/β).
/// - ring all-to-all (ASTRA-sim's `Ring.cc`): n(n−1)/2 neighbour steps of S/n: n(n−1)/2·(α + S/(nβ)).
/// - direct reduce-scatter, all-gather, all-to-all: α + (n−1)S/(nβ) on a switch (each rank's
///   port carries n−1 messages of S/n); all-reduce: twice that; broadcast, reduce: α + (n−1)S/β
///   (the root's port); send-recv (each rank to the next): α + S/β.
/// - double-binary-tree all-reduce (Sanders, Speck and Träff, Parallel Computing 2009; NCCL 2.4):
///   two binary trees of height H = ⌊log₂n⌋ (`binaryTrees`), each rank inner in one and a leaf in
///   the other (n even), each reducing S/2 up to its root and broadcasting it down, pipelined in
///   C = ⌈S/(2·chunk)⌉ chunks of c = S/(2C): a node of height h sends chunk k to its parent at
///   step k + h, a node of depth d sends it to its children at step k + H + d. C + 2H − 1 steps;
///   on a switch step t lasts α + m_t·c/β, m_t the most messages on one port at step t (4 in
///   the steady state: up and down in the tree where a rank is inner, up in the other).
/// - hierarchical all-reduce (g GPUs per node, m nodes): intra-node ring reduce-scatter, inter-node
///   ring all-reduce of S/g among the GPUs of the same local index, intra-node ring all-gather:
///   2(g−1)(α₁ + S/(gβ₁)) + 2(m−1)(α₂ + S/(gmβ₂)).
///
/// - NVLink SHARP (`nvls`, all-reduce on one NVSwitch node, under `nccl_protocol`): each GPU sends
///   its S into the switch, which reduces, and receives the S reduced bytes: α_NVLS + S/(β·η_NVLS)
///   (`CollectiveProtocol`: α_NVLS = 25 µs, η_NVLS = 0.85 × 15/16, NCCL's constants).
///
/// `auto`: as NCCL's tuner picks, for each message size, the algorithm with the least predicted
/// time, the pipeline times every `candidates` algorithm that applies on the link simulator and
/// keeps the fastest (the prediction is the simulation itself; ties go to the earlier candidate).
/// `plan` given `auto` directly takes the first candidate.
public enum CollectivePlanner {
    /// The most messages one step may send (memory and time of the simulation grow with them).
    public static let maxMessagesPerStep = WorkEstimate.maxMessagesPerStep

    /// The algorithms `auto` chooses among for `op`, in order of preference on a tie: NCCL's own,
    /// ring and double binary tree for all-reduce, ring for reduce-scatter, all-gather, broadcast
    /// and reduce (NCCL's tree implements only all-reduce; NVLink SHARP too where `nvlsAvailable`), and point-to-point (direct) for
    /// all-to-all and send-recv. Halving-doubling, direct all-reduce and hierarchical are MPI-style
    /// or composed algorithms NCCL does not pick; they run when named. The tree is a candidate only
    /// on switched fabrics (NVSwitch, NVLink mesh, switch, fat-tree, rail-optimized, fully
    /// connected): on a ring or torus its messages cross many links, which NCCL's trees are not
    /// built for (and which would make timing it cost more than the run).
    public static func candidates(_ op: CollectiveSpec.Op, topology: ClusterTopology) -> [CollectiveSpec.Algorithm] {
        let multiHop = (topology.nodes > 1 && ["ring", "torus"].contains(topology.spec.interNode?.kind ?? ""))
            || (topology.gpusPerNode > 1 && topology.spec.intraNode?.kind == "nvlink-ring")
        switch op {
        case .allToAll, .sendRecv: return [.direct]
        case .allReduce: return multiHop ? [.ring] : [.ring, .doubleBinaryTree] + (topology.nvlsAvailable ? [.nvls] : [])
        case .reduceScatter, .allGather, .broadcast, .reduce: return [.ring]
        }
    }

    /// Plans one collective, or says why the algorithm does not apply to this cluster.
    public static func plan(_ spec: CollectiveSpec, bytes: UInt64, topology: ClusterTopology) throws(InputError) -> CollectivePlan {
        let n = topology.ranks
        let algorithm = spec.algorithm == .auto ? candidates(spec.op, topology: topology)[0] : spec.algorithm
        func refuse(_ why: String, _ expected: String) -> InputError {
            InputError(Diagnostic(at: spec.algorithmLocation, why, expected: expected, found: "algorithm: \(algorithm.rawValue) for \(spec.op.rawValue) on \(n) ranks (\(topology.nodes) nodes × \(topology.gpusPerNode) GPUs)"))
        }
        guard n >= 2 else { throw InputError(Diagnostic(at: spec.location, "a collective needs at least two ranks", expected: "nodes × gpus_per_node ≥ 2", found: "1 rank")) }
        let messages: Int
        switch algorithm {
        case .direct: messages = spec.op == .allToAll || spec.op == .allReduce || spec.op == .reduceScatter || spec.op == .allGather ? n * (n - 1) : n
        case .ring: messages = n * topology.channels
        default: messages = n
        }
        guard messages <= maxMessagesPerStep else {
            throw refuse("one step of this collective sends \(messages) messages, more than the simulator takes", "at most \(maxMessagesPerStep) messages per step: fewer ranks, or another algorithm")
        }
        let S = Double(bytes)
        var steps: [CollectiveStep] = []
        let isPow2 = n & (n - 1) == 0
        switch (spec.op, algorithm) {
        case (.allReduce, .ring):
            steps = [ringStep(topology, bytes: S, repeats: 2 * (n - 1))]
        case (.reduceScatter, .ring), (.allGather, .ring):
            steps = [ringStep(topology, bytes: S, repeats: n - 1)]
        case (.broadcast, .ring), (.reduce, .ring):
            steps = pipelinedChain(order: ringOrder(topology, channel: 0), bytes: S, chunk: spec.chunk, reverse: spec.op == .reduce)
        case (.reduceScatter, .halvingDoubling), (.allGather, .halvingDoubling):
            guard isPow2 else { throw refuse("halving-doubling \(spec.op.rawValue) needs a power-of-two number of ranks", "ranks a power of two, or algorithm: ring") }
            steps = halving(Array(0..<n), bytes: S)
            if spec.op == .allGather { steps.reverse() }
        case (.allReduce, .halvingDoubling):
            let p = 1 << (Int.bitWidth - 1 - n.leadingZeroBitCount)
            let extra = (p..<n).map { CollectiveFlow(src: $0, dst: $0 - p, bytes: S) }
            let rs = halving(Array(0..<p), bytes: S)
            if !extra.isEmpty { steps.append(CollectiveStep(flows: extra, repeats: 1)) }
            steps += rs + rs.reversed()
            if !extra.isEmpty { steps.append(CollectiveStep(flows: extra.map { CollectiveFlow(src: $0.dst, dst: $0.src, bytes: S) }, repeats: 1)) }
        case (.broadcast, .halvingDoubling), (.reduce, .halvingDoubling):
            var d = 1
            while d < n {
                let flows = (0..<min(d, n - d)).map { CollectiveFlow(src: $0, dst: $0 + d, bytes: S) }
                steps.append(CollectiveStep(flows: flows, repeats: 1))
                d *= 2
            }
            if spec.op == .reduce { steps = steps.reversed().map { CollectiveStep(flows: $0.flows.map { CollectiveFlow(src: $0.dst, dst: $0.src, bytes: $0.bytes) }, repeats: 1) } }
        case (.allToAll, .ring):
            // ASTRA-sim's ring all-to-all (`Ring.cc`, All_to_All): every rank relays its S/n pieces
            // around the ring, n(n−1)/2 neighbour steps of S/n (a piece for the rank k hops away is
            // forwarded k times).
            steps = [ringStep(topology, bytes: S, repeats: n * (n - 1) / 2)]
        case (.reduceScatter, .direct), (.allGather, .direct), (.allToAll, .direct):
            steps = [allPairs(n, bytes: S / Double(n))]
        case (.allReduce, .direct):
            steps = [allPairs(n, bytes: S / Double(n), repeats: 2)]
        case (.broadcast, .direct):
            steps = [CollectiveStep(flows: (1..<n).map { CollectiveFlow(src: 0, dst: $0, bytes: S) }, repeats: 1)]
        case (.reduce, .direct):
            steps = [CollectiveStep(flows: (1..<n).map { CollectiveFlow(src: $0, dst: 0, bytes: S) }, repeats: 1)]
        case (.sendRecv, .direct):
            steps = [CollectiveStep(flows: (0..<n).map { CollectiveFlow(src: $0, dst: ($0 + 1) % n, bytes: S) }, repeats: 1)]
        case (.allReduce, .doubleBinaryTree):
            steps = doubleBinaryTree(n: n, bytes: S, chunk: spec.chunk)
        case (.allReduce, .nvls):
            guard topology.nvlsAvailable else {
                throw refuse(
                    "NVLink SHARP all-reduces the GPUs of one NVSwitch node of a GPU that has it, costed with NCCL's protocols",
                    "one node with intra_node kind nvswitch, an h100-sxm, h200-sxm or b200 GPU and nccl_protocol: auto or simple; or algorithm: ring")
            }
            // Every GPU's S bytes go up into the switch, which reduces them, and the S reduced bytes
            // come back down: S on each GPU's up port and S on each down port, in one step.
            steps = [CollectiveStep(flows: (0..<n).map { CollectiveFlow(src: $0, dst: ($0 + 1) % n, bytes: S) }, repeats: 1)]
        case (.allReduce, .hierarchical):
            let g = topology.gpusPerNode, m = topology.nodes
            guard g > 1, m > 1 else { throw refuse("hierarchical all-reduce needs several nodes of several GPUs", "nodes > 1 and gpus_per_node > 1, or algorithm: ring") }
            var intra: [CollectiveFlow] = [], inter: [CollectiveFlow] = []
            for node in 0..<m { for i in 0..<g { intra.append(CollectiveFlow(src: node * g + i, dst: node * g + (i + 1) % g, bytes: S / Double(g))) } }
            for i in 0..<g { for node in 0..<m { inter.append(CollectiveFlow(src: node * g + i, dst: ((node + 1) % m) * g + i, bytes: S / Double(g * m))) } }
            steps = [
                CollectiveStep(flows: intra, repeats: g - 1), CollectiveStep(flows: inter, repeats: 2 * (m - 1)), CollectiveStep(flows: intra, repeats: g - 1),
            ]
        default:
            throw refuse("the \(algorithm.rawValue) algorithm does not apply to \(spec.op.rawValue)", expectedAlgorithms(spec.op))
        }
        return CollectivePlan(op: spec.op, algorithm: algorithm, ranks: n, bytes: bytes, steps: steps)
    }

    static func expectedAlgorithms(_ op: CollectiveSpec.Op) -> String {
        switch op {
        case .allReduce: "ring, double-binary-tree, halving-doubling, direct, hierarchical, nvls or auto"
        case .reduceScatter, .allGather, .broadcast, .reduce: "ring, halving-doubling, direct or auto"
        case .allToAll: "direct, ring or auto"
        case .sendRecv: "direct or auto"
        }
    }

    /// The ranks in the order of ring `channel`: node by node, each node's GPUs rotated by the
    /// channel, so that channel c leaves every node from GPU c−1 and enters the next at GPU c.
    public static func ringOrder(_ t: ClusterTopology, channel c: Int) -> [Int] {
        let g = t.gpusPerNode
        var order: [Int] = []
        order.reserveCapacity(t.ranks)
        for node in 0..<t.nodes { for i in 0..<g { order.append(node * g + (i + c) % g) } }
        return order
    }

    /// One step of a ring collective: every rank sends S/(n·channels) to its successor on each channel.
    static func ringStep(_ t: ClusterTopology, bytes S: Double, repeats: Int) -> CollectiveStep {
        let c = t.channels, n = t.ranks
        var flows: [CollectiveFlow] = []
        flows.reserveCapacity(c * n)
        for ch in 0..<c {
            let order = ringOrder(t, channel: ch)
            for k in 0..<n { flows.append(CollectiveFlow(src: order[k], dst: order[(k + 1) % n], bytes: S / Double(n * c))) }
        }
        return CollectiveStep(flows: flows, repeats: repeats)
    }

    /// Recursive halving among `ranks` (a power of two), nearest partner first: step k exchanges
    /// S/2^(k+1) with the rank at index distance 2^k (i ↔ i XOR 2^k), so the largest messages go
    /// to the nearest ranks (one hop on a ring, inside the node on a hierarchy) and the farthest
    /// carry the least, as ASTRA-sim's `HalvingDoubling.cc` orders it (rank offset 1, doubling, for
    /// reduce-scatter and all-reduce; its all-gather is the reverse). On a switch every order takes
    /// the same time; on a ring of 8 this one takes 1.5·S/β where farthest-first took 2.625·S/β.
    static func halving(_ ranks: [Int], bytes S: Double) -> [CollectiveStep] {
        var steps: [CollectiveStep] = []
        var d = 1, share = S / 2
        while d < ranks.count {
            steps.append(CollectiveStep(flows: ranks.indices.map { CollectiveFlow(src: ranks[$0], dst: ranks[$0 ^ d], bytes: share) }, repeats: 1))
            d *= 2
            share /= 2
        }
        return steps
    }

    /// The two trees of a double binary tree: the parent of each rank (−1 at the root).
    ///
    /// The first is the in-order binary tree over 1-based positions i = rank + 1 cut from the
    /// perfect tree of 2^k − 1 ≥ n nodes (a missing child is replaced by its nearest present
    /// descendant): odd positions are leaves, even ones inner. The second maps rank p to n−1−p (n
    /// even: leaves and inner nodes swap, so each rank is inner in one tree only) or to p+1 mod n
    /// (n odd), as NCCL builds its trees.
    public static func binaryTrees(_ n: Int) -> [[Int]] {
        func low(_ i: Int) -> Int { i & -i }
        func children(_ i: Int) -> [Int] {
            let b = low(i)
            guard b > 1 else { return [] }
            var out = [i - b / 2]
            var c = i + b / 2
            while c > n, low(c) > 1 { c -= low(c) / 2 }
            if c <= n { out.append(c) }
            return out
        }
        var root = 1
        while root * 2 - 1 < n { root *= 2 }
        while root > n { root -= low(root) / 2 }
        var first = Array(repeating: -1, count: n)
        var queue = [root]
        var q = 0
        while q < queue.count {
            for c in children(queue[q]) {
                first[c - 1] = queue[q] - 1
                queue.append(c)
            }
            q += 1
        }
        let map: (Int) -> Int = n % 2 == 0 ? { n - 1 - $0 } : { ($0 + 1) % n }
        var second = Array(repeating: -1, count: n)
        for r in 0..<n where first[r] >= 0 { second[map(r)] = map(first[r]) }
        return [first, second]
    }

    /// The pipelined double-binary-tree all-reduce as steps: between the times where some node's
    /// sends start or stop, the set of messages is constant, so each such run is one step repeated.
    static func doubleBinaryTree(n: Int, bytes S: Double, chunk: UInt64) -> [CollectiveStep] {
        let C = max(1, Int((S / 2 / Double(chunk)).rounded(.up)))
        let piece = S / 2 / Double(C)
        // (offset, src, dst): the message is sent at steps offset ..< offset + C.
        var sends: [(Int, Int, Int)] = []
        var H = 0
        for parent in binaryTrees(n) {
            var children = Array(repeating: [Int](), count: n)
            var root = 0
            for r in 0..<n { if parent[r] >= 0 { children[parent[r]].append(r) } else { root = r } }
            var height = Array(repeating: 0, count: n), depth = Array(repeating: 0, count: n)
            var order: [Int] = [root]  // breadth-first: parents before children
            var i = 0
            while i < order.count {
                for c in children[order[i]] {
                    depth[c] = depth[order[i]] + 1
                    order.append(c)
                }
                i += 1
            }
            for r in order.reversed() where parent[r] >= 0 { height[parent[r]] = max(height[parent[r]], height[r] + 1) }
            let treeH = height[root]
            H = max(H, treeH)
            for r in order {
                if parent[r] >= 0 { sends.append((height[r], r, parent[r])) }
                for c in children[r] { sends.append((treeH + depth[r], r, c)) }
            }
        }
        let total = sends.map { $0.0 }.max().map { $0 + C } ?? 0
        var cuts = Set<Int>([0, total])
        for s in sends { cuts.insert(s.0); cuts.insert(min(s.0 + C, total)) }
        let times = cuts.sorted()
        var steps: [CollectiveStep] = []
        for (t0, t1) in zip(times, times.dropFirst()) where t1 > t0 {
            let flows = sends.filter { $0.0 <= t0 && t0 < $0.0 + C }.map { CollectiveFlow(src: $0.1, dst: $0.2, bytes: piece) }
            steps.append(CollectiveStep(flows: flows, repeats: t1 - t0))
        }
        return steps
    }

    /// Every rank sends `bytes` to every other rank at once.
    static func allPairs(_ n: Int, bytes: Double, repeats: Int = 1) -> CollectiveStep {
        var flows: [CollectiveFlow] = []
        flows.reserveCapacity(n * (n - 1))
        for a in 0..<n { for b in 0..<n where a != b { flows.append(CollectiveFlow(src: a, dst: b, bytes: bytes)) } }
        return CollectiveStep(flows: flows, repeats: repeats)
    }

    /// A chain along `order` pipelined in C = ⌈S/chunk⌉ chunks: at step t, hop h (order[h] → order[h+1])
    /// forwards chunk t−h; consecutive steps with the same active hops are merged.
    static func pipelinedChain(order: [Int], bytes S: Double, chunk: UInt64, reverse: Bool) -> [CollectiveStep] {
        let n = order.count
        let C = max(1, Int((S / Double(chunk)).rounded(.up)))
        let piece = S / Double(C)
        var steps: [CollectiveStep] = []
        var last: (Int, Int)?
        var t = 0
        while t < n - 2 + C {
            let lo = max(0, t - C + 1), hi = min(t, n - 2)
            if let l = last, l == (lo, hi), let i = steps.indices.last {
                // Every hop is busy from t = n−2 until t = C−1: one jump over the whole run.
                let same = hi == n - 2 && lo == 0 ? max(1, C - 1 - t) : 1
                steps[i].repeats += same
                t += same
                continue
            }
            t += 1
            last = (lo, hi)
            let flows = (lo...hi).map { h in
                reverse ? CollectiveFlow(src: order[n - 1 - h], dst: order[n - 2 - h], bytes: piece) : CollectiveFlow(src: order[h], dst: order[h + 1], bytes: piece)
            }
            steps.append(CollectiveStep(flows: flows, repeats: 1))
        }
        return steps
    }
}
