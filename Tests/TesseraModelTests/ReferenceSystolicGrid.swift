@testable import TesseraModel

/// A slow, register-level model of an `rows × cols` systolic PE grid, stepped one cycle at a time.
///
/// This is the per-cycle reference that `SystolicArray`'s closed forms are proven against
/// (DESIGN.md, "Time and the engine" and convention 8). It knows nothing of those closed forms:
/// it injects operands at the grid's edges, moves every register one hop per cycle, performs the
/// multiply-accumulates numerically and records the cycles on which something happened.
///
/// Conventions (those of SCALE-Sim v3, which always times the FULL grid, padding partial folds
/// with zeros that flow like real values):
///
/// - Output-stationary: row `i` of the left operand enters PE(i, 0) with a skew of `i` cycles and
///   moves right one PE per cycle; column `j` of the top operand enters PE(0, j) with a skew of `j`
///   cycles and moves down. Each PE accumulates in place, so PE(i, j) does its `t`-th MAC at fold
///   cycle `t + i + j`. Results are read out of the accumulators after the fold (the drain overlaps
///   the next fold and is not counted).
/// - Weight- and input-stationary: for the first `rows` cycles of a fold the stationary block is
///   shifted in from the top edge, one row per cycle. Then the `T` streaming rows enter from the
///   left with the same row skew and move right; partial sums start at zero in PE row 0, move down
///   one PE per cycle, and leave the bottom of each column in the cycle of their last MAC.
///   Weight-stationary holds a K-block × N-block of B and streams the rows of A; input-stationary
///   holds a K-block × M-block of Aᵀ and streams the columns of B (so its results are Cᵀ).
///
/// Folds run back to back in SCALE-Sim's order (column folds outer, row folds inner). A cycle is
/// active when some PE does a MAC (real or padding) or a result leaves the array; a fold ends on
/// its last active cycle and the next fold starts on the cycle after. The reported cycle count is
/// the 0-based index of the final active cycle, i.e. cycles stepped − 1, as SCALE-Sim reports it.
struct ReferenceSystolicGrid {
    let rows: Int
    let cols: Int
    let dataflow: Dataflow

    /// A value on a wire or in a register. `real` is false for the zeros that pad a partial fold;
    /// `index` is the temporal index `t` the value belongs to (used to check that the operands
    /// meeting in a PE belong together, and to route a partial sum to its output).
    struct Word {
        var value: Int
        var real: Bool
        var index: Int
    }

    /// One processing element's registers.
    struct PE {
        /// The operand passed to the right neighbour next cycle.
        var right: Word?
        /// The operand (output-stationary) or partial sum (weight/input-stationary) passed down.
        var down: Word?
        /// The value held in place: the weight (ws) or input (is), or the accumulator (os).
        var held: Word?
    }

    /// The values one edge port injects: `words[n]` enters the grid at fold cycle `start + n`.
    struct Feed {
        var start: Int
        var words: [Word]
        func word(at cycle: Int) -> Word? {
            let n = cycle - start
            return n >= 0 && n < words.count ? words[n] : nil
        }
        /// The fold cycle of the last injection (start − 1 when empty).
        var last: Int { start + words.count - 1 }
    }

    /// Everything one run produced.
    struct Run {
        var output: [[Int]]
        /// 0-based index of the final active cycle (cycles stepped − 1).
        var cycles: Int
        /// MACs whose operands were both real (padding MACs are not counted).
        var macs: Int
        /// MACs on padding zeros: the full-grid work SCALE-Sim also times.
        var paddingMACs: Int
        /// Cycles of each fold, from its first cycle to its last active cycle inclusive.
        var foldCycles: [Int]
    }

    init(rows: Int, cols: Int, dataflow: Dataflow) {
        precondition(rows >= 1 && cols >= 1)
        self.rows = rows
        self.cols = cols
        self.dataflow = dataflow
    }

    /// Multiplies `a` (m×k) by `b` (k×n) on the grid.
    func run(a: [[Int]], b: [[Int]]) -> (output: [[Int]], cycles: Int, macs: Int) {
        let r = simulate(a: a, b: b)
        return (r.output, r.cycles, r.macs)
    }

