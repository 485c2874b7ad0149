import TesseraCore
import TesseraSpec
import Testing

@testable import TesseraModel

// A register-level reference for `NMSparseArray` (kind `nm-sparse-array`) in N:M sparse mode, and
// the cross-check of its closed form against it (DESIGN.md convention 8, as `SystolicArrayTests`
// does for the dense array with `ReferenceSystolicGrid`).
//
// The grid below knows nothing of the closed form `count·folds(K')·(L(K') + s) − 1`: it prunes the
// weights, streams weight words (value + index) and activation GROUPS (M values) through a PE grid
// one cycle at a time with exactly the skew and timing of `ReferenceSystolicGrid`, lets each PE's
// M:1 multiplexer pick the activation its weight's index names, accumulates numerically and records
// the cycles on which a PE did a MAC. The index-decode / multiplexer stage is modelled as `s`
// registers on the fill path (see `SparseNMPEGrid`), not as a number added at the end.

// MARK: - Seeded random source

/// SplitMix64 (Steele, Lea and Flood 2014), so the seeded cases are the same on every platform.
private struct NMGridRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(in range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    mutating func matrix(_ rows: Int, _ cols: Int) -> [[Int]] {
        // A narrow range, so equal magnitudes (the tie-break of the pruning) are common.
        (0..<rows).map { _ in (0..<cols).map { _ in int(in: -4...4) } }
    }
}

// MARK: - N:M pruning

/// One kept weight of a compressed column: its value and its ⌈log₂ M⌉-bit index inside its group.
private struct KeptWeight: Equatable {
    var value: Int
    var index: Int
}

/// A k×n weight matrix pruned N:M along k: in every group of M consecutive rows of each column the
/// N largest-magnitude entries are kept (ties go to the lower index).
private struct NMPrunedWeights {
    let pattern: NMPattern
    /// k×n: true where the entry is kept.
    let mask: [[Bool]]
    /// k×n: the weights with the pruned entries zeroed (the dense operand the output must match).
    let masked: [[Int]]
    /// n columns of k' = k·N/M kept slots; slot p = g·N + q is the q-th kept entry (ascending
    /// index) of group g.
    let columns: [[KeptWeight]]

    init(_ w: [[Int]], _ p: NMPattern) {
        let k = w.count
        let n = w.first?.count ?? 0
        precondition(k % p.m == 0, "k = \(k) is not a multiple of M = \(p.m)")
        var mask = Array(repeating: Array(repeating: false, count: n), count: k)
        var columns = Array(repeating: [KeptWeight](), count: n)
        for j in 0..<n {
            for g in 0..<(k / p.m) {
                let base = g * p.m
                // Rank the group by magnitude (larger first), ties by the lower index.
                let order = (0..<p.m).sorted { a, b in
                    let (ma, mb) = (abs(w[base + a][j]), abs(w[base + b][j]))
                    return ma != mb ? ma > mb : a < b
                }
                let kept = order.prefix(p.n).sorted()
                for q in kept {
                    mask[base + q][j] = true
                    columns[j].append(KeptWeight(value: w[base + q][j], index: q))
                }
            }
        }
        self.pattern = p
        self.mask = mask
        self.masked = (0..<k).map { r in (0..<n).map { j in mask[r][j] ? w[r][j] : 0 } }
        self.columns = columns
    }

    var keptSlots: Int { columns.first?.count ?? 0 }
}

// MARK: - The register-level sparse PE grid

