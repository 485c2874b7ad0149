import Testing
import TesseraCore
import TesseraModel
import TesseraPlan
import TesseraSpec
import TesseraTestSupport

@testable import TesseraSim

/// The serving executor (continuous batching as a task source) on its own: a lone request's
/// timing in closed form, the batch limit, every request finishing after it arrived, and the
/// iteration runs covering every iteration without overlap.
@Suite struct ServingSimulatorTests {
    static func plan(_ serving: String, gpus: Int = 2) throws -> ServingPlan {
        let wl = "tessera: 1\nname: s\nphase: inference\nprecision: bf16\ntransformer: llama3-8b\nserving:\n  slo: {ttft: 400 ms, tpot: 40 ms}\n" + serving
        let w = try WorkloadLoader.parse(wl, file: "w.yaml")
        let topology = try ClusterFixture.topology(ClusterFixture.yaml(nodes: 1, gpusPerNode: gpus))
        let spec = try #require(w.serving)
        return try ServingPlan.plan(spec, precision: w.precision, topology: topology, file: "hw.yaml")
    }

    /// One request, alone: its first token comes one prefill after it arrives, and every other
    /// token one decode step later; one run of one prefill, then one run of `output − 1` steps.
    @Test func aLoneRequestIsOnePrefillThenItsDecodeSteps() throws {
        let p = try Self.plan("  mode: colocated\n  instances: {gpus: 2, tp: 2}\n  max_batch: 8\n  requests: [{at: 5 ms, prompt: 512, output: 6}]\n")
        let r = try ServingSimulator(plan: p).run()
        let q = try #require(r.requests.first)
        let s = r.instances[0]
        #expect(s.prefillBatches == 1 && s.decodeIterations == 5 && s.decodeTokens == 5)
        #expect(abs(q.ttft - s.prefillSeconds) < 1e-12)
        #expect(abs((q.finish - q.firstToken) - s.decodeSeconds) < 1e-12)
        #expect(r.iterationRuns.map(\.count) == [1, 5])
        #expect(r.iterationRuns.map(\.prefill) == [true, false])
        #expect(r.iterationRuns[0].start == 5e-3 && r.iterationRuns[1].start == r.iterationRuns[0].end)
        #expect(r.iterationRuns[1].end == q.finish && r.end == q.finish)
    }

    /// Many requests at once on a batch limit of 3: the running batch never exceeds it, every
    /// request finishes after its first token, which comes after it arrives, and the runs cover
    /// every iteration, one after another on each instance.
    @Test func theBatchLimitHoldsAndRunsCoverEveryIteration() throws {
        let requests = (0..<10).map { "{at: \($0) ms, prompt: \(128 + 64 * $0), output: \(3 + $0 % 4)}" }.joined(separator: ", ")
        let p = try Self.plan("  mode: colocated\n  instances: {gpus: 2, tp: 1}\n  max_batch: 3\n  requests: [\(requests)]\n")
        let r = try ServingSimulator(plan: p).run()
        #expect(r.instances.allSatisfy { $0.peakBatch <= 3 })
        #expect(r.requests.allSatisfy { $0.arrival <= $0.firstToken && $0.firstToken < $0.finish })
        #expect(r.requests.map(\.prefillInstance).allSatisfy { $0 >= 0 && $0 < 2 })
        let iterations = r.instances.reduce(0) { $0 + $1.prefillBatches + $1.decodeIterations }
        #expect(r.iterationRuns.reduce(0) { $0 + Int($1.count) } == iterations)
        #expect(r.iterationRuns.allSatisfy { $0.minBatch >= 1 && $0.minBatch <= $0.batch && $0.batch <= 3 || $0.prefill })
        for i in 0..<2 {
            let runs = r.iterationRuns.filter { $0.instance == Int32(i) }
            #expect(zip(runs, runs.dropFirst()).allSatisfy { $0.end <= $1.start })
            let busy = runs.reduce(0.0) { $0 + ($1.end - $1.start) }
            #expect(abs(busy - r.instances[i].busySeconds) < 1e-9)
        }
    }

    /// Disaggregated: a request's KV cache travels from the prefill instance to the decode
    /// instance before its second token.
    @Test func disaggregatedRequestsMoveTheirKVCache() throws {
        let p = try Self.plan(
            "  mode: disaggregated\n  prefill: {gpus: 1, tp: 1}\n  decode: {gpus: 1, tp: 1}\n  max_batch: 4\n  requests: [{at: 0 ms, prompt: 1024, output: 4}, {at: 1 ms, prompt: 256, output: 2}]\n")
        let r = try ServingSimulator(plan: p).run()
        for q in r.requests {
            #expect(q.prefillInstance != q.decodeInstance)
            #expect(q.kvTransfer > 0)
            #expect(q.finish >= q.firstToken + q.kvTransfer)
        }
        #expect(!r.linkBytes.isEmpty)
    }
}
