import TesseraCore
import TesseraPlan
import TesseraSim

/// The timeline of one simulation sorted into lanes, one per resource that has intervals (the
/// compute arrays first, then DRAM), with the array's idle gaps found and classified.
///
/// Shared by the schedule picture and the Chrome trace so that both show the same stalls.
struct TimelineLanes: Sendable {
    /// Why a compute array was idle during a gap between its compute intervals.
    enum GapKind: String, Sendable {
        /// Waiting for DRAM: operands not loaded yet or an output half not yet written back.
        case stall
        /// A memory-only layer (pooling, elementwise) was running on DRAM, with nothing to compute.
        case idle
        /// Multi-unit runs: the array had no tile it could compute (its next operation's inputs, mask
        /// or operands were not ready).
        case waiting
    }

    struct Gap: Sendable {
        var start: Picoseconds
        var end: Picoseconds
        var kind: GapKind
        /// The layer (index into `Plan.ops`) whose span holds the gap's middle.
        var op: Int
    }

    struct Lane: Sendable {
        var resource: String
        var isArray: Bool
        /// A unit that computes (an array, a vector unit or a mask generator), not a memory.
        var isCompute: Bool = false
        /// Intervals sorted by start time.
        var intervals: [Interval]
    }

    var lanes: [Lane]
    let plan: Plan
    let result: SimResult

    init(plan: Plan, result: SimResult) {
        self.plan = plan
        self.result = result
        var byResource: [String: [Interval]] = [:]
        var order: [String] = []
        for i in result.intervals {
            if byResource[i.resource] == nil { order.append(i.resource) }
            byResource[i.resource, default: []].append(i)
        }
        let arrays = plan.hardware.arrays.map(\.name) + plan.hardware.sparseArrays.map(\.name)
        let units = plan.hardware.vectorUnits.map(\.name) + plan.hardware.maskGenerators.map(\.name) + plan.hardware.cpuClusters.map(\.name)
        let rank = { (r: String) -> Int in
            if let a = arrays.firstIndex(of: r) { return a }
            if let u = units.firstIndex(of: r) { return arrays.count + u }
            if r == plan.hardware.dram.name { return arrays.count + units.count }
            return arrays.count + units.count + 1 + (order.firstIndex(of: r) ?? 0)
        }
        lanes = order.sorted { rank($0) < rank($1) }.map { r in
            Lane(
                resource: r, isArray: arrays.contains(r), isCompute: arrays.contains(r) || units.contains(r),
                intervals: byResource[r, default: []].sorted { ($0.start, $0.end) < ($1.start, $1.end) })
        }
        // A model with an array that never computed (no GEMMs) still shows an empty array lane.
        for a in arrays where byResource[a] == nil && a == arrays.first {
            lanes.insert(Lane(resource: a, isArray: true, isCompute: true, intervals: []), at: 0)
        }
    }

    /// The clock period, in picoseconds.
    var period: Picoseconds { plan.hardware.clock.periodPicoseconds }

    /// Gaps on an array lane between `from` and `to` (picoseconds) with no compute: the time
    /// before its first interval, between intervals and after its last. A gap is cut where one
    /// layer's span on the critical path ends and the next begins, and each piece is classified by
    /// its layer: `idle` in a memory-only layer, `stall` otherwise.
    func gaps(_ lane: Lane, from: Picoseconds, to: Picoseconds) -> [Gap] {
        guard lane.isArray, to > from else { return [] }
        if plan.schedule != nil { return waitingGaps(lane, from: from, to: to) }
        var out: [Gap] = []
        var cursor = from
        func add(_ s: Picoseconds, _ e: Picoseconds) {
            var t = s
            while t < e {
                guard let op = opAt(t) else {
                    out.append(Gap(start: t, end: e, kind: .stall, op: 0))
                    return
                }
                let end = result.ops[op].end > t ? min(e, result.ops[op].end) : e
                out.append(Gap(start: t, end: end, kind: plan.ops[op].unit == nil ? .idle : .stall, op: op))
                t = end
            }
        }
        for i in lane.intervals {
            if i.end <= from { continue }
            if i.start >= to { break }
            if i.start > cursor { add(cursor, i.start) }
            cursor = max(cursor, i.end)
        }
        if cursor < to { add(cursor, to) }
        return out
    }

    /// Multi-unit runs, whose operations overlap: every gap between compute intervals is `waiting`,
    /// attributed to the operation computed next.
    func waitingGaps(_ lane: Lane, from: Picoseconds, to: Picoseconds) -> [Gap] {
        var out: [Gap] = []
        var cursor = from
        var lastOp = 0
        for i in lane.intervals {
            if i.end <= from {
                lastOp = i.op
                continue
            }
            if i.start >= to { break }
            if i.start > cursor { out.append(Gap(start: cursor, end: i.start, kind: .waiting, op: i.op)) }
            cursor = max(cursor, i.end)
            lastOp = i.op
        }
        if cursor < to { out.append(Gap(start: cursor, end: to, kind: .waiting, op: lastOp)) }
        return out
    }

    /// The layer whose span on the critical path (`OpStats.start..<end`) holds `t`.
    func opAt(_ t: Picoseconds) -> Int? {
        let ops = result.ops
        guard !ops.isEmpty else { return nil }
        var lo = 0
        var hi = ops.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if ops[mid].end <= t { lo = mid + 1 } else { hi = mid }
        }
        // Skip zero-length spans so a gap belongs to a layer that actually took time.
        while lo < ops.count - 1, ops[lo].end <= ops[lo].start { lo += 1 }
        return lo
    }
}
