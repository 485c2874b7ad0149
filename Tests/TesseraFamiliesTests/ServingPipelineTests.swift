import Foundation
import Testing
import TesseraCore
import TesseraModel
import TesseraSpec

@testable import TesseraOutput
import TesseraStudy
import TesseraFamilies
import TesseraTestSupport

// LLM serving on a GPU cluster: closed forms for one request on an idle instance, tensor-parallel
// scaling, determinism, the KV-cache bound on the decode batch, DistServe's interference result on
// the bundled traces, and the errors that need the cluster to be found.

private let h100x1 = "configs/gpu/dgx-h100-x1.yaml"

private func hardware(_ config: String = h100x1) throws -> HardwareSpec {
    try KindTable.hardwareLoader.load(path: packageRoot.appendingPathComponent(config).path)
}

private func servingYAML(_ deployment: String, requests: String, model: String = "llama3-8b", extra: String = "") -> String {
    """
    tessera: 1
    name: serve
    phase: inference
    precision: bf16
    transformer: \(model)
    serving:
      \(deployment)
      slo: {ttft: 400 ms, tpot: 40 ms}\(extra)
      requests: \(requests)

    """
}

private func serve(_ yaml: String, on hw: HardwareSpec? = nil) throws -> Report {
    let wl = try WorkloadLoader.parse(yaml, file: "serve.yaml")
    return try Pipeline(hardware: try hw ?? hardware(), workload: wl).run().report
}

private func close(_ a: Double, _ b: Double, _ rel: Double = 1e-6) -> Bool { abs(a - b) <= rel * max(abs(a), abs(b)) + 1e-11 }

/// The H100 preset and the cluster's NVSwitch port: (α, β) of one message between two GPUs.
private func nvswitch() throws -> (GPUPreset, alpha: Double, beta: Double) {
    let hw = try hardware()
    let spec = try #require(hw.cluster)
    let topology = try #require(ClusterTopology(spec))
    var links: [Int] = []
    let alpha = Double(topology.route(0, 1, into: &links)) / 1e12
    let beta = links.map { topology.capacity($0) }.min() ?? 0
    return (topology.gpu, alpha, beta)
}

@Suite struct ServingClosedFormTests {
    let model = TransformerSpec.zoo.first { $0.name == "llama3-8b" } ?? TransformerSpec.zoo[0]

    /// Ring all-reduce of S bytes over n GPUs on idle links: 2(n−1)(α + S/(nβ)).
    func allReduce(_ bytes: Double, n: Int, alpha: Double, beta: Double) -> Double { n < 2 ? 0 : 2 * Double(n - 1) * (alpha + bytes / (Double(n) * beta)) }

    @Test(arguments: [1, 2, 4])
    func oneRequestColocated(tp: Int) throws {
        let (gpu, alpha, beta) = try nvswitch()
        let p = 512, o = 8
        let r = try serve(servingYAML("mode: colocated\n  instances: {gpus: \(tp), tp: \(tp)}", requests: "[{at: 0 ms, prompt: \(p), output: \(o)}]"))
        let s = try #require(r.serving)
        let cost = ServingCost(model: model, gpu: gpu, precision: "bf16", bytesPerElement: 2, tp: tp)
        let L = Double(model.layers), h = Double(model.hidden)
        let ttft = cost.prefillSeconds(prompts: [p]) + 2 * L * allReduce(Double(p) * h * 2, n: tp, alpha: alpha, beta: beta)
        var decode = 0.0
        for j in 1..<o { decode += cost.decodeSeconds(contexts: [p + j]) + 2 * L * allReduce(h * 2, n: tp, alpha: alpha, beta: beta) }
        #expect(close(s.ttft.mean, ttft), "\(s.ttft.mean) vs \(ttft)")
        #expect(close(s.tpot.mean, decode / Double(o - 1)), "\(s.tpot.mean) vs \(decode / Double(o - 1))")
        #expect(close(s.referencePrefill, ttft))
        #expect(s.instances.count == 1 && s.instances[0].decodeIterations == o - 1 && s.instances[0].prefillBatches == 1)
    }

