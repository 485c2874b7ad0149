import Foundation
import Testing
import TesseraCore
import TesseraModel
import TesseraPlan
import TesseraSim
import TesseraSpec

@testable import TesseraOutput
import TesseraStudy
@testable import TesseraFamilies
import TesseraTestSupport

/// A small transformer that runs in milliseconds: 8 layers, 1024 wide, 8 heads, FFN 4096, 512 tokens.
private let smallModel = "{layers: 8, hidden: 1024, heads: 8, ffn: 4096, seq_len: 512, vocab: 1000}"

private func cluster(nodes: Int, gpusPerNode: Int = 1, inter: String = "{kind: switch, bandwidth: 50 GB/s, latency: 5 us}") -> String {
    var s = "tessera: 1\nname: c\nkind: gpu-cluster\ngpu: {preset: h100-sxm}\nnodes: \(nodes)\ngpus_per_node: \(gpusPerNode)\n"
    if gpusPerNode > 1 { s += "intra_node: {kind: nvswitch, bandwidth: 450 GB/s, efficiency: 0.8, latency: 1 us}\n" }
    if nodes > 1 { s += "inter_node: \(inter)\n" }
    return s
}

private func training(_ parallelism: String, batch: Int = 16, model: String = smallModel, extra: String = "") -> String {
    "tessera: 1\nname: t\nphase: training\nprecision: bf16\nbatch: \(batch)\ntransformer: \(model)\nparallelism: \(parallelism)\n" + extra
}

private func run(_ hw: String, _ wl: String) throws -> Pipeline.Output {
    let h = try KindTable.hardwareLoader.parse(hw, file: "hw.yaml")
    let w = try WorkloadLoader.parse(wl, file: "w.yaml")
    return try Pipeline(hardware: h, workload: w).run()
}

