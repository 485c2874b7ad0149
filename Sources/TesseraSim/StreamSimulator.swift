import TesseraCore
import TesseraModel
import TesseraPlan
import TesseraSpec

/// The accelerator executor: replays a plan's tiles on stateful units, double-buffered operand and
/// output buffers and one DRAM channel, and measures what only execution reveals (stalls from DRAM
/// bandwidth and latency, the overlap of prefetch and write-back with compute, contention).
///
/// Two policies decide which tile goes next:
///
/// **Streams** (a multi-unit plan, `Plan.schedule`): every unit runs its own stream of tiles, all of
/// them share one DRAM channel, and operations wait for the operations they depend on.
///
/// Per unit, tiles are double-buffered as in `Simulator`: the i-th tile a unit fetches is fetched
/// once its (i−2)-th has computed, and computes once its operands are in, the unit is free and the
/// (i−2)-th has been written back. Tiles compute in the order they were fetched. A unit fetches
/// from the first of its operations (in the schedule's order) with tiles left; with interleave
/// mapping (`Schedule.window` 2), when that operation cannot start yet it fetches from the next
/// one instead. An operation's first fetch waits for every operation it depends on to be written
/// back; with in-order dispatch (no offline schedule) for the operation before it in program
/// order to have started; and without interleave mapping for the unit's previous tile to have
/// finished computing. DRAM
/// serves fetches and write-backs of all units in issue order (b bytes occupy it b/bandwidth and
/// complete latency later), so the units contend for it.
///
/// **Program order** (a single-array plan, no schedule): one stream of every operation's tiles in
/// program order on the array. A tile's operands are loaded when its buffer half is free (the tile
/// two before it has computed) and, for an operation's first tile that reads activations, once the
/// previous operation's outputs are back in DRAM. A tile computes when its operands are in, the
/// array is free, and its output half has drained (the tile two before it is written back).
/// Memory-only work (pooling, elementwise with no vector unit) streams its bytes through DRAM and
/// uses no array time; it runs strictly after the tile before it and before the tile after it.
/// Each operation's cycles are its span on the critical path (from the previous operation's end to
/// its own), so a run's operations partition its cycles. This is the single-array model that is
/// cycle-exact against SCALE-Sim (the DRAM-ideal case); it was a separate engine and is now this
/// policy, with an equivalence test against that engine kept as a reference.
///
/// **Engine.** These policies are a task source of the cluster executor (`TaskExecutor`), which
/// runs training steps, collectives and serving too: each tile's compute is a compute task of its
/// unit (an entity of a plan with no network), ending at priority 1; a tile's operands arriving
/// and its output written back are timers at priority 0, from the DRAM channel's and the host
/// link's FIFO queues (`DRAMQueue`), which this source keeps (a channel that serves requests in
/// issue order, not a fair-share network). The equivalence test runs the engine this replaced
/// (its own event loop) on every bundled accelerator pair and requires identical results.
///
/// Complexity: O(tiles · (units + log tiles)).
public final class StreamSimulator: TaskSource {
    /// Which rules order and gate the tiles.
    enum Policy { case streams, programOrder }
    /// Timers: tile `i` of unit `u` loaded or written back (tag (i << 32) | (u << 1) | kind).
    enum Timer: Int { case loaded = 0, written = 1 }

    struct Unit {
        var name: String
        var kind: UnitKind
        /// Operations in the schedule's order.
        var order: [Int]
        /// Index in `order` of the first operation with tiles left to fetch.
        var head = 0
        /// Tiles in the order they were fetched.
        var tiles: [TileRef] = []
        var nextCompute = 0
        var busy = false
        var loadDone: [Bool]
        var computeDone: [Bool]
        var writeDone: [Bool]
        var busyPs: Picoseconds = 0
        /// The unit's latest compute interval in `intervals`.
        var lastInterval: Int?
    }