    /// Multiplies `a` (m×k) by `b` (k×n) on the grid and reports the per-fold detail too.
    func simulate(a: [[Int]], b: [[Int]]) -> Run {
        let m = a.count
        let k = b.count
        let n = b.first?.count ?? 0
        precondition(a.allSatisfy { $0.count == k } && b.allSatisfy { $0.count == n }, "shapes do not chain")
        switch dataflow {
        case .outputStationary:
            return outputStationary(left: a, top: b, m: m, n: n, k: k)
        case .weightStationary:
            // Stationary S = B (k×n), streaming X = A (m rows of k), result O = A·B (m×n).
            return stationary(held: b, streaming: a)
        case .inputStationary:
            // Stationary S = Aᵀ (k×m), streaming X = Bᵀ (n rows of k), result O = Bᵀ·Aᵀ = (A·B)ᵀ.
            var run = stationary(held: transpose(a, rows: m, cols: k), streaming: transpose(b, rows: k, cols: n))
            run.output = transpose(run.output, rows: n, cols: m)
            return run
        }
    }

    // MARK: - Output-stationary

    /// Sr = m along the rows, Sc = n along the columns, T = k in time.
    private func outputStationary(left a: [[Int]], top b: [[Int]], m: Int, n: Int, k: Int) -> Run {
        var out = Array(repeating: Array(repeating: 0, count: n), count: m)
        var run = Run(output: [], cycles: 0, macs: 0, paddingMACs: 0, foldCycles: [])
        let rowFolds = (m + rows - 1) / rows
        let colFolds = (n + cols - 1) / cols
        for cf in 0..<colFolds {
            for rf in 0..<rowFolds {
                let r0 = rf * rows
                let c0 = cf * cols
                // Edge feeds: row i of A enters at the left from cycle i, column j of B at the top
                // from cycle j (the skew); rows and columns outside the matrix feed padding zeros.
                let left = (0..<rows).map { i in
                    let real = r0 + i < m
                    return Feed(start: i, words: (0..<k).map { t in Word(value: real ? a[r0 + i][t] : 0, real: real, index: t) })
                }
                let top = (0..<cols).map { j in
                    let real = c0 + j < n
                    return Feed(start: j, words: (0..<k).map { t in Word(value: real ? b[t][c0 + j] : 0, real: real, index: t) })
                }
                let lastInjection = (left + top).map(\.last).max() ?? 0
                var grid = Array(repeating: Array(repeating: PE(), count: cols), count: rows)
                for i in 0..<rows {
                    for j in 0..<cols { grid[i][j].held = Word(value: 0, real: r0 + i < m && c0 + j < n, index: 0) }
                }
                var lastActive = -1
                var c = 0
                while true {
                    let old = grid
                    var active = false
                    for i in 0..<rows {
                        for j in 0..<cols {
                            let aIn = j == 0 ? left[i].word(at: c) : old[i][j - 1].right
                            let bIn = i == 0 ? top[j].word(at: c) : old[i - 1][j].down
                            grid[i][j].right = aIn
                            grid[i][j].down = bIn
                            guard let x = aIn, let y = bIn else {
                                precondition(aIn == nil && bIn == nil, "operands out of step at PE(\(i),\(j)) cycle \(c)")
                                continue
                            }
                            precondition(x.index == y.index, "PE(\(i),\(j)) multiplies t=\(x.index) by t=\(y.index)")
                            grid[i][j].held!.value += x.value * y.value
                            active = true
                            if x.real && y.real { run.macs += 1 } else { run.paddingMACs += 1 }
                        }
                    }
                    if active { lastActive = c }
                    if c >= lastInjection && grid.allSatisfy({ $0.allSatisfy { $0.right == nil && $0.down == nil } }) { break }
                    c += 1
                }
                // Drain: read the accumulators of the real PEs (overlapped with the next fold).
                for i in 0..<rows where r0 + i < m {
                    for j in 0..<cols where c0 + j < n { out[r0 + i][c0 + j] = grid[i][j].held!.value }
                }
                run.foldCycles.append(lastActive + 1)
            }
        }
        run.output = out
        run.cycles = max(0, run.foldCycles.reduce(0, +) - 1)
        return run
    }

    // MARK: - Weight- and input-stationary

