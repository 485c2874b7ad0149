import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraOutput
import TesseraPlan
import TesseraSim
import TesseraSpec

extension RunRequest {
    /// A GPU cluster: its topology, then the planning of a training step, a serving run or a
    /// collective microbenchmark, with the bounds each must meet to fit the engine's clock.
    func prepareCluster() throws -> PreparedRun {
        let healthy = try GPUClusterFamily.topology(hardware)
        if let llm = workload.llm {
            let plan = try planClusterTraining(llm, topology: healthy)
            return PreparedRun { _ in try self.runClusterTraining(llm, topology: healthy, plan: plan) }
        }
        if let serving = workload.serving {
            try workBudget.check(WorkEstimate.servingEvents(serving), of: .servingEvents, at: serving.location, key: "request count or output length")
            // Spec → graph (one reference request's work) → plan (instances on the GPUs) → run.
            let graph = ServingElaborator.elaborate(serving, gpu: healthy.gpu, precision: workload.precision)
            let plan = try ServingPlan.plan(serving, precision: workload.precision, topology: healthy, file: hardware.file)
            return PreparedRun { _ in try self.runServing(serving, topology: healthy, plan: plan, graph: graph) }
        }
        guard let collective = workload.collective else {
            throw InputError(Diagnostic(
                at: workload.phaseLocation, "a 'gpu-cluster' runs collective microbenchmarks, transformer training steps and LLM serving",
                expected: "a workload with 'collective: {op: all-reduce, sizes: [...]}' or 'transformer: gpt3-175b' on \(hardware.file)", found: "a layer workload"))
        }
        // Faults hold for every size: the collectives run on the faulty links, and each message is
        // compared with the same message on the healthy links to find the link they share.
        try Self.checkFaults(collective.faults, healthy, file: hardware.file)
        let topology = FaultPolicy(collective.faults, on: healthy).network(at: 0)
        // Before planning, which for 'auto' times every candidate algorithm.
        let algorithms = collective.algorithm == .auto ? CollectivePlanner.candidates(collective.op, topology: topology) : [collective.algorithm]
        try workBudget.check(
            WorkEstimate.messages(collective, ranks: topology.ranks, channels: topology.channels, algorithms: algorithms),
            of: .messages, at: collective.location, key: "number of sizes or of GPUs")
        var plans: [CollectivePlan] = []
        var diagnostics: [Diagnostic] = []
        for size in collective.sizes {
            do {
                if collective.algorithm == .auto {
                    plans.append(try fastest(collective, bytes: size, topology: topology))
                } else {
                    plans.append(try CollectivePlanner.plan(collective, bytes: size, topology: topology))
                }
            } catch let e as InputError { diagnostics += e.diagnostics }
        }
        if let first = diagnostics.first { throw InputError(first) }
        for plan in plans where Self.upperBoundPicoseconds(plan, topology) > 1e18 {
            throw InputError(Diagnostic(
                at: collective.location, "the \(plan.op.rawValue) of \(plan.bytes) B would take longer than the simulator's clock holds (about 11 days)",
                expected: "sizes and link bandwidths whose transfers take less than 10^6 s", found: "\(plan.bytes) B on \(hardware.file)"))
        }
        return PreparedRun { [plans] _ in try self.runCollectives(collective, healthy: healthy, topology: topology, plans: plans) }
    }