    let plan: Plan
    let schedule: Schedule
    let policy: Policy
    /// Program order: whether each operation is memory-only (it has no unit).
    private var memoryOnly: [Bool] = []
    let period: Picoseconds
    let dram: DRAMChannel
    private var units: [Unit]
    /// The executor's time at the current call, the answer being built, and the events delivered.
    private var now: Picoseconds = 0
    private var pending = TaskSubmissions()
    private var events: UInt64 = 0
    private var pendingDeps: [Int]
    private var successors: [[Int]]
    private var pendingWrites: [Int]
    /// Next tile of each operation to fetch.
    private var nextTile: [Int]
    /// Tiles fetched from a unit's second operation while its first could not start.
    public private(set) var interleavedTiles = 0
    private var started: [Bool]
    private var opStart: [Picoseconds]
    private var opEnd: [Picoseconds]
    private var dramQueue: DRAMQueue
    /// The host link weights stream over, when the plan streams any (`HostLink`).
    private var hostQueue: DRAMQueue?
    private var bytesSent: UInt64 = 0
    private var bytesReceived: UInt64 = 0
    private var bytesWritten: UInt64 = 0
    private var intervals: [Interval] = []
    private let recordTimeline: Bool
    /// DVFS and the power budget (`Schedule.power`): the policy that picks the operating point.
    private var governor: PowerGovernor?
    /// Dynamic energy at the reference voltage of each op: unit side and transfer side, joules.
    private var computeJoules: [Double] = []
    private var transferJoules: [Double] = []
    /// DRAM bytes of each operation (read + written), summed once: `OpPlan.dramRead` walks every tile.
    private var transferBytes: [UInt64] = []

    /// A plan with a multi-unit schedule runs its streams; one without runs in program order on
    /// its array.
    public init(plan: Plan, recordTimeline: Bool = true) {
        self.plan = plan
        if let schedule = plan.schedule {
            self.schedule = schedule
            self.policy = .streams
        } else {
            let name = plan.hardware.arrays.first?.name ?? "array"
            self.schedule = Schedule(
                streams: [Schedule.Stream(unit: name, kind: .array, ops: Array(plan.ops.indices))], inOrderDispatch: false, window: 1,
                optimizations: Optimizations(), estimatedStart: [])
            self.policy = .programOrder
            self.memoryOnly = plan.ops.map { $0.unit == nil }
        }
        let schedule = self.schedule
        self.period = plan.hardware.clock.periodPicoseconds
        self.dram = plan.hardware.dram
        self.dramQueue = DRAMQueue(plan.hardware.dram)
        self.hostQueue = plan.hardware.hostLink.map { DRAMQueue($0.channel) }
        self.recordTimeline = recordTimeline
        units = schedule.streams.map { s in
            let count = s.ops.reduce(0) { $0 + plan.ops[$1].tiles.count }
            var u = Unit(name: s.unit, kind: s.kind, order: s.ops, loadDone: [], computeDone: [], writeDone: [])
            u.tiles.reserveCapacity(count)
            u.loadDone.reserveCapacity(count)
            u.computeDone.reserveCapacity(count)
            u.writeDone.reserveCapacity(count)
            return u
        }
        // A unit's first operations with no tiles have nothing to fetch.
        for u in units.indices {
            while units[u].head < units[u].order.count, plan.ops[units[u].order[units[u].head]].tiles.isEmpty { units[u].head += 1 }
        }
        let n = plan.ops.count
        nextTile = Array(repeating: 0, count: n)
        pendingDeps = plan.ops.map { $0.dependencies.count }
        successors = Array(repeating: [], count: n)
        for (i, op) in plan.ops.enumerated() { for d in op.dependencies { successors[d.raw].append(i) } }
        pendingWrites = plan.ops.map { $0.tiles.count }
        started = Array(repeating: false, count: n)
        opStart = Array(repeating: 0, count: n)
        opEnd = Array(repeating: 0, count: n)
        if let power = schedule.power {
            governor = PowerGovernor(power)
            if power.budgetWatts != nil {
                let parts = EnergyAccount.parts(plan: plan)
                computeJoules = parts.compute.map { $0.reduce(0) { $0 + $1.2 } }
                transferJoules = parts.transfer.map { $0.reduce(0) { $0 + $1.2 } }
                transferBytes = plan.ops.map { $0.dramRead + $0.dramWrite }
            }
        }
    }

