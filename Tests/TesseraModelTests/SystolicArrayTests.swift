import Foundation
import TesseraCore
import TesseraSpec
import TesseraTestSupport
import Testing

@testable import TesseraModel

// Tests of `SystolicArray` in the tiers of DESIGN.md convention 8: small unit checks, closed-form
// results, a cross-check against the register-level `ReferenceSystolicGrid` (seeded random shapes
// and the boundary shapes around the array's size), and agreement with SCALE-Sim 3.0.0 fixtures.

// MARK: - Helpers

private func randomMatrix(_ rows: Int, _ cols: Int, _ rng: inout SplitMix64) -> [[Int]] {
    (0..<rows).map { _ in (0..<cols).map { _ in rng.int(in: -4...4) } }
}

private func naiveProduct(_ a: [[Int]], _ b: [[Int]]) -> [[Int]] {
    let m = a.count
    let k = b.count
    let n = b.first?.count ?? 0
    var c = Array(repeating: Array(repeating: 0, count: n), count: m)
    for i in 0..<m {
        for j in 0..<n {
            for p in 0..<k { c[i][j] += a[i][p] * b[p][j] }
        }
    }
    return c
}

private func isClose(_ a: Double, _ b: Double, relative: Double = 1e-9) -> Bool {
    a == b || abs(a - b) <= relative * max(abs(a), abs(b))
}

/// Runs one shape on the reference grid and checks it against the closed forms and the naive
/// product. Returns false (after recording the failures) when anything disagrees.
@discardableResult
private func crossCheck(rows: Int, cols: Int, dataflow: Dataflow, m: Int, n: Int, k: Int, rng: inout SplitMix64) -> Bool {
    let array = SystolicArray(rows: rows, cols: cols, dataflow: dataflow)
    let shape = GemmShape(m: m, n: n, k: k)
    let a = randomMatrix(m, k, &rng)
    let b = randomMatrix(k, n, &rng)
    let grid = ReferenceSystolicGrid(rows: rows, cols: cols, dataflow: dataflow)
    let run = grid.simulate(a: a, b: b)
    let folds = array.folds(shape)
    let perFold = array.cyclesPerFold(t: array.extents(shape).t)
    let what = "\(dataflow.short) \(rows)×\(cols) m=\(m) n=\(n) k=\(k)"
    var ok = true
    func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition {
            ok = false
            Issue.record("\(what): \(message())")
        }
    }
    check(run.output == naiveProduct(a, b), "output differs from the naive product")
    check(run.macs == m * n * k, "real MACs \(run.macs), expected \(m * n * k)")
    check(run.cycles == array.computeCycles(shape), "grid stepped to cycle \(run.cycles), computeCycles \(array.computeCycles(shape))")
    check(run.foldCycles.count == folds.row * folds.col, "\(run.foldCycles.count) folds, expected \(folds.row * folds.col)")
    check(run.foldCycles.allSatisfy { $0 == perFold }, "fold lengths \(run.foldCycles), cyclesPerFold \(perFold)")
    // Full-grid timing: every PE does T MACs (real or padding) in every fold.
    check(
        run.macs + run.paddingMACs == run.foldCycles.count * rows * cols * array.extents(shape).t,
        "real + padding MACs \(run.macs + run.paddingMACs) is not folds·R·C·T")
    return ok
}

// MARK: - Unit checks

@Suite("SystolicArray")
struct SystolicArrayTests {
    let shape = GemmShape(m: 5, n: 7, k: 3)

    @Test("extents map m, n, k to (Sr, Sc, T) per dataflow")
    func extents() {
        let os = SystolicArray(rows: 4, cols: 2, dataflow: .outputStationary).extents(shape)
        let ws = SystolicArray(rows: 4, cols: 2, dataflow: .weightStationary).extents(shape)
        let `is` = SystolicArray(rows: 4, cols: 2, dataflow: .inputStationary).extents(shape)
        #expect(os == (5, 7, 3))
        #expect(ws == (3, 7, 5))
        #expect(`is` == (3, 5, 7))
    }

