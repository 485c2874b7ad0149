import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraSpec

/// Maps every operation of a graph onto the hardware and cuts it into double-buffered tiles.
///
/// Folds run in SCALE-Sim's order (column folds outer, row folds inner; groups outermost). Each
/// fold needs an A block (ifmap), a B block (filter) and produces an output block:
///
/// | dataflow | A block | B block | output written |
/// | --- | --- | --- | --- |
/// | output-stationary | rows-used × k | k × cols-used | rows-used × cols-used, every fold |
/// | weight-stationary | m × rows-used | rows-used × cols-used | m × cols-used, after the last row fold |
/// | input-stationary | rows-used × cols-used | rows-used × n | cols-used × n, after the last row fold |
///
/// Reuse: a block equal to the previous fold's stays in the buffer; an operand that fits whole in
/// half its buffer is loaded once, in the first tile. Partial sums of weight- and input-stationary
/// folds are assumed to stay in the ofmap buffer (DRAM sees each output once).
/// Tiles: consecutive folds are packed greedily while their fresh A, B and output bytes fit the
/// halves of their buffers; a single fold too large for a half is streamed in equal pieces (its
/// compute split evenly), so compute cycles stay exactly the closed form.
/// Complexity: O(folds) per operation.
public enum Mapper {
    public static func plan(graph: DataflowGraph, hardware: HardwareModel, workload: String) throws(InputError) -> Plan {
        let hwLocation = SourceLocation(file: hardware.spec.file, line: 1, column: 1)
        guard let array = hardware.arrays.first else {
            throw InputError(Diagnostic(at: hwLocation, "the hardware has no systolic array to run GEMMs on", expected: "a compute unit of kind 'systolic-array'"))
        }
        let needsGemm = graph.operations.contains { if case .gemm = $0.kind { return true } else { return false } }
        var halves: [SRAMBuffer.Role: UInt64] = [:]
        if needsGemm {
            var bag = DiagnosticBag()
            for role in [SRAMBuffer.Role.ifmap, .filter, .ofmap] {
                guard let h = hardware.halfBuffer(for: role), h > 0 else {
                    // Point at the array that needs the buffer: the hardware file has no SRAM to point at.
                    let arrayLocation = hardware.spec.compute.first { $0.name == array.name }?.location ?? hwLocation
                    bag.error(
                        arrayLocation, "no SRAM buffer holds the \(role.rawValue) operand of '\(array.name)'",
                        expected: "an 'sram' with role '\(role.rawValue)' or 'shared' under 'memory'", found: "none")
                    continue
                }
                halves[role] = h
            }
            try bag.throwIfErrors()
        }
        let bpe = UInt64(graph.bytesPerElement)
        var ops: [OpPlan] = []
        var estimate: UInt64 = 0
        var tileCount = 0
        for op in graph.operations {
            let p: OpPlan
            switch op.kind {
            case .gemm(let g):
                let (shape, perColumn) = array.mapped(g)
                guard
                    let planned = planGemm(
                        op, GemmOperands(shape: shape, array: array, bpe: bpe, aPerColumn: perColumn), hA: halves[.ifmap] ?? 1, hB: halves[.filter] ?? 1,
                        hO: halves[.ofmap] ?? 1, tileBudget: maxTiles - tileCount)
                else {
                    throw TrainingMapper.tooManyTiles(op, hardware: hardware, halves: (halves[.ifmap] ?? 0, halves[.filter] ?? 0, halves[.ofmap] ?? 0), at: hwLocation)
                }
                p = planned
                tileCount += p.tiles.count
            case .memory, .vector, .maskgen, .device:
                let inBytes = op.inputs.reduce(UInt64(0)) { $0 + graph.tensor($1).bytes }
                let outBytes = op.outputs.reduce(UInt64(0)) { $0 + graph.tensor($1).bytes }
                p = OpPlan(
                    op: op.id, name: op.name, layer: op.layer, opName: op.op, unit: nil, dataflow: nil, gemm: nil, rowFolds: 0, colFolds: 0,
                    cyclesPerFold: 0, computeCycles: 0, mappingEfficiency: 0, computeUtilization: 0, macs: 0,
                    tiles: [Tile(computeCycles: 0, readA: inBytes, readB: 0, write: outBytes)], sramReadA: 0, sramReadB: 0, sramWrite: 0,
                    dependencies: op.dependencies)
            }
            estimate += p.estimatedCycles(on: hardware)
            ops.append(p)
        }
        return Plan(hardware: hardware, workload: workload, layers: graph.layers, ops: ops, estimatedCycles: estimate, precision: graph.precision)
    }

