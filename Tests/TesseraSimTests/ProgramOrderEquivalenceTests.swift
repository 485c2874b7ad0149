import Foundation
import Testing
import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraPlan
import TesseraSpec
import TesseraTestSupport

@testable import TesseraSim

/// The equivalence harness of the single-array engine folded into `StreamSimulator`: on every
/// bundled array configuration × inference workload, and on random small cases, the program-order
/// policy gives exactly what the former `Simulator` gave (kept here, in the tests, as the reference
/// engine): every op's cycles, start and end, every unit's busy cycles, every interval of the
/// timeline, the byte counts and the event count.
@Suite struct ProgramOrderEquivalenceTests {
    static func inferenceTraces() throws -> [String] {
        let dir = packageRoot.appendingPathComponent("traces")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { name in
            guard name.hasSuffix(".yaml"), let text = try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8) else { return false }
            // Inference on an accelerator: not training, not a cluster workload.
            return !text.contains("\nphase: training") && !text.contains("\ntransformer:") && !text.contains("\ncollective:") && !text.contains("\ncontinual:")
        }.sorted()
    }

    static func arrayConfigs() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("configs/array").path).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    static func expectSame(_ a: SimResult, _ b: SimResult, _ what: String) {
        #expect(a.totalPicoseconds == b.totalPicoseconds && a.totalCycles == b.totalCycles, "\(what): total")
        #expect(a.ops == b.ops, "\(what): per-op stats")
        #expect(a.units == b.units, "\(what): units")
        #expect(a.intervals == b.intervals, "\(what): intervals (\(a.intervals.count) vs \(b.intervals.count))")
        #expect(a.dramBytesSent == b.dramBytesSent && a.bufferBytesReceived == b.bufferBytesReceived && a.dramBytesWritten == b.dramBytesWritten, "\(what): bytes")
        #expect(a.events == b.events, "\(what): events \(a.events) vs \(b.events)")
        #expect(a.interleavedTiles == b.interleavedTiles && a.operatingPoints == b.operatingPoints, "\(what): schedule figures")
    }

    @Test func everyBundledArrayPairIsIdentical() throws {
        var pairs = 0
        let configs = try Self.arrayConfigs(), traces = try Self.inferenceTraces()
        for config in configs {
            let hw = HardwareModel(try KindTable.hardwareLoader.load(path: packageRoot.appendingPathComponent("configs/array/\(config)").path))
            for trace in traces {
                let wl = try WorkloadLoader.load(path: packageRoot.appendingPathComponent("traces/\(trace)").path)
                let plan = try Mapper.plan(graph: Elaborator.elaborate(wl), hardware: hw, workload: wl.name)
                let reference = try ReferenceSimulator(plan: plan).run()
                let folded = try StreamSimulator(plan: plan).run()
                Self.expectSame(reference, folded, "\(trace) on \(config)")
                pairs += 1
            }
        }
        // 7 configurations × 11 inference workloads when this was written.
        #expect(pairs == configs.count * traces.count && configs.count >= 7 && traces.count >= 11, "\(pairs) pairs")
    }

    /// Random small networks (convolutions, GEMMs, pooling and elementwise layers) on random arrays,
    /// buffers and DRAM, seeded.
    @Test func randomCasesAreIdentical() throws {
        var rng = SplitMix64(seed: 13)
        for case_ in 0..<60 {
            let rows = [4, 8, 16, 32][Int(rng.next() % 4)], cols = [4, 8, 16][Int(rng.next() % 3)]
            let df = ["os", "ws", "is"][Int(rng.next() % 3)]
            let buffer = ["16 KiB", "64 KiB", "1 MiB"][Int(rng.next() % 3)]
            let bw = ["unlimited", "1 GB/s", "12.8 GB/s", "100 GB/s"][Int(rng.next() % 4)]
            let latency = ["0 ns", "100 ns", "2 us"][Int(rng.next() % 3)]
            var layers: [LayerOp] = []
            for _ in 0..<(2 + Int(rng.next() % 6)) {
                switch rng.next() % 4 {
                case 0:
                    let hw = 8 + Int(rng.next() % 24), c = 1 + Int(rng.next() % 32)
                    layers.append(.conv2d(Conv2D(input: (hw, hw, c), kernel: (3, 3), filters: 1 + Int(rng.next() % 48), stride: 1 + Int(rng.next() % 2), padding: 1)))
                case 1: layers.append(.gemm(GEMM(m: 1 + Int(rng.next() % 200), n: 1 + Int(rng.next() % 200), k: 1 + Int(rng.next() % 200))))
                case 2: layers.append(.pool(Pool(kind: .maxpool, input: (16, 16, 8), kernel: (2, 2), stride: 2)))
                default: layers.append(.elementwise(Elementwise(kind: .add, elements: 1 + Int(rng.next() % 50_000))))
                }
            }
            let hwModel = HardwareModel(try KindTable.hardwareLoader.parse(
                """
                tessera: 1
                name: r\(case_)
                kind: array
                clock: 1 GHz
                compute:
                  - {name: pe, kind: systolic-array, rows: \(rows), cols: \(cols), dataflow: \(df)}
                memory:
                  - {name: i, kind: sram, size: \(buffer), role: ifmap}
                  - {name: f, kind: sram, size: \(buffer), role: filter}
                  - {name: o, kind: sram, size: \(buffer), role: ofmap}
                  - {name: dram, kind: dram, bandwidth: \(bw), latency: \(latency)}
                """, file: "hw.yaml"))
            let w = WorkloadSpec(
                name: "w", batch: 1 + Int(rng.next() % 3), phase: .inference, precision: .int8, model: nil,
                layers: layers.enumerated().map { LayerSpec(name: "l\($0.offset)", op: $0.element) }, file: "w.yaml")
            let plan = try Mapper.plan(graph: Elaborator.elaborate(w), hardware: hwModel, workload: "w")
            Self.expectSame(try ReferenceSimulator(plan: plan).run(), try StreamSimulator(plan: plan).run(), "random case \(case_)")
        }
    }
}
