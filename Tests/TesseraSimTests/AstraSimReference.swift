/// An independent, slow reference of ASTRA-sim 2.0's congestion-aware analytical network backend
/// driven by its native collective algorithms, written from reading the sources (no code taken):
///
/// Network (github.com/astra-sim/astra-network-analytical, `congestion_aware/`):
/// - `network/Link.cc`: a link is one direction between two devices with a bandwidth and a latency.
///   A chunk sent on a busy link waits in the link's FIFO queue. Once it starts, the link is busy
///   for size/bandwidth (serialization) and the chunk reaches the next device latency + size/bandwidth
///   after it started; both delays are cast to whole nanoseconds (truncated).
/// - `network/Chunk.cc`, `network/Device.cc`: a chunk that reaches an intermediate device is sent
///   on that device's next link only then: store-and-forward, every hop serializes the whole chunk.
/// - `basic-topology/Ring.cc`: npu i links to i+1 (and i−1: the ring is bidirectional by default,
///   `Ring.hh`); a chunk goes the shorter way, clockwise on a tie. `basic-topology/Switch.cc`: a
///   switch device n with links npu↔switch both ways; every route is npu → switch → npu (two
///   links). `basic-topology/FullyConnected.cc`: one link per ordered pair.
/// - `common/NetworkFunction.cc` (`bw_GBps_to_Bpns`): the YAML's `bandwidth` in "GB/s" is taken
///   as 2^30 B per second, so 50 "GB/s" is 53.687 GB/s in decimal units. `latency` is in ns.
///
/// System layer (github.com/astra-sim/astra-sim, `astra-sim/system/`):
/// - `Sys.cc` (`generate_collective`, `determine_chunk_size`): a collective of size S is cut into
///   `preferred-dataset-splits` chunks (streams) of S/splits, and at most
///   `active-chunks-per-dimension` of them run at once (the scheduler starts the next one when one
///   finishes). On a one-dimensional network each chunk is one phase of the collective.
/// - `QueueLevelHandler.cc`: on dimension 0 every stream's ring runs clockwise (one direction).
/// - `astraccl/native_collectives/collective_algorithm/Ring.cc`: every rank sends to i+1 and
///   receives from i−1; messages are S_chunk/n (all-reduce, reduce-scatter) or S_chunk (all-gather,
///   whose size is one rank's contribution); 2(n−1) steps for all-reduce, n−1 otherwise; a rank
///   sends its next message once it has received the previous one.
/// - `.../collective_algorithm/Ring.cc`, All_to_All: ((n−1)·n)/2 sends of S_chunk/n to i+1, each
///   after the previous one was received (pieces relayed around the ring).
/// - `.../collective_algorithm/HalvingDoubling.cc` (n a power of two): reduce-scatter starts at rank
///   offset 1 with S_chunk/2, the offset doubling and the message halving each step; all-gather
///   (whose size is one rank's contribution, S_chunk/n) starts at offset n/2 and halves it, the
///   message doubling; all-reduce runs the first and then the second. The partner at offset d is
///   i ± d (i XOR d); the network routes it the shorter way. A rank sends its next message once it
///   has received the previous one (+ the endpoint delay, + a reduction on reduce-scatter steps).
/// - `.../collective_algorithm/AllToAll.cc` ("direct", window −1): every rank sends its n−1
///   messages (to i+1, i+2, … in that order) at once; all-reduce does it twice, the second round
///   after all n−1 messages of the first have arrived.
/// - `MemBus.cc`, `PacketBundle.cc`, `Sys.cc` (`mem_read`, `mem_write`): without a memory model
///   each hand-off between network and collective costs `endpoint-delay` (10 cycles of 1 ns) and a
///   reduction 3 × 10 ns. These only matter for small messages; they are modeled as such.
/// - Example configs: `examples/network/analytical/Ring_4npus.yml` (`topology: [Ring]`,
///   `npus_count`, `bandwidth: [50.0]  # GB/s`, `latency: [500.0]  # ns`) and
///   `examples/system/native_collectives/Ring_4chunks.json` (4 splits, 1 active chunk).
///
/// Sizes follow nccl-tests (Tessera's convention): S is the all-reduce buffer, the reduce-scatter
/// input, the all-gather output and the all-to-all buffer, so ASTRA-sim's all-gather is given S/n.
/// Time is integer nanoseconds, as in ASTRA-sim's event queue. Complexity: O(messages × log events).
struct AstraSimReference {
    enum Topology: String, CaseIterable { case ring = "Ring", switched = "Switch", fullyConnected = "FullyConnected" }
    enum Op: String { case allReduce = "all-reduce", reduceScatter = "reduce-scatter", allGather = "all-gather", allToAll = "all-to-all" }
    enum Algorithm: String { case ring, direct, halvingDoubling = "halving-doubling" }

    var topology: Topology
    var npus: Int
    /// ASTRA-sim's `bandwidth`, in its "GB/s" (2^30 B/s).
    var bandwidthGBps: Double
    var latencyNs: Double
    /// `preferred-dataset-splits`.
    var splits = 4
    /// `active-chunks-per-dimension`.
    var activeChunks = 1
    /// `endpoint-delay` (ns) and the reduction of a received message (ns).
    var endpointDelayNs: UInt64 = 10
    var reductionDelayNs: UInt64 = 30