/// A slow, register-level model of an `rows × cols` N:M sparse systolic PE grid, stepped one cycle
/// at a time, for output- and weight-stationary dataflow.
///
/// It mirrors `ReferenceSystolicGrid` (same skews, same full-grid padding with zeros that flow like
/// real values, same fold order, a fold ends on its last MAC and the next starts on the cycle
/// after, the reported count is the 0-based index of the final active cycle). The differences:
///
/// - The reduction runs over the k' = k·N/M kept slots of each weight column, not over k.
/// - A weight word carries its value and its index inside its group of M; an activation register
///   carries a whole GROUP of M activations. Each PE's M:1 multiplexer, driven by the decoded
///   index (a one-hot select), picks the activation its weight multiplies.
/// - When N < M the weight/index path has `stages` extra registers at the array's top edge: the
///   first decodes the index into the one-hot select, the rest just hold it. In output-stationary
///   the activation groups pass through the same number of staging registers at the left edge so
///   that group and decoded index still meet in each PE; in weight-stationary the stationary block
///   reaches its PEs `stages` cycles later, so the load phase lasts rows + stages cycles before
///   streaming starts. With N = M the stage is bypassed (the array is the dense array).
///
/// Output-stationary: Sr = m, Sc = n, T = k'; row i of X (as activation groups, slot t carrying
/// group ⌊t/N⌋) enters PE(i, 0) with skew i, kept slot t of column j of W enters the top of column j
/// with skew j. Weight-stationary: Sr = k', Sc = n, T = m; PE(i, j) holds kept slot r0 + i of
/// column c0 + j, and row i streams, for each row τ of X, the group ⌊(r0 + i)/N⌋ of X[τ].
private struct SparseNMPEGrid {
    let rows: Int
    let cols: Int
    let dataflow: Dataflow
    let pattern: NMPattern
    /// The configured index-decode / multiplexer stages (bypassed in dense mode).
    let stages: Int

    /// The stages the fill path actually has in this mode.
    var activeStages: Int { pattern.isDense ? 0 : stages }

    /// A weight on a wire or in a register. `select` is the one-hot multiplexer select, set by the
    /// decode stage; `slot` is the kept slot p the weight belongs to (its group is p / N).
    struct WeightWord {
        var value: Int
        var index: Int
        var select: UInt64
        var real: Bool
        var slot: Int
    }

    /// A group of M activations on a wire or in a register. `group` is the group number along k
    /// (checked against the weight's slot); `tag` is the temporal index (the slot t in
    /// output-stationary, the streamed row τ in weight-stationary).
    struct GroupWord {
        var values: [Int]
        var group: Int
        var real: Bool
        var tag: Int
    }

    /// A partial sum moving down a weight-stationary column.
    struct PartialSum {
        var value: Int
        var tag: Int
    }

    /// The values one edge port injects: `words[n]` enters at fold cycle `start + n`.
    struct Feed<Word> {
        var start: Int
        var words: [Word]
        func word(at cycle: Int) -> Word? {
            let n = cycle - start
            return n >= 0 && n < words.count ? words[n] : nil
        }
        var last: Int { start + words.count - 1 }
    }

    /// `count` registers in a row: what goes in at cycle c comes out at cycle c + count (at once
    /// when count is 0).
    struct RegisterChain<Word> {
        var registers: [Word?]
        init(count: Int) { registers = Array(repeating: nil, count: count) }
        mutating func step(_ input: Word?) -> Word? {
            guard let last = registers.indices.last else { return input }
            let out = registers[last]
            var i = last
            while i > 0 {
                registers[i] = registers[i - 1]
                i -= 1
            }
            registers[0] = input
            return out
        }
        var isEmpty: Bool { registers.allSatisfy { $0 == nil } }
    }

    struct Run {
        /// One m×n output per GEMM instance.
        var outputs: [[[Int]]]
        /// 0-based index of the final active cycle over all instances and folds.
        var cycles: Int
        /// MACs with a real (kept, in-matrix) weight and a real activation row.
        var macs: Int
        /// MACs on the zeros that pad a partial fold.
        var paddingMACs: Int
        /// Cycles of each fold, from its first cycle to its last active cycle inclusive.
        var foldCycles: [Int]
    }

    init(rows: Int, cols: Int, dataflow: Dataflow, pattern: NMPattern, stages: Int) {
        precondition(rows >= 1 && cols >= 1 && stages >= 0)
        precondition(dataflow != .inputStationary, "N:M runs output- and weight-stationary only")
        self.rows = rows
        self.cols = cols
        self.dataflow = dataflow
        self.pattern = pattern
        self.stages = stages
    }