    @Test("folds are ⌈Sr/R⌉ and ⌈Sc/C⌉")
    func folds() {
        #expect(SystolicArray(rows: 4, cols: 2, dataflow: .outputStationary).folds(shape) == (2, 4))
        #expect(SystolicArray(rows: 4, cols: 2, dataflow: .weightStationary).folds(shape) == (1, 4))
        #expect(SystolicArray(rows: 4, cols: 2, dataflow: .inputStationary).folds(shape) == (1, 3))
        // Exactly the array, one more, one less.
        let a = SystolicArray(rows: 4, cols: 4, dataflow: .outputStationary)
        #expect(a.folds(GemmShape(m: 4, n: 4, k: 9)) == (1, 1))
        #expect(a.folds(GemmShape(m: 5, n: 3, k: 9)) == (2, 1))
        #expect(a.folds(GemmShape(m: 1, n: 1, k: 1)) == (1, 1))
        let column = SystolicArray(rows: 1, cols: 6, dataflow: .weightStationary)
        #expect(column.folds(GemmShape(m: 2, n: 13, k: 3)) == (3, 3))
    }

    @Test("cycles per fold: T+R+C−2 (os), 2R+C+T−2 (ws, is)")
    func cyclesPerFold() {
        #expect(SystolicArray(rows: 4, cols: 3, dataflow: .outputStationary).cyclesPerFold(t: 5) == 10)
        #expect(SystolicArray(rows: 4, cols: 3, dataflow: .weightStationary).cyclesPerFold(t: 5) == 14)
        #expect(SystolicArray(rows: 4, cols: 3, dataflow: .inputStationary).cyclesPerFold(t: 5) == 14)
        #expect(SystolicArray(rows: 1, cols: 1, dataflow: .outputStationary).cyclesPerFold(t: 1) == 1)
        #expect(SystolicArray(rows: 1, cols: 1, dataflow: .weightStationary).cyclesPerFold(t: 1) == 2)
    }

    @Test("dimensions below 1 are clamped to a 1×1 array")
    func clamps() {
        let a = SystolicArray(rows: 0, cols: -3, dataflow: .weightStationary)
        #expect(a.rows == 1 && a.cols == 1 && a.peCount == 1)
    }

    // MARK: - Closed-form results

    @Test("4×4 output-stationary, m=n=k=4: one fold of 10 cycles, last cycle index 9")
    func osSingleFold() {
        let a = SystolicArray(rows: 4, cols: 4, dataflow: .outputStationary)
        let g = GemmShape(m: 4, n: 4, k: 4)
        #expect(a.folds(g) == (1, 1))
        #expect(a.computeCycles(g) == 9)
        #expect(a.mappingEfficiency(g) == 1)
        #expect(isClose(a.computeUtilization(g), 64.0 / (16 * 10)))
        #expect(isClose(a.utilization(g), 64.0 / (9 * 16)))
    }

    @Test("4×4 weight- and input-stationary, m=n=k=4: one fold of 2R+C+T−2 = 14 cycles")
    func stationarySingleFold() {
        for df in [Dataflow.weightStationary, .inputStationary] {
            let a = SystolicArray(rows: 4, cols: 4, dataflow: df)
            let g = GemmShape(m: 4, n: 4, k: 4)
            #expect(a.computeCycles(g) == 13)
            // Compute utilization uses Lc = L + C − 1 = 17 (SCALE-Sim's accounting).
            #expect(isClose(a.computeUtilization(g), 64.0 / (16 * 17)))
        }
    }

    @Test("partial folds: 4×4 output-stationary, m=2 n=2 k=3 (SCALE-Sim 3.0.0: 8 cycles, 25% mapped)")
    func partialFold() {
        let a = SystolicArray(rows: 4, cols: 4, dataflow: .outputStationary)
        let g = GemmShape(m: 2, n: 2, k: 3)
        #expect(a.computeCycles(g) == 8)
        #expect(a.mappingEfficiency(g) == 0.25)
        #expect(isClose(a.computeUtilization(g), 12.0 / 144))
        #expect(isClose(a.utilization(g), 12.0 / 128))
    }