    /// The clock period in force.
    private var currentPeriod: Picoseconds { governor?.periodPicoseconds ?? period }

    /// Reports energy to the governor (only a power budget reads it).
    private func spend(_ joules: Double, at t: Picoseconds) { governor?.spend(joules, at: t) }

    public func run() throws(SimError) -> SimResult {
        let entities = units.map { StepEntity(stage: 0, replicas: [], ranks: [], name: $0.name) }
        let streams = units.indices.map { StepStream(name: units[$0].name, entity: $0, stage: 0) }
        let taskPlan = TaskPlan(
            topology: nil, tasks: [], streams: streams, entities: entities, faults: [], replicatedEntities: false,
            collectivePlan: { _ in CollectivePlan(op: .sendRecv, algorithm: .direct, ranks: 0, bytes: 0, steps: []) })
        var source = self
        events = try TaskExecutor(plan: taskPlan).run(source: &source).events
        if let stuck = units.first(where: { $0.head < $0.order.count || $0.nextCompute < $0.tiles.count }) {
            let op = stuck.head < stuck.order.count ? stuck.order[stuck.head] : Int(stuck.tiles[stuck.nextCompute].op)
            throw .deadlock(time: now, pending: "unit '\(stuck.name)' waits on '\(plan.ops[op].name)'")
        }
        return result()
    }

    /// Time zero: operations with no tiles (none today) complete at once, and the units fetch.
    public func start(_ out: inout TaskSubmissions) throws(SimError) {
        for i in plan.ops.indices where pendingWrites[i] == 0 { complete(i, at: 0) }
        try pump()
        swap(&out, &pending)
    }

    /// A tile's operands are in, or its output is back in DRAM.
    public func timer(_ tag: Int, at time: Picoseconds, _ out: inout TaskSubmissions) throws(SimError) {
        now = time
        let u = (tag >> 1) & 0x7FFF_FFFF, i = tag >> 32
        if tag & 1 == Timer.loaded.rawValue {
            units[u].loadDone[i] = true
            let t = units[u].tiles[i]
            bytesReceived += plan.ops[Int(t.op)].tiles[Int(t.tile)].dramRead
        } else {
            units[u].writeDone[i] = true
            let op = Int(units[u].tiles[i].op)
            pendingWrites[op] -= 1
            if pendingWrites[op] == 0 { complete(op, at: time) }
        }
        try pump()
        swap(&out, &pending)
    }

    /// A tile computed: its output goes back to DRAM (at once when it writes nothing).
    public func ended(_ token: Int, began: Picoseconds, at time: Picoseconds, _ out: inout TaskSubmissions) throws(SimError) {
        now = time
        let u = token & 0xFFFF_FFFF, i = token >> 32
        units[u].computeDone[i] = true
        let ref = units[u].tiles[i]
        let memory = policy == .programOrder && memoryOnly[Int(ref.op)]
        if !memory { units[u].busy = false }
        let tile = plan.ops[Int(ref.op)].tiles[Int(ref.tile)]
        if tile.write > 0 {
            let done = dramTransfer(bytes: tile.write, at: time, op: Int(ref.op), activity: memory ? .memory : .writeback)
            bytesWritten += tile.write
            pending.timer(at: done, priority: 0, tag: Self.tag(.written, u, i))
        } else {
            pending.timer(at: time, priority: 0, tag: Self.tag(.written, u, i))
        }
        try pump()
        swap(&out, &pending)
    }

    static func tag(_ timer: Timer, _ u: Int, _ i: Int) -> Int { (i << 32) | (u << 1) | timer.rawValue }

    /// Tile `i` of unit `u` computes for `ps` from now: a compute task of the unit, ending at priority 1.
    private func compute(_ u: Int, _ i: Int, picoseconds ps: Picoseconds) {
        pending.begin((i << 32) | u, stream: u, entity: u, .picoseconds(ps), priority: 1)
    }