    /// Under NCCL's protocols (`nccl_protocol: ll`) each decode step's 2L all-reduces of h·e bytes
    /// on tp 2 cost LL's launch (6.6 µs) and two LL steps (0.6 µs each) plus the bytes at LL's
    /// bandwidth (min(0.5 × 360 GB/s, 141 GB/s)), where the fabric model charged two 1 µs steps:
    /// TPOT rises by exactly that, and the report says which model ran.
    @Test func ncclProtocolsCostTheDecodeAllReduces() throws {
        let p = 512, o = 8, tp = 2
        let yaml = servingYAML("mode: colocated\n  instances: {gpus: \(tp), tp: \(tp)}", requests: "[{at: 0 ms, prompt: \(p), output: \(o)}]")
        let fabric = try #require(try serve(yaml).serving)
        let hw = try KindTable.hardwareLoader.parse(
            "tessera: 1\nname: h\nkind: gpu-cluster\ngpu: {preset: h100-sxm}\nnodes: 1\ngpus_per_node: 8\nintra_node: {kind: nvswitch, bandwidth: 450 GB/s, efficiency: 0.8, latency: 1 us}\nnccl_protocol: ll\n",
            file: "h.yaml")
        let report = try serve(yaml, on: hw)
        let ll = try #require(report.serving)
        let L = Double(model.layers), bytes = Double(model.hidden) * 2
        let fabricAR = allReduce(bytes, n: tp, alpha: 1e-6, beta: 360e9)
        let llAR = 6.6e-6 + allReduce(bytes, n: tp, alpha: 0.6e-6, beta: 141e9)
        #expect(close(ll.tpot.mean - fabric.tpot.mean, 2 * L * (llAR - fabricAR), 1e-5), "\(ll.tpot.mean) vs \(fabric.tpot.mean)")
        #expect(report.modelNotes.contains { $0.contains("NCCL's protocols (nccl_protocol: ll, forced)") })
        #expect(!(try serve(yaml)).modelNotes.contains { $0.contains("nccl_protocol") })
    }

    /// Disaggregated: the prefill gives the first token; the KV cache (2·L·g·d·p·e) then crosses
    /// to the decode GPUs, head share i to GPU i (one message per pair, S/t each, on its own
    /// ports): α + S/(tβ), which the first decode step waits for.
    @Test func oneRequestDisaggregated() throws {
        let (gpu, alpha, beta) = try nvswitch()
        let p = 1024, o = 16, tp = 2
        let r = try serve(servingYAML("mode: disaggregated\n  prefill: {gpus: 2, tp: 2}\n  decode: {gpus: 2, tp: 2}", requests: "[{at: 10 ms, prompt: \(p), output: \(o)}]"))
        let s = try #require(r.serving)
        let cost = ServingCost(model: model, gpu: gpu, precision: "bf16", bytesPerElement: 2, tp: tp)
        let L = Double(model.layers), h = Double(model.hidden)
        let kv = 2 * L * Double(model.kvHeads * model.headDim * p) * 2
        #expect(close(cost.kvBytes(tokens: p), kv))
        let transfer = alpha + kv / (Double(tp) * beta)
        let ttft = cost.prefillSeconds(prompts: [p]) + 2 * L * allReduce(Double(p) * h * 2, n: tp, alpha: alpha, beta: beta)
        var decode = transfer
        for j in 1..<o { decode += cost.decodeSeconds(contexts: [p + j]) + 2 * L * allReduce(h * 2, n: tp, alpha: alpha, beta: beta) }
        #expect(close(s.ttft.mean, ttft), "\(s.ttft.mean) vs \(ttft)")
        let kvTransfer = try #require(s.kvTransfer)
        #expect(close(kvTransfer.mean, transfer, 1e-5), "\(kvTransfer.mean) vs \(transfer)")
        #expect(close(s.tpot.mean, decode / Double(o - 1)), "\(s.tpot.mean) vs \(decode / Double(o - 1))")
        #expect(s.instances.map(\.role) == ["prefill", "decode"])
        #expect(s.instances[1].ranks == [2, 3])
        #expect(close(s.kvTransferBytes, kv))
    }

