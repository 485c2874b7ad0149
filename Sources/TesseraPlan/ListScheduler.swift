/// A static list scheduler over a DAG of operations on exclusive units.
///
/// Non-delay list scheduling: repeatedly take, among the operations whose predecessors are all
/// placed, the one that can start earliest (start = max(its unit's free time, its predecessors'
/// finish)); ties go to the higher priority, then to program order. With `priority` = upward rank
/// (an operation's duration plus the longest chain of durations after it, the critical-path
/// priority of HLFET/HEFT) this is the offline schedule. With `inOrder`, only the next operation in
/// program order is eligible and it may not start before the one before it: the online greedy
/// in-order dispatch the offline schedule is compared with.
/// Complexity: O(n²) in the number of operations (n is a few thousand for a training step).
struct ListScheduler {
    var units: [Int]
    var durations: [UInt64]
    var dependencies: [[Int]]
    var unitCount: Int

    struct Result {
        var start: [UInt64]
        var finish: [UInt64]
        /// Operations of each unit in their scheduled order.
        var order: [[Int]]
        var makespan: UInt64
    }

    /// Upward rank: duration plus the longest path of durations to any sink. Dependencies must point
    /// to lower indices (program order is topological).
    func upwardRanks() -> [UInt64] {
        var successors = Array(repeating: [Int](), count: durations.count)
        for (i, deps) in dependencies.enumerated() { for d in deps { successors[d].append(i) } }
        var rank = durations
        for i in durations.indices.reversed() {
            let tail = successors[i].map { rank[$0] }.max() ?? 0
            rank[i] = durations[i] + tail
        }
        return rank
    }

    func run(priority: [UInt64], inOrder: Bool) -> Result {
        let n = durations.count
        var start = Array(repeating: UInt64(0), count: n)
        var finish = Array(repeating: UInt64(0), count: n)
        var placed = Array(repeating: false, count: n)
        var missing = dependencies.map(\.count)
        var successors = Array(repeating: [Int](), count: n)
        for (i, deps) in dependencies.enumerated() { for d in deps { successors[d].append(i) } }
        var unitFree = Array(repeating: UInt64(0), count: unitCount)
        var order = Array(repeating: [Int](), count: unitCount)
        var candidates: [Int] = inOrder ? (n > 0 ? [0] : []) : (0..<n).filter { missing[$0] == 0 }
        var lastStart: UInt64 = 0
        var placedCount = 0
        while placedCount < n {
            var best = -1
            var bestStart = UInt64.max
            for c in candidates where !placed[c] && missing[c] == 0 {
                let ready = dependencies[c].reduce(unitFree[units[c]]) { max($0, finish[$1]) }
                let s = inOrder ? max(ready, lastStart) : ready
                if best < 0 || s < bestStart || (s == bestStart && (priority[c] > priority[best] || (priority[c] == priority[best] && c < best))) {
                    best = c
                    bestStart = s
                }
            }
            guard best >= 0 else { break }  // unreachable for a DAG in topological order
            placed[best] = true
            placedCount += 1
            start[best] = bestStart
            finish[best] = bestStart + durations[best]
            unitFree[units[best]] = finish[best]
            order[units[best]].append(best)
            lastStart = bestStart
            if inOrder {
                candidates = best + 1 < n ? [best + 1] : []
            } else {
                candidates.removeAll { $0 == best }
                for s in successors[best] {
                    missing[s] -= 1
                    if missing[s] == 0 { candidates.append(s) }
                }
            }
            if inOrder {
                for s in successors[best] { missing[s] -= 1 }
            }
        }
        return Result(start: start, finish: finish, order: order, makespan: finish.max() ?? 0)
    }
}