    /// The first fill-path register: the ⌈log₂ M⌉-bit index becomes the multiplexer's one-hot select.
    private func decode(_ w: WeightWord) -> WeightWord {
        precondition(w.index >= 0 && w.index < pattern.m && (pattern.isDense || w.index < 1 << pattern.indexBits), "index \(w.index) does not fit")
        var d = w
        d.select = 1 << UInt64(w.index)
        return d
    }

    /// The PE's M:1 multiplexer: the activation of `a`'s group that `w`'s select names.
    private func mux(_ a: GroupWord, _ w: WeightWord) -> Int {
        precondition(w.select.nonzeroBitCount == 1, "weight reached a PE undecoded")
        precondition(a.values.count == pattern.m, "activation register holds \(a.values.count) values, not M = \(pattern.m)")
        precondition(a.group == w.slot / pattern.n, "group \(a.group) met the weight of slot \(w.slot) (group \(w.slot / pattern.n))")
        return a.values[w.select.trailingZeroBitCount]
    }

    /// Runs `xs[c] · W_c` for every instance c, where `ws[c]` is the pruned W_c (k×n, k a multiple of M).
    func run(xs: [[[Int]]], ws: [NMPrunedWeights]) -> Run {
        precondition(xs.count == ws.count)
        var run = Run(outputs: [], cycles: 0, macs: 0, paddingMACs: 0, foldCycles: [])
        for (x, w) in zip(xs, ws) {
            precondition(w.pattern == pattern)
            precondition(x.allSatisfy { $0.count == w.mask.count }, "shapes do not chain")
            // Activations as groups of M: groups[row][g] = X[row][g·M ..< (g+1)·M].
            let groups = x.map { row in stride(from: 0, to: row.count, by: pattern.m).map { Array(row[$0..<($0 + pattern.m)]) } }
            switch dataflow {
            case .outputStationary: run.outputs.append(outputStationary(groups: groups, w: w, into: &run))
            case .weightStationary: run.outputs.append(weightStationary(groups: groups, w: w, into: &run))
            case .inputStationary: preconditionFailure()
            }
        }
        run.cycles = max(0, run.foldCycles.reduce(0, +) - 1)
        return run
    }

    // MARK: Output-stationary