    /// Bytes per nanosecond, as `bw_GBps_to_Bpns` converts it.
    var bytesPerNs: Double { bandwidthGBps * Double(1 << 30) / 1e9 }
    /// The same bandwidth in bytes per second (what Tessera is given).
    var bytesPerSecond: Double { bandwidthGBps * Double(1 << 30) }

    /// The collective's time in nanoseconds.
    func run(_ op: Op, _ algorithm: Algorithm, bytes: UInt64) -> UInt64 {
        let sim = AstraSimulation(self)
        let n = npus
        // Per chunk, the message each send carries.
        let chunk = bytes / UInt64(splits)
        let message = max(1, chunk / UInt64(n))
        var next = 0
        var finished: UInt64 = 0
        func startChunk() {
            guard next < splits else { return }
            next += 1
            let done: () -> Void = {
                finished = max(finished, sim.now)
                startChunk()
            }
            switch algorithm {
            case .ring: AstraRingStream(sim: sim, op: op, message: message, done: done).start()
            case .direct: AstraDirectStream(sim: sim, op: op, message: message, done: done).start()
            case .halvingDoubling: AstraHalvingDoublingStream(sim: sim, op: op, chunk: chunk, done: done).start()
            }
        }
        for _ in 0..<min(activeChunks, splits) { startChunk() }
        sim.runToEnd()
        return finished
    }

    /// The device path of a chunk from `src` to `dst` (npus are 0..<n, the switch is n).
    func route(_ src: Int, _ dst: Int) -> [Int] {
        switch topology {
        case .fullyConnected: return [src, dst]
        case .switched: return [src, npus, dst]
        case .ring:
            let cw = (dst - src + npus) % npus
            let step = npus - cw < cw ? -1 : 1
            var path = [src]
            var k = src
            while k != dst {
                k = (k + step + npus) % npus
                path.append(k)
            }
            return path
        }
    }
}

/// The event queue and the links: time in whole nanoseconds, events ordered by (time, insertion).
final class AstraSimulation {
    let config: AstraSimReference
    private(set) var now: UInt64 = 0
    private var heap: [(time: UInt64, seq: Int, action: () -> Void)] = []
    private var seq = 0
    /// When each directed link (from × devices + to) finishes serializing what it was given.
    private var linkFree: [Int: UInt64] = [:]

    init(_ config: AstraSimReference) { self.config = config }

    func schedule(after delay: UInt64, _ action: @escaping () -> Void) {
        heap.append((now + delay, seq, action))
        seq += 1
        var i = heap.count - 1
        while i > 0 {
            let p = (i - 1) / 2
            guard before(heap[i], heap[p]) else { break }
            heap.swapAt(i, p)
            i = p
        }
    }

    private func before(_ a: (time: UInt64, seq: Int, action: () -> Void), _ b: (time: UInt64, seq: Int, action: () -> Void)) -> Bool {
        a.time != b.time ? a.time < b.time : a.seq < b.seq
    }

    func runToEnd() {
        while let e = pop() {
            precondition(e.time >= now, "time went backwards")
            now = e.time
            e.action()
        }
    }

    private func pop() -> (time: UInt64, seq: Int, action: () -> Void)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count, before(heap[l], heap[m]) { m = l }
            if r < heap.count, before(heap[r], heap[m]) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
        return top
    }

    /// Sends `bytes` from npu `src` to npu `dst`, hop by hop, store-and-forward; `arrived` runs
    /// when the whole chunk has reached `dst`.
    func send(_ bytes: UInt64, from src: Int, to dst: Int, arrived: @escaping () -> Void) {
        hop(bytes, path: config.route(src, dst), index: 0, arrived: arrived)
    }

    private func hop(_ bytes: UInt64, path: [Int], index: Int, arrived: @escaping () -> Void) {
        let devices = config.npus + 1
        let link = path[index] * devices + path[index + 1]
        // FIFO: events run in time order, so a link's chunks start in the order they reached it.
        let start = max(now, linkFree[link] ?? 0)
        let serialization = UInt64(Double(bytes) / config.bytesPerNs)
        linkFree[link] = start + serialization
        let arrival = start + UInt64(config.latencyNs + Double(bytes) / config.bytesPerNs)
        schedule(after: arrival - now) { [self] in
            if index + 2 == path.count { arrived() } else { hop(bytes, path: path, index: index + 1, arrived: arrived) }
        }
    }
}

/// One chunk of a ring collective (`Ring.cc`): rank i sends to i+1; each received message (after
/// the endpoint delay, plus a reduction where the step reduces) releases the next send.
final class AstraRingStream {
    let sim: AstraSimulation
    let op: AstraSimReference.Op
    let message: UInt64
    let steps: Int
    let done: () -> Void
    var received: [Int]
    var ranksDone = 0

