import TesseraCore
import TesseraModel
import TesseraSpec
import TesseraTestSupport
import Testing

@testable import TesseraOutput
@testable import TesseraStudy
import TesseraFamilies

/// Property: whatever `validate` accepts (`Pipeline.check`), `simulate` runs without a trap. Random
/// hardware and layers, each number drawn near the edges of its declared range as often as inside
/// it; a trap here ends the test process, which fails the run. 200 cases, fixed seed. (Buffers of
/// a few bytes, which the mapper bounds at 2·10⁶ tiles per layer, are left to the fuzzer: they take
/// seconds each in a debug build.)
@Suite struct ValidateImpliesRunsTests {
    @Test func whatValidateAcceptsSimulates() throws {
        var rng = SplitMix64(seed: 20_261_207)
        var accepted = 0, refused = 0
        for _ in 0..<200 {
            let kind = rng.pick(["array", "sparse-training-array", "edge-soc"])
            // Mostly values in range (the edges included), sometimes one just outside.
            let rows = rng.pick(["1", "2", "7", "32", "32", "256", "4096", "65537"])
            let clock = rng.pick(["1 kHz", "200 MHz", "1 GHz", "100 GHz", "101 GHz"])
            let size = rng.pick(["16 KiB", "1 MiB", "1 MiB", "1 PiB", "2 PiB"])
            let bandwidth = rng.pick(["1 KB/s", "1 MB/s", "19.2 GB/s", "19.2 GB/s", "10 PB/s", "999 B/s"])
            let latency = rng.pick(["0 ns", "1 ps", "100 ns", "100 ns", "100000 s", "100001 s"])
            let hw: String
            switch kind {
            case "array":
                hw = """
                    tessera: 1
                    name: h
                    kind: array
                    clock: \(clock)
                    compute:
                      - {name: a, kind: systolic-array, rows: \(rows), cols: \(rng.pick(["1", "16", "128"])), dataflow: \(rng.pick(["os", "ws", "is"]))}
                    memory:
                      - {name: s, kind: sram, size: \(size), read: 64 B/cycle, write: 64 B/cycle}
                      - {name: d, kind: dram, bandwidth: \(bandwidth), latency: \(latency)}
                    """
            case "sparse-training-array":
                hw = """
                    tessera: 1
                    name: h
                    kind: sparse-training-array
                    clock: \(clock)
                    compute:
                      - {name: n, kind: nm-sparse-array, rows: \(rows), cols: 16, patterns: ["2:4", "2:8"], precision: fp16}
                      - {name: v, kind: vector-unit, lanes: \(rng.pick(["1", "64", "1048576"]))}
                      - {name: m, kind: mask-generator}
                    memory:
                      - {name: s, kind: sram, size: \(size), read: 64 B/cycle, write: 64 B/cycle}
                      - {name: d, kind: dram, bandwidth: \(bandwidth), latency: \(latency)}
                    """
            default:
                hw = """
                    tessera: 1
                    name: h
                    kind: edge-soc
                    clock: \(clock)
                    compute:
                      - {name: npu, kind: systolic-array, rows: \(rows), cols: 16, dataflow: ws}
                      - {name: cpu, kind: cpu-cluster, cores: 4, lanes: 8, clock: 1 GHz}
                    memory:
                      - {name: s, kind: sram, size: \(size), read: 64 B/cycle, write: 64 B/cycle}
                      - {name: d, kind: dram, bandwidth: \(bandwidth), latency: \(latency)}
                    """
            }
            let m = rng.pick(["1", "3", "512", "4096"]), k = rng.pick(["1", "64", "1024"])
            let training = kind != "array" && rng.pick([true, false])
            let wl = """
                tessera: 1
                name: w
                batch: \(rng.pick(["1", "4", "16"]))
                \(training ? "phase: training\nprecision: fp16" : "precision: int8")
                layers:
                  - {name: c, op: conv2d, input: [\(rng.pick(["8", "32"])), 8, 3], kernel: [3, 3], filters: \(rng.pick(["4", "64"])), padding: \(rng.pick(["0", "1", "1", "1048577"]))}
                  - {name: g, op: gemm, m: \(m), n: 16, k: \(k)}
                  - {name: r, op: relu, elements: \(rng.pick(["1", "1048576"]))}
                """
            let pipeline: Pipeline
            do {
                let h = try KindTable.hardwareLoader.parse(hw, file: "hw.yaml")
                let w = try WorkloadLoader.parse(wl, file: "wl.yaml")
                pipeline = Pipeline(hardware: h, workload: w)
                try pipeline.check()
            } catch let e as InputError {
                #expect(e.diagnostics.allSatisfy { $0.location != nil }, "an unlocated refusal: \(e)")
                refused += 1
                continue
            }
            accepted += 1
            do {
                _ = try pipeline.run(recordTimeline: false)
            } catch let e as InputError {
                // Only what execution alone reveals: the engine's horizon.
                #expect(e.description.contains("horizon"), "validate accepted a pair that simulate refused:\n\(hw)\n\(wl)\n\(e)")
            }
        }
        #expect(accepted > 30 && refused > 30, "accepted \(accepted), refused \(refused): the generator should reach both sides")
    }
}