private func step(_ hw: String, _ wl: String) throws -> Report.ClusterStep { try #require(try run(hw, wl).report.clusterStep) }

/// The input error a run gives, or nil.
private func error(_ hw: String, _ wl: String) -> InputError? {
    do {
        _ = try run(hw, wl)
        return nil
    } catch let e as InputError {
        return e
    } catch {
        return nil
    }
}

@Suite struct TransformerZooTests {
    /// Parameter counts against the papers: GPT-3 "175B" (Brown et al. 2020, Table 2.1), Llama 3
    /// 8B and 70B (Llama Team 2024, Table 3; 8.03 B and 70.6 B in the released checkpoints),
    /// Mixtral 8x7B 46.7 B total (Jiang et al. 2024, §2.1: "47B").
    @Test(arguments: [("gpt3-175b", 175e9), ("llama3-8b", 8.03e9), ("llama3-70b", 70.6e9), ("mixtral-8x7b", 46.7e9)])
    func parameterCountsMatchThePapers(_ name: String, _ published: Double) throws {
        let t = try #require(TransformerSpec.named(name))
        #expect(abs(t.parameters - published) / published < 0.01, "\(name): \(t.parameters)")
    }

    /// Model FLOPs of a step equal Megatron-LM's closed form (Narayanan et al. 2021, eq. 3, without
    /// recomputation, attention counted causal: half of its s/(6h) term):
    /// 72·B·s·L·h²·(1 + s/(12h) + V/(12·L·h)).
    @Test func modelFlopsMatchMegatronsClosedForm() throws {
        let s = try step(cluster(nodes: 1), training("{}", batch: 4, model: "{layers: 4, hidden: 2048, heads: 16, ffn: 8192, seq_len: 1024, vocab: 32000}"))
        let (B, sq, L, h, V) = (4.0, 1024.0, 4.0, 2048.0, 32000.0)
        let expected = 72 * B * sq * L * h * h * (1 + sq / (12 * h) + V / (12 * L * h))
        #expect(abs(s.modelFlops - expected) / expected < 1e-9, "\(s.modelFlops) vs \(expected)")
    }
}

@Suite struct ClusterTrainingTests {
    /// 1F1B on p stages with microbatches of forward t_f and backward t_b per stage (the last
    /// stage also runs the output layer, h_f and h_b) on a network that costs nothing: the last
    /// stage starts after (p−1)·t_f, never idles (it is the slowest), and the last backward then
    /// walks back through stage s in (p−1−s)·t_b before its optimizer:
    /// step = max_s [(p−1)·t_f + M·(t_f + t_b + h_f + h_b) + (p−1−s)·t_b + opt_s] — the classic
    /// (M + p − 1)(t_f + t_b) when the output layer is free (Narayanan et al. 2021, §2.2).
    @Test func pipelineStepMatchesTheOneFOneBClosedForm() throws {
        let hw = cluster(nodes: 4, inter: "{kind: switch, bandwidth: 1000000 GB/s, latency: 0 s}")
        let wl = training("{pp: 4, microbatch: 1}", batch: 16)
        let out = try run(hw, wl)
        let s = try #require(out.report.clusterStep)
        let w = try WorkloadLoader.parse(wl, file: "w.yaml")
        let h = try KindTable.hardwareLoader.parse(hw, file: "hw.yaml")
        let llm = try #require(w.llm)
        let spec = try #require(h.cluster)
        let topology = try #require(ClusterTopology(spec))
        let plan = try TrainingStepPlanner.plan(llm, precision: .bf16, topology: topology, batch: 16, batchLocation: w.phaseLocation)
        let c = plan.cost
        let L = Double(plan.layersPerStage), p = 4.0, M = 16.0
        let tf = L * (c.forward.attention + c.forward.ffn), tb = L * (c.backward.attention + c.backward.ffn)
        let steady: Double = (p - 1) * tf + M * (tf + tb + c.headForward + c.headBackward)
        var expected = 0.0
        for st in 0..<4 {
            let drain: Double = (p - 1 - Double(st)) * tb
            expected = max(expected, steady + drain + c.optimizerSeconds(parameters: plan.stageParameters[st]))
        }
        #expect(abs(s.stepSeconds - expected) / expected < 1e-5, "\(s.stepSeconds) vs \(expected)")
        // The bubble is the idle time: (p−1)/M of the work, give or take the output layer.
        #expect(s.split.idle > 0)
        #expect(s.split.exposedComm < 1e-5 * s.stepSeconds)
    }

    /// Simulating every replica on its own (the reference) gives the same step as merging the
    /// identical ones (to rounding: shares of a quarter each instead of one whole), with and
    /// without a straggler: the reduction is exact.
    @Test func mergingIdenticalReplicasIsExact() throws {
        let hwText = cluster(nodes: 2, gpusPerNode: 8, inter: "{kind: switch, nic: 400 Gb/s, nics_per_node: 8, latency: 5 us}")
        let h = try KindTable.hardwareLoader.parse(hwText, file: "hw.yaml")
        let spec = try #require(h.cluster)
        let topology = try #require(ClusterTopology(spec))
        for extra in ["", "faults:\n  - {gpu: 5, slowdown: 1.7}\n"] {
            let w = try WorkloadLoader.parse(training("{tp: 2, pp: 2, dp: 4, zero: 1}", batch: 16, extra: extra), file: "w.yaml")
            let llm = try #require(w.llm)
            let merged = try TrainingStepPlanner.plan(llm, precision: .bf16, topology: topology, batch: 16, batchLocation: w.phaseLocation)
            let each = try TrainingStepPlanner.plan(llm, precision: .bf16, topology: topology, batch: 16, batchLocation: w.phaseLocation, mergeReplicas: false)
            #expect(each.entities.count == 8 && merged.entities.count == (extra.isEmpty ? 2 : 4))
            let a = try TaskExecutor(plan: merged.taskPlan).run(), b = try TaskExecutor(plan: each.taskPlan).run()
            #expect(abs(a.stepSeconds - b.stepSeconds) <= 1e-12 * a.stepSeconds, "\(a.stepSeconds) vs \(b.stepSeconds)")
            #expect(a.linkIDs == b.linkIDs)
        }
    }

    /// With tensor groups of 2 and data-parallel groups of 4 in one node, both use the NVSwitch
    /// ports: a tensor all-reduce during a gradient bucket is slowed (it shares the ports), so the
    /// step is longer than with collectives simulated apart; on separate links nothing changes.
    @Test func concurrentCollectivesShareTheirLinks() throws {
        let hwText = cluster(nodes: 2, gpusPerNode: 8, inter: "{kind: switch, nic: 400 Gb/s, nics_per_node: 8, latency: 5 us}")
        let out = try run(hwText, training("{tp: 2, pp: 2, dp: 4, zero: 1}", batch: 16))
        let plan = try #require(out.clusterStep).plan
        let shared = try TaskExecutor(plan: plan.taskPlan).run(), apart = try TaskExecutor(plan: plan.taskPlan, sharedLinks: false).run()
        #expect(shared.stepSeconds > apart.stepSeconds)
        let slowed = plan.tasks.indices.filter { plan.tasks[$0].kind == .tp && shared.end[$0] - shared.start[$0] > 1.1 * (apart.end[$0] - apart.start[$0]) }
        #expect(!slowed.isEmpty)
        // Tensor parallelism inside each node, data parallelism across nodes: no link in common.
        let separate = try run(cluster(nodes: 4, gpusPerNode: 2, inter: "{kind: switch, nic: 400 Gb/s, nics_per_node: 2, latency: 5 us}"), training("{tp: 2, dp: 4}", batch: 8))
        let p2 = try #require(separate.clusterStep).plan
        #expect(try TaskExecutor(plan: p2.taskPlan).run().stepSeconds == TaskExecutor(plan: p2.taskPlan, sharedLinks: false).run().stepSeconds)
    }

    /// Sequence parallelism (Korthikanti et al. 2022, Table 2): activations per layer go from
    /// s·b·h·(10 + 24/t + x) to s·b·h·(34/t + x), where x is the attention's share: with
    /// FlashAttention (the default) each row's softmax log-sum-exp, 4a/(ht); each all-reduce becomes
    /// a reduce-scatter and an all-gather whose ring times add up to the all-reduce's exactly.
    @Test func sequenceParallelismSplitsActivationsAndKeepsTheRingTime() throws {
        let hw = cluster(nodes: 1, gpusPerNode: 8)
        let plain = try run(hw, training("{tp: 8}", batch: 1))
        let sp = try run(hw, training("{tp: 8, sequence_parallel: true}", batch: 1))
        let sbh: Double = 512 * 1 * 1024
        let scores: Double = 4.0 * 8 / (1024 * 8)  // 4a/(ht): the log-sum-exp FlashAttention keeps
        let logits: Double = 4 * 512 * 1000 / 8
        let m0: Double = try #require(plain.report.clusterStep).stages[0].memory.activations
        let m1: Double = try #require(sp.report.clusterStep).stages[0].memory.activations
        let expected0: Double = logits + 8 * sbh * (10 + 24 / 8 + scores)  // 8 layers, one microbatch in flight
        let expected1: Double = logits + 8 * sbh * (34 / 8 + scores)
        #expect(abs(m0 - expected0) < 1)
        #expect(abs(m1 - expected1) < 1)
        let p0 = try #require(plain.clusterStep), p1 = try #require(sp.clusterStep)
        let ar: [Double] = p0.plan.tasks.indices.filter { p0.plan.tasks[$0].kind == .tp }.map { p0.result.end[$0] - p0.result.start[$0] }
        let rsag: [Double] = p1.plan.tasks.indices.filter { p1.plan.tasks[$0].kind == .tp }.map { p1.result.end[$0] - p1.result.start[$0] }
        #expect(rsag.count == 2 * ar.count)
        let arTotal = ar.reduce(0, +), rsagTotal = rsag.reduce(0, +)
        #expect(abs(rsagTotal - arTotal) < 1e-9 * arTotal)
    }

    /// Partial recomputation (Megatron's block method): with k of a chunk's layers recomputed, the
    /// step is exactly full recomputation at k = all layers and exactly none at the compute of the
    /// others; the k recomputed layers keep 2sbh each and the rest keep everything; each recomputed
    /// layer reruns its forward's tensor-parallel collectives (and only those layers).
    @Test func partialRecomputationRecomputesTheFirstLayersOfEachChunk() throws {
        let hw = cluster(nodes: 1, gpusPerNode: 8)
        func layout(_ extra: String) -> String { training("{tp: 4, pp: 2, microbatch: 1\(extra)}", batch: 4) }
        let none = try run(hw, layout(", recompute: none")), full = try run(hw, layout(", recompute: full"))
        let all = try run(hw, layout(", recompute: full, recompute_num_layers: 4"))
        let three = try run(hw, layout(", recompute: full, recompute_num_layers: 3"))
        let beyond = try run(hw, layout(", recompute: full, recompute_num_layers: 9"))
        let s = { (o: Pipeline.Output) throws -> Report.ClusterStep in try #require(o.report.clusterStep) }
        // k = the chunk's layers (4 per stage) or more: full recomputation, to the picosecond.
        #expect(try s(all).stepSeconds == s(full).stepSeconds)
        #expect(try s(beyond).stepSeconds == s(full).stepSeconds)
        #expect(try s(all).stages[0].memory.activations == s(full).stages[0].memory.activations)
        // k = 3: between none and full, in time and in memory.
        let t0 = try s(none).stepSeconds, t3 = try s(three).stepSeconds, t4 = try s(full).stepSeconds
        #expect(t0 < t3 && t3 < t4, "\(t0) \(t3) \(t4)")
        let a0 = try s(none).stages[0].memory.activations, a3 = try s(three).stages[0].memory.activations, a4 = try s(full).stages[0].memory.activations
        // Per chunk: 3 layers of 2sbh (tp does not split it without sequence parallelism) + 1 full layer.
        let plan = try #require(three.clusterStep).plan
        let perLayerNone = plan.cost.activationBytesPerLayer(recompute: .none), perLayerFull = plan.cost.activationBytesPerLayer(recompute: .full)
        #expect(abs((a3 - a4) - (perLayerNone - perLayerFull) * (a4 / (4 * perLayerFull))) < 1e-6 * a0, "\(a0) \(a3) \(a4)")
        #expect(a4 < a3 && a3 < a0)
        // Recomputed collectives: two per recomputed layer (attention, ffn) and microbatch, on each class.
        func recomputeCollectives(_ o: Pipeline.Output) throws -> Int { try #require(o.clusterStep).plan.tasks.filter { $0.name.contains(".recompute.") }.count }
        #expect(try recomputeCollectives(full) == 8 * 4 * 2)
        #expect(try recomputeCollectives(three) == 2 * 3 * 4 * 2)
        #expect(try recomputeCollectives(none) == 0)
        // The layers that rerun are the first of each stage: layer 3 of stage 0 and layer 7 of stage 1 do not.
        let names = try #require(three.clusterStep).plan.tasks.map(\.name).filter { $0.contains(".recompute.") }
        #expect(!names.contains { $0.contains(".layer3.") || $0.contains(".layer7.") })
        #expect(names.contains { $0.contains(".layer4.") })
        // Only with full recomputation.
        let e = try #require(error(hw, layout(", recompute: selective, recompute_num_layers: 2")))
        #expect(e.description.contains("w.yaml:") && e.description.contains("recompute: full with 'recompute_num_layers'"), "\(e)")
    }

    /// Context parallelism splits each sequence over cp GPUs: the model's FLOPs do not change,
    /// each GPU's activations halve at cp = 2, and before each attention the group all-gathers
    /// keys and values in the ring closed form (n−1)(α + S/(nβ)), S = 2·b·s·g·d·e/t.
    @Test func contextParallelismSplitsSequencesAndGathersKeysAndValues() throws {
        let hw = cluster(nodes: 1, gpusPerNode: 8)
        let one = try run(hw, training("{tp: 2, dp: 4}", batch: 4))
        let two = try run(hw, training("{tp: 2, cp: 2, dp: 2}", batch: 4))
        let a = try #require(one.report.clusterStep), b = try #require(two.report.clusterStep)
        #expect(abs(a.modelFlops - b.modelFlops) / a.modelFlops < 1e-9)
        #expect(abs(b.stages[0].memory.activations * 2 - a.stages[0].memory.activations) / a.stages[0].memory.activations < 1e-9)  // one microbatch in flight
        let step = try #require(two.clusterStep)
        let i = try #require(step.plan.tasks.firstIndex { $0.kind == .cp })
        let S = 2.0 * 512 * 1024 * 2 / 2  // K and V: 512 tokens × 8 heads × 128 / tp 2 × 2 bytes
        let expected = (2 - 1) * (1e-6 + S / (2 * 450e9 * 0.8))
        #expect(abs(step.result.end[i] - step.result.start[i] - expected) < 1e-12, "\(step.result.end[i] - step.result.start[i]) vs \(expected)")
        #expect(two.report.json().contains("\"cp\": 2"))
        let odd = error(hw, training("{tp: 2, cp: 2, dp: 2}", batch: 4, model: "{layers: 8, hidden: 1024, heads: 8, ffn: 4096, seq_len: 510, vocab: 1000}"))
        #expect(odd?.description.contains("2·cp balanced pieces") == true)
    }

    /// A tensor-parallel all-reduce inside the step takes the ring closed form on the NVSwitch,
    /// 2(n−1)(α + S/(nβ)) with S = b·s·h·2 bytes, α = 1 µs, β = 450 GB/s × 0.8.
    @Test func tensorParallelAllReducesTakeTheRingClosedForm() throws {
        let out = try run(cluster(nodes: 1, gpusPerNode: 8), training("{tp: 8}", batch: 2))
        let step = try #require(out.clusterStep)
        let i = try #require(step.plan.tasks.firstIndex { $0.kind == .tp })
        let S = 512.0 * 1024 * 2, n = 8.0
        let expected = 2 * (n - 1) * (1e-6 + S / (n * 450e9 * 0.8))
        #expect(abs(step.result.end[i] - step.result.start[i] - expected) < 2 * (n - 1) * 1e-12, "\(step.result.end[i] - step.result.start[i]) vs \(expected)")
    }

    /// Interleaved 1F1B (Narayanan et al. 2021, §2.2.2): with v chunks per stage the pipeline
    /// bubble shrinks from (p − 1)(t_f + t_b) to (p − 1)(t_f + t_b)/v on a free network. Here the
    /// bubble is the step less M·(t_f + t_b), less the output layer's M passes on the last stage
    /// and the optimizer.
    @Test func interleavingShrinksTheBubbleByTheVirtualStages() throws {
        let hw = cluster(nodes: 4, inter: "{kind: switch, bandwidth: 1000000 GB/s, latency: 0 s}")
        let model = "{layers: 8, hidden: 1024, heads: 8, ffn: 4096, seq_len: 512, vocab: 8}"
        var bubbles: [Double] = []
        var stage = 0.0
        for v in [1, 2] {
            let out = try run(hw, training("{pp: 4, virtual_stages: \(v)}", batch: 16, model: model))
            let plan = try #require(out.clusterStep).plan
            let c = plan.cost
            stage = Double(plan.layersPerStage) * (c.forward.attention + c.forward.ffn + c.backward.attention + c.backward.ffn)
            let optimizer = c.optimizerSeconds(parameters: plan.stageParameters[0])
            let head = 16 * (c.headForward + c.headBackward)  // on the last stage, in its steady state
            bubbles.append(try #require(out.report.clusterStep).stepSeconds - 16 * stage - head - optimizer)
        }
        #expect(abs(bubbles[0] - 3 * stage) / (3 * stage) < 0.02, "\(bubbles[0]) vs \(3 * stage)")
        #expect(abs(bubbles[1] - 1.5 * stage) / (1.5 * stage) < 0.05, "\(bubbles[1]) vs \(1.5 * stage)")
    }

    /// Gradient buckets launched during the last backward hide most of the data-parallel
    /// reduction; launched after it, all of it is exposed.
    @Test func bucketedGradientReductionOverlapsTheBackward() throws {
        let hw = cluster(nodes: 8, inter: "{kind: switch, bandwidth: 25 GB/s, latency: 5 us}")
        let on = try step(hw, training("{dp: 8, bucket: 8 MiB, overlap: true}", batch: 8))
        let off = try step(hw, training("{dp: 8, bucket: 8 MiB, overlap: false}", batch: 8))
        #expect(on.stepSeconds < off.stepSeconds)
        #expect(on.split.overlappedComm > 0)
        #expect(off.split.overlappedComm < 1e-9)
        #expect(on.split.exposedComm < off.split.exposedComm)
        // Without overlap the step is compute plus every bucket's reduction one after another.
        #expect(abs(off.split.compute + off.split.exposedComm - off.stepSeconds) / off.stepSeconds < 1e-9)
    }

    /// ZeRO shards the optimizer (1), then the gradients (2), then the weights (3): 16 bytes per
    /// parameter become 2 + 2 + 12/dp, 2 + 14/dp, 16/dp (Rajbhandari et al. 2020, Figure 1).
    /// One microbatch per replica (batch 8 over dp 8).
    @Test func zeroStagesShardMemoryAsThePaperCounts() throws {
        let hw = cluster(nodes: 8)
        var states: [Double] = []
        var dpComm: [Double] = []
        var layerParams = 0.0, outerParams = 0.0
        for z in 0...3 {
            let out = try run(hw, training("{dp: 8, zero: \(z)}", batch: 8))
            let plan = try #require(out.clusterStep).plan
            layerParams = Double(plan.spec.transformer.layers) * plan.cost.layerParametersPerGPU
            outerParams = 2 * plan.spec.transformer.embeddingParameters  // embedding and output layer
            let m = try #require(out.report.clusterStep).stages[0].memory
            states.append(m.weights + m.gradients + m.optimizer)
            dpComm.append(try #require(out.clusterStep).result.linkBytes.reduce(0, +))
        }
        let psi = states[0] / 16
        let buffer = 2 * 2 * layerParams / 8  // ZeRO 3: two gathered layers (8 layers in layerParams)
        let expected = [16 * psi, (4 + 12.0 / 8) * psi, (2 + 14.0 / 8) * psi, 16.0 / 8 * psi + buffer]
        for (x, e) in zip(states, expected) { #expect(abs(x - e) / e < 1e-9, "\(states) vs \(expected)") }
        // One microbatch: ZeRO 3 moves 3Ψ for the layers (two all-gathers and a reduce-scatter per
        // layer) where plain data parallelism moves 2Ψ (one all-reduce), 1.5× (Rajbhandari et al.
        // 2020, §7.2.2); the embedding and output layer (E) are all-reduced in both: (3Ψ + 2E) /
        // (2Ψ + 2E). ZeRO 1 moves 2(Ψ + E) too (reduce-scatter and all-gather). Bytes on the links.
        let expected3 = (3 * layerParams + 2 * outerParams) / (2 * layerParams + 2 * outerParams)
        #expect(abs(dpComm[3] / dpComm[0] - expected3) < 1e-6, "\(dpComm) vs \(expected3)")
        #expect(abs(dpComm[1] / dpComm[0] - 1) < 1e-6, "\(dpComm)")
    }

    /// A GPU that runs at half speed is found by name, and the whole step slows (its tensor
    /// group and then every replica wait for it), as C4 finds a faulty GPU from collective timing.
    @Test func aSlowGPUIsNamedTheSlowestRank() throws {
        let hw = cluster(nodes: 2, gpusPerNode: 8, inter: "{kind: switch, nic: 400 Gb/s, nics_per_node: 8, latency: 5 us}")
        let healthy = try step(hw, training("{tp: 2, pp: 2, dp: 4}", batch: 16))
        let slow = try step(hw, training("{tp: 2, pp: 2, dp: 4}", batch: 16, extra: "faults:\n  - {gpu: 13, slowdown: 2}\n"))
        #expect(slow.slowestRank?.rank == 13)
        #expect(slow.stepSeconds > 1.3 * healthy.stepSeconds)
        #expect(slow.faults.first?.component == "gpu13")
        let report = try run(hw, training("{tp: 2, pp: 2, dp: 4}", batch: 16, extra: "faults:\n  - {gpu: 13, slowdown: 2}\n")).report
        #expect(report.json().contains("\"name\": \"gpu13\""))
    }

    /// A NIC link at an eighth of its bandwidth is named from the late messages alone.
    @Test func aSlowLinkIsNamedFromLateMessages() throws {
        let hw = cluster(nodes: 4, gpusPerNode: 2, inter: "{kind: switch, nic: 400 Gb/s, nics_per_node: 2, latency: 5 us}")
        let wl = training("{tp: 2, dp: 4}", batch: 8)
        let healthy = try step(hw, wl)
        let slow = try step(hw, training("{tp: 2, dp: 4}", batch: 8, extra: "faults:\n  - {link: node2.nic1.up, slowdown: 8}\n"))
        #expect(healthy.slowestLink == nil)
        #expect(slow.slowestLink?.name == "node2.nic1.up")
        #expect(slow.stepSeconds > healthy.stepSeconds)
    }

    /// A fault from a later time leaves the start of the step untouched.
    @Test func aFaultTakesEffectAtItsTime() throws {
        let hw = cluster(nodes: 2, gpusPerNode: 8, inter: "{kind: switch, nic: 400 Gb/s, nics_per_node: 8, latency: 5 us}")
        let wl = training("{tp: 2, pp: 2, dp: 4}", batch: 16)
        let healthy = try step(hw, wl)
        let early = try step(hw, training("{tp: 2, pp: 2, dp: 4}", batch: 16, extra: "faults:\n  - {gpu: 13, slowdown: 2}\n"))
        let late = try step(hw, training("{tp: 2, pp: 2, dp: 4}", batch: 16, extra: "faults:\n  - {gpu: 13, slowdown: 2, at: \(formatDecimal(healthy.stepSeconds * 1e3 / 2)) ms}\n"))
        #expect(late.stepSeconds > healthy.stepSeconds)
        #expect(late.stepSeconds < early.stepSeconds)
    }

    /// A NIC that is down sends its GPU's traffic through the node's next NIC; a GPU that is cut
    /// stops the step, and the report says which and when.
    @Test func cutNICsRerouteAndCutGPUsStopTheStep() throws {
        let hw = cluster(nodes: 4, gpusPerNode: 2, inter: "{kind: switch, nic: 400 Gb/s, nics_per_node: 2, latency: 5 us}")
        let healthy = try step(hw, training("{tp: 2, dp: 4}", batch: 8))
        let cutNIC = try step(hw, training("{tp: 2, dp: 4}", batch: 8, extra: "faults:\n  - {nic: node1.nic0, cut: true}\n"))
        #expect(cutNIC.failure == nil)
        #expect(cutNIC.stepSeconds > healthy.stepSeconds)
        #expect(cutNIC.slowestLink?.name.hasPrefix("node1.nic1") == true)
        let cutGPU = try step(hw, training("{tp: 2, dp: 4}", batch: 8, extra: "faults:\n  - {gpu: 3, cut: true, at: 1 ms}\n"))
        #expect(cutGPU.failure?.component == "gpu3")
        #expect(cutGPU.mfu == 0)
    }

    /// A cut ring link sends the messages that crossed it round the other way (three hops on a
    /// ring of four: two more hop latencies per ring step), so the step is slower but completes; a NIC's link cut takes the NIC down; a
    /// leaf's up link, which stands for many spine links, cannot be cut.
    @Test func cutLinksRerouteOrAreRefused() throws {
        let ring = cluster(nodes: 4, inter: "{kind: ring, bandwidth: 25 GB/s, latency: 5 us, hop_latency: 2 us}")
        let healthy = try step(ring, training("{dp: 4}", batch: 4))
        let cut = try step(ring, training("{dp: 4}", batch: 4, extra: "faults:\n  - {link: node0->node1, cut: true}\n"))
        #expect(cut.failure == nil && cut.stepSeconds > healthy.stepSeconds)
        let twice = error(ring, training("{dp: 4}", batch: 4, extra: "faults:\n  - {link: node0->node1, cut: true}\n  - {link: node2->node3, cut: true}\n"))
        #expect(twice?.description.contains("a ring cut twice") == true)
        let tree = cluster(nodes: 4, inter: "{kind: fat-tree, bandwidth: 50 GB/s, nodes_per_leaf: 2}")
        let leaf = error(tree, training("{dp: 4}", batch: 4, extra: "faults:\n  - {link: leaf0.up, cut: true}\n"))
        #expect(leaf?.description.contains("only a NIC's link or a ring link can be cut") == true)
        let nicLink = try step(tree, training("{dp: 4}", batch: 4, extra: "faults:\n  - {link: node1.nic0.up, cut: true}\n"))
        #expect(nicLink.failure == nil)
    }

    /// CO2: no gradient reduction inside the step; the outer all-reduce is hidden behind τ local
    /// steps when it is shorter, and its excess is paid once per τ steps otherwise.
    @Test func co2HidesTheOuterAllReduceBehindLocalSteps() throws {
        let hw = cluster(nodes: 8, inter: "{kind: switch, bandwidth: 1 GB/s, latency: 5 us}")
        let plain = try step(hw, training("{dp: 8}", batch: 8))
        let one = try step(hw, training("{dp: 8, co2: {local_steps: 1}}", batch: 8))
        let many = try step(hw, training("{dp: 8, co2: {local_steps: 1000}}", batch: 8))
        let c = try #require(one.co2)
        #expect(abs(one.stepSeconds - max(c.localStepSeconds, c.outerSeconds)) / one.stepSeconds < 1e-9)
        #expect(abs(many.stepSeconds - max(c.localStepSeconds, c.localStepSeconds + (c.outerSeconds - 1000 * c.localStepSeconds) / 1000)) / many.stepSeconds < 1e-9)
        #expect(many.stepSeconds < plain.stepSeconds)
    }

    /// Expert parallelism adds two all-to-alls per MoE layer and pass.
    @Test func expertParallelismAddsAllToAlls() throws {
        let hw = cluster(nodes: 1, gpusPerNode: 8)
        let moe = "{layers: 4, hidden: 1024, heads: 8, ffn: 2048, seq_len: 512, vocab: 1000, experts: 8, top_k: 2, gated_ffn: true}"
        let s = try step(hw, training("{dp: 8, ep: 8}", batch: 8, model: moe))
        let ep = try #require(s.stages[0].comm.first { $0.0 == "ep" }?.1)
        #expect(ep > 0)
        let out = try run(hw, training("{dp: 8, ep: 8}", batch: 8, model: moe))
        #expect(out.report.json().contains("\"ep\": 8"))
    }

    /// `tessera compare` gates a training step stage by stage: exposing the gradient reduction is
    /// a regression of every stage's exposed communication.
    @Test func compareGatesEachStage() throws {
        let hw = cluster(nodes: 8, inter: "{kind: switch, bandwidth: 25 GB/s, latency: 5 us}")
        let on = try run(hw, training("{dp: 8, bucket: 8 MiB, overlap: true}", batch: 8)).report.json()
        let off = try run(hw, training("{dp: 8, bucket: 8 MiB, overlap: false}", batch: 8)).report.json()
        let a = try ReportFigures.parse(Data(on.utf8), path: "a.json", role: "baseline")
        let b = try ReportFigures.parse(Data(off.utf8), path: "b.json", role: "current")
        let c = try ReportComparison.compare(baseline: a, current: b)
        let stage = try #require(c.layers.first { $0.name == "stage0" })
        #expect(stage.figures.contains { $0.metric == .stallCycles && $0.status == .regression })
        #expect(!c.passed)
    }

    /// The schedule picture has a lane per class of GPUs (a faulty replica gets its own) and lanes
    /// for the busiest links; boxes sit inside the window.
    @Test func scheduleDrawsGPUClassesAndBusyLinks() throws {
        let hw = cluster(nodes: 2, gpusPerNode: 8, inter: "{kind: switch, nic: 400 Gb/s, nics_per_node: 8, latency: 5 us}")
        let out = try run(hw, training("{tp: 2, pp: 2, dp: 4}", batch: 16, extra: "faults:\n  - {gpu: 13, slowdown: 2}\n"))
        let step = try #require(out.clusterStep)
        let timeline = Timeline.trainingStep(plan: step.plan, result: step.result, energy: nil, links: 4)
        #expect(timeline.rows.filter { $0.lane == "busiest links" }.count == 4)
        let dot = try out.views.schedule(from: nil, to: nil)
        for lane in ["stage0", "stage1", "stage1.replica2", "busiest links", "tp / cp / ep collectives", "data parallel", "pipeline →"] { #expect(dot.text.contains(lane), "\(lane)") }
        #expect(dot.text.contains("fillcolor=\"#7cc47a\""))  // forward boxes
        #expect(dot.engine == "nop")
        let window = try out.views.schedule(from: .seconds(0), to: .seconds(step.result.stepSeconds / 4))
        #expect(window.text.count < dot.text.count)
        #expect(throws: InputError.self) { try out.views.schedule(from: .seconds(step.result.stepSeconds * 2), to: nil) }
        // A cluster has no single clock: a count of cycles is refused.
        #expect(throws: InputError.self) { try out.views.schedule(from: .cycles(5), to: nil) }
        // Link rows are busy intervals, merged: they never overlap on a track.
        for row in timeline.rows.indices where timeline.rows[row].lane == "busiest links" {
            let spans: [Timeline.Span] = timeline.spans.filter { $0.row == row }.sorted { $0.start < $1.start }
            for k in spans.indices.dropFirst() { #expect(spans[k - 1].end <= spans[k].start) }
        }
    }

    /// GPU energy: TDP while computing, idle power otherwise, per GPU, overridable on the preset;
    /// plus every link's bytes at its kind's energy per bit.
    @Test func energyIsTDPWhileComputingAndIdlePowerOtherwise() throws {
        var hw = cluster(nodes: 2, gpusPerNode: 8, inter: "{kind: switch, nic: 400 Gb/s, nics_per_node: 8, latency: 5 us}")
        hw = hw.replacingOccurrences(of: "gpu: {preset: h100-sxm}", with: "gpu: {preset: h100-sxm, tdp: 500 W, idle_power: 50 W}")
        let report = try run(hw, training("{tp: 2, pp: 2, dp: 4}", batch: 16)).report
        let s = try #require(report.clusterStep)
        let gpus = s.stages.reduce(0.0) { $0 + Double($1.gpus) * (500 * $1.split.compute + 50 * (s.stepSeconds - $1.split.compute)) }
        let out = try run(hw, training("{tp: 2, pp: 2, dp: 4}", batch: 16))
        let step = try #require(out.clusterStep)
        let spec = try #require(try KindTable.hardwareLoader.parse(hw, file: "hw.yaml").cluster)
        let topology = try #require(ClusterTopology(spec))
        let network = step.result.linkIDs.reduce(0.0) { $0 + NetworkEnergy.joules(bytes: step.result.linkBytes[$1], kind: topology.describe($1).kind) }
        #expect(network > 0)
        let expected = gpus + network
        #expect(abs(report.energy.totalJoules - expected) / expected < 1e-9)
        #expect(report.energy.byComponent.last?.name == "network" && abs((report.energy.byComponent.last?.joules ?? 0) - network) / network < 1e-9)
        // Peak power is at least the average, at most every GPU at TDP plus the network's average.
        #expect(report.energy.peakWatts >= report.energy.averageWatts * (1 - 1e-9))
        #expect(report.energy.peakWatts <= 16 * 500 + network / s.stepSeconds * 1.0001)
        #expect(abs(report.energy.averageWatts - expected / s.stepSeconds) < 1e-6)
        #expect(report.energy.averageWatts > 16 * 50 && report.energy.averageWatts < 16 * 500)
        let preset = try run(cluster(nodes: 1, gpusPerNode: 8), training("{dp: 8}", batch: 8)).report
        #expect(preset.energy.averageWatts < 8 * 700)  // h100-sxm: 700 W TDP (datasheet)
    }

    /// Same inputs, byte-identical report.
    @Test func reportsAreDeterministic() throws {
        let hw = cluster(nodes: 2, gpusPerNode: 8, inter: "{kind: switch, nic: 400 Gb/s, nics_per_node: 8, latency: 5 us}")
        let wl = training("{tp: 2, pp: 2, dp: 4, zero: 1}", batch: 16, extra: "faults:\n  - {gpu: 5, slowdown: 1.5}\n")
        #expect(try run(hw, wl).report.json() == run(hw, wl).report.json())
    }
}

/// Seeded random layouts, models and faults on a 2 × 4 cluster: every one either runs, with a
/// step no shorter than its busiest GPU's compute, or is refused with a located error; none crashes.
@Suite struct ClusterTrainingRandomLayoutTests {
    struct SplitMix {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(n))
        }
    }

    @Test func randomLayoutsRunOrAreRefusedWithALocation() throws {
        let hw = cluster(nodes: 2, gpusPerNode: 4, inter: "{kind: fat-tree, nic: 400 Gb/s, nics_per_node: 2, latency: 5 us, nodes_per_leaf: 1}")
        var rng = SplitMix(state: 2026)
        // The later options draw from their own generator, so the layouts above stay the ones drawn before.
        var more = SplitMix(state: 2027)
        var ran = 0, refused = 0
        for _ in 0..<160 {
            let tp = [1, 2, 4][rng.next(3)], pp = [1, 2, 4][rng.next(3)], cp = [1, 1, 2][rng.next(3)]
            let dp = 8 % (tp * pp * cp) == 0 && rng.next(5) > 0 ? 8 / (tp * pp * cp) : [1, 2, 4, 8][rng.next(4)]
            let experts = [1, 4][rng.next(2)]
            let ep = experts > 1 ? [1, 2, 4][rng.next(3)] : 1
            let layers = [4, 6, 8][rng.next(3)]
            let model = "{layers: \(layers), hidden: 512, heads: 8, kv_heads: \([8, 2][rng.next(2)]), ffn: 1024, seq_len: 256, vocab: 500, experts: \(experts), top_k: \(min(2, experts)), gated_ffn: \(rng.next(2) == 0)}"
            var par = "{tp: \(tp), pp: \(pp), dp: \(dp), cp: \(cp), ep: \(ep), zero: \(rng.next(4)), microbatch: \(1 + rng.next(2)), recompute: \(["none", "selective", "full"][rng.next(3)])"
            if rng.next(3) == 0 { par += ", virtual_stages: 2" }
            if rng.next(3) == 0 { par += ", sequence_parallel: true" }
            if rng.next(4) == 0 { par += ", overlap: false" }
            if more.next(4) == 0 { par += ", recompute_num_layers: \(1 + more.next(3))" }
            if more.next(4) == 0 { par += ", overlap_param_gather: true" }
            if more.next(5) == 0 { par += ", embedding_as_layer: true" }
            if more.next(5) == 0 { par += ", loss_as_layer: true" }
            if more.next(5) == 0 { par += ", tp_comm_overlap: true" }
            par += "}"
            var extra = ""
            switch rng.next(4) {
            case 0: extra = "faults:\n  - {gpu: \(rng.next(8)), slowdown: 2}\n"
            case 1: extra = "faults:\n  - {nic: node\(rng.next(2)).nic\(rng.next(2)), cut: true}\n"
            case 2: extra = "faults:\n  - {link: node1.nic1.up, slowdown: 3, at: 1 ms}\n"
            default: break
            }
            let wl = training(par, batch: [4, 8, 16, 12][rng.next(4)], model: model, extra: extra)
            do {
                let s = try step(hw, wl)
                ran += 1
                let busiest = s.stages.map(\.split.compute).max() ?? 0
                #expect(s.stepSeconds >= busiest * (1 - 1e-9), "\(wl)")
                #expect(s.stepSeconds.isFinite && s.mfu >= 0 && s.mfu < 1, "\(wl)")
            } catch let e as InputError {
                refused += 1
                #expect(e.diagnostics.allSatisfy { $0.location != nil }, "\(e)")
            }
        }
        #expect(ran > 10 && refused > 10, "ran \(ran), refused \(refused)")
    }
}

@Suite struct ClusterTrainingBadInputTests {
    @Test func aLayoutThatDoesNotCoverTheClusterIsALocatedError() throws {
        let e = try #require(error(cluster(nodes: 2, gpusPerNode: 8, inter: "{kind: switch, nic: 400 Gb/s, nics_per_node: 8}"), training("{tp: 8, pp: 2, dp: 2}")))
        let d = try #require(e.diagnostics.first)
        #expect(d.description.contains("tp × pp × dp = 16 GPUs"))
        #expect(d.description.contains("tp 8 × pp 2 × dp 2 = 32"))
        #expect(d.location?.line == 7)
    }

    /// GPT-3 175B on 8 GPUs: the error shows the memory breakdown.
    @Test func aModelThatDoesNotFitShowsItsMemory() throws {
        let e = try #require(error(cluster(nodes: 1, gpusPerNode: 8), training("{tp: 8}", batch: 8, model: "gpt3-175b")))
        let text = e.description
        #expect(text.contains("does not fit in GPU memory"))
        for part in ["weights", "gradients", "optimizer", "activations", "80 GB"] { #expect(text.contains(part), "\(text)") }
        #expect(e.diagnostics.first?.location?.line == 6)
    }

    /// Steps too large for the simulator are refused where the user can change them, not run out of memory or overflow the clock.
    @Test func stepsBeyondTheSimulatorsLimitsAreLocatedErrors() throws {
        let huge = try #require(error(cluster(nodes: 4), training("{dp: 4}", batch: 1_048_576)))
        #expect(huge.description.contains("training-step tasks, more than the work budget of 4000000"), "\(huge.description)")
        #expect(huge.diagnostics.first?.location?.line == 5)  // batch:
        let slow = try #require(error(cluster(nodes: 4, inter: "{kind: switch, bandwidth: 1 KB/s}"), training("{dp: 4}", batch: 8)))
        #expect(slow.description.contains("longer than the simulator's clock holds"))
        // Slower than the smallest bandwidth a spec may give is out of range where it is written.
        let slower = try #require(error(cluster(nodes: 4, inter: "{kind: switch, bandwidth: 1 B/s}"), training("{dp: 4}", batch: 8)))
        #expect(slower.description.contains("'inter_node.bandwidth' is out of range (expected from 1 KB/s to 10 PB/s, found '1 B/s')"))
        let fault = try #require(error(cluster(nodes: 4), training("{dp: 4}", batch: 8, extra: "faults:\n  - {gpu: 1, slowdown: 1e9}\n")))
        #expect(fault.description.contains("a factor from 1 to 10^6"))
    }

    @Test func layersThatDoNotSplitIntoStagesAndUnknownFaultsAreLocated() throws {
        let hw = cluster(nodes: 3)
        #expect(error(hw, training("{pp: 3}", batch: 3))?.description.contains("the layers do not split evenly") == true)
        let hw2 = cluster(nodes: 2, gpusPerNode: 2, inter: "{kind: switch, nic: 400 Gb/s, nics_per_node: 2}")
        let e = error(hw2, training("{dp: 4}", batch: 4, extra: "faults:\n  - {link: node9.nic0.up, slowdown: 2}\n"))
        #expect(e?.description.contains("a link the cluster does not have") == true)
        #expect(e?.diagnostics.first?.location?.line == 9)
        #expect(error(hw2, training("{dp: 4}", batch: 4, extra: "faults:\n  - {gpu: 4, slowdown: 2}\n"))?.description.contains("a GPU the cluster does not have") == true)
    }
}

@Suite struct GPT3ScaleTests {
    /// GPT-3 175B on 1,024 H100 (TP 8 × PP 8 × DP 16). Megatron-LM reports 47% MFU on 96 H100
    /// falling to 42% at 4,608 for GPT-3 175B (NVIDIA/Megatron-LM README, "Training Speed and
    /// Scalability", strong scaling at batch 1,152) with tensor-parallel communication overlapped;
    /// this model (sequence parallel, as Megatron runs it) exposes that communication, so it must
    /// land at or below that band, not above it.
    @Test func gpt3StepOnAThousandGPUsIsInTheMegatronBand() throws {
        let hw = try KindTable.hardwareLoader.load(path: packageRoot.appendingPathComponent("configs/gpu/dgx-h100-x128.yaml").path)
        let wl = try WorkloadLoader.load(path: packageRoot.appendingPathComponent("traces/gpt3-175b-train-1024.yaml").path)
        let s = try #require(try Pipeline(hardware: hw, workload: wl).run().report.clusterStep)
        #expect(s.gpus == 1024)
        #expect(s.mfu > 0.35 && s.mfu <= 0.47, "MFU \(s.mfu)")
        #expect(s.split.exposedComm > 0 && s.split.overlappedComm > 0 && s.split.idle > 0)
        #expect(s.stages.allSatisfy { $0.memory.weights + $0.memory.gradients + $0.memory.optimizer + $0.memory.activations < 80e9 })
    }
}

/// A training step elaborates into a dataflow graph before it is planned: with no faults (one
/// class of replicas) one operation per task of the plan, the same dependencies, grouped so that a
/// large step draws as one node per stage and kind.
@Suite struct TrainingStepGraphTests {
    @Test func everyTaskIsAnOperationWithItsDependencies() throws {
        let out = try run(cluster(nodes: 2, gpusPerNode: 8, inter: "{kind: switch, nic: 400 Gb/s, nics_per_node: 8, latency: 5 us}"), training("{tp: 2, pp: 2, dp: 4}", batch: 16))
        let step = try #require(out.clusterStep)
        let graph = try out.views.dataflowGraph()
        #expect(graph.operations.count == step.plan.tasks.count)
        #expect(graph.operations.enumerated().allSatisfy { $0.offset == $0.element.id.raw })
        // Dependencies point at operations that exist, and the edge count is the plan's.
        #expect(graph.operations.allSatisfy { $0.dependencies.allSatisfy { $0.raw < graph.operations.count } })
        #expect(graph.operations.reduce(0) { $0 + $1.dependencies.count } == step.plan.tasks.reduce(0) { $0 + $1.deps.count })
        // Compute seconds and collective bytes are the plan's.
        let seconds = graph.operations.reduce(0.0) { s, op in if case .device(.compute(let t), _) = op.kind { return s + t } else { return s } }
        let planned = step.plan.tasks.reduce(0.0) { s, t in if case .compute(let x) = t.work { return s + x } else { return s } }
        #expect(abs(seconds - planned) <= 1e-9 * planned)
        // Blocks: one per class of GPUs and kind of work, each a contiguous run.
        let doc = try GraphDOT(graph, title: "step").build()
        let blocks = Set(graph.operations.map { op in String(op.name.split(separator: ".").prefix(2).joined(separator: ".")) })
        #expect(doc.notes.first?.contains("\(graph.operations.count) operations") == true)
        #expect(blocks.count <= 2 * StepTask.Kind.allCases.count)
        for b in ["stage0.forward", "stage1.backward", "stage0.tp", "stage1.dp"] { #expect(doc.text.contains(b), "\(b)") }
    }
}

/// Pipelines whose first and last stages hold a different number of layers (Megatron-LM's
/// --decoder-first/last-pipeline-num-layers).
@Suite struct UnevenStagesTests {
    private let hw = cluster(nodes: 2)

    @Test func stageLayersSplitTheRestEvenly() {
        var p = ParallelismSpec(location: SourceLocation(file: "w.yaml", line: 1, column: 1))
        p.pp = 4
        #expect(p.stageLayers(total: 32) == [8, 8, 8, 8])
        #expect(p.stageLayers(total: 30) == nil)
        p.firstStageLayers = 6
        p.lastStageLayers = 6
        #expect(p.stageLayers(total: 30) == [6, 9, 9, 6])
        #expect(p.stageLayers(total: 31) == nil, "19 left for 2 stages")
        p.lastStageLayers = nil
        #expect(p.stageLayers(total: 30) == [6, 8, 8, 8])
        #expect(p.stageLayers(total: 6) == nil, "no layer left for the others")
        p.pp = 2
        p.lastStageLayers = 4
        #expect(p.stageLayers(total: 10) == [6, 4])
        #expect(p.stageLayers(total: 11) == nil)
        p.virtualStages = 2
        #expect(p.stageLayers(total: 10) == nil)
    }

    /// Each stage computes and holds its own layers: a 2:6 split of 8 layers runs its second stage
    /// three times as long as its first (less the output layer's share) and is slower than 4:4.
    @Test func eachStageRunsItsOwnLayers() throws {
        let even = try step(hw, training("{pp: 2, microbatch: 1}", batch: 8))
        let uneven = try step(hw, training("{pp: 2, microbatch: 1, first_stage_layers: 2, last_stage_layers: 6}", batch: 8))
        #expect(uneven.stepSeconds > even.stepSeconds)
        let a = uneven.stages[0], b = uneven.stages[1], e0 = even.stages[0], e1 = even.stages[1]
        // Layer compute scales with the layer count: (b − head) = 3 (a − embedding share), the output
        // layer's time being the even run's difference between its stages.
        let head = e1.split.compute - e0.split.compute
        #expect(abs((b.split.compute - head) / a.split.compute - 3) < 0.02, "\(a.split.compute) \(b.split.compute) head \(head)")
        #expect(b.memory.weights > a.memory.weights)
        #expect(abs(a.split.compute + b.split.compute - e0.split.compute - e1.split.compute) < 1e-6 * (a.split.compute + b.split.compute))
    }

    @Test func badSplitsAreLocated() {
        var e = error(hw, training("{pp: 2, first_stage_layers: 3, last_stage_layers: 3}", batch: 8))
        #expect(e?.description.contains("do not split evenly over the others") == true, "\(String(describing: e))")
        #expect(e?.diagnostics.first?.location?.line == 7)
        e = error(hw, training("{pp: 2, virtual_stages: 2, first_stage_layers: 2}", batch: 8))
        #expect(e?.description.contains("uneven stages and interleaving do not combine") == true, "\(String(describing: e))")
        e = error(cluster(nodes: 1), training("{first_stage_layers: 2}", batch: 8))
        #expect(e?.description.contains("first and last stage sizes shape a pipeline") == true, "\(String(describing: e))")
    }
}

/// ZeRO 1/2's parameter all-gather overlapped with the next step's forward (Megatron-LM's
/// --overlap-param-gather): the same bytes, gathered in buckets at the step's start instead of
/// after the optimizer, each layer's first forward waiting for its bucket.
@Suite struct OverlapParamGatherTests {
    private let hw = cluster(nodes: 4, inter: "{kind: switch, bandwidth: 5 GB/s, latency: 5 us}")

    @Test func theGatherMovesToTheStepsStartInBuckets() throws {
        let plain = try #require(try run(hw, training("{pp: 2, dp: 2, zero: 1, microbatch: 1}", batch: 8)).clusterStep)
        let overlapped = try #require(try run(hw, training("{pp: 2, dp: 2, zero: 1, microbatch: 1, overlap_param_gather: true, bucket: 8 MiB}", batch: 8)).clusterStep)
        func gathers(_ s: TrainingStepViews) -> [StepTask] { s.plan.tasks.filter { $0.name.hasSuffix("param-all-gather") } }
        func bytes(_ tasks: [StepTask]) -> UInt64 { tasks.reduce(0) { t, x in if case .collective(let c) = x.work { return t + c.bytes } else { return t } } }
        #expect(gathers(plain).map(\.name) == ["stage0.param-all-gather", "stage1.param-all-gather"])
        #expect(gathers(overlapped).count > 2)
        #expect(gathers(overlapped).allSatisfy { $0.name.contains(".bucket") })
        // The same parameters gathered (per-bucket rounding to whole bytes aside).
        #expect(abs(Double(bytes(gathers(overlapped))) - Double(bytes(gathers(plain)))) <= Double(gathers(overlapped).count))
        // Each bucket's gather comes before the forwards that wait for it, and the step gets shorter.
        let first = try #require(overlapped.plan.tasks.firstIndex { $0.name == "stage0.mb0.layer0.attention.forward" })
        let bucket0 = try #require(overlapped.plan.tasks.firstIndex { $0.name == "stage0.bucket0.param-all-gather" })
        #expect(overlapped.plan.tasks[first].deps.contains(bucket0))
        #expect(overlapped.result.stepSeconds < plain.result.stepSeconds, "\(overlapped.result.stepSeconds) vs \(plain.result.stepSeconds)")
    }

    @Test func onlyWithZeROOneOrTwo() {
        var e = error(hw, training("{pp: 2, dp: 2, zero: 0, overlap_param_gather: true}", batch: 8))
        #expect(e?.description.contains("needs the distributed optimizer") == true, "\(String(describing: e))")
        e = error(hw, training("{pp: 2, dp: 2, zero: 3, overlap_param_gather: true}", batch: 8))
        #expect(e?.description.contains("ZeRO 3 already gathers") == true, "\(String(describing: e))")
        #expect(e?.description.hasPrefix("w.yaml:") == true)
    }
}

/// The embedding and the loss counted as layers in the pipeline split (Megatron-LM's
/// --account-for-embedding-in-pipeline-split and --account-for-loss-in-pipeline-split).
@Suite struct EmbeddingAndLossAsLayersTests {
    private let hw = cluster(nodes: 4)
    private let tenLayers = "{layers: 10, hidden: 1024, heads: 8, ffn: 4096, seq_len: 512, vocab: 1000}"
    private let fourteenLayers = "{layers: 14, hidden: 1024, heads: 8, ffn: 4096, seq_len: 512, vocab: 1000}"

    @Test func chunksSplitTheLayersAndTheTwoPlaces() {
        var p = ParallelismSpec(location: SourceLocation(file: "w.yaml", line: 1, column: 1))
        p.pp = 8
        p.virtualStages = 8
        p.embeddingAsLayer = true
        p.lossAsLayer = true
        // Llama 3.1 405B: 126 layers + 2 over 64 chunks: 2 each, the first and the last 1.
        let chunks = p.chunkLayers(total: 126)
        #expect(chunks?.count == 64 && chunks?.first == 1 && chunks?.last == 1 && chunks?.dropFirst().dropLast().allSatisfy { $0 == 2 } == true)
        #expect(p.stageLayers(total: 126) == [15, 16, 16, 16, 16, 16, 16, 15])
        #expect(p.chunkLayers(total: 125) == nil, "127 places do not split into 64 chunks")
        p.virtualStages = 1
        p.pp = 4
        p.lossAsLayer = false
        #expect(p.stageLayers(total: 11) == [2, 3, 3, 3])
    }

    /// Without interleaving, the embedding and loss as layers is the uneven split that gives the
    /// first and last stages one layer less: the same step, task for task.
    @Test func withoutInterleavingItIsTheUnevenSplit() throws {
        let counted = try #require(try run(hw, training("{pp: 4, microbatch: 1, embedding_as_layer: true, loss_as_layer: true}", batch: 8, model: tenLayers)).clusterStep)
        let uneven = try #require(try run(hw, training("{pp: 4, microbatch: 1, first_stage_layers: 2, last_stage_layers: 2}", batch: 8, model: tenLayers)).clusterStep)
        #expect(counted.plan.tasks.map(\.name) == uneven.plan.tasks.map(\.name))
        #expect(counted.result.stepSeconds == uneven.result.stepSeconds)
    }

    /// With interleaving each model chunk holds its share: pp 2 × 2 chunks of 14 layers + 2 places
    /// are 3, 4, 4, 3 layers in virtual-stage order, so stage 0 runs layers 0–2 and 7–10.
    @Test func withInterleavingEachChunkHoldsItsShare() throws {
        let out = try run(hw, training("{pp: 2, dp: 2, virtual_stages: 2, microbatch: 1, embedding_as_layer: true, loss_as_layer: true}", batch: 8, model: fourteenLayers))
        let step = try #require(out.clusterStep)
        func layers(_ stage: Int) -> Set<Int> {
            Set(step.plan.tasks.compactMap { t -> Int? in
                let parts = t.name.split(separator: ".")
                guard t.name.hasSuffix(".attention.forward"), parts.contains("stage\(stage)"), let layer = parts.first(where: { $0.hasPrefix("layer") }) else { return nil }
                return Int(layer.dropFirst(5))
            })
        }
        #expect(layers(0) == Set([0, 1, 2, 7, 8, 9, 10]))
        #expect(layers(1) == Set([3, 4, 5, 6, 11, 12, 13]))
        #expect(try #require(out.report.clusterStep).stepSeconds > 0)
    }

    @Test func badSplitsAreLocated() {
        var e = error(hw, training("{pp: 4, microbatch: 1, embedding_as_layer: true}", batch: 8, model: tenLayers))
        #expect(e?.description.contains("do not split evenly into model chunks") == true, "\(String(describing: e))")
        e = error(hw, training("{pp: 4, microbatch: 1, embedding_as_layer: true, first_stage_layers: 2}", batch: 8, model: tenLayers))
        #expect(e?.description.contains("do not combine") == true, "\(String(describing: e))")
        #expect(e?.description.hasPrefix("w.yaml:") == true)
    }
}

@Suite struct FP8TrainingTests {
    private let h100 = "tessera: 1\nname: c\nkind: gpu-cluster\ngpu: {preset: h100-sxm}\nnodes: 1\ngpus_per_node: 8\nintra_node: {kind: nvswitch, bandwidth: 450 GB/s, efficiency: 0.8}\n"

    private func workload(_ precision: String) -> String {
        "tessera: 1\nname: t\nphase: training\nprecision: \(precision)\nbatch: 16\ntransformer: {layers: 8, hidden: 4096, heads: 32, ffn: 16384, seq_len: 2048, vocab: 32000}\nparallelism: {tp: 8, microbatch: 1}\n"
    }

    /// FP8 shortens the step (its products), leaves communication in BF16 bytes, and reports MFU
    /// against the BF16 peak, so the same model FLOPs in less time read as a higher MFU.
    @Test func fp8ShortensTheStepAndKeepsTheBF16Bytes() throws {
        let bf16 = try run(h100, workload("bf16")), fp8 = try run(h100, workload("fp8"))
        let a = try #require(bf16.report.clusterStep), b = try #require(fp8.report.clusterStep)
        #expect(b.stepSeconds < a.stepSeconds && b.split.compute < a.split.compute)
        #expect(abs(b.mfu / a.mfu - a.stepSeconds / b.stepSeconds) < 1e-9)
        // Tensor-parallel all-reduces carry the same BF16 activations.
        #expect(abs(b.split.exposedComm - a.split.exposedComm) <= 0.02 * a.split.exposedComm)
        #expect(fp8.report.modelNotes.contains { $0.hasPrefix("fp8 (Transformer Engine style)") })
    }

    @Test func fp8IsRefusedWhereItDoesNotApply() {
        let a100 = h100.replacingOccurrences(of: "h100-sxm", with: "a100-sxm")
        #expect(error(a100, workload("fp8"))?.description.contains("no throughput figure for this precision") == true)
        #expect(error(h100, "tessera: 1\nname: t\nprecision: fp8\nlayers:\n  - {name: g, gemm: {m: 8, n: 8, k: 8}}\n")?.description.contains("fp8 runs the matrix products of a transformer training step") == true)
    }
}

/// Full recomputation reruns each layer's forward before its backward, its collectives too.
@Suite struct RecomputedCollectivesTests {
    private let hw = cluster(nodes: 2)

    /// With only tensor parallelism, a layer's tensor all-reduces are two forward and two backward;
    /// full recomputation adds the two forward ones again: 1.5× the exposed communication.
    @Test func fullRecomputationRepeatsTheTensorAllReduces() throws {
        let repeated = try step(hw, training("{tp: 2, microbatch: 1, recompute: full}", batch: 4))
        let not = try step(hw, training("{tp: 2, microbatch: 1, recompute: full, recompute_collectives: false}", batch: 4))
        let selective = try step(hw, training("{tp: 2, microbatch: 1, recompute: selective}", batch: 4))
        #expect(repeated.stepSeconds > not.stepSeconds)
        #expect(abs(repeated.split.exposedComm / not.split.exposedComm - 1.5) < 0.05, "\(repeated.split.exposedComm) vs \(not.split.exposedComm)")
        #expect(abs(selective.split.exposedComm - not.split.exposedComm) <= 0.02 * not.split.exposedComm, "selective recomputation repeats no collective")
        #expect(repeated.split.compute == not.split.compute)
    }
}

/// Tensor-parallel communication overlap (`tp_comm_overlap`): each block's compute and the
/// collective beside it run in tp chunks, a collective chunk after its compute chunk on a stream of
/// its own, the next block's chunk after it. The compute is the same; the communication moves from
/// exposed to overlapped; on layers wide enough that bytes, not latency, decide a collective's time,
/// the step gets shorter (on narrow ones the chunks' latencies can make it longer, as they do).
@Suite struct TensorParallelOverlapTests {
    private let hw = cluster(nodes: 1, gpusPerNode: 8)
    /// Wide enough (Llama 3 70B's layers) that a collective's bytes, not its latency, decide its time.
    private let wide = "{layers: 4, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, seq_len: 8192, vocab: 1000, gated_ffn: true}"

    @Test(arguments: ["{tp: 4, pp: 2, dp: 1", "{tp: 4, dp: 2, sequence_parallel: true", "{tp: 8, recompute: full"])
    func overlapHidesCommunicationWithoutChangingCompute(_ layout: String) throws {
        let plain = try run(hw, training(layout + "}", batch: 4, model: wide)), overlapped = try run(hw, training(layout + ", tp_comm_overlap: true}", batch: 4, model: wide))
        let a = try #require(plain.report.clusterStep), b = try #require(overlapped.report.clusterStep)
        // The same compute, to the picosecond rounding of each chunk.
        #expect(abs(a.split.compute - b.split.compute) <= 1e-6 * a.split.compute)
        #expect(b.split.exposedComm < a.split.exposedComm)
        #expect(b.stepSeconds < a.stepSeconds)
        #expect(b.stepSeconds >= b.split.compute)
        // The chunks carry the collectives' bytes, on a tensor-parallel stream of each class.
        let p0 = try #require(plain.clusterStep).plan, p1 = try #require(overlapped.clusterStep).plan
        func tpBytes(_ p: TrainingStepPlan) -> UInt64 {
            p.tasks.reduce(0) { s, t in if t.kind == .tp, case .collective(let c) = t.work { return s + c.bytes } else { return s } }
        }
        #expect(tpBytes(p1) == tpBytes(p0))
        #expect(p1.streams.contains { $0.name.hasSuffix(".tensor-parallel") } && !p0.streams.contains { $0.name.hasSuffix(".tensor-parallel") })
        #expect(p1.tasks.filter { $0.kind == .tp }.allSatisfy { p1.streams[$0.stream].name.hasSuffix(".tensor-parallel") })
        // The schedule draws them on their own row beside the compute, not on the row of the
        // collectives the compute stream waits for.
        let timeline = try overlapped.views.timeline()
        let tpRows = Set(timeline.rows.indices.filter { timeline.rows[$0].title == "tensor parallel" })
        #expect(!tpRows.isEmpty && timeline.spans.contains { tpRows.contains($0.row) })
        #expect(!timeline.rows.contains { $0.title == "tp / cp / ep collectives" })
    }

    @Test func overlapNeedsTensorParallelism() throws {
        #expect {
            _ = try WorkloadLoader.parse(training("{dp: 8, tp_comm_overlap: true}"), file: "w.yaml")
        } throws: { error in
            let d = (error as? InputError)?.description ?? ""
            return d.contains("w.yaml:7") && d.contains("tp_comm_overlap")
        }
        #expect(throws: InputError.self) { try WorkloadLoader.parse(training("{tp: 2, tp_comm_overlap: maybe}"), file: "w.yaml") }
    }
}