    private func outputStationary(groups: [[[Int]]], w: NMPrunedWeights, into run: inout Run) -> [[Int]] {
        let m = groups.count
        let n = w.columns.count
        let kp = w.keptSlots
        let zeros = Array(repeating: 0, count: pattern.m)
        var out = Array(repeating: Array(repeating: 0, count: n), count: m)
        let s = activeStages
        for cf in 0..<((n + cols - 1) / cols) {
            for rf in 0..<((m + rows - 1) / rows) {
                let r0 = rf * rows
                let c0 = cf * cols
                // Edge feeds, with the dense reference's skews: row i from cycle i, column j from cycle j.
                let left = (0..<rows).map { i in
                    let real = r0 + i < m
                    return Feed(start: i, words: (0..<kp).map { t in GroupWord(values: real ? groups[r0 + i][t / pattern.n] : zeros, group: t / pattern.n, real: real, tag: t) })
                }
                let top = (0..<cols).map { j in
                    let real = c0 + j < n
                    return Feed(
                        start: j,
                        words: (0..<kp).map { t in
                            let kw = real ? w.columns[c0 + j][t] : KeptWeight(value: 0, index: 0)
                            return WeightWord(value: kw.value, index: kw.index, select: 0, real: real, slot: t)
                        })
                }
                // The fill path: s decode registers per column, s group-staging registers per row.
                var decoders = Array(repeating: RegisterChain<WeightWord>(count: s), count: cols)
                var staging = Array(repeating: RegisterChain<GroupWord>(count: s), count: rows)
                let lastInjection = max(left.map(\.last).max() ?? 0, top.map(\.last).max() ?? 0)
                var right = [GroupWord?](repeating: nil, count: rows * cols)
                var down = [WeightWord?](repeating: nil, count: rows * cols)
                var acc = Array(repeating: 0, count: rows * cols)
                var lastActive = -1
                var c = 0
                while true {
                    let fromLeft = (0..<rows).map { staging[$0].step(left[$0].word(at: c)) }
                    let fromTop = (0..<cols).map { decoders[$0].step(top[$0].word(at: c).map(decode)) }
                    var newRight = [GroupWord?](repeating: nil, count: rows * cols)
                    var newDown = [WeightWord?](repeating: nil, count: rows * cols)
                    var active = false
                    var inFlight = false
                    for i in 0..<rows {
                        for j in 0..<cols {
                            let p = i * cols + j
                            let aIn = j == 0 ? fromLeft[i] : right[p - 1]
                            let bIn = i == 0 ? fromTop[j] : down[p - cols]
                            newRight[p] = aIn
                            newDown[p] = bIn
                            guard let a = aIn, let b = bIn else {
                                precondition(aIn == nil && bIn == nil, "operands out of step at PE(\(i),\(j)) cycle \(c)")
                                continue
                            }
                            inFlight = true
                            precondition(a.tag == b.slot, "PE(\(i),\(j)) multiplies slot \(a.tag) by slot \(b.slot)")
                            acc[p] += mux(a, b) * b.value
                            active = true
                            if a.real && b.real { run.macs += 1 } else { run.paddingMACs += 1 }
                        }
                    }
                    right = newRight
                    down = newDown
                    if active { lastActive = c }
                    if c >= lastInjection && !inFlight && decoders.allSatisfy(\.isEmpty) && staging.allSatisfy(\.isEmpty) { break }
                    c += 1
                }
                // Drain the real accumulators (overlapped with the next fold, not counted).
                for i in 0..<rows where r0 + i < m {
                    for j in 0..<cols where c0 + j < n { out[r0 + i][c0 + j] = acc[i * cols + j] }
                }
                run.foldCycles.append(lastActive + 1)
            }
        }
        return out
    }

    // MARK: Weight-stationary

