import Testing
import TesseraCore
import TesseraModel
import TesseraSpec

@testable import TesseraGraph

/// A serving workload elaborated before it is placed: one reference request (the mean prompt and
/// output), whose prefill and decode step add up to `ServingCost`'s closed forms, with 2
/// all-reduces per layer of the right size, and a KV-cache transfer only when disaggregated.
@Suite struct ServingElaboratorTests {
    static func spec(_ deployment: String) throws -> (ServingSpec, Precision) {
        let yaml = "tessera: 1\nname: s\nphase: inference\nprecision: bf16\ntransformer: llama3-8b\nserving:\n  \(deployment)\n  max_batch: 8\n"
            + "  slo: {ttft: 400 ms, tpot: 40 ms}\n  requests: [{at: 0 ms, prompt: 1000, output: 9}, {at: 1 ms, prompt: 1100, output: 11}]\n"
        let w = try WorkloadLoader.parse(yaml, file: "w.yaml")
        return (try #require(w.serving), w.precision)
    }

    @Test func aReferenceRequestAddsUpToTheCostModel() throws {
        let gpu = try #require(GPUPreset.named("h100-sxm"))
        let (s, precision) = try Self.spec("mode: disaggregated\n  prefill: {gpus: 2, tp: 2}\n  decode: {gpus: 1, tp: 1}")
        let g = ServingElaborator.elaborate(s, gpu: gpu, precision: precision)
        let L = s.transformer.layers, h = s.transformer.hidden
        func seconds(_ prefix: String) -> Double {
            g.operations.filter { $0.name.hasPrefix(prefix) }.reduce(0.0) { t, op in
                if case .device(.compute(let x), _) = op.kind { return t + x }
                return t
            }
        }
        func allReduces(_ prefix: String) -> [UInt64] {
            g.operations.filter { $0.name.hasPrefix(prefix) }.compactMap { op in
                if case .device(.collective(let c), _) = op.kind, c.op == .allReduce { return c.bytes }
                return nil
            }
        }
        let prefill = ServingCost(model: s.transformer, gpu: gpu, precision: "bf16", bytesPerElement: 2, tp: 2)
        let decode = ServingCost(model: s.transformer, gpu: gpu, precision: "bf16", bytesPerElement: 2, tp: 1)
        // Mean prompt 1050, mean output 10: 9 decode steps.
        #expect(abs(seconds("prefill.") - prefill.prefillSeconds(prompts: [1050])) < 1e-12)
        #expect(abs(seconds("decode step ×9.") - decode.decodeSeconds(contexts: [1051])) < 1e-12)
        #expect(allReduces("prefill.") == Array(repeating: UInt64(1050 * h * 2), count: 2 * L))
        #expect(allReduces("decode step").isEmpty)  // tp 1
        let kv = g.operations.filter { $0.name.hasPrefix("kv-cache.") }
        #expect(kv.count == 1)
        if case .device(.collective(let c), _)? = kv.first?.kind { #expect(Double(c.bytes) == prefill.kvBytes(tokens: 1050)) }
        // A chain: each operation after the one before it.
        #expect(g.operations.enumerated().allSatisfy { $0.offset == 0 ? $0.element.dependencies.isEmpty : $0.element.dependencies == [OpID($0.offset - 1)] })
    }

    @Test func colocatedHasNoTransfer() throws {
        let gpu = try #require(GPUPreset.named("h100-sxm"))
        let (s, precision) = try Self.spec("mode: colocated\n  instances: {gpus: 2, tp: 2}")
        let g = ServingElaborator.elaborate(s, gpu: gpu, precision: precision)
        #expect(!g.operations.contains { $0.name.hasPrefix("kv-cache") })
        #expect(g.operations.count == 2 * (3 * s.transformer.layers + 1))
    }
}
