import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraOutput
import TesseraPlan
import TesseraSim
import TesseraSpec

extension RunRequest {
    /// The faults of a training workload checked against the cluster: every GPU, link and NIC
    /// named must exist; only GPUs and NICs can be cut.
    static func checkFaults(_ faults: [FaultSpec], _ topology: ClusterTopology, file: String) throws(InputError) {
        var bag = DiagnosticBag()
        var ringCuts = 0
        for f in faults {
            switch f.target {
            case .gpu(let r):
                if r >= topology.ranks { bag.error(f.location, "the fault names a GPU the cluster does not have", expected: "a rank from 0 to \(topology.ranks - 1) (\(file))", found: "gpu: \(r)") }
            case .link(let name):
                if topology.link(named: name) == nil {
                    let sample = (0..<min(topology.linkCount, 4)).map { "'\(topology.describe($0).name)'" }.joined(separator: ", ")
                    bag.error(f.location, "the fault names a link the cluster does not have", expected: "a link name as reports give it, such as \(sample) (\(file))", found: "link: \(name)")
                } else if f.isCut, let id = topology.link(named: name) {
                    let isNIC = topology.nic(ofLink: name) != nil
                    if !isNIC, !topology.isRingLink(id) {
                        bag.error(
                            f.location, "only a NIC's link or a ring link can be cut (switches and trees spread traffic over links this model aggregates)",
                            expected: "'slowdown: <factor>' on \(name), or 'cut: true' on a NIC, a ring link or a GPU", found: "cut: true on \(name)")
                    } else if !isNIC {
                        ringCuts += 1
                        if ringCuts > 1 { bag.error(f.location, "a ring cut twice is split in two", expected: "at most one ring link cut", found: "a second cut: \(name)") }
                    }
                }
            case .nic(let name):
                if topology.nic(named: name) == nil {
                    bag.error(f.location, "the fault names a NIC the cluster does not have", expected: "'nodeN.nicK' with N < \(topology.nodes) and K < nics_per_node, on a switch, fat-tree or rail-optimized network (\(file))", found: "nic: \(name)")
                }
            }
        }
        try bag.throwIfErrors()
    }

    /// Elaborates and plans a transformer training step on a GPU cluster over tp × pp × dp (× ep) GPUs, and
    /// bounds every distinct collective by the engine's clock.
    func planClusterTraining(_ llm: LLMTrainingSpec, topology: ClusterTopology) throws -> TrainingStepPlan {
        try Self.checkFaults(llm.faults, topology, file: hardware.file)
        // Graph, then plan: the step elaborates into its dataflow graph, which is mapped onto the cluster.
        let step = try ParallelStepElaborator.elaborate(
            llm, precision: workload.precision, topology: topology, batch: workload.batch, batchLocation: llm.batchLocation ?? llm.transformerLocation, budget: workBudget)
        let plan = TrainingStepPlanner.plan(step, topology: topology)
        // Every distinct collective must fit the picosecond clock (as a microbenchmark's must).
        var seen = Set<GroupCollective>()
        for t in plan.tasks {
            guard case .collective(let c) = t.work, seen.insert(c).inserted else { continue }
            var slow = topology
            for f in llm.faults where !f.isCut {
                if case .link(let name) = f.target, let id = slow.link(named: name) { slow.linkSlowdown[id] = f.slowdown }
            }
            if Self.upperBoundPicoseconds(plan.collectivePlan(c), slow) > 1e17 {
                throw InputError(Diagnostic(
                    at: llm.transformerLocation, "the \(c.group.rawValue) groups' \(c.op.rawValue) of \(c.bytes) B would take longer than the simulator's clock holds",
                    expected: "link bandwidths whose transfers take less than 10^5 s", found: "\(c.bytes) B on \(hardware.file)"))
            }
        }
        return plan
    }

