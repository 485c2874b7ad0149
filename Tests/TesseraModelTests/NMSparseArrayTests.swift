import Testing
import TesseraCore
import TesseraSpec

@testable import TesseraModel

/// A fixed-seed generator (SplitMix64) for the randomised checks.
private struct Seeded {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
}

@Suite struct NMSparseArrayTests {
    /// N = M is the dense array, cycle for cycle, whatever the pipeline stages: 2,000 seeded shapes.
    @Test func patternWithNEqualToMIsTheDenseArrayCycleForCycle() {
        var rng = Seeded(state: 2024)
        for _ in 0..<2000 {
            let rows = rng.int(1...40), cols = rng.int(1...40)
            let m = rng.int(1...8)
            let g = GemmShape(m: rng.int(1...300), n: rng.int(1...300), k: m * rng.int(1...40), count: rng.int(1...3))
            let array = NMSparseArray(rows: rows, cols: cols, patterns: [], sparseStages: rng.int(0...3))
            for df in NMSparseArray.sparseDataflows {
                let dense = SystolicArray(rows: rows, cols: cols, dataflow: df).computeCycles(g)
                #expect(array.computeCycles(g, pattern: NMPattern(n: m, m: m), dataflow: df) == dense)
                #expect(array.computeCycles(g, pattern: nil, dataflow: df) == dense)
            }
        }
    }

    /// Sparse mode runs the dense closed form on K' = K·N/M, plus s cycles per fold.
    @Test func sparseModeIsTheClosedFormOnTheReducedShapePlusStagesPerFold() {
        var rng = Seeded(state: 7)
        let patterns = [NMPattern(n: 2, m: 4), NMPattern(n: 2, m: 8), NMPattern(n: 1, m: 8), NMPattern(n: 4, m: 8), NMPattern(n: 1, m: 16)]
        for _ in 0..<1000 {
            let p = patterns[rng.int(0...patterns.count - 1)]
            let rows = rng.int(1...64), cols = rng.int(1...64), s = rng.int(0...2)
            let g = GemmShape(m: rng.int(1...500), n: rng.int(1...500), k: p.m * rng.int(1...64), count: rng.int(1...2))
            let array = NMSparseArray(rows: rows, cols: cols, patterns: [p], sparseStages: s)
            let reduced = NMSparseArray.reduced(g, p)
            #expect(reduced.k * p.m == g.k * p.n)
            #expect(reduced.macs * p.m == g.macs * p.n)
            for df in NMSparseArray.sparseDataflows {
                let dense = SystolicArray(rows: rows, cols: cols, dataflow: df)
                let f = dense.folds(reduced)
                let expected = reduced.count * f.row * f.col * (dense.cyclesPerFold(t: dense.extents(reduced).t) + s) - 1
                #expect(array.computeCycles(g, pattern: p, dataflow: df) == expected)
            }
        }
    }

    @Test func bestDataflowIsTheFastestListedOneAndTiesGoToTheFirst() {
        let array = NMSparseArray(rows: 32, cols: 32, patterns: [NMPattern(n: 2, m: 8)])
        let p = NMPattern(n: 2, m: 8)
        // Tall m, short k: output-stationary streams k; weight-stationary streams m.
        let tall = GemmShape(m: 50_000, n: 64, k: 64)
        let os = array.computeCycles(tall, pattern: p, dataflow: .outputStationary)
        let ws = array.computeCycles(tall, pattern: p, dataflow: .weightStationary)
        #expect(array.bestDataflow(tall, pattern: p) == (ws < os ? .weightStationary : .outputStationary))
        // A 1×1 array with a 1×1×1 product: both are 1 cycle (os: 1+1+1−2, ws: 2+1+1−2 = 2); os wins.
        let tiny = NMSparseArray(rows: 1, cols: 1, patterns: [])
        #expect(tiny.bestDataflow(GemmShape(m: 1, n: 1, k: 1), pattern: nil) == .outputStationary)
        let onlyWS = NMSparseArray(rows: 32, cols: 32, patterns: [p], dataflows: [.weightStationary])
        #expect(onlyWS.bestDataflow(tall, pattern: p) == .weightStationary)
    }

    @Test func supportsListedPatternsAndAlwaysDense() {
        let array = NMSparseArray(rows: 4, cols: 4, patterns: [NMPattern(n: 2, m: 8)])
        #expect(array.supports(NMPattern(n: 2, m: 8)))
        #expect(array.supports(NMPattern(n: 4, m: 4)))
        #expect(!array.supports(NMPattern(n: 2, m: 4)))
    }

    @Test func indexBitsAreCeilLog2M() {
        #expect(NMPattern(n: 2, m: 4).indexBits == 2)
        #expect(NMPattern(n: 2, m: 8).indexBits == 3)
        #expect(NMPattern(n: 1, m: 16).indexBits == 4)
        #expect(NMPattern(n: 3, m: 5).indexBits == 3)
        #expect(NMPattern(n: 8, m: 8).indexBits == 0)
    }

    @Test func patternParsing() throws {
        #expect(try NMPattern.parse("2:8").get() == NMPattern(n: 2, m: 8))
        #expect(try NMPattern.parse(" 1 : 4 ").get() == NMPattern(n: 1, m: 4))
        #expect(NMPattern.parse("4:2") == .failure(.nGreaterThanM(n: 4, m: 2)))
        #expect(NMPattern.parse("0:8") == .failure(.zero))
        #expect(NMPattern.parse("2/8") == .failure(.format))
        #expect(NMPattern.parse("2:128") == .failure(.tooLarge(m: 128)))
    }

    /// The sorter lanes: ⌈(weights/M)/lanes⌉·M·cycles_per_element (SAT: 32 lanes, M cycles a group).
    @Test func maskGeneratorClosedForm() {
        let g = MaskGenerator(lanes: 32)
        #expect(g.cycles(weights: 8 * 32, pattern: NMPattern(n: 2, m: 8)) == 8)
        #expect(g.cycles(weights: 8 * 33, pattern: NMPattern(n: 2, m: 8)) == 16)
        // A 3×3×512×512 conv: 294,912 groups of 8 on 32 lanes.
        #expect(g.cycles(weights: 3 * 3 * 512 * 512, pattern: NMPattern(n: 2, m: 8)) == 9216 * 8)
        #expect(MaskGenerator(lanes: 4, cyclesPerElement: 2).cycles(weights: 16, pattern: NMPattern(n: 1, m: 4)) == 8)
    }

    @Test func vectorUnitClosedForm() {
        let v = VectorUnit(lanes: 64, pipelineDepth: 8)
        #expect(v.cycles(operations: 64) == 1)
        #expect(v.cycles(operations: 65) == 2)
        #expect(v.cycles(operations: 0) == 0)
        #expect(VectorCost.forward(.batchnorm) == 6 && VectorCost.backward(.relu) == 1)
    }

    @Test func dramChannelsMultiplyBandwidth() throws {
        let spec = try KindTable.hardwareLoader.parse(
            """
            tessera: 1
            name: h
            kind: array
            clock: 1 GHz
            compute:
              - {name: a, kind: systolic-array, rows: 4, cols: 4}
            memory:
              - {name: dram, kind: dram, bandwidth: 19.2 GB/s, channels: 4}
            """, file: "h.yaml")
        #expect(HardwareModel(spec).dram.bandwidth?.bytesPerSecond == 76.8e9)
    }
}