    /// `held` is the stationary matrix S (Sr × Sc, Sr along the rows, Sc along the columns);
    /// `x` is T rows of Sr values streamed from the left; the result is O = X·S (T × Sc).
    private func stationary(held s: [[Int]], streaming x: [[Int]]) -> Run {
        let sr = s.count
        let sc = s.first?.count ?? 0
        let t = x.count
        var out = Array(repeating: Array(repeating: 0, count: sc), count: t)
        var run = Run(output: [], cycles: 0, macs: 0, paddingMACs: 0, foldCycles: [])
        let rowFolds = (sr + rows - 1) / rows
        let colFolds = (sc + cols - 1) / cols
        for cf in 0..<colFolds {
            for rf in 0..<rowFolds {
                let r0 = rf * rows
                let c0 = cf * cols
                // Load: in cycles 0..<rows the top of column j feeds the stationary values bottom
                // row first (cycle c carries the value for PE row rows − 1 − c), so after `rows`
                // shifts PE(i, j) holds S[r0 + i][c0 + j]; outside S the values are padding zeros.
                let top = (0..<cols).map { j in
                    Feed(
                        start: 0,
                        words: (0..<rows).reversed().map { i in
                            let real = r0 + i < sr && c0 + j < sc
                            return Word(value: real ? s[r0 + i][c0 + j] : 0, real: real, index: i)
                        })
                }
                let loadCycles = rows
                // Stream: element τ of row i enters the left edge at cycle rows + i + τ (the skew).
                let left = (0..<rows).map { i in
                    let real = r0 + i < sr
                    return Feed(start: loadCycles + i, words: (0..<t).map { tau in Word(value: real ? x[tau][r0 + i] : 0, real: real, index: tau) })
                }
                var grid = Array(repeating: Array(repeating: PE(), count: cols), count: rows)
                let lastInjection = (left + top).map(\.last).max() ?? 0
                var lastActive = -1
                var c = 0
                while true {
                    let old = grid
                    var active = false
                    for i in 0..<rows {
                        for j in 0..<cols {
                            if c < loadCycles {
                                // Load phase: the stationary values shift down one row per cycle.
                                grid[i][j].held = i == 0 ? top[j].word(at: c) : old[i - 1][j].held
                                continue
                            }
                            let xIn = j == 0 ? left[i].word(at: c) : old[i][j - 1].right
                            grid[i][j].right = xIn
                            guard let xv = xIn else {
                                grid[i][j].down = nil
                                continue
                            }
                            let w = grid[i][j].held!
                            precondition(w.index == i, "PE(\(i),\(j)) holds the value loaded for row \(w.index)")
                            let psumIn: Word
                            if i == 0 {
                                psumIn = Word(value: 0, real: false, index: xv.index)
                            } else {
                                guard let p = old[i - 1][j].down else { preconditionFailure("no partial sum at PE(\(i),\(j)) cycle \(c)") }
                                psumIn = p
                            }
                            precondition(psumIn.index == xv.index, "PE(\(i),\(j)) adds t=\(xv.index) to the sum of t=\(psumIn.index)")
                            let psum = Word(value: psumIn.value + xv.value * w.value, real: psumIn.real || (xv.real && w.real), index: xv.index)
                            active = true
                            if xv.real && w.real { run.macs += 1 } else { run.paddingMACs += 1 }
                            if i == rows - 1 {
                                // The partial sum leaves the bottom edge in this cycle.
                                grid[i][j].down = nil
                                if c0 + j < sc { out[psum.index][c0 + j] += psum.value }
                            } else {
                                grid[i][j].down = psum
                            }
                        }
                    }
                    if active { lastActive = c }
                    if c >= lastInjection && grid.allSatisfy({ $0.allSatisfy { $0.right == nil && $0.down == nil } }) { break }
                    c += 1
                }
                run.foldCycles.append(lastActive + 1)
            }
        }
        run.output = out
        run.cycles = max(0, run.foldCycles.reduce(0, +) - 1)
        return run
    }

    private func transpose(_ a: [[Int]], rows: Int, cols: Int) -> [[Int]] {
        (0..<cols).map { j in (0..<rows).map { i in a[i][j] } }
    }
}