    private func weightStationary(groups: [[[Int]]], w: NMPrunedWeights, into run: inout Run) -> [[Int]] {
        let t = groups.count  // T = m
        let sc = w.columns.count  // Sc = n
        let sr = w.keptSlots  // Sr = k'
        let zeros = Array(repeating: 0, count: pattern.m)
        var out = Array(repeating: Array(repeating: 0, count: sc), count: t)
        let s = activeStages
        for cf in 0..<((sc + cols - 1) / cols) {
            for rf in 0..<((sr + rows - 1) / rows) {
                let r0 = rf * rows
                let c0 = cf * cols
                // Load: in cycles 0..<rows the top of column j feeds the stationary block bottom row
                // first, as in the dense reference; the words pass the s decode registers, so they
                // shift down through the PEs in cycles s..<rows + s and the load ends at rows + s.
                let top = (0..<cols).map { j in
                    Feed(
                        start: 0,
                        words: (0..<rows).reversed().map { i in
                            let real = r0 + i < sr && c0 + j < sc
                            let kw = real ? w.columns[c0 + j][r0 + i] : KeptWeight(value: 0, index: 0)
                            return WeightWord(value: kw.value, index: kw.index, select: 0, real: real, slot: r0 + i)
                        })
                }
                var decoders = Array(repeating: RegisterChain<WeightWord>(count: s), count: cols)
                var held = [WeightWord?](repeating: nil, count: rows * cols)
                let loadCycles = rows + s
                // Stream: element τ of row i enters the left edge at cycle loadCycles + i + τ.
                let left = (0..<rows).map { i in
                    let real = r0 + i < sr
                    let g = (r0 + i) / pattern.n
                    return Feed(start: loadCycles + i, words: (0..<t).map { tau in GroupWord(values: real ? groups[tau][g] : zeros, group: g, real: real, tag: tau) })
                }
                let lastInjection = left.map(\.last).max() ?? 0
                var right = [GroupWord?](repeating: nil, count: rows * cols)
                var down = [PartialSum?](repeating: nil, count: rows * cols)
                var lastActive = -1
                var c = 0
                while true {
                    if c < loadCycles {
                        // Load phase: what leaves the decoders shifts down one PE row per cycle.
                        let fromTop = (0..<cols).map { decoders[$0].step(top[$0].word(at: c).map(decode)) }
                        for i in stride(from: rows - 1, through: 0, by: -1) {
                            for j in 0..<cols { held[i * cols + j] = i == 0 ? fromTop[j] : held[(i - 1) * cols + j] }
                        }
                        c += 1
                        continue
                    }
                    precondition(decoders.allSatisfy(\.isEmpty), "decode registers still hold weights after the load")
                    var newRight = [GroupWord?](repeating: nil, count: rows * cols)
                    var newDown = [PartialSum?](repeating: nil, count: rows * cols)
                    var active = false
                    var inFlight = false
                    for i in 0..<rows {
                        for j in 0..<cols {
                            let p = i * cols + j
                            guard let a = j == 0 ? left[i].word(at: c) : right[p - 1] else { continue }
                            newRight[p] = a
                            guard let wt = held[p] else { preconditionFailure("PE(\(i),\(j)) holds no weight at cycle \(c)") }
                            precondition(wt.slot == r0 + i, "PE(\(i),\(j)) holds the weight of slot \(wt.slot)")
                            let psumIn: PartialSum
                            if i == 0 {
                                psumIn = PartialSum(value: 0, tag: a.tag)
                            } else {
                                guard let q = down[p - cols] else { preconditionFailure("no partial sum at PE(\(i),\(j)) cycle \(c)") }
                                psumIn = q
                            }
                            precondition(psumIn.tag == a.tag, "PE(\(i),\(j)) adds row \(a.tag) to the sum of row \(psumIn.tag)")
                            let psum = PartialSum(value: psumIn.value + mux(a, wt) * wt.value, tag: a.tag)
                            active = true
                            if a.real && wt.real { run.macs += 1 } else { run.paddingMACs += 1 }
                            if i == rows - 1 {
                                // The partial sum leaves the bottom edge in this cycle.
                                if c0 + j < sc { out[psum.tag][c0 + j] += psum.value }
                            } else {
                                newDown[p] = psum
                                inFlight = true
                            }
                            if j < cols - 1 { inFlight = true }
                        }
                    }
                    right = newRight
                    down = newDown
                    if active { lastActive = c }
                    if c >= lastInjection && !inFlight { break }
                    c += 1
                }
                run.foldCycles.append(lastActive + 1)
            }
        }
        return out
    }
}

// MARK: - Helpers

private func naiveProduct(_ a: [[Int]], _ b: [[Int]]) -> [[Int]] {
    let k = b.count
    let n = b.first?.count ?? 0
    return a.map { row in (0..<n).map { j in (0..<k).reduce(0) { $0 + row[$1] * b[$1][j] } } }
}

/// One case: array, dataflow, pattern, stages and GEMM shape (k a multiple of M).
private struct NMGridCase: CustomStringConvertible {
    var rows: Int
    var cols: Int
    var dataflow: Dataflow
    var pattern: NMPattern
    var stages: Int
    var shape: GemmShape
    var description: String {
        "\(dataflow.short) \(rows)×\(cols) \(pattern) s=\(stages) m=\(shape.m) n=\(shape.n) k=\(shape.k) count=\(shape.count)"
    }
}