    /// The most tiles a plan may hold; buffers so small that a workload needs more are an input error
    /// (they would take unbounded time and memory to plan and simulate).
    public static let maxTiles = 2_000_000

    /// How one GEMM's operands map to bytes: the shape the array computes (K already reduced for an
    /// N:M-sparse weight operand), extra cycles per fold, and the operands' storage. With a pattern,
    /// each group of N kept reduction slots needs its whole group of M activations from A, and
    /// each kept weight of B carries a ⌈log₂ M⌉-bit index.
    struct GemmOperands {
        var shape: GemmShape
        var array: SystolicArray
        var bpe: UInt64
        var pattern: NMPattern? = nil
        var perFoldExtra = 0
        /// Channel-parallel depthwise mapping: each column has its own A (the activations of its
        /// channel), so an A block is needed per column used.
        var aPerColumn = false

        /// A elements needed for `slots` reduction slots: ⌈slots/N⌉·M (slots when dense).
        func aElements(_ slots: UInt64) -> UInt64 {
            guard let p = pattern, !p.isDense else { return slots }
            return (slots + UInt64(p.n) - 1) / UInt64(p.n) * UInt64(p.m)
        }
        /// Bytes of `elements` A values.
        func aBytes(_ elements: UInt64) -> UInt64 { elements * bpe }
        /// Bytes of `elements` B values with their indices: ⌈elements·(8·bpe + index bits)/8⌉.
        func bBytes(_ elements: UInt64) -> UInt64 {
            let bits = 8 * bpe + UInt64(pattern?.indexBits ?? 0)
            return (elements * bits + 7) / 8
        }
    }