    @Test("folds and repeated GEMMs run back to back: count·folds·L − 1")
    func backToBack() {
        let a = SystolicArray(rows: 3, cols: 2, dataflow: .outputStationary)
        let g = GemmShape(m: 7, n: 5, k: 4, count: 3)  // folds 3 × 3, L = 4 + 3 + 2 − 2 = 7
        #expect(a.computeCycles(g) == 3 * 9 * 7 - 1)
        let w = SystolicArray(rows: 3, cols: 2, dataflow: .weightStationary)
        let h = GemmShape(m: 7, n: 5, k: 4, count: 2)  // Sr=4, Sc=5: folds 2 × 3, L = 6 + 2 + 7 − 2 = 13
        #expect(w.computeCycles(h) == 2 * 6 * 13 - 1)
        #expect(a.computeCycles(GemmShape(m: 0, n: 0, k: 0)) == 0)
    }

    // MARK: - Cross-check against the register-level grid

    @Test("reference grid: hand-checked 2×2 products in every dataflow")
    func referenceSmall() {
        let a = [[1, 2, 3], [4, 5, 6]]
        let b = [[7, 8], [9, 10], [11, 12]]
        for df in Dataflow.allCases {
            let r = ReferenceSystolicGrid(rows: 2, cols: 2, dataflow: df).run(a: a, b: b)
            #expect(r.output == [[58, 64], [139, 154]], "\(df.short)")
            #expect(r.macs == 12, "\(df.short)")
        }
        // os: T=3, L = 3+2+2−2 = 5 → last cycle 4; ws: Sr=3 → 2 row folds of L = 4+2+2−2 = 6 → 11.
        #expect(ReferenceSystolicGrid(rows: 2, cols: 2, dataflow: .outputStationary).run(a: a, b: b).cycles == 4)
        #expect(ReferenceSystolicGrid(rows: 2, cols: 2, dataflow: .weightStationary).run(a: a, b: b).cycles == 11)
    }

    @Test("closed forms equal the register-level grid on 400 seeded random shapes × 3 dataflows")
    func randomCrossCheck() {
        var shapes = SplitMix64(seed: 0x7E55_E4A5_1570_11C)
        var values = SplitMix64(seed: 42)
        var failures = 0
        for _ in 0..<400 {
            let rows = shapes.int(in: 1...6)
            let cols = shapes.int(in: 1...6)
            let m = shapes.int(in: 1...13)
            let n = shapes.int(in: 1...13)
            let k = shapes.int(in: 1...13)
            for df in Dataflow.allCases where !crossCheck(rows: rows, cols: cols, dataflow: df, m: m, n: n, k: k, rng: &values) {
                failures += 1
            }
        }
        #expect(failures == 0)
    }

    @Test("closed forms equal the register-level grid on 1×N and N×1 arrays")
    func thinArrays() {
        var shapes = SplitMix64(seed: 0x1_0000_0001)
        var values = SplitMix64(seed: 7)
        for _ in 0..<60 {
            let long = shapes.int(in: 1...6)
            let (rows, cols) = shapes.int(in: 0...1) == 0 ? (1, long) : (long, 1)
            let m = shapes.int(in: 1...13)
            let n = shapes.int(in: 1...13)
            let k = shapes.int(in: 1...13)
            for df in Dataflow.allCases { crossCheck(rows: rows, cols: cols, dataflow: df, m: m, n: n, k: k, rng: &values) }
        }
    }

    @Test(
        "closed forms equal the register-level grid at the boundaries: dims 1, R±1, R, C±1, C",
        arguments: [(1, 1), (1, 4), (4, 1), (3, 4), (4, 4), (5, 2)])
    func boundaries(rows: Int, cols: Int) {
        var values = SplitMix64(seed: UInt64(rows * 10 + cols))
        let dims = Array(Set([1, rows - 1, rows, rows + 1, cols - 1, cols, cols + 1].filter { $0 >= 1 })).sorted()
        for df in Dataflow.allCases {
            for m in dims {
                for n in dims {
                    for k in dims { crossCheck(rows: rows, cols: cols, dataflow: df, m: m, n: n, k: k, rng: &values) }
                }
            }
        }
    }
}

