import Foundation
import TesseraCore
import TesseraModel
import Testing

@testable import TesseraSpec

// Sweep files: axes, ranges, zip, field paths into the hardware and the workload, objectives, and
// every bad input located at its place in the sweep file.

private let specRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
private let baseHardware = specRoot.appendingPathComponent("configs/array/scalesim-32x32-os.yaml").path
private let baseWorkload = specRoot.appendingPathComponent("traces/small-cnn.yaml").path
private let objectiveNames = ["total_cycles", "seconds", "utilization", "pe_count", "dram_bandwidth"]

private let loader = SweepLoader(
    hardwareLoader: KindTable.hardwareLoader, objectives: objectiveNames, unavailableObjectives: ["energy_j": "no energy model"])

/// A sweep file made of a header naming the two base files, then `body`; `file` is where it
/// claims to be (line numbers in messages count from the header's first line).
private func sweep(_ body: String, file: String = "/tmp/tessera-sweep-test/s.yaml", hardware: String = baseHardware, workload: String = baseWorkload)
    throws(InputError) -> SweepSpec
{
    try loader.parse(header(hardware: hardware, workload: workload) + body, file: file)
}

/// Five lines: tessera, name, hardware, workload, objectives.
private func header(hardware: String = baseHardware, workload: String = baseWorkload) -> String {
    "tessera: 1\nname: t\nhardware: \(hardware)\nworkload: \(workload)\nobjectives: [total_cycles, utilization]\n"
}

/// The diagnostics of a sweep that must fail.
private func problems(_ body: String, hardware: String = baseHardware) -> [Diagnostic] {
    do {
        _ = try sweep(body, hardware: hardware)
        Issue.record("the sweep was accepted:\n\(body)")
        return []
    } catch {
        return error.diagnostics
    }
}

private func expectProblem(
    _ body: String, line: Int, column: Int, _ message: String, hardware: String = baseHardware, sourceLocation: Testing.SourceLocation = #_sourceLocation
) {
    let ds = problems(body, hardware: hardware)
    let hit = ds.first { $0.location?.line == line && $0.location?.column == column && $0.description.contains(message) }
    #expect(hit != nil, "no '\(message)' at \(line):\(column); got:\n\(ds.map(\.description).joined(separator: "\n"))", sourceLocation: sourceLocation)
    if let hit {
        #expect(hit.description.hasPrefix("/tmp/tessera-sweep-test/s.yaml:\(line):\(column): error: "), sourceLocation: sourceLocation)
        #expect(hit.expected != nil, "no 'expected' in \(hit)", sourceLocation: sourceLocation)
    }
}