    private func complete(_ op: Int, at time: Picoseconds) {
        opEnd[op] = max(opEnd[op], time)
        for s in successors[op] { pendingDeps[s] -= 1 }
    }

    private func pump() throws(SimError) {
        var progress = true
        while progress {
            progress = false
            for u in units.indices {
                while let (op, lookahead) = loadable(u) {
                    try issueLoad(u, op: op, lookahead: lookahead)
                    progress = true
                }
                if canCompute(u) {
                    try startCompute(u)
                    progress = true
                }
            }
        }
    }

    /// The operation unit `u` fetches its next tile from, if any may be fetched now, and whether it
    /// is not the unit's first operation with tiles left.
    private func loadable(_ u: Int) -> (Int, Bool)? {
        let unit = units[u]
        let i = unit.tiles.count
        if i >= 2, !unit.computeDone[i - 2] { return nil }
        for w in 0..<schedule.window {
            let position = unit.head + w
            guard position < unit.order.count else { return nil }
            let op = unit.order[position]
            guard nextTile[op] < plan.ops[op].tiles.count else { continue }
            if ready(op, unit: unit, position: i) { return (op, w > 0) }
        }
        return nil
    }

    private func ready(_ op: Int, unit: Unit, position i: Int) -> Bool {
        if policy == .programOrder {
            // An operation's first tile that reads activations (or streams memory-only bytes)
            // waits for the previous operation's outputs to be back in DRAM.
            guard nextTile[op] == 0, op > 0, plan.ops[op].tiles[0].readA > 0 || memoryOnly[op] else { return true }
            return pendingWrites[op - 1] == 0
        }
        if started[op] { return true }
        if pendingDeps[op] > 0 { return false }
        if schedule.inOrderDispatch, op > 0, !started[op - 1] { return false }
        if schedule.window == 1, i > 0, !unit.computeDone[i - 1] { return false }
        return true
    }

    private func issueLoad(_ u: Int, op: Int, lookahead: Bool) throws(SimError) {
        let now = self.now
        let i = units[u].tiles.count
        let tile = nextTile[op]
        nextTile[op] += 1
        started[op] = true
        if lookahead { interleavedTiles += 1 }
        units[u].tiles.append(TileRef(op: op, tile: tile))
        units[u].loadDone.append(false)
        units[u].computeDone.append(false)
        units[u].writeDone.append(false)
        while units[u].head < units[u].order.count, nextTile[units[u].order[units[u].head]] == plan.ops[units[u].order[units[u].head]].tiles.count {
            units[u].head += 1
        }
        let t = plan.ops[op].tiles[tile]
        let bytes = t.dramRead
        var done = now
        if policy == .programOrder {
            if bytes > 0 { done = dramTransfer(bytes: bytes, at: now, op: op, activity: memoryOnly[op] ? .memory : .load) }
        } else if plan.ops[op].weightsFromHost, hostQueue != nil {
            // Activations from the on-chip memory and weights over the host link, in parallel.
            if t.readA > 0 { done = dramTransfer(bytes: t.readA, at: now, op: op, activity: .load) }
            if t.readB > 0 { done = max(done, hostTransfer(bytes: t.readB, at: now, op: op)) }
        } else if bytes > 0 {
            done = dramTransfer(bytes: bytes, at: now, op: op, activity: .load)
        }
        bytesSent += bytes
        pending.timer(at: done, priority: 0, tag: Self.tag(.loaded, u, i))
    }

    private func canCompute(_ u: Int) -> Bool {
        let unit = units[u]
        let i = unit.nextCompute
        guard i < unit.tiles.count, unit.loadDone[i] else { return false }
        if policy == .programOrder {
            let op = Int(unit.tiles[i].op)
            let memory = memoryOnly[op]
            if !memory, unit.busy { return false }
            if i >= 2, !unit.writeDone[i - 2] { return false }
            if i >= 1, !unit.computeDone[i - 1], memory || memoryOnly[Int(unit.tiles[i - 1].op)] { return false }
            if memory, op > 0, pendingWrites[op - 1] > 0 { return false }
            return true
        }
        guard !unit.busy else { return false }
        if i >= 2, !unit.writeDone[i - 2] { return false }
        return true
    }