// MARK: - SCALE-Sim 3.0.0 fixtures

/// `Fixtures/scalesim/scalesim_v3.json`: layers run through SCALE-Sim 3.0.0 (see
/// `check_closed_forms.py` beside it for the exact semantics of every field).
private struct ScaleSimFixture: Decodable {
    var scalesimVersion: String
    var cases: [Case]

    struct Case: Decodable {
        var id: String
        var rows: Int
        var cols: Int
        var dataflow: String
        var layer: Layer
        var results: Results
    }

    struct Layer: Decodable {
        var type: String
        var m: Int?, n: Int?, k: Int?
        var ifmapH: Int?, ifmapW: Int?, filterH: Int?, filterW: Int?
        var channels: Int?, numFilters: Int?, stride: Int?

        /// SCALE-Sim's output size: ⌈(H − FH + s)/s⌉ (rounded up, unlike the usual ⌊(H − FH)/s⌋ + 1).
        var scaleSimOutput: (h: Int, w: Int)? {
            guard type == "conv", let h = ifmapH, let w = ifmapW, let fh = filterH, let fw = filterW, let s = stride else { return nil }
            return (ceilDiv(h - fh + s, s), ceilDiv(w - fw + s, s))
        }

        /// GEMM: m, n, k as given. Conv: m = OH·OW, n = filters, k = FH·FW·channels.
        var gemm: GemmShape? {
            if type == "gemm", let m, let n, let k { return GemmShape(m: m, n: n, k: k) }
            guard let out = scaleSimOutput, let fh = filterH, let fw = filterW, let c = channels, let f = numFilters else { return nil }
            return GemmShape(m: out.h * out.w, n: f, k: fh * fw * c)
        }

        var conv2D: Conv2D? {
            guard type == "conv", let h = ifmapH, let w = ifmapW, let fh = filterH, let fw = filterW, let c = channels, let f = numFilters,
                let s = stride
            else { return nil }
            return Conv2D(input: (h, w, c), kernel: (fh, fw), filters: f, stride: s, padding: 0)
        }
    }

    struct Results: Decodable {
        var totalCycles: Int
        var overallUtilPct: Double
        var mappingEfficiencyPct: Double
        var computeUtilPct: Double
    }

    static func load() throws -> ScaleSimFixture {
        let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil), "Fixtures missing from the test bundle")
        let data = try Data(contentsOf: root.appendingPathComponent("scalesim/scalesim_v3.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(ScaleSimFixture.self, from: data)
    }
}