    /// Decode at batch 1 streams the weights: about P·e/(t·B_hbm·η) per step, halving with each
    /// doubling of t until kernel floors show; the prefill's products are compute-bound and halve too.
    @Test func timeScalesWithTensorParallelism() throws {
        let gpu = try #require(GPUPreset.named("h100-sxm"))
        let costs = [1, 2, 4, 8].map { ServingCost(model: model, gpu: gpu, precision: "bf16", bytesPerElement: 2, tp: $0) }
        // Every weight but the embedding table (only the batch's rows of it are read).
        let stream = (model.parameters - model.embeddingParameters) * 2 / (gpu.hbmBandwidth * GEMMModel.hbmEfficiency)
        let step1 = costs[0].decodeDenseSeconds(batch: 1)
        #expect(step1 >= stream && step1 < 1.1 * stream, "\(step1) vs weight stream \(stream)")
        for k in 1..<4 {
            let decode = costs[k - 1].decodeDenseSeconds(batch: 1) / costs[k].decodeDenseSeconds(batch: 1)
            let prefill = costs[k - 1].prefillSeconds(prompts: [2048]) / costs[k].prefillSeconds(prompts: [2048])
            // At tp 8 the 3 µs kernel floors and the unsplit element-wise traffic start to show.
            #expect(decode > (k < 3 ? 1.7 : 1.4) && decode <= 2.05, "decode tp \(1 << (k - 1)) → \(1 << k): ×\(decode)")
            #expect(prefill > 1.6 && prefill <= 2.05, "prefill tp \(1 << (k - 1)) → \(1 << k): ×\(prefill)")
        }
        // Attention over the KV cache is linear in the context.
        #expect(close(costs[0].decodeAttentionSeconds(contextTokens: 4000), 2 * costs[0].decodeAttentionSeconds(contextTokens: 2000)))
        // Prefill attention is quadratic in the prompt (compute-bound products).
        let a = costs[0].promptAttentionSeconds(prompt: 8192) / costs[0].promptAttentionSeconds(prompt: 4096)
        #expect(a > 3.5 && a < 4.5, "\(a)")
    }
}