    private func startCompute(_ u: Int) throws(SimError) {
        let now = self.now
        let i = units[u].nextCompute
        let ref = units[u].tiles[i]
        let op = Int(ref.op)
        let cycles = plan.ops[op].tiles[Int(ref.tile)].computeCycles
        governor?.govern(at: now)
        let ps = Saturating.multiply(cycles, currentPeriod)
        if policy == .programOrder {
            if !memoryOnly[op] {
                units[u].busy = true
                units[u].busyPs = Saturating.add(units[u].busyPs, ps)
                if recordTimeline, ps > 0 {
                    intervals.append(Interval(resource: plan.ops[op].unit ?? units[u].name, activity: .compute, op: op, start: now, end: Saturating.add(now, ps), bytes: 0))
                }
                opEnd[op] = max(opEnd[op], Saturating.add(now, ps))
            }
            if ref.tile == 0 { opStart[op] = now }
            compute(u, i, picoseconds: ps)
            units[u].nextCompute += 1
            return
        }
        if !computeJoules.isEmpty, plan.ops[op].computeCycles > 0 {
            spend(computeJoules[op] * Double(cycles) / Double(plan.ops[op].computeCycles) * (governor?.scale ?? 1), at: now)
        }
        units[u].busy = true
        units[u].busyPs += ps
        if ref.tile == 0 { opStart[op] = now }
        if recordTimeline, ps > 0 {
            // Consecutive tiles of one operation on one unit extend one interval.
            if let last = units[u].lastInterval, intervals[last].op == op, intervals[last].end == now {
                intervals[last].end = Saturating.add(now, ps)
            } else {
                units[u].lastInterval = intervals.count
                intervals.append(Interval(resource: units[u].name, activity: .compute, op: op, start: now, end: Saturating.add(now, ps), bytes: 0))
            }
        }
        compute(u, i, picoseconds: ps)
        units[u].nextCompute += 1
    }

    private func dramTransfer(bytes: UInt64, at now: Picoseconds, op: Int, activity: Activity) -> Picoseconds {
        if !transferJoules.isEmpty {
            let total = transferBytes[op]
            if total > 0 { spend(transferJoules[op] * Double(bytes) / Double(total), at: now) }
        }
        let (start, done) = dramQueue.transfer(bytes: bytes, at: now)
        if recordTimeline, done > start {
            intervals.append(Interval(resource: dram.name, activity: activity, op: op, start: start, end: done, bytes: bytes))
        }
        return done
    }

    private func hostTransfer(bytes: UInt64, at now: Picoseconds, op: Int) -> Picoseconds {
        guard var q = hostQueue else { return now }
        if !transferJoules.isEmpty {
            let total = transferBytes[op]
            if total > 0 { spend(transferJoules[op] * Double(bytes) / Double(total), at: now) }
        }
        let (start, done) = q.transfer(bytes: bytes, at: now)
        hostQueue = q
        if recordTimeline, done > start {
            intervals.append(Interval(resource: q.channel.name, activity: .load, op: op, start: start, end: done, bytes: bytes))
        }
        return done
    }

    private func cycles(_ ps: Picoseconds) -> UInt64 { ceilDiv(ps, period) }