/// Runs one case on the sparse grid and checks it against the closed form, the naive product of
/// X and the pruned W, the MAC count, and (for N = M) the dense array and the dense reference grid.
/// Returns false (after recording the failures) when anything disagrees.
@discardableResult
private func crossCheck(_ cs: NMGridCase, values: inout NMGridRandom) -> Bool {
    let g = cs.shape
    let p = cs.pattern
    let xs = (0..<g.count).map { _ in values.matrix(g.m, g.k) }
    let ws = (0..<g.count).map { _ in values.matrix(g.k, g.n) }
    let pruned = ws.map { NMPrunedWeights($0, p) }
    let grid = SparseNMPEGrid(rows: cs.rows, cols: cs.cols, dataflow: cs.dataflow, pattern: p, stages: cs.stages)
    let run = grid.run(xs: xs, ws: pruned)
    let array = NMSparseArray(rows: cs.rows, cols: cs.cols, patterns: [p], sparseStages: cs.stages)
    let closedForm = array.computeCycles(g, pattern: p, dataflow: cs.dataflow)
    let reduced = NMSparseArray.reduced(g, p)
    let dense = array.dense(cs.dataflow)
    let folds = dense.folds(reduced)
    let perFold = dense.cyclesPerFold(t: dense.extents(reduced).t) + array.extraPerFold(p)
    var ok = true
    func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition {
            ok = false
            Issue.record("\(cs): \(message())")
        }
    }
    // The pruning itself: exactly N kept per group of M, k' slots per column.
    check(pruned.allSatisfy { $0.keptSlots == g.k / p.m * p.n && $0.columns.allSatisfy { $0.count == g.k / p.m * p.n } }, "pruning kept the wrong number of slots")
    // (a) cycles.
    check(run.cycles == closedForm, "grid stepped to cycle \(run.cycles), computeCycles \(closedForm)")
    check(run.foldCycles.count == g.count * folds.row * folds.col, "\(run.foldCycles.count) folds, expected \(g.count * folds.row * folds.col)")
    check(run.foldCycles.allSatisfy { $0 == perFold }, "fold lengths \(Set(run.foldCycles).sorted()), closed form L(K') + s = \(perFold)")
    // (b) numerics: X · W_masked, exactly.
    for c in 0..<g.count {
        check(run.outputs[c] == naiveProduct(xs[c], pruned[c].masked), "instance \(c): output differs from X·W_masked")
    }
    // (d) executed MACs = count·m·n·k·N/M; full-grid timing: folds·R·C·T MACs in all.
    check(run.macs * p.m == g.macs * p.n, "real MACs \(run.macs), expected \(g.macs * p.n / p.m)")
    check(
        run.macs + run.paddingMACs == run.foldCycles.count * cs.rows * cs.cols * dense.extents(reduced).t,
        "real + padding MACs \(run.macs + run.paddingMACs) is not folds·R·C·T")
    // (c) N = M: the dense array, cycle for cycle, and the dense product.
    if p.isDense {
        check(closedForm == dense.computeCycles(g), "dense pattern: closed form \(closedForm) ≠ SystolicArray \(dense.computeCycles(g))")
        check(run.cycles == dense.computeCycles(g), "dense pattern: grid \(run.cycles) ≠ SystolicArray \(dense.computeCycles(g))")
        for c in 0..<g.count {
            check(pruned[c].masked == ws[c], "dense pattern pruned something")
            check(run.outputs[c] == naiveProduct(xs[c], ws[c]), "dense pattern: output differs from X·W")
        }
        if g.count == 1 {
            let reference = ReferenceSystolicGrid(rows: cs.rows, cols: cs.cols, dataflow: cs.dataflow).simulate(a: xs[0], b: ws[0])
            check(run.cycles == reference.cycles, "dense pattern: grid \(run.cycles) ≠ ReferenceSystolicGrid \(reference.cycles)")
            check(run.foldCycles == reference.foldCycles, "dense pattern: fold lengths differ from ReferenceSystolicGrid")
            check(run.outputs[0] == reference.output, "dense pattern: output differs from ReferenceSystolicGrid")
        }
    }
    return ok
}

private func nm(_ n: Int, _ m: Int) -> NMPattern { NMPattern(n: n, m: m) }

private let sparsePatterns: [NMPattern] = [nm(1, 2), nm(2, 4), nm(1, 4), nm(2, 8), nm(1, 8), nm(4, 8), nm(3, 8)]
private let densePatterns: [NMPattern] = [nm(1, 1), nm(2, 2), nm(4, 4), nm(8, 8)]

// MARK: - Tests

