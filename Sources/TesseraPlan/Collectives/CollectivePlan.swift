import TesseraCore
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
///   send their S to a partner and get the result back: + 2(α + S/β).
/// - halving-doubling (binomial tree) broadcast, reduce: ⌈log₂n⌉(α + S/β).
/// - direct reduce-scatter, all-gather, all-to-all: α + (n−1)S/(nβ) on a switch (each rank's
///   port carries n−1 messages of S/n); all-reduce: twice that; broadcast, reduce: α + (n−1)S/β
///   (the root's port); send-recv (each rank to the next): α + S/β.
/// - hierarchical all-reduce (g GPUs per node, m nodes): intra-node ring reduce-scatter, inter-node
///   ring all-reduce of S/g among the GPUs of the same local index, intra-node ring all-gather:
///   2(g−1)(α₁ + S/(gβ₁)) + 2(m−1)(α₂ + S/(gmβ₂)).
///
/// `auto` (a size-and-topology rule in the spirit of NCCL's tuner, which picks the algorithm with
/// the least predicted time): all-reduce across nodes of several GPUs → hierarchical; otherwise,
/// messages up to 256 KiB (latency-bound: log n steps beat n steps) → halving-doubling where it
/// applies, larger ones → ring; all-to-all and send-recv → direct.
public enum CollectivePlanner {
    public static let smallMessage: UInt64 = 256 << 10
    /// The most messages one step may send (memory and time of the simulation grow with them).
    public static let maxMessagesPerStep = 1 << 22

    /// The algorithm `auto` picks for `op` of `bytes` on `topology`.
    public static func choose(_ op: CollectiveSpec.Op, bytes: UInt64, topology: ClusterTopology) -> CollectiveSpec.Algorithm {
        let n = topology.ranks
        switch op {
        case .allToAll, .sendRecv: return .direct
        case .allReduce:
            if topology.nodes > 1, topology.gpusPerNode > 1 { return .hierarchical }
            return bytes <= smallMessage ? .halvingDoubling : .ring
        case .reduceScatter, .allGather:
            return bytes <= smallMessage && n & (n - 1) == 0 ? .halvingDoubling : .ring
        case .broadcast, .reduce:
            return bytes <= smallMessage ? .halvingDoubling : .ring
        }
    }

    /// Plans one collective, or says why the algorithm does not apply to this cluster.
    public static func plan(_ spec: CollectiveSpec, bytes: UInt64, topology: ClusterTopology) throws(InputError) -> CollectivePlan {
        let n = topology.ranks
        let algorithm = spec.algorithm == .auto ? choose(spec.op, bytes: bytes, topology: topology) : spec.algorithm
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
        case .allReduce: "ring, halving-doubling, direct, hierarchical or auto"
        case .reduceScatter, .allGather, .broadcast, .reduce: "ring, halving-doubling, direct or auto"
        case .allToAll, .sendRecv: "direct or auto"
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

    /// Recursive halving among `ranks` (a power of two): step k exchanges S/2^(k+1) at distance n/2^(k+1).
    static func halving(_ ranks: [Int], bytes S: Double) -> [CollectiveStep] {
        var steps: [CollectiveStep] = []
        var d = ranks.count / 2, share = S / 2
        while d >= 1 {
            steps.append(CollectiveStep(flows: ranks.indices.map { CollectiveFlow(src: ranks[$0], dst: ranks[$0 ^ d], bytes: share) }, repeats: 1))
            d /= 2
            share /= 2
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

extension Plan {
    /// A plan with no operations, for runs whose work is not on compute units (collective
    /// microbenchmarks on a GPU cluster).
    public static func empty(hardware: HardwareModel, workload: String) -> Plan {
        Plan(hardware: hardware, workload: workload, layers: [], ops: [], estimatedCycles: 0)
    }
}
