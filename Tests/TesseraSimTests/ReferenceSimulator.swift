import TesseraCore
import TesseraModel
import TesseraPlan

@testable import TesseraSim

/// The former single-array engine, kept as the reference the program-order policy of
/// `StreamSimulator` is checked against (`ProgramOrderEquivalenceTests`). Not used by the product.
///
/// Replays a plan on stateful components and measures what only execution reveals: stalls from
/// DRAM bandwidth and latency, and the overlap of prefetch and write-back with compute.
///
/// Components: the systolic array (one tile at a time, in the plan's static order), double-buffered
/// operand and output buffers (two halves each), and one DRAM channel serving transfers in issue
/// order. A tile's operands are loaded when its buffer half is free (the tile two before it has
/// computed) and, for the first tile that reads activations, once the previous layer's outputs are
/// back in DRAM. A tile computes when its operands are in, the array is free, and its output half
/// has drained (the tile two before it is written back). Memory-only work (pooling, elementwise
/// with no vector unit) streams its bytes through DRAM and uses no array time.
/// Complexity: O(tiles · log tiles).
final class ReferenceSimulator {
    enum Event: Sendable { case loaded(Int), computed(Int), written(Int) }

    struct FlatTile {
        var op: Int
        var computePs: Picoseconds
        var computeCycles: UInt64
        var read: UInt64
        var readsActivations: Bool
        var write: UInt64
        var isMemoryOnly: Bool
    }

    let plan: Plan
    let period: Picoseconds
    let dram: DRAMChannel
    private var tiles: [FlatTile] = []
    private var engine = EventEngine<Event>()

    // State
    private var nextLoad = 0
    private var nextCompute = 0
    private var loadDone: [Bool] = []
    private var computeDone: [Bool] = []
    private var writeDone: [Bool] = []
    private var arrayBusy = false
    private var dramQueue: DRAMQueue
    /// Outstanding write-backs per op.
    private var pendingWrites: [Int] = []

    // Statistics
    private var intervals: [Interval] = []
    private var opEnd: [Picoseconds] = []
    private var arrayBusyPs: Picoseconds = 0
    private var bytesSent: UInt64 = 0
    private var bytesReceived: UInt64 = 0
    private var bytesWritten: UInt64 = 0
    private let recordTimeline: Bool

    init(plan: Plan, recordTimeline: Bool = true) {
        self.plan = plan
        self.period = plan.hardware.clock.periodPicoseconds
        self.dram = plan.hardware.dram
        self.dramQueue = DRAMQueue(plan.hardware.dram)
        self.recordTimeline = recordTimeline
        for (i, op) in plan.ops.enumerated() {
            for (j, t) in op.tiles.enumerated() {
                tiles.append(
                    FlatTile(
                        op: i, computePs: Saturating.multiply(t.computeCycles, period), computeCycles: t.computeCycles, read: t.dramRead,
                        readsActivations: j == 0 && (t.readA > 0 || op.unit == nil), write: t.write, isMemoryOnly: op.unit == nil))
            }
        }
        loadDone = Array(repeating: false, count: tiles.count)
        computeDone = loadDone
        writeDone = loadDone
        pendingWrites = plan.ops.map { $0.tiles.count }
        opEnd = Array(repeating: 0, count: plan.ops.count)
    }

    /// Runs the plan to completion.
    func run() throws(SimError) -> SimResult {
        try pump()
        while let (time, event) = engine.next() {
            switch event {
            case .loaded(let i):
                loadDone[i] = true
                bytesReceived += tiles[i].read
            case .computed(let i):
                computeDone[i] = true
                if !tiles[i].isMemoryOnly { arrayBusy = false }
                let op = tiles[i].op
                if tiles[i].write > 0 {
                    let done = dramTransfer(bytes: tiles[i].write, at: time, op: op, activity: tiles[i].isMemoryOnly ? .memory : .writeback)
                    bytesWritten += tiles[i].write
                    try engine.schedule(at: done, priority: 0, .written(i))
                } else {
                    try engine.schedule(at: time, priority: 0, .written(i))
                }
            case .written(let i):
                writeDone[i] = true
                let op = tiles[i].op
                pendingWrites[op] -= 1
                if pendingWrites[op] == 0 { opEnd[op] = plan.ops[op].unit == nil ? time : max(opEnd[op], time) }
            }
            try pump()
        }
        if nextCompute < tiles.count || writeDone.contains(false) {
            throw .deadlock(time: engine.now, pending: "tile \(nextCompute) of \(tiles.count) not computed")
        }
        return result()
    }