@Suite struct ServingPipelineTests {
    @Test func sameSeedSameReportOtherSeedOtherArrivals() throws {
        let hw = try hardware()
        let path = packageRoot.appendingPathComponent("traces/llama3-8b-serving-disaggregated.yaml").path
        let wl = try WorkloadLoader.load(path: path)
        let a = try Pipeline(hardware: hw, workload: wl).run().report.json()
        let b = try Pipeline(hardware: hw, workload: wl).run().report.json()
        #expect(a == b)
        var other = wl
        let reseeded = try WorkloadLoader.parse(String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "seed: 1", with: "seed: 2"), file: "t.yaml")
        other.serving?.requests = try #require(reseeded.serving).requests
        #expect(other.serving?.requests != wl.serving?.requests)
        #expect(try Pipeline(hardware: hw, workload: other).run().report.json() != a)
    }

    @Test func poissonArrivalsHaveTheRate() {
        let t = ServingSpec.poissonArrivals(rate: 5, count: 20000, seed: 7)
        #expect(t == ServingSpec.poissonArrivals(rate: 5, count: 20000, seed: 7))
        #expect(zip(t, t.dropFirst()).allSatisfy { $0 <= $1 })
        let meanGap = t[t.count - 1] / Double(t.count)
        #expect(abs(meanGap - 0.2) < 0.2 * 0.03, "\(meanGap)")
    }

    /// DistServe's observation on the bundled traces: with prefills interleaved, colocated decode
    /// steps stall behind them and TPOT grows; disaggregated decode runs undisturbed.
    @Test func disaggregationRemovesPrefillInterference() throws {
        let hw = try hardware()
        func run(_ mode: String) throws -> Report.Serving {
            let wl = try WorkloadLoader.load(path: packageRoot.appendingPathComponent("traces/llama3-8b-serving-\(mode).yaml").path)
                let report = try Pipeline(hardware: hw, workload: wl).run().report
            return try #require(report.serving)
        }
        let colocated = try run("colocated"), disaggregated = try run("disaggregated")
        #expect(colocated.gpus == disaggregated.gpus && colocated.requests == disaggregated.requests)
        #expect(colocated.tpot.p90 > 1.3 * disaggregated.tpot.p90, "\(colocated.tpot.p90) vs \(disaggregated.tpot.p90)")
        #expect(colocated.tpot.p90 > 1.5 * colocated.referenceDecodeStep)
        #expect(disaggregated.tpot.p90 < 1.3 * disaggregated.referenceDecodeStep)
        #expect(disaggregated.tpotAttainment == 1 && colocated.tpotAttainment < 1)
        #expect(disaggregated.attainment > colocated.attainment)
        #expect(disaggregated.goodput > colocated.goodput)
        // Every request produced all its tokens.
        #expect(abs(colocated.outputTokensPerSecond * colocated.seconds - 200 * 128) < 1e-6 * 25600)
    }

    /// A GPU with little memory left after the weights holds few KV caches: the decode batch stops
    /// growing at the capacity, below max_batch.
    @Test func kvCacheCapacityBoundsTheBatch() throws {
        let hw = try KindTable.hardwareLoader.parse(
            """
            tessera: 1
            name: small-hbm
            kind: gpu-cluster
            gpu: {preset: h100-sxm, hbm_capacity: 20 GB}
            nodes: 1
            gpus_per_node: 2
            intra_node: {kind: nvswitch, bandwidth: 450 GB/s, efficiency: 0.8, latency: 1 us}
            """, file: "small.yaml")
        let r = try serve(servingYAML("mode: colocated\n  instances: {gpus: 1, tp: 1}", requests: "{rate: 200/s, count: 60, prompt: 1024, output: 128}"), on: hw)
        let s = try #require(r.serving)
        let i = s.instances[0]
        let perRequest = 1024 + 128
        #expect(i.kvCapacityTokens == Int((0.9 * 20e9 - 8_029_995_008.0 * 2) / (2 * 32 * 8 * 128 * 2)))
        #expect(i.peakKVTokens <= i.kvCapacityTokens)
        #expect(i.peakDecodeBatch == i.kvCapacityTokens / perRequest, "\(i.peakDecodeBatch)")
        #expect(i.peakDecodeBatch < 256)
    }

    @Test func groupsBeyondTheClusterAndWeightsBeyondMemoryAreLocated() throws {
        do {
            _ = try serve(servingYAML("mode: disaggregated\n  prefill: {gpus: 4, tp: 2}\n  decode: {gpus: 6, tp: 2}", requests: "{rate: 1/s, count: 2, prompt: 64, output: 4}"))
            Issue.record("10 GPUs on an 8-GPU cluster ran")
        } catch let e as InputError {
            #expect(e.description.hasPrefix("serve.yaml:9:11: error: the serving groups need more GPUs than the cluster has"), "\(e)")
        }
        do {
            _ = try serve(servingYAML("mode: colocated\n  instances: {gpus: 1, tp: 1}", requests: "{rate: 1/s, count: 2, prompt: 64, output: 4}", model: "llama3-70b"))
            Issue.record("Llama 3 70B on one H100 ran")
        } catch let e as InputError {
            #expect(e.description.contains("serve.yaml:8:14: error: the model's weights do not fit in the GPUs of one instance"), "\(e)")
        }
        let array = try hardware("configs/array/ideal-32x32-os.yaml")
        #expect(throws: InputError.self) { try serve(servingYAML("mode: colocated\n  instances: {gpus: 1, tp: 1}", requests: "{rate: 1/s, count: 2, prompt: 64, output: 4}"), on: array) }
    }

    @Test func reportsCarryServingInEveryFormat() throws {
        let hw = try hardware()
        let wl = try WorkloadLoader.load(path: packageRoot.appendingPathComponent("traces/llama3-8b-serving-colocated.yaml").path)
        let r = try Pipeline(hardware: hw, workload: wl).run().report
        let json = r.json()
        for key in ["\"serving\"", "\"ttft\"", "\"tpot\"", "\"p99_s\"", "\"goodput_rps\"", "\"attainment\"", "\"throughput_tokens_per_s\"", "\"instances\""] { #expect(json.contains(key), "\(key)") }
        #expect(r.markdown().contains("## Serving"))
        #expect(r.table().contains("served colocated on 4 GPUs"))
        #expect(r.modelNotes.contains { $0.hasPrefix("serving:") })
    }
}