    private func result() -> SimResult {
        if policy == .programOrder { return programOrderResult() }
        let total = max(now, opEnd.max() ?? 0)
        let ops = plan.ops.enumerated().map { i, p in
            OpStats(
                computeCycles: p.computeCycles, totalCycles: cycles(opEnd[i]) - min(cycles(opEnd[i]), cycles(opStart[i])), dramReadBytes: p.memoryRead,
                dramWriteBytes: p.dramWrite, start: opStart[i], end: opEnd[i])
        }
        var stats = units.map { u in
            UnitStats(name: u.name, kind: unitKindName(u.kind), busyCycles: cycles(u.busyPs))
        }
        stats += Self.bufferStats(plan: plan, totalCycles: cycles(total))
        stats.append(UnitStats(name: dram.name, kind: DRAMChannel.schema.kind, busyCycles: cycles(dramQueue.busy)))
        if let q = hostQueue { stats.append(UnitStats(name: q.channel.name, kind: HostLink.schema.kind, busyCycles: cycles(q.busy))) }
        var r = SimResult(
            totalPicoseconds: total, totalCycles: cycles(total), ops: ops, units: stats, intervals: intervals, dramBytesSent: bytesSent,
            bufferBytesReceived: bytesReceived, dramBytesWritten: bytesWritten, events: events, interleavedTiles: interleavedTiles)
        if let power = schedule.power, let governor {
            r.operatingPoints = governor.changes
            r.socStaticWatts = power.socStaticWatts
        }
        return r
    }

    /// Program order: each operation's cycles run from the previous operation's end to its own
    /// (the last to the end of the run), so they partition the run; the array's busy time, the
    /// buffers' port time and the DRAM channel's.
    private func programOrderResult() -> SimResult {
        let total = max(now, opEnd.max() ?? 0)
        var ops: [OpStats] = []
        var previousEnd: Picoseconds = 0
        for (i, p) in plan.ops.enumerated() {
            let end = i == plan.ops.count - 1 ? total : max(opEnd[i], previousEnd)
            ops.append(
                OpStats(
                    computeCycles: p.computeCycles, totalCycles: cycles(end) - cycles(previousEnd), dramReadBytes: p.dramRead, dramWriteBytes: p.dramWrite,
                    start: previousEnd, end: end))
            previousEnd = end
        }
        let first = plan.hardware.arrays.first?.name
        var stats = plan.hardware.arrays.map { a in
            UnitStats(name: a.name, kind: SystolicArray.schema.kind, busyCycles: a.name == first ? cycles(units.first?.busyPs ?? 0) : 0)
        }
        stats += Self.bufferStats(plan: plan, totalCycles: cycles(total))
        stats.append(UnitStats(name: dram.name, kind: DRAMChannel.schema.kind, busyCycles: cycles(dramQueue.busy)))
        return SimResult(
            totalPicoseconds: total, totalCycles: cycles(total), ops: ops, units: stats, intervals: intervals, dramBytesSent: bytesSent,
            bufferBytesReceived: bytesReceived, dramBytesWritten: bytesWritten, events: events)
    }

    /// Port-busy cycles of every SRAM buffer: bytes through its ports over their per-cycle
    /// bandwidths, capped at the run's length. A shared buffer serves every operand that has no
    /// dedicated buffer.
    static func bufferStats(plan: Plan, totalCycles: UInt64) -> [UnitStats] {
        let roles = Set(plan.hardware.buffers.map(\.role))
        return plan.hardware.buffers.map { b in
            let holds = { (r: SRAMBuffer.Role) in b.role == r || (b.role == .shared && !roles.contains(r)) }
            var reads: UInt64 = 0, writes: UInt64 = 0
            for op in plan.ops {
                if holds(.ifmap) { reads += op.sramReadA; writes += op.dramReadA }
                if holds(.filter) { reads += op.sramReadB; writes += op.dramReadB }
                if holds(.ofmap) { writes += op.sramWrite; reads += op.dramWrite }
            }
            let busy = Saturating.add(Saturating.uint64(Double(reads) / b.readBytesPerCycle), Saturating.uint64(Double(writes) / b.writeBytesPerCycle))
            return UnitStats(name: b.name, kind: SRAMBuffer.schema.kind, busyCycles: min(busy, totalCycles))
        }
    }

    private func unitKindName(_ k: UnitKind) -> String {
        switch k {
        case .array: NMSparseArray.schema.kind
        case .vector, .memory: VectorUnit.schema.kind
        case .maskgen: MaskGenerator.schema.kind
        case .cpu: CPUCluster.schema.kind
        }
    }
}