    init(sim: AstraSimulation, op: AstraSimReference.Op, message: UInt64, done: @escaping () -> Void) {
        let n = sim.config.npus
        self.sim = sim
        self.op = op
        self.message = message
        switch op {
        case .allReduce: self.steps = 2 * (n - 1)
        case .allToAll: self.steps = n * (n - 1) / 2  // `Ring.cc`: every piece relayed hop by hop
        default: self.steps = n - 1
        }
        self.done = done
        self.received = Array(repeating: 0, count: n)
    }

    func start() {
        for r in 0..<sim.config.npus { sim.schedule(after: sim.config.endpointDelayNs) { [self] in sendStep(from: r) } }
    }

    private func sendStep(from r: Int) {
        let n = sim.config.npus
        sim.send(message, from: r, to: (r + 1) % n) { [self] in receive(at: (r + 1) % n) }
    }

    private func receive(at r: Int) {
        received[r] += 1
        let k = received[r]
        let reduces = op == .reduceScatter || (op == .allReduce && k <= sim.config.npus - 1)
        let delay = sim.config.endpointDelayNs + (reduces ? sim.config.reductionDelayNs : 0)
        sim.schedule(after: delay) { [self] in
            if k < steps {
                sendStep(from: r)
            } else {
                ranksDone += 1
                if ranksDone == sim.config.npus { done() }
            }
        }
    }
}

/// One chunk of a direct collective (`AllToAll.cc`, window −1): every rank sends its n−1 messages
/// at once; all-reduce runs two such rounds, a rank starting the second when the first has all arrived.
final class AstraDirectStream {
    let sim: AstraSimulation
    let op: AstraSimReference.Op
    let message: UInt64
    let rounds: Int
    let done: () -> Void
    var received: [[Int]]
    var ranksDone = 0

    init(sim: AstraSimulation, op: AstraSimReference.Op, message: UInt64, done: @escaping () -> Void) {
        let n = sim.config.npus
        self.sim = sim
        self.op = op
        self.message = message
        self.rounds = op == .allReduce ? 2 : 1
        self.done = done
        self.received = Array(repeating: Array(repeating: 0, count: 2), count: n)
    }

    func start() {
        for r in 0..<sim.config.npus { sim.schedule(after: sim.config.endpointDelayNs) { [self] in sendRound(0, from: r) } }
    }

    private func sendRound(_ round: Int, from r: Int) {
        let n = sim.config.npus
        for d in 1..<n {
            let dst = (r + d) % n
            sim.send(message, from: r, to: dst) { [self] in receive(round, at: dst) }
        }
    }

    private func receive(_ round: Int, at r: Int) {
        received[r][round] += 1
        guard received[r][round] == sim.config.npus - 1 else { return }
        let reduces = round == 0 && (op == .allReduce || op == .reduceScatter)
        sim.schedule(after: sim.config.endpointDelayNs + (reduces ? sim.config.reductionDelayNs : 0)) { [self] in
            if round + 1 < rounds {
                sendRound(round + 1, from: r)
            } else {
                ranksDone += 1
                if ranksDone == sim.config.npus { done() }
            }
        }
    }
}

/// One chunk of a halving-doubling collective (`HalvingDoubling.cc`): rank i exchanges with
/// i XOR d; each received message (after the endpoint delay, plus a reduction on reduce-scatter
/// steps) releases the next send.
final class AstraHalvingDoublingStream {
    let sim: AstraSimulation
    let op: AstraSimReference.Op
    /// Each step's (offset, message, reduces).
    let steps: [(offset: Int, message: UInt64, reduces: Bool)]
    let done: () -> Void
    var received: [Int]
    var ranksDone = 0

    init(sim: AstraSimulation, op: AstraSimReference.Op, chunk: UInt64, done: @escaping () -> Void) {
        let n = sim.config.npus
        var rs: [(Int, UInt64, Bool)] = []
        var d = 1, m = chunk / 2
        while d < n {
            rs.append((d, max(1, m), true))
            d *= 2
            m /= 2
        }
        let ag = rs.reversed().map { ($0.0, $0.1, false) }
        switch op {
        case .reduceScatter: steps = rs
        case .allGather: steps = ag
        default: steps = rs + ag
        }
        self.sim = sim
        self.op = op
        self.done = done
        self.received = Array(repeating: 0, count: n)
    }

    func start() {
        for r in 0..<sim.config.npus { sim.schedule(after: sim.config.endpointDelayNs) { [self] in sendStep(0, from: r) } }
    }

    private func sendStep(_ k: Int, from r: Int) {
        let (d, m, _) = steps[k]
        sim.send(m, from: r, to: r ^ d) { [self] in receive(at: r ^ d) }
    }

    /// Sends go out in step order, each released by one received message (as `insert_packet`).
    private func receive(at r: Int) {
        received[r] += 1
        let k = received[r]
        let delay = sim.config.endpointDelayNs + (steps[k - 1].reduces ? sim.config.reductionDelayNs : 0)
        sim.schedule(after: delay) { [self] in
            if k < steps.count {
                sendStep(k, from: r)
            } else {
                ranksDone += 1
                if ranksDone == sim.config.npus { done() }
            }
        }
    }
}