    /// Plans one GEMM operation; `nil` when it would need more than `tileBudget` tiles.
    static func planGemm(_ op: Operation, _ o: GemmOperands, hA: UInt64, hB: UInt64, hO: UInt64, tileBudget: Int) -> OpPlan? {
        let g = o.shape, array = o.array, bpe = o.bpe
        let (sr, sc, _) = array.extents(g)
        let (rf, cf) = array.folds(g)
        let perFold = UInt64(array.cyclesPerFold(t: array.extents(g).t) + o.perFoldExtra)
        let R = array.rows, C = array.cols
        let m = UInt64(g.m), n = UInt64(g.n), k = UInt64(g.k), count = UInt64(g.count)
        let wholeA = count * m * o.aBytes(o.aElements(k)) * (o.aPerColumn ? n : 1), wholeB = count * o.bBytes(k * n)
        let aOnce = wholeA <= hA, bOnce = wholeB <= hB

        var tiles: [Tile] = []
        var cur = Tile(computeCycles: 0, readA: 0, readB: 0, write: 0)
        var curHasFolds = false
        var lastA = -1, lastB = -1
        func flush() {
            if curHasFolds { tiles.append(cur) }
            cur = Tile(computeCycles: 0, readA: 0, readB: 0, write: 0)
            curHasFolds = false
        }
        var first = true
        for rep in 0..<g.count {
            for fc in 0..<cf {
                for fr in 0..<rf {
                    let rowsUsed = UInt64(min(R, sr - fr * R)), colsUsed = UInt64(min(C, sc - fc * C))
                    var aID: Int
                    let bID: Int
                    var aBytes: UInt64, bBytes: UInt64, outBytes: UInt64
                    switch array.dataflow {
                    case .outputStationary:
                        aID = rep * rf + fr
                        bID = rep * cf + fc
                        aBytes = o.aBytes(rowsUsed * o.aElements(k))
                        bBytes = o.bBytes(k * colsUsed)
                        outBytes = rowsUsed * colsUsed * bpe
                    case .weightStationary:
                        aID = rep * rf + fr
                        bID = (rep * cf + fc) * rf + fr
                        aBytes = o.aBytes(m * o.aElements(rowsUsed))
                        bBytes = o.bBytes(rowsUsed * colsUsed)
                        outBytes = fr == rf - 1 ? m * colsUsed * bpe : 0
                    case .inputStationary:
                        aID = (rep * cf + fc) * rf + fr
                        bID = rep * rf + fr
                        aBytes = o.aBytes(o.aElements(rowsUsed) * colsUsed)
                        bBytes = o.bBytes(rowsUsed * n)
                        outBytes = fr == rf - 1 ? colsUsed * n * bpe : 0
                    }
                    if o.aPerColumn {
                        // Each column reads its own channel's activations: A is per (row fold, column fold).
                        aBytes *= colsUsed
                        aID = (rep * cf + fc) * rf + fr
                    }
                    if aOnce { aBytes = first ? wholeA : 0 } else if aID == lastA { aBytes = 0 }
                    if bOnce { bBytes = first ? wholeB : 0 } else if bID == lastB { bBytes = 0 }
                    lastA = aID
                    lastB = bID
                    first = false

                    if curHasFolds, cur.readA + aBytes > hA || cur.readB + bBytes > hB || cur.write + outBytes > hO { flush() }
                    let pieces = max(ceilDiv(aBytes, hA), ceilDiv(bBytes, hB), ceilDiv(outBytes, hO), 1)
                    if tiles.count + Int(min(pieces, UInt64(Int.max / 2))) > tileBudget { return nil }
                    if pieces > 1 {
                        flush()
                        for i in 0..<pieces {
                            tiles.append(
                                Tile(
                                    computeCycles: share(perFold, i, pieces), readA: share(aBytes, i, pieces), readB: share(bBytes, i, pieces),
                                    write: share(outBytes, i, pieces)))
                        }
                    } else {
                        cur.computeCycles += perFold
                        cur.readA += aBytes
                        cur.readB += bBytes
                        cur.write += outBytes
                        curHasFolds = true
                    }
                }
            }
        }
        flush()
        // The closed form counts to the index of the last cycle (count · folds · L − 1).
        if let last = tiles.indices.last, tiles[last].computeCycles > 0 { tiles[last].computeCycles -= 1 }

        // Operand elements the array reads per GEMM (every fold reads its blocks) and outputs
        // (partial sums for weight/input-stationary) it writes.
        let kA = o.aElements(k)
        let (readA, readB, sramWrite): (UInt64, UInt64, UInt64)
        switch array.dataflow {
        case .outputStationary where o.aPerColumn: (readA, readB, sramWrite) = (o.aBytes(m * kA * n), o.bBytes(UInt64(rf) * k * n), m * n * bpe)
        case .weightStationary where o.aPerColumn: (readA, readB, sramWrite) = (o.aBytes(m * kA * n), o.bBytes(k * n), UInt64(rf) * m * n * bpe)
        case .outputStationary: (readA, readB, sramWrite) = (o.aBytes(UInt64(cf) * m * kA), o.bBytes(UInt64(rf) * k * n), m * n * bpe)
        case .weightStationary: (readA, readB, sramWrite) = (o.aBytes(UInt64(cf) * m * kA), o.bBytes(k * n), UInt64(rf) * m * n * bpe)
        case .inputStationary: (readA, readB, sramWrite) = (o.aBytes(m * kA), o.bBytes(UInt64(cf) * k * n), UInt64(rf) * m * n * bpe)
        }
        let computeCycles = max(0, g.count * rf * cf * Int(perFold) - 1)
        let extents = array.extents(g)
        // Compute utilization as SCALE-Sim counts it, over the (longer) sparse fold.
        let lc = Int(perFold) + (array.dataflow == .outputStationary ? 0 : C - 1)
        let computeUtilization = Double(extents.sr * extents.sc * extents.t) / Double(array.peCount * rf * cf * lc)
        return OpPlan(
            op: op.id, name: op.name, layer: op.layer, opName: op.op, unit: array.name, dataflow: array.dataflow, gemm: g,
            rowFolds: rf, colFolds: cf, cyclesPerFold: Int(perFold), computeCycles: UInt64(computeCycles),
            mappingEfficiency: array.mappingEfficiency(g), computeUtilization: computeUtilization, macs: op.macs, tiles: tiles,
            sramReadA: readA * count, sramReadB: readB * count, sramWrite: sramWrite * count, dependencies: op.dependencies)
    }

    /// The i-th of `parts` near-equal integer shares of `total` (the first ones get the remainder).
    static func share(_ total: UInt64, _ i: UInt64, _ parts: UInt64) -> UInt64 {
        total / parts + (i < total % parts ? 1 : 0)
    }
}