    /// A collective microbenchmark: each message size, planned, executed on the links one size
    /// after another.
    func runCollectives(_ collective: CollectiveSpec, healthy: ClusterTopology, topology: ClusterTopology, plans: [CollectivePlan]) throws -> RunOutput {
        // The sizes one after another on one stream of every GPU, replayed by the cluster executor:
        // each on the faulty links (the fault policy's network from the start), each message
        // compared with the same message on the healthy links.
        var tasks: [StepTask] = []
        var byKey: [GroupCollective: CollectivePlan] = [:]
        for (k, plan) in plans.enumerated() {
            // Each size is its own collective (stage k), even where two sizes are equal.
            let key = GroupCollective(op: plan.op, group: .all, stage: k, bytes: plan.bytes)
            byKey[key] = plan
            tasks.append(StepTask(name: "\(plan.op.rawValue) \(plan.bytes) B", kind: .collective, stream: 0, entity: 0, work: .collective(key), deps: k > 0 ? [k - 1] : []))
        }
        let everyGPU = StepEntity(stage: 0, replicas: [0], ranks: Array(0..<topology.ranks), name: "all GPUs")
        let taskPlan = TaskPlan(
            topology: healthy, tasks: tasks, streams: [StepStream(name: "collectives", entity: nil, stage: 0)], entities: [everyGPU], faults: collective.faults,
            replicatedEntities: false,
            collectivePlan: { [byKey] in byKey[$0] ?? CollectivePlan(op: $0.op, algorithm: .direct, ranks: 1, bytes: 0, steps: []) })
        let r = try TaskExecutor(plan: taskPlan, sharedLinks: false).run()
        var linkBytes: [Int: Double] = [:]
        // Each size's traffic per link, over the span it ran in (sizes run one after another).
        var traffic: [(span: (Double, Double), links: [(id: Int, bytes: Double)])] = []
        var rows: [Report.Collective] = []
        var runs: [(plan: CollectivePlan, start: Picoseconds, end: Picoseconds, algbwGBps: Double, busbwGBps: Double)] = []
        for (k, plan) in plans.enumerated() {
            let start = r.startPicoseconds[k], end = r.endPicoseconds[k]
            let used = Int(r.taskCollective[k])
            let links = used >= 0 && used < r.collectiveLinks.count ? r.collectiveLinks[used] : []
            traffic.append(((Double(start) / 1e12, Double(end) / 1e12), links))
            for (id, b) in links { linkBytes[id, default: 0] += b }
            let seconds = Double(end - start) / 1e12
            let algbw = seconds > 0 ? Double(plan.bytes) / seconds / 1e9 : 0
            runs.append((plan, start, end, algbw, algbw * plan.busFactor))
            // Under NCCL's protocols, the one the executor's link simulation kept.
            let chosen = used >= 0 && used < r.collectiveProtocols.count ? r.collectiveProtocols[used]?.ncclName : nil
            rows.append(Report.Collective(
                op: plan.op.rawValue, algorithm: plan.algorithm.rawValue, ranks: plan.ranks, bytes: plan.bytes, seconds: seconds, algbwGBps: algbw,
                busbwGBps: algbw * plan.busFactor, ncclProtocol: chosen))
        }
        let events = r.events
        let seconds = Double(r.endPicoseconds.last ?? 0) / 1e12
        // Energy: every GPU at idle power (the reduction kernels' SM work is not modeled), link traffic per byte.
        var ledger = EnergyLedger(seconds: seconds)
        ledger.addGPUs("gpus (\(topology.ranks))", count: topology.ranks, gpu: topology.gpu, busy: [])
        for t in traffic {
            for (id, bytes) in t.links { ledger.addLink(kind: topology.kind(id), bytes: bytes, over: t.span) }
        }
        var report = Report(hardwareName: hardware.name, workloadName: workload.name, seconds: seconds, events: events, energy: ledger.clusterAccount())
        report.collectives = rows
        if !collective.faults.isEmpty {
            let suspect = r.suspectLinks.first
            report.collectiveFindings = Report.CollectiveFindings(
                faults: collective.faults.map { ($0.name, $0.isCut ? "cut" : "slowdown ×" + formatDecimal($0.slowdown, maxDecimals: 3)) },
                slowestLink: suspect.map { (topology.describe($0.link).name, $0.slowed, $0.messages) })
        }
        report.units = linkBytes.keys.sorted().map { id in
            let (name, kind) = topology.describe(id)
            let busy = (linkBytes[id] ?? 0) / topology.capacity(id)
            return Report.Unit(name: name, kind: kind, busySeconds: busy, utilization: seconds == 0 ? 0 : busy / seconds)
        }
        report.modelNotes = Report.clusterNotes + [Report.collectiveEnergyNote, NetworkEnergy.note] + Report.protocolNotes(topology)
        return RunOutput(graph: nil, plan: nil, result: nil, report: report, views: CollectiveViews(
                file: hardware.file, plans: plans, bytesPerElement: workload.precision.bytes, runs: runs, ranks: topology.ranks, energy: report.energy))
    }
}

extension RunRequest {
    /// `auto`: every candidate algorithm that applies, timed on the link simulator; the fastest
    /// (the earlier candidate on a tie). A candidate that cannot be planned or whose transfers would
    /// overflow the clock is skipped; when none remains, the first candidate's error is thrown.
    func fastest(_ spec: CollectiveSpec, bytes: UInt64, topology: ClusterTopology) throws -> CollectivePlan {
        var best: (plan: CollectivePlan, ps: UInt64)?
        var firstError: InputError?
        for algorithm in CollectivePlanner.candidates(spec.op, topology: topology) {
            var s = spec
            s.algorithm = algorithm
            let plan: CollectivePlan
            do { plan = try CollectivePlanner.plan(s, bytes: bytes, topology: topology) } catch {
                if firstError == nil { firstError = error }
                continue
            }
            guard Self.upperBoundPicoseconds(plan, topology) <= 1e18 else { continue }
            let ps = try LinkSimulator(topology: topology).run(plan).picoseconds
            if best == nil || ps < best?.ps ?? .max { best = (plan, ps) }
        }
        if let best { return best.plan }
        if let firstError { throw firstError }
        return try CollectivePlanner.plan(spec, bytes: bytes, topology: topology)
    }