@Suite struct SweepSpecTests {
    @Test func productOrderHasTheFirstAxisSlowest() throws {
        let s = try sweep("axes:\n  compute.array.rows: [8, 16]\n  memory.dram.bandwidth: [12.8 GB/s, 25.6 GB/s, 51.2 GB/s]\n")
        #expect(s.count == 6)
        #expect(s.axes.map(\.target) == [.hardware, .hardware])
        #expect(
            (0..<6).map { s.valueTexts(point: $0) } == [
                ["8", "12.8 GB/s"], ["8", "25.6 GB/s"], ["8", "51.2 GB/s"], ["16", "12.8 GB/s"], ["16", "25.6 GB/s"], ["16", "51.2 GB/s"],
            ])
        #expect(s.pareto.map(\.name) == ["total_cycles", "utilization"])
        #expect(s.onInvalid == .fail)
    }

    @Test func zippedAxesMoveTogether() throws {
        let s = try sweep(
            "axes:\n  compute.array.rows: [8, 16, 32]\n  compute.array.dataflow: [os, ws]\n  compute.array.cols: [8, 16, 32]\nzip: [compute.array.rows, compute.array.cols]\n"
        )
        #expect(s.count == 6)
        #expect(s.dimensions == [[0, 2], [1]])
        #expect(s.valueTexts(point: 0) == ["8", "os", "8"])
        #expect(s.valueTexts(point: 3) == ["16", "ws", "16"])
        #expect(s.valueTexts(point: 5) == ["32", "ws", "32"])
        let groups = try sweep(
            "axes:\n  compute.array.rows: [8, 16]\n  compute.array.cols: [8, 16]\n  workload.batch: [1, 2, 4]\n  compute.array.dataflow: [os, ws, is]\nzip: [[compute.array.rows, compute.array.cols], [workload.batch, compute.array.dataflow]]\n"
        )
        #expect(groups.count == 6)
        #expect(groups.valueTexts(point: 5) == ["16", "16", "4", "is"])
        // Zipped axes may each repeat values (a layout sweep), as long as no combination repeats.
        let layout = try sweep("axes:\n  compute.array.rows: [8, 8, 16]\n  compute.array.cols: [8, 16, 16]\nzip: [compute.array.rows, compute.array.cols]\n")
        #expect(layout.count == 3)
        #expect((0..<3).map { layout.valueTexts(point: $0) } == [["8", "8"], ["8", "16"], ["16", "16"]])
        expectProblem(
            "axes:\n  compute.array.rows: [8, 16, 8]\n  compute.array.cols: [8, 16, 8]\nzip: [compute.array.rows, compute.array.cols]\n", line: 8, column: 31,
            "zipped axes 'compute.array.rows', 'compute.array.cols' repeat the combination (8, 8)")
    }

    @Test func rangesExpandInTheUnitOfFrom() throws {
        let s = try sweep(
            """
            axes:
              memory.dram.bandwidth: {from: 12.8 GB/s, to: 76.8 GB/s, steps: 6}
              compute.array.rows: {from: 8, to: 128, steps: 5, scale: log}
              memory.ifmap_sram.size: {from: 512 KiB, to: 2 MiB, steps: 4}
              compute.array.cols: {from: 16, to: 64, steps: 4}

            """)
        #expect(s.axes[0].texts == ["12.8 GB/s", "25.6 GB/s", "38.4 GB/s", "51.2 GB/s", "64 GB/s", "76.8 GB/s"])
        #expect(s.axes[1].texts == ["8", "16", "32", "64", "128"])
        #expect(s.axes[2].texts == ["512 KiB", "1024 KiB", "1536 KiB", "2048 KiB"])
        #expect(s.axes[3].texts == ["16", "32", "48", "64"])
        #expect(s.count == 6 * 5 * 4 * 4)
    }

    @Test func unprefixedPathsResolveInTheFileThatHasThem() throws {
        let s = try sweep("axes:\n  batch: [1, 2]\n  compute.array.rows: [8]\n  workload.precision: [int8, fp16]\n  hardware.clock: [1 GHz]\n")
        #expect(s.axes.map(\.target) == [.workload, .hardware, .workload, .hardware])
        let (hw, wl) = s.trees(point: 3)
        #expect(wl["batch"]?.scalar == "2")
        #expect(wl["precision"]?.scalar == "fp16")
        #expect(hw["compute"]?.items?.first?["rows"]?.scalar == "8")
    }

    @Test func aKeyTheBaseLeavesOutCanBeSetWhenItsLoaderKnowsIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-sweep-spec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let hw = dir.appendingPathComponent("hw.yaml").path
        try """
        tessera: 1
        name: bare
        kind: array
        clock: 1 GHz
        compute:
          - {name: array, kind: systolic-array, rows: 8, cols: 8}
        memory:
          - {name: buf, kind: sram, size: 1 MiB, role: shared}
          - {name: dram, kind: dram, bandwidth: 10 GB/s}
        """.write(toFile: hw, atomically: true, encoding: .utf8)
        let s = try sweep("axes:\n  memory.dram.latency: [0 ns, 200 ns]\n  compute.array.dataflow: [ws]\n", hardware: hw)
        #expect(s.axes[0].addedKey == "latency")
        #expect(s.axes[1].addedKey == "dataflow")
        let built = SweepPointBuilder(spec: s, hardwareLoader: KindTable.hardwareLoader).specs(point: 1)
        let spec = try built.get().0
        #expect(abs((spec.memory.first { $0.name == "dram" }?.number("latency") ?? 0) - 200e-9) < 1e-18)
        // The same typo'd key is refused by the loader, at the axis key, with its hint.
        expectProblem("axes:\n  memory.dram.latencyy: [0 ns]\n", line: 7, column: 3, "unknown field path 'memory.dram.latencyy'", hardware: hw)
        #expect(problems("axes:\n  memory.dram.latencyy: [0 ns]\n", hardware: hw).first?.hint == "did you mean 'latency'?")
    }

    @Test func namesWithDotsAndIndexesResolve() throws {
        let tree = try YAMLReader.parse(
            """
            layers:
              - {name: layer1.0.conv1, filters: 4}
              - {name: layer1.0, filters: 8}
            input: [[1, 2], [3, 4]]
            """, file: "t.yaml")
        #expect(FieldPath("layers.layer1.0.conv1.filters").resolve(in: tree) == .exists([.key("layers"), .item(name: "layer1.0.conv1"), .key("filters")]))
        #expect(FieldPath("layers.layer1.0.filters").resolve(in: tree) == .exists([.key("layers"), .item(name: "layer1.0"), .key("filters")]))
        #expect(FieldPath("input.1.0").resolve(in: tree) == .exists([.key("input"), .index(1), .index(0)]))
        #expect(FieldPath("layers.layer1.0.stride").resolve(in: tree) == .addable([.key("layers"), .item(name: "layer1.0")], key: "stride"))
        guard case .stopped(let depth, _, _, _, let hint) = FieldPath("layers.layer1.1.filters").resolve(in: tree) else {
            Issue.record("layer1.1 resolved")
            return
        }
        #expect(depth == 1)
        #expect(hint == "did you mean 'layer1.0'?")
    }

    @Test func pointsAreBuiltThroughTheLoadersWithLocatedErrors() throws {
        let s = try sweep("axes:\n  compute.array.rows: [0, 8]\n")
        let builder = SweepPointBuilder(spec: s, hardwareLoader: KindTable.hardwareLoader)
        #expect(throws: Never.self) { try builder.specs(point: 1).get() }
        guard case .failure(let e) = builder.specs(point: 0) else {
            Issue.record("rows 0 was accepted")
            return
        }
        #expect(e.diagnostics.count == 1)
        #expect(e.diagnostics.first?.location == TesseraCore.SourceLocation(file: "/tmp/tessera-sweep-test/s.yaml", line: 7, column: 24))
        #expect(e.description.contains("'rows' is out of range (expected an integer from 1 to 65536, found 0)"))
    }

    @Test func theDigestFollowsMeaningNotPlaces() throws {
        let body = "axes:\n  compute.array.rows: [8, 16]\n"
        let a = try sweep(body, file: "/tmp/a/s.yaml")
        let b = try sweep("# a comment moves every line\n" + body, file: "/elsewhere/s.yaml")
        #expect(a.digest == b.digest)
        #expect(try sweep("axes:\n  compute.array.rows: [8, 32]\n").digest != a.digest)
        #expect(try sweep("axes:\n  compute.array.cols: [8, 16]\n").digest != a.digest)
        #expect(try sweep(body + "pareto: [utilization]\n").digest != a.digest)
        #expect(a.digest.count == 16)
    }

    // MARK: Bad input, each at its place

    @Test func unknownFieldPathsAreLocatedAtTheAxisKey() {
        expectProblem("axes:\n  compute.array.rowz: [8]\n", line: 7, column: 3, "unknown field path 'compute.array.rowz'")
        #expect(problems("axes:\n  compute.array.rowz: [8]\n").first?.hint == "did you mean 'rows'?")
        expectProblem("axes:\n  compute.arrayy.rows: [8]\n", line: 7, column: 3, "no item named 'arrayy' in 'compute'")
        expectProblem("axes:\n  compute.array.rows.x: [8]\n", line: 7, column: 3, "'compute.array.rows' is a value")
        expectProblem("axes:\n  batchh: [1]\n", line: 7, column: 3, "unknown field path 'batchh'")
        #expect(problems("axes:\n  batchh: [1]\n").first?.hint == "did you mean 'batch'?")
        expectProblem("axes:\n  name: [a, b]\n", line: 7, column: 3, "is in both the hardware and the workload")
        expectProblem("axes:\n  compute..rows: [8]\n", line: 7, column: 3, "malformed field path")
        expectProblem("axes:\n  workload.compute.array.rows: [8]\n", line: 7, column: 3, "unknown field path")
        expectProblem("axes:\n  tessera: [1]\n", line: 7, column: 3, "cannot be swept")
        expectProblem("axes:\n  compute.array.rows: [8]\n  hardware.compute.array.rows: [16]\n", line: 8, column: 3, "set the same field")
    }

    @Test func emptyAxesAndBadRangesAreLocated() {
        expectProblem("axes:\n  compute.array.rows: []\n", line: 7, column: 23, "axis 'compute.array.rows' is empty")
        expectProblem("axes: {}\n", line: 6, column: 7, "'axes' is empty")
        expectProblem("axes:\n  compute.array.rows: {from: 8, to: 64, steps: 1}\n", line: 7, column: 48, "too few steps")
        expectProblem("axes:\n  compute.array.rows: {from: 8, to: 64}\n", line: 7, column: 23, "missing the key 'steps'")
        expectProblem("axes:\n  compute.array.rows: {from: 1, to: 3, steps: 5}\n", line: 7, column: 47, "repeats values")
        expectProblem("axes:\n  memory.dram.bandwidth: {from: 1 GB/s, to: 2 GHz, steps: 3}\n", line: 7, column: 45, "units of different kinds")
        expectProblem("axes:\n  memory.dram.bandwidth: {from: 1 GB/s, to: 2, steps: 3}\n", line: 7, column: 45, "differ in having a unit")
        expectProblem("axes:\n  compute.array.rows: {from: 0, to: 8, steps: 3, scale: log}\n", line: 7, column: 23, "a log range needs ends above zero")
        expectProblem("axes:\n  compute.array.rows: {from: 8, to: 16, steps: 2, scale: cubic}\n", line: 7, column: 58, "unknown range scale")
        expectProblem("axes:\n  compute.array.rows: 8\n", line: 7, column: 23, "must be a list of values or a range")
        expectProblem("axes:\n  compute.array.rows: [8, 16, 8]\n", line: 7, column: 31, "repeats the value 8")
    }

    @Test func zipObjectivesAndOptionsAreChecked() {
        expectProblem(
            "axes:\n  compute.array.rows: [8, 16]\n  compute.array.cols: [8]\nzip: [compute.array.rows, compute.array.cols]\n", line: 9, column: 6,
            "zipped axes have different numbers of values")
        expectProblem("axes:\n  compute.array.rows: [8, 16]\nzip: [compute.array.rows, compute.array.colz]\n", line: 8, column: 27, "'zip' names no axis")
        expectProblem("axes:\n  compute.array.rows: [8]\non_invalid: ignore\n", line: 8, column: 13, "unknown 'on_invalid' value")
        expectProblem("axes:\n  compute.array.rows: [8]\npareto: [seconds]\n", line: 8, column: 10, "unknown objective 'seconds' in 'pareto'")
        let energy =
            "tessera: 1\nname: t\nhardware: \(baseHardware)\nworkload: \(baseWorkload)\nobjectives: [total_cycles, energy_j, cycles]\naxes:\n  compute.array.rows: [8]\n"
        do {
            _ = try loader.parse(energy, file: "/tmp/tessera-sweep-test/s.yaml")
            Issue.record("energy_j was accepted")
        } catch {
            let text = error.description
            #expect(text.contains("s.yaml:5:28: error: objective 'energy_j' is not reported by this version: no energy model"), "\(text)")
            #expect(text.contains("s.yaml:5:38: error: unknown objective 'cycles'"), "\(text)")
        }
        expectProblem("axes:\n  compute.array.rows: [8]\nextra: 1\n", line: 8, column: 1, "unknown key 'extra' in a sweep file")
        expectProblem(
            "axes:\n  compute.array.rows: [8]\nplots:\n  - {name: p, x: rowz, y: total_cycles}\n", line: 9, column: 18, "plot 'x' names no column 'rowz'")
    }

    @Test func aBrokenBaseFileIsReportedWhereItIsBroken() {
        let ds = problems("axes:\n  compute.array.rows: [8]\n", hardware: "/no/such/hw.yaml")
        #expect(ds.contains { $0.location?.line == 3 && $0.description.contains("cannot read file '/no/such/hw.yaml'") }, "\(ds)")
        // An axis that may belong to the file that could not be read is not a second error, and
        // zip and plots still know it.
        do {
            _ = try sweep(
                "axes:\n  batch: [1, 2]\n  compute.array.rows: [8, 16]\nzip: [batch, compute.array.rows]\nplots:\n  - {name: p, x: batch, y: total_cycles}\n",
                workload: "/no/such/wl.yaml")
            Issue.record("a missing workload was accepted")
        } catch {
            #expect(error.diagnostics.count == 1, "\(error)")
            #expect(error.diagnostics.first?.location?.line == 4)
        }
    }

    // MARK: Shards

    @Test(arguments: ["3/2", "0/2", "2/0", "a/b", "2", "1/2/3", "-1/2", ""])
    func malformedShardsAreErrors(_ text: String) {
        #expect(throws: InputError.self) { try SweepShard(parsing: text) }
        do {
            _ = try SweepShard(parsing: text)
        } catch {
            #expect(error.diagnostics.first?.expected == "i/n with 1 ≤ i ≤ n, such as 2/8")
        }
    }

    /// Property: for random sweeps and shard counts, the shards are disjoint and cover every point.
    @Test func shardsAreDisjointAndCoverEveryPoint() throws {
        var rng = SweepRandom(seed: 0x5EED_5EED)
        let paths = ["compute.array.rows", "compute.array.cols", "memory.dram.bandwidth", "batch", "compute.array.dataflow"]
        for _ in 0..<60 {
            let axisCount = Int.random(in: 1...paths.count, using: &rng)
            var body = "axes:\n"
            var sizes: [Int] = []
            for p in paths.prefix(axisCount) {
                let n = Int.random(in: 1...7, using: &rng)
                sizes.append(n)
                switch p {
                case "memory.dram.bandwidth": body += "  \(p): " + (n >= 2 ? "{from: 1 GB/s, to: \(n) GB/s, steps: \(n)}\n" : "[3 GB/s]\n")
                case "compute.array.dataflow": body += "  \(p): [" + ["os", "ws", "is"].prefix(min(n, 3)).joined(separator: ", ") + "]\n"
                default: body += "  \(p): [" + (1...n).map(String.init).joined(separator: ", ") + "]\n"
                }
            }
            if p(zipRows: sizes), Bool.random(using: &rng) { body += "zip: [compute.array.rows, compute.array.cols]\n" }
            let s = try sweep(body)
            #expect(s.count == s.dimensionSizes.reduce(1, *))
            for shards in [1, 2, 3, 5, 7, 16, s.count, s.count + 3] {
                var seen = [Int](repeating: 0, count: s.count)
                for i in 1...shards {
                    let shard = try SweepShard(parsing: "\(i)/\(shards)")
                    for k in shard.points(of: s.count) {
                        #expect(shard.contains(k))
                        seen[k] += 1
                    }
                }
                #expect(seen.allSatisfy { $0 == 1 }, "shards \(shards) of \(s.count) points: \(seen)")
            }
        }
    }

    private func p(zipRows sizes: [Int]) -> Bool { sizes.count >= 2 && sizes[0] == sizes[1] }
}

/// A small seeded generator (SplitMix64, Steele et al. 2014), so random tests repeat exactly.
private struct SweepRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