@Suite("NMSparseArray vs a register-level N:M sparse PE grid")
struct NMSparseReferenceGridTests {
    @Test("pruning keeps the N largest magnitudes of each group, ties to the lower index")
    func pruning() {
        // Column 0, groups [1, −3, 4, 0] and [2, −2, 2, 1]; column 1, groups [0, 0, 0, 0] and [−1, 1, 3, −3].
        let w = [[1, 0], [-3, 0], [4, 0], [0, 0], [2, -1], [-2, 1], [2, 3], [1, -3]]
        let pr = NMPrunedWeights(w, nm(2, 4))
        #expect(pr.columns[0] == [KeptWeight(value: -3, index: 1), KeptWeight(value: 4, index: 2), KeptWeight(value: 2, index: 0), KeptWeight(value: -2, index: 1)])
        #expect(pr.columns[1] == [KeptWeight(value: 0, index: 0), KeptWeight(value: 0, index: 1), KeptWeight(value: 3, index: 2), KeptWeight(value: -3, index: 3)])
        #expect(pr.masked == [[0, 0], [-3, 0], [4, 0], [0, 0], [2, 0], [-2, 0], [0, 3], [0, -3]])
        #expect(pr.mask.map { $0.filter { $0 }.count }.reduce(0, +) == 8)
    }

    @Test("hand-checked 2:4 product on a 2×2 array with one decode stage")
    func handChecked() {
        let x = [[1, 2, 3, 4], [5, 6, 7, 8]]
        let w = [[1, 2], [-3, -2], [4, 1], [0, 2]]
        // Kept: column 0 → −3 (index 1), 4 (index 2); column 1 → 2 (index 0), −2 (index 1) (ties to the lower index).
        let pr = NMPrunedWeights(w, nm(2, 4))
        for df in NMSparseArray.sparseDataflows {
            let r = SparseNMPEGrid(rows: 2, cols: 2, dataflow: df, pattern: nm(2, 4), stages: 1).run(xs: [x], ws: [pr])
            #expect(r.outputs == [[[6, -2], [10, -2]]], "\(df.short)")
            #expect(r.macs == 8, "\(df.short)")
        }
        // os: T = k' = 2, L = 2 + 2 + 2 − 2 = 4, + 1 stage → last cycle 4.
        // ws: Sr = k' = 2, one fold of 2R + C + T − 2 = 6, + 1 stage → last cycle 6.
        #expect(SparseNMPEGrid(rows: 2, cols: 2, dataflow: .outputStationary, pattern: nm(2, 4), stages: 1).run(xs: [x], ws: [pr]).cycles == 4)
        #expect(SparseNMPEGrid(rows: 2, cols: 2, dataflow: .weightStationary, pattern: nm(2, 4), stages: 1).run(xs: [x], ws: [pr]).cycles == 6)
        let array = NMSparseArray(rows: 2, cols: 2, patterns: [nm(2, 4)], sparseStages: 1)
        #expect(array.computeCycles(GemmShape(m: 2, n: 2, k: 4), pattern: nm(2, 4), dataflow: .outputStationary) == 4)
        #expect(array.computeCycles(GemmShape(m: 2, n: 2, k: 4), pattern: nm(2, 4), dataflow: .weightStationary) == 6)
    }

    @Test("each decode stage adds exactly one cycle per fold on the grid (N < M), none in dense mode")
    func stagesPerFold() {
        var values = NMGridRandom(seed: 99)
        let x = values.matrix(7, 16)
        let w = values.matrix(16, 5)
        for df in NMSparseArray.sparseDataflows {
            for p in [nm(2, 4), nm(4, 4)] {
                let pr = NMPrunedWeights(w, p)
                let base = SparseNMPEGrid(rows: 3, cols: 2, dataflow: df, pattern: p, stages: 0).run(xs: [x], ws: [pr])
                for s in 1...3 {
                    let r = SparseNMPEGrid(rows: 3, cols: 2, dataflow: df, pattern: p, stages: s).run(xs: [x], ws: [pr])
                    let extra = p.isDense ? 0 : s
                    #expect(r.foldCycles == base.foldCycles.map { $0 + extra }, "\(df.short) \(p) s=\(s)")
                    #expect(r.outputs == base.outputs, "\(df.short) \(p) s=\(s)")
                }
            }
        }
    }