    /// A bound on a plan's simulated time: every step's bytes through the slowest link, plus the
    /// largest latency a message can have, per step.
    static func upperBoundPicoseconds(_ plan: CollectivePlan, _ t: ClusterTopology) -> Double {
        let slowest = t.slowestCapacity
        var total = 0.0
        for step in plan.steps {
            let bytes = step.flows.reduce(0.0) { $0 + $1.bytes }
            total += Double(step.repeats) * (bytes / slowest * 1e12 + t.largestLatencySeconds * 1e12 + 1)
        }
        return total
    }
}

extension Report {
    /// The note of NCCL's protocol model, when the cluster uses it (`nccl_protocol`).
    public static func protocolNotes(_ topology: ClusterTopology) -> [String] {
        let floor = topology.spec.collectiveFloor
        let floorNote = floor > 0
            ? ["collective_floor: every collective call takes at least \(formatDecimal(floor * 1e6, maxDecimals: 2)) us: time = max(floor, the links' time). Calls issued back to back from the host (nccl-tests without CUDA graphs) finish no faster than the host issues them, which bounds small messages; a constant of the system measured, taken from its smallest message's published time, not from NCCL (approximation: the host's issue cost does not otherwise add to a large message's time)"]
            : []
        guard let p = topology.spec.ncclProtocol else { return floorNote }
        return floorNote + [
            "collectives costed with NCCL's protocols (nccl_protocol: \(p)\(p == "auto" ? ": LL, LL128 and Simple timed for each collective and the fastest kept, as NCCL's tuner picks the least predicted time" : ", forced")): NCCL's own constants (src/graph/tuning.cc, NVIDIA/nccl 5067397c = v2.30.7): a launch latency per collective (ring LL 6.6, LL128 14, Simple 8.4 us; tree 6.8/14/8.4), a latency per step in place of the fabric's latency (NVLink ring 0.6/1.9/3.4 us, tree 0.6/1.25/4; network ring 2.7/4/14 us, tree 5/8.5/14; hop_latency still added), each link's bandwidth x efficiency times the protocol's share (ring LL 0.5 capped at llMaxBw, LL128 0.92, Simple 1; tree Simple 0.92, LL 0.92/3.8, LL128 0.92 x 7/9 on one node or x 120/128); the double binary tree takes the tree rows, every other algorithm the ring rows; NVLink SHARP (algorithm nvls, one NVSwitch node of a GPU that has it, Simple only) is one step of S up and S down each GPU's port at the link's bandwidth x efficiency x 0.85 x 15/16 after 25 us. Approximation: CollNet, NVLS across nodes and for reduce-scatter and all-gather, NCCL's channel trimming for small messages and its per-channel caps are not modeled; nccl-tests without CUDA graphs measures several microseconds of host launch overhead more than these constants",
        ]
    }

    public static let collectiveEnergyNote =
        "energy: every GPU draws its idle power for the whole benchmark (the reduction kernels' work on the SMs is not modeled), plus the network energy of every byte carried; power over time spreads each size's link energy evenly over the time that size ran"

    public static let clusterNotes = [
        "collectives are decomposed into point-to-point steps (ring, halving-doubling, direct, hierarchical) and run step after step, each step starting when the last message of the previous one arrived",
        "every link is one direction of a connection with bandwidth x efficiency; messages crossing a link share it max-min fairly (progressive filling, recomputed whenever a message finishes)",
        "a message of b bytes takes its route's latency (latency + hop_latency x switches crossed) plus b / its fair rate",
        "ring collectives across nodes use one ring per NIC (channels), each leaving every node through its own NIC; GPU-to-NIC (PCIe) links are not modeled",
        "algbw = S / time and busbw = algbw x 2(n-1)/n (all-reduce), (n-1)/n (reduce-scatter, all-gather, all-to-all), 1 (broadcast, reduce, send-recv), as nccl-tests defines them; GB/s = 10^9 bytes/s",
        "units are the links that carried traffic; busy_s is bytes / bandwidth, utilization is busy time / run time",
    ]
}