    /// Issues every load and starts every computation whose conditions now hold.
    private func pump() throws(SimError) {
        let now = engine.now
        while nextLoad < tiles.count, canLoad(nextLoad) {
            let i = nextLoad
            let done = tiles[i].read > 0 ? dramTransfer(bytes: tiles[i].read, at: now, op: tiles[i].op, activity: tiles[i].isMemoryOnly ? .memory : .load) : now
            bytesSent += tiles[i].read
            try engine.schedule(at: done, priority: 0, .loaded(i))
            nextLoad += 1
        }
        while nextCompute < tiles.count, canCompute(nextCompute) {
            let i = nextCompute
            let t = tiles[i]
            if !t.isMemoryOnly {
                arrayBusy = true
                arrayBusyPs = Saturating.add(arrayBusyPs, t.computePs)
                if recordTimeline, t.computePs > 0 {
                    intervals.append(Interval(resource: plan.ops[t.op].unit ?? "array", activity: .compute, op: t.op, start: now, end: Saturating.add(now, t.computePs), bytes: 0))
                }
                opEnd[t.op] = max(opEnd[t.op], Saturating.add(now, t.computePs))
            }
            try engine.schedule(at: Saturating.add(now, t.computePs), priority: 1, .computed(i))
            nextCompute += 1
            if !t.isMemoryOnly { break }
        }
    }

    private func canLoad(_ i: Int) -> Bool {
        if i >= 2, !computeDone[i - 2] { return false }
        if tiles[i].readsActivations {
            // The previous layer's outputs must be back in DRAM before they are read again.
            let op = tiles[i].op
            if op > 0, pendingWrites[op - 1] > 0 { return false }
        }
        return true
    }

    private func canCompute(_ i: Int) -> Bool {
        guard loadDone[i] else { return false }
        if !tiles[i].isMemoryOnly, arrayBusy { return false }
        if i >= 2, !writeDone[i - 2] { return false }
        if i >= 1, !computeDone[i - 1], tiles[i - 1].isMemoryOnly || tiles[i].isMemoryOnly { return false }
        let op = tiles[i].op
        if tiles[i].isMemoryOnly, op > 0, pendingWrites[op - 1] > 0 { return false }
        return true
    }

    /// One transfer on the DRAM channel, served in issue order; returns its completion time.
    private func dramTransfer(bytes: UInt64, at now: Picoseconds, op: Int, activity: Activity) -> Picoseconds {
        let (start, done) = dramQueue.transfer(bytes: bytes, at: now)
        if recordTimeline, done > start {
            intervals.append(Interval(resource: dram.name, activity: activity, op: op, start: start, end: done, bytes: bytes))
        }
        return done
    }

    private func cycles(_ ps: Picoseconds) -> UInt64 { ceilDiv(ps, period) }

    private func result() -> SimResult {
        let total = max(engine.now, opEnd.max() ?? 0)
        var ops: [OpStats] = []
        var previousEnd: Picoseconds = 0
        for (i, p) in plan.ops.enumerated() {
            let end = i == plan.ops.count - 1 ? total : max(opEnd[i], previousEnd)
            let totalCycles = cycles(end) - cycles(previousEnd)
            ops.append(
                OpStats(
                    computeCycles: p.computeCycles, totalCycles: totalCycles, dramReadBytes: p.dramRead, dramWriteBytes: p.dramWrite,
                    start: previousEnd, end: end))
            previousEnd = end
        }
        var units: [UnitStats] = []
        for a in plan.hardware.arrays {
            units.append(UnitStats(name: a.name, kind: SystolicArray.schema.kind, busyCycles: a.name == plan.hardware.arrays.first?.name ? cycles(arrayBusyPs) : 0))
        }
        units += StreamSimulator.bufferStats(plan: plan, totalCycles: cycles(total))
        units.append(UnitStats(name: dram.name, kind: DRAMChannel.schema.kind, busyCycles: cycles(dramQueue.busy)))
        return SimResult(
            totalPicoseconds: total, totalCycles: cycles(total), ops: ops, units: units, intervals: intervals, dramBytesSent: bytesSent,
            bufferBytesReceived: bytesReceived, dramBytesWritten: bytesWritten, events: engine.eventCount)
    }
}
