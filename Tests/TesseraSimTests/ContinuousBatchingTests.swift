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
@Suite struct ContinuousBatchingTests {
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
        let r = try ContinuousBatching.run(p)
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
        let r = try ContinuousBatching.run(p)
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
        let r = try ContinuousBatching.run(p)
        for q in r.requests {
            #expect(q.prefillInstance != q.decodeInstance)
            #expect(q.kvTransfer > 0)
            #expect(q.finish >= q.firstToken + q.kvTransfer)
        }
        #expect(!r.linkBytes.isEmpty)
    }
}

/// Continuous batching on the cluster executor against the serving engine it replaced
/// (`ReferenceServingSimulator`, its own event loop): identical requests, instances, iteration
/// runs and link traffic wherever no two KV transfers overlap (every colocated run; disaggregated
/// runs whose transfers end before the next prefill does), and KV transfers that do overlap now
/// share their links.
@Suite struct ContinuousBatchingEquivalenceTests {
    static func expectSame(_ a: ContinuousBatching.Result, _ b: ReferenceServingSimulator.Result, events: Bool) {
        #expect(a.requests.count == b.requests.count)
        for (x, y) in zip(a.requests, b.requests) {
            #expect(x.firstToken == y.firstToken && x.finish == y.finish && x.kvTransfer == y.kvTransfer)
            #expect(x.prefillInstance == y.prefillInstance && x.decodeInstance == y.decodeInstance)
        }
        #expect(a.end == b.end)
        for (x, y) in zip(a.instances, b.instances) {
            #expect(x.prefillSeconds == y.prefillSeconds && x.decodeSeconds == y.decodeSeconds)
            #expect(x.prefillBatches == y.prefillBatches && x.decodeIterations == y.decodeIterations && x.decodeTokens == y.decodeTokens)
            #expect(x.peakBatch == y.peakBatch && x.peakKVTokens == y.peakKVTokens)
        }
        #expect(a.iterationRuns.count == b.iterationRuns.count)
        for (x, y) in zip(a.iterationRuns, b.iterationRuns) {
            #expect(x.instance == y.instance && x.prefill == y.prefill && x.count == y.count && x.batch == y.batch && x.minBatch == y.minBatch)
            #expect(x.start == y.start && x.end == y.end)
        }
        #expect(a.linkBytes.keys.sorted() == b.linkBytes.keys.sorted())
        for (id, bytes) in b.linkBytes { #expect(abs((a.linkBytes[id] ?? 0) - bytes) <= 1e-9 * bytes) }
        if events { #expect(a.events == b.events) }
    }

    /// Poisson traces of several seeds, colocated on 2 or 4 instances of tp 1 or 2: the same run
    /// event for event.
    @Test(arguments: [(1, 2, 1), (7, 4, 1), (42, 2, 2), (2027, 1, 4)])
    func colocatedRunsAreIdentical(seed: Int, instances: Int, tp: Int) throws {
        let p = try ContinuousBatchingTests.plan(
            "  mode: colocated\n  instances: {gpus: \(instances * tp), tp: \(tp)}\n  max_batch: 16\n  requests: {rate: 40/s, count: 120, prompt: 700, output: 40, seed: \(seed)}\n",
            gpus: 4)
        Self.expectSame(try ContinuousBatching.run(p), try ReferenceServingSimulator(plan: p).run(), events: true)
    }

    /// Disaggregated, one prompt per prefill batch, transfers far shorter than a prefill: no two
    /// transfers overlap, so nothing is shared and the runs are identical.
    @Test(arguments: [3, 11])
    func disaggregatedRunsWithoutOverlapAreIdentical(seed: Int) throws {
        let p = try ContinuousBatchingTests.plan(
            "  mode: disaggregated\n  prefill: {gpus: 2, tp: 2}\n  decode: {gpus: 2, tp: 2}\n  max_batch: 32\n  max_prefill_tokens: 1024\n"
                + "  requests: {rate: 10/s, count: 60, prompt: 1024, output: 24, seed: \(seed)}\n", gpus: 4)
        let a = try ContinuousBatching.run(p), b = try ReferenceServingSimulator(plan: p).run()
        #expect(a.requests.allSatisfy { $0.kvTransfer > 0 })
        Self.expectSame(a, b, events: false)
    }

    /// Two prefill instances finish the same prompt at the same moment and both send its KV cache
    /// to the one decode GPU: the two transfers share that GPU's link, so each takes longer than
    /// alone (the replaced engine ran each alone), and no longer than the two one after another.
    @Test func overlappingTransfersShareTheirLinks() throws {
        let p = try ContinuousBatchingTests.plan(
            "  mode: disaggregated\n  prefill: {gpus: 2, tp: 1}\n  decode: {gpus: 1, tp: 1}\n  max_batch: 4\n"
                + "  requests: [{at: 0 ms, prompt: 2048, output: 3}, {at: 0 ms, prompt: 2048, output: 3}]\n", gpus: 4)
        let a = try ContinuousBatching.run(p), b = try ReferenceServingSimulator(plan: p).run()
        #expect(Set(a.requests.map(\.prefillInstance)) == [0, 1])
        #expect(a.requests[0].firstToken == a.requests[1].firstToken)
        for (x, y) in zip(a.requests, b.requests) {
            #expect(x.kvTransfer > 1.5 * y.kvTransfer)
            #expect(x.kvTransfer <= 2 * y.kvTransfer)
            #expect(x.finish > y.finish)
        }
        // Fluid sharing: each moves S bytes at half the decode GPU's link, 2·S/β in all.
        let bytes = p.instances[0].cost.kvBytes(tokens: 2048)
        let link = p.topology.capacity(try #require(a.linkBytes.keys.sorted().first))
        #expect(abs(a.requests[0].kvTransfer - 2 * bytes / link) < 1e-9)
    }
}