@Suite("SystolicArray vs SCALE-Sim 3.0.0")
struct SystolicArrayScaleSimTests {
    @Test("SCALE-Sim 3.0.0: cycles, utilization, mapping efficiency and compute utilization of 180 layers")
    func fixtureAgreement() throws {
        let fixture = try ScaleSimFixture.load()
        #expect(fixture.scalesimVersion == "3.0.0")
        #expect(fixture.cases.count == 180)
        var checked = 0
        for c in fixture.cases {
            let dataflow = try #require(Dataflow(rawValue: Dataflow.aliases[c.dataflow] ?? c.dataflow), "\(c.id): unknown dataflow")
            let g = try #require(c.layer.gemm, "\(c.id): cannot read the layer")
            let array = SystolicArray(rows: c.rows, cols: c.cols, dataflow: dataflow)
            let want = c.results
            #expect(array.computeCycles(g) == want.totalCycles, "\(c.id): total cycles")
            #expect(isClose(array.utilization(g) * 100, want.overallUtilPct), "\(c.id): overall utilization \(array.utilization(g) * 100)")
            #expect(
                isClose(array.mappingEfficiency(g) * 100, want.mappingEfficiencyPct), "\(c.id): mapping efficiency \(array.mappingEfficiency(g) * 100)")
            #expect(
                isClose(array.computeUtilization(g) * 100, want.computeUtilPct), "\(c.id): compute utilization \(array.computeUtilization(g) * 100)")
            checked += 1
        }
        #expect(checked == 180)
    }

    /// Every fixture layer written as a row of a SCALE-Sim topology CSV (convolution or GEMM
    /// format) and read back by `ScaleSimTopology` gives SCALE-Sim's cycles on the same array.
    @Test("SCALE-Sim topology CSVs import to layers with SCALE-Sim's cycles (180 layers)")
    func topologyImportKeepsTheCycles() throws {
        let fixture = try ScaleSimFixture.load()
        var checked = 0
        for c in fixture.cases {
            let l = c.layer
            let csv: String
            if l.type == "gemm", let m = l.m, let n = l.n, let k = l.k {
                csv = "Layer, M, N, K,\nl0, \(m), \(n), \(k),\n"
            } else if let h = l.ifmapH, let w = l.ifmapW, let fh = l.filterH, let fw = l.filterW, let ch = l.channels, let f = l.numFilters, let st = l.stride {
                csv = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nl0,\(h),\(w),\(fh),\(fw),\(ch),\(f),\(st),\n"
            } else {
                Issue.record("\(c.id): cannot write the layer")
                continue
            }
            var bag = DiagnosticBag()
            let layers = ScaleSimTopology.layers(csv, file: "t.csv", bag: &bag)
            #expect(!bag.hasErrors, "\(c.id): \(bag.diagnostics)")
            let layer = try #require(layers.first, "\(c.id)")
            let shape: GemmShape
            switch layer.op {
            case .gemm(let g): shape = GemmShape(m: g.m, n: g.n, k: g.k)
            case .conv2d(let cv): shape = GemmShape(m: cv.outputH * cv.outputW, n: cv.filters, k: cv.kernelH * cv.kernelW * cv.channels)
            default:
                Issue.record("\(c.id): imported as \(layer.op)")
                continue
            }
            let dataflow = try #require(Dataflow(rawValue: Dataflow.aliases[c.dataflow] ?? c.dataflow))
            #expect(SystolicArray(rows: c.rows, cols: c.cols, dataflow: dataflow).computeCycles(shape) == c.results.totalCycles, "\(c.id)")
            checked += 1
        }
        #expect(checked == 180)
    }

    /// SCALE-Sim 3.0.0 sizes a convolution's output as ⌈(H − FH + s)/s⌉, which rounds UP where the
    /// stride does not divide H − FH; `Conv2D.outputH/outputW` use the usual ⌊(H − FH)/s⌋ + 1. The
    /// fixture keeps SCALE-Sim's figures (the agreement test above builds its shapes with the
    /// ceiling); here the two sizes are compared only where they agree.
    @Test("SCALE-Sim 3.0.0 conv output sizes equal Conv2D's where ceil and floor agree (SCALE-Sim rounds up elsewhere)")
    func convOutputSize() throws {
        let fixture = try ScaleSimFixture.load()
        var agreeing = 0
        var roundedUp = 0
        for c in fixture.cases where c.layer.type == "conv" {
            let scaleSim = try #require(c.layer.scaleSimOutput, "\(c.id)")
            let conv = try #require(c.layer.conv2D, "\(c.id)")
            if scaleSim == (conv.outputH, conv.outputW) {
                agreeing += 1
                #expect(conv.macs == (c.layer.gemm?.macs ?? -1), "\(c.id): Conv2D MACs")
            } else {
                // Where they disagree, SCALE-Sim's size is the larger by exactly one row or column.
                roundedUp += 1
                #expect(scaleSim.h - conv.outputH >= 0 && scaleSim.h - conv.outputH <= 1, "\(c.id): height")
                #expect(scaleSim.w - conv.outputW >= 0 && scaleSim.w - conv.outputW <= 1, "\(c.id): width")
            }
        }
        #expect(agreeing > 0)
        #expect(roundedUp > 0, "the fixture should include layers where SCALE-Sim rounds the output up")
    }
}