    /// 24 seeded random shapes per pattern × 2 dataflows: 11 patterns → 528 cases.
    @Test("closed form equals the sparse grid on seeded random cases", arguments: sparsePatterns + densePatterns)
    func randomCases(pattern p: NMPattern) {
        var shapes = NMGridRandom(seed: 0x5EED_0000 &+ UInt64(p.n * 100 + p.m))
        var values = NMGridRandom(seed: 0xA11CE &+ UInt64(p.n * 100 + p.m))
        var failures = 0
        for _ in 0..<24 {
            let rows = shapes.int(in: 1...8)
            let cols = shapes.int(in: 1...8)
            let m = shapes.int(in: 1...20)
            let n = shapes.int(in: 1...20)
            let k = p.m * shapes.int(in: 1...max(1, 48 / p.m))
            let count = shapes.int(in: 1...2)
            let s = shapes.int(in: 0...2)
            for df in NMSparseArray.sparseDataflows {
                let cs = NMGridCase(rows: rows, cols: cols, dataflow: df, pattern: p, stages: s, shape: GemmShape(m: m, n: n, k: k, count: count))
                if !crossCheck(cs, values: &values) { failures += 1 }
            }
        }
        #expect(failures == 0)
    }

    /// Spatial extents exactly R, R ± 1 (rows) and C, C ± 1 (columns), plus 1: os spreads m over the
    /// rows and n over the columns; ws spreads k' over the rows (k' a multiple of N, so only the
    /// reachable ones) and n over the columns. Temporal extents include k' = 1 (one slot).
    @Test(
        "closed form equals the sparse grid at the boundaries: extents 1, R−1, R, R+1, C−1, C, C+1 and k' = 1",
        arguments: [(1, 1), (1, 4), (4, 1), (3, 4), (4, 4), (5, 2), (8, 7)])
    func boundaries(rows: Int, cols: Int) {
        var values = NMGridRandom(seed: UInt64(rows * 10 + cols))
        let around = { (d: Int) in Array(Set([1, d - 1, d, d + 1].filter { $0 >= 1 })).sorted() }
        var failures = 0
        var checked = 0
        func run(_ df: Dataflow, _ p: NMPattern, _ s: Int, m: Int, n: Int, kept: Int) {
            let cs = NMGridCase(rows: rows, cols: cols, dataflow: df, pattern: p, stages: s, shape: GemmShape(m: m, n: n, k: kept / p.n * p.m))
            checked += 1
            if !crossCheck(cs, values: &values) { failures += 1 }
        }
        for (idx, p) in [nm(1, 4), nm(2, 4), nm(1, 8), nm(4, 4)].enumerated() {
            let s = idx % 3
            // Output-stationary: m around R, n around C; k' = 1 where N = 1, else N (one group), and R+C.
            let temporal = Array(Set([p.n, p.n * max(1, (rows + cols) / p.n)])).sorted()
            for m in around(rows) {
                for n in around(cols) {
                    for kept in temporal { run(.outputStationary, p, s, m: m, n: n, kept: kept) }
                }
            }
            // Weight-stationary: k' around R (multiples of N only), n around C; m = 1 and 3.
            let slots = around(rows).filter { $0 % p.n == 0 }
            for kept in slots.isEmpty ? [p.n] : slots {
                for n in around(cols) {
                    for m in [1, 3] { run(.weightStationary, p, s, m: m, n: n, kept: kept) }
                }
            }
        }
        // One slot per fold: ws on a single PE row with 1:M patterns walks k' = 1 per fold.
        for p in [nm(1, 2), nm(1, 8)] {
            for kept in [1, 2, 5] {
                let cs = NMGridCase(rows: 1, cols: cols, dataflow: .weightStationary, pattern: p, stages: 2, shape: GemmShape(m: rows, n: cols + 1, k: kept * p.m))
                checked += 1
                if !crossCheck(cs, values: &values) { failures += 1 }
            }
        }
        #expect(checked > 0)
        #expect(failures == 0)
    }
}
