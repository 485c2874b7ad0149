import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraOutput
import TesseraPlan
import TesseraSim
import TesseraSpec

extension RunRequest {
    /// LLM inference served to a request trace on a GPU cluster: instances placed on the GPUs,
    /// the trace simulated iteration by iteration, TTFT and TPOT reported.
    func runServing(_ serving: ServingSpec, topology: ClusterTopology, plan: ServingPlan, graph: DataflowGraph) throws -> RunOutput {
        let sim = try ContinuousBatching.run(plan)
        let end = sim.end
        let ttfts = sim.requests.map(\.ttft)
        let tpots = sim.requests.compactMap(\.tpot)
        let ttftOK = sim.requests.map { $0.ttft <= serving.ttftSLO }
        let tpotOK = sim.requests.map { ($0.tpot ?? 0) <= serving.tpotSLO }
        let n = Double(max(1, sim.requests.count))
        let met = zip(ttftOK, tpotOK).filter { $0 && $1 }.count
        let outputTokens = sim.requests.reduce(0) { $0 + $1.output }

        // One request alone on an idle instance of the first group (the mean request).
        let first = plan.instances[0]
        let meanPrompt = serving.meanRequest.prompt
        let links = LinkSimulator(topology: topology)
        func allReduceSeconds(_ tokens: Int) throws -> Double {
            guard first.ranks.count > 1 else { return 0 }
            let bytes = UInt64(tokens * serving.transformer.hidden * workload.precision.bytes)
            return 2 * Double(serving.transformer.layers) * Double(try links.run(plan.allReducePlan(instance: 0, bytes: bytes)).picoseconds) / 1e12
        }
        let decodeCost = plan.instances.last?.cost ?? first.cost
        let referencePrefill = first.cost.prefillSeconds(prompts: [meanPrompt]) + (try allReduceSeconds(meanPrompt))
        let decodeInstance = plan.instances.count - 1
        var referenceDecode = decodeCost.decodeSeconds(contexts: [meanPrompt + 1])
        if plan.instances[decodeInstance].ranks.count > 1 {
            let bytes = UInt64(serving.transformer.hidden * workload.precision.bytes)
            referenceDecode += 2 * Double(serving.transformer.layers) * Double(try links.run(plan.allReducePlan(instance: decodeInstance, bytes: bytes)).picoseconds) / 1e12
        }

        let arrivals: String
        switch serving.arrivals {
        case .poisson(let rate, let seed): arrivals = "Poisson \(formatDecimal(rate, maxDecimals: 4))/s, seed \(seed)"
        case .trace: arrivals = "trace"
        }
        let disaggregated = serving.mode == .disaggregated
        let transfers = sim.requests.filter { $0.output > 1 }.map(\.kvTransfer)
        let instances: [Report.Serving.Instance] = plan.instances.enumerated().map { i, en in
            let s = sim.instances[i]
            return Report.Serving.Instance(
                name: en.name, role: en.role == .both ? "prefill+decode" : en.role.rawValue, ranks: en.ranks, tp: en.ranks.count, prefillSeconds: s.prefillSeconds,
                decodeSeconds: s.decodeSeconds, utilization: end > 0 ? s.busySeconds / end : 0, prefillBatches: s.prefillBatches, decodeIterations: s.decodeIterations,
                meanDecodeBatch: s.decodeIterations > 0 ? Double(s.decodeTokens) / Double(s.decodeIterations) : 0, peakDecodeBatch: s.peakBatch,
                kvCapacityTokens: en.kvCapacityTokens, peakKVTokens: s.peakKVTokens)
        }
        let kvBytes = disaggregated ? sim.requests.filter { $0.output > 1 }.reduce(0.0) { $0 + first.cost.kvBytes(tokens: $1.prompt) } : 0
        var report0 = Report.Serving(
            mode: serving.mode.rawValue, model: serving.transformer.name, parameters: serving.transformer.parameters, precision: workload.precision.rawValue,
            gpus: serving.gpus, arrivals: arrivals, requests: sim.requests.count, maxBatch: serving.maxBatch, maxPrefillTokens: serving.maxPrefillTokens, seconds: end,
            ttft: .init(ttfts), tpot: .init(tpots), sloTTFT: serving.ttftSLO, sloTPOT: serving.tpotSLO, attainment: Double(met) / n,
            ttftAttainment: Double(ttftOK.filter { $0 }.count) / n, tpotAttainment: Double(tpotOK.filter { $0 }.count) / n, goodput: end > 0 ? Double(met) / end : 0,
            requestRate: end > 0 ? n / end : 0, outputTokensPerSecond: end > 0 ? Double(outputTokens) / end : 0,
            kvTransfer: disaggregated ? .init(transfers) : nil, kvTransferBytes: kvBytes, referencePrefill: referencePrefill, referenceDecodeStep: referenceDecode,
            instances: instances, linkSimulations: sim.linkSimulations)
        report0.attainmentTarget = serving.attainmentTarget

        // Energy: each instance's GPUs at TDP while an iteration runs on them, idle otherwise; link traffic per byte.
        var busy = [[(Double, Double)]](repeating: [], count: plan.instances.count)
        for run in sim.iterationRuns where Int(run.instance) < busy.count { busy[Int(run.instance)].append((run.start, run.end)) }
        var ledger = EnergyLedger(seconds: end)
        for (i, en) in plan.instances.enumerated() {
            ledger.addGPUs("\(en.name) (\(en.ranks.count) GPUs)", count: en.ranks.count, gpu: topology.gpu, busy: busy[i])
        }
        let unused = topology.ranks - plan.instances.reduce(0) { $0 + $1.ranks.count }
        if unused > 0 { ledger.addGPUs("unused (\(unused) GPUs)", count: unused, gpu: topology.gpu, busy: []) }
        for id in sim.linkBytes.keys.sorted() { ledger.addLink(kind: topology.kind(id), bytes: sim.linkBytes[id] ?? 0) }
        var report = Report(hardwareName: hardware.name, workloadName: workload.name, seconds: end, events: sim.events, energy: ledger.clusterAccount())
        report.serving = report0
        report.batch = serving.requests.count
        let linkIDs = sim.linkBytes.keys.sorted()
        report.units = instances.map { i in
            let busy = i.prefillSeconds + i.decodeSeconds
            return Report.Unit(name: "\(i.name) (\(i.tp) GPUs)", kind: "gpu", busySeconds: busy, utilization: i.utilization)
        } + linkIDs.map { id in
            let (name, kind) = topology.describe(id)
            let busy = (sim.linkBytes[id] ?? 0) / topology.capacity(id)
            return Report.Unit(name: name, kind: kind, busySeconds: busy, utilization: end > 0 ? busy / end : 0)
        }
        report.modelNotes = Report.servingNotes + Report.clusterNotes.filter { !$0.hasPrefix("algbw") && !$0.hasPrefix("collectives are") }
            + [Report.servingEnergyNote, NetworkEnergy.note] + Report.protocolNotes(topology)
        return RunOutput(graph: nil, plan: nil, result: nil, report: report, views: ServingViews(plan: plan, result: sim, file: hardware.file, energy: report.energy, graph: graph))
    }
}