    /// Runs a planned training step: simulated on in-order streams with collectives on the links.
    func runClusterTraining(_ llm: LLMTrainingSpec, topology: ClusterTopology, plan: TrainingStepPlan) throws -> RunOutput {
        let sim = try TaskExecutor(plan: plan.taskPlan).run()
        let computeBound = sim.stepSeconds
        guard computeBound.isFinite, computeBound < 1e6 else {
            throw InputError(Diagnostic(
                at: llm.transformerLocation, "the step would last longer than the simulator's clock holds", expected: "a step under 10^6 s", found: "\(formatDecimal(computeBound)) s"))
        }
        let p = llm.parallelism
        var stepSeconds = sim.stepSeconds
        var co2: (Int, Double, Double)?
        if let tau = p.co2LocalSteps, p.dp > 1 {
            // CO2: the outer all-reduce of every stage's parameters runs behind τ local steps;
            // a step costs T_local + max(0, T_outer − τ·T_local)/τ.
            var outer = 0.0
            let simulator = LinkSimulator(topology: topology)
            for s in 0..<p.pp {
                let c = GroupCollective(op: .allReduce, group: .dp, stage: s, bytes: UInt64(plan.stageParameters[s] * Double(workload.precision.storage.bytes)))
                outer = max(outer, Double(try simulator.run(plan.collectivePlan(c)).picoseconds) / 1e12)
            }
            co2 = (tau, sim.stepSeconds, outer)
            stepSeconds = sim.stepSeconds + max(0, outer - Double(tau) * sim.stepSeconds) / Double(tau)
        }

        // Time split of each entity.
        var stages: [Report.ClusterStep.Stage] = []
        var weighted = Report.ClusterStep.Split()
        let entityCount = plan.entities.count
        var computeIntervals = [[(Double, Double)]](repeating: [], count: entityCount)
        var commIntervals = [[(Double, Double)]](repeating: [], count: entityCount)
        var commByKind = [[String: Double]](repeating: [:], count: entityCount)
        // A cut GPU ends the step: nothing after the failure counts.
        let horizon = sim.failure?.at ?? .infinity
        for (i, t) in plan.tasks.enumerated() {
            let span = (min(sim.start[i], horizon), min(sim.end[i], horizon))
            guard span.1 > span.0 else { continue }
            if t.kind.isCompute {
                computeIntervals[t.entity].append(span)
                continue
            }
            var owners: [Int] = []
            if plan.streams[t.stream].entity == nil {
                owners = plan.entities.indices.filter { plan.entities[$0].stage == plan.streams[t.stream].stage }
            } else {
                owners = [t.entity]
                if t.kind == .pp, case .collective(let c) = t.work { owners.append(c.group == .ppForward ? t.entity + 1 : t.entity - 1) }
            }
            for o in owners where o >= 0 && o < entityCount {
                commIntervals[o].append(span)
                commByKind[o][t.kind.rawValue, default: 0] += span.1 - span.0
            }
        }
        var gpus = 0
        for (e, en) in plan.entities.enumerated() {
            let c = EnergyLedger.union(computeIntervals[e]), k = EnergyLedger.union(commIntervals[e])
            let compute = Self.length(c), comm = Self.length(k), both = Self.overlap(c, k)
            // Idle is what the step leaves; a remainder below 10⁻¹² of the step is rounding, not idle time.
            let rest = sim.stepSeconds - compute - comm + both
            let split = Report.ClusterStep.Split(
                compute: compute, exposedComm: comm - both, overlappedComm: both, idle: rest > 1e-12 * sim.stepSeconds ? rest : 0)
            let mem = plan.memory[en.stage]
            stages.append(Report.ClusterStep.Stage(
                name: en.name, stage: en.stage, gpus: en.ranks.count, split: split, comm: commByKind[e].keys.sorted().map { ($0, commByKind[e][$0] ?? 0) },
                memory: (mem.weights, mem.gradients, mem.optimizer, mem.activations)))
            let w = Double(en.ranks.count)
            weighted.compute += split.compute * w
            weighted.exposedComm += split.exposedComm * w
            weighted.overlappedComm += split.overlappedComm * w
            weighted.idle += split.idle * w
            gpus += en.ranks.count
        }
        let g = Double(max(1, gpus))
        weighted = Report.ClusterStep.Split(compute: weighted.compute / g, exposedComm: weighted.exposedComm / g, overlappedComm: weighted.overlappedComm / g, idle: weighted.idle / g)

        // Links: utilization over the step; the busiest; the one late messages share.
        let linkIDs = sim.linkIDs
        let units: [Report.Unit] = plan.entities.enumerated().map { e, en in
            let busy = stages[e].split.compute
            return Report.Unit(name: "\(en.name) (\(en.ranks.count) GPUs)", kind: "gpu", busySeconds: busy, utilization: sim.stepSeconds > 0 ? busy / sim.stepSeconds : 0)
        } + linkIDs.map { id in
            let (name, kind) = topology.describe(id)
            let busy = sim.linkBusy[id]
            return Report.Unit(name: name, kind: kind, busySeconds: busy, utilization: sim.stepSeconds > 0 ? busy / sim.stepSeconds : 0)
        }
        let busiest = linkIDs.max { a, b in
            let x = sim.linkBusy[a], y = sim.linkBusy[b]
            return x != y ? x < y : a > b
        }
        let ranked = sim.rankCompute.sorted { $0.seconds != $1.seconds ? $0.seconds > $1.seconds : $0.rank < $1.rank }
        let median = sim.rankCompute.map(\.seconds).sorted()
        let slowestRank = ranked.first.map { ($0.rank, $0.seconds, median.isEmpty ? 0 : median[median.count / 2]) }
        let slowestLink = sim.suspectLinks.first.map { (topology.describe($0.link).name, $0.slowed, $0.messages) }

        let m = llm.transformer
        let tokens = Double(workload.batch * m.seqLen)
        let peak = (topology.gpu.denseTFLOPS[workload.precision.storage.rawValue] ?? 0) * 1e12  // FP8 runs: against the BF16 peak
        var step = Report.ClusterStep(
            model: m.name, parameters: m.parameters, gpus: topology.ranks, tp: p.tp, pp: p.pp, dp: p.dp, ep: p.ep, zero: p.zero, microbatches: plan.microbatches,
            microbatch: p.microbatch, recompute: p.recomputeLayers.map { "full (first \($0) layers of each chunk)" } ?? p.recompute.rawValue, overlap: p.overlap, stepSeconds: stepSeconds, tokensPerSecond: stepSeconds > 0 ? tokens / stepSeconds : 0,
            modelFlops: plan.modelFlops, mfu: stepSeconds > 0 && peak > 0 ? plan.modelFlops / (stepSeconds * Double(topology.ranks) * peak) : 0, split: weighted,
            stages: stages, memoryCapacity: topology.gpu.hbmCapacity, slowestRank: sim.failure == nil ? slowestRank : nil, slowestLink: slowestLink,
            busiestLink: busiest.map { (topology.describe($0).name, sim.stepSeconds > 0 ? sim.linkBusy[$0] / sim.stepSeconds : 0) },
            faults: llm.faults.map { ($0.name, $0.isCut ? "cut" : "slowdown ×" + formatDecimal($0.slowdown, maxDecimals: 3), $0.at) },
            failure: sim.failure.map { ("gpu\($0.rank)", $0.at) }, co2: co2, tasks: plan.tasks.count, collectivesSimulated: sim.collectivesSimulated)
        step.cp = p.cp
        step.virtualStages = p.virtualStages
        step.sequenceParallel = p.sequenceParallel
        if sim.failure != nil { step.mfu = 0; step.tokensPerSecond = 0 }

        // Energy: each class of GPUs at TDP over its compute spans, idle power otherwise; link traffic per byte.
        var ledger = EnergyLedger(seconds: stepSeconds)
        for (e, en) in plan.entities.enumerated() {
            ledger.addGPUs("\(en.name) (\(en.ranks.count) GPUs)", count: en.ranks.count, gpu: topology.gpu, busy: computeIntervals[e])
        }
        for id in linkIDs { ledger.addLink(kind: topology.kind(id), bytes: sim.linkBytes[id]) }
        var report = Report(hardwareName: hardware.name, workloadName: workload.name, seconds: stepSeconds, events: sim.events, energy: ledger.clusterAccount())
        report.clusterStep = step
        report.units = units
        report.batch = workload.batch
        report.isTrainingStep = true
        report.modelNotes = Report.clusterTrainingNotes + Report.clusterTrainingOptionNotes(p, faults: !llm.faults.isEmpty)
            + (workload.precision == .fp8 ? [Report.fp8Note] : [])
            + Report.clusterNotes.filter { !$0.hasPrefix("algbw") } + [Report.gpuEnergyNote, NetworkEnergy.note] + Report.protocolNotes(topology)
        return RunOutput(graph: nil, plan: nil, result: nil, report: report, views: TrainingStepViews(plan: plan, result: sim, file: hardware.file, energy: report.energy, bytesPerElement: workload.precision.storage.bytes))
    }

    static func length(_ spans: [(Double, Double)]) -> Double { spans.reduce(0) { $0 + ($1.1 - $1.0) } }
    /// Total length of the intersection of two merged interval lists.
    static func overlap(_ a: [(Double, Double)], _ b: [(Double, Double)]) -> Double {
        var i = 0, j = 0, total = 0.0
        while i < a.count, j < b.count {
            let lo = max(a[i].0, b[j].0), hi = min(a[i].1, b[j].1)
            if hi > lo { total += hi - lo }
            if a[i].1 < b[j].1 { i += 1 } else { j += 1 }
        }
        return total
    }
}
