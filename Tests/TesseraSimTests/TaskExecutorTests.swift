import Testing
import TesseraCore
import TesseraGraph
import TesseraModel
@testable import TesseraPlan
import TesseraSpec
import TesseraTestSupport

@testable import TesseraSim

/// The cluster executor on its own: task order on streams and dependencies, concurrent
/// collectives sharing links (max-min fair shares of their standalone rates), GPU faults, a cycle
/// reported as a deadlock, and a collective microbenchmark replayed as a chain of collectives.
/// Training plans come from the planner, then their tasks are replaced by hand-made ones whose
/// timing has a closed form.
@Suite struct TaskExecutorTests {
    static let model = "{layers: 4, hidden: 512, heads: 8, ffn: 2048, seq_len: 256, vocab: 1000}"

    static func plan(nodes: Int = 2, gpusPerNode: Int = 4, parallelism: String = "{tp: 2, pp: 2, dp: 2}", extra: String = "") throws -> TrainingStepPlan {
        let wl = "tessera: 1\nname: t\nphase: training\nprecision: bf16\nbatch: 8\ntransformer: \(model)\nparallelism: \(parallelism)\n" + extra
        let w = try WorkloadLoader.parse(wl, file: "w.yaml")
        let topology = try ClusterFixture.topology(ClusterFixture.yaml(nodes: nodes, gpusPerNode: gpusPerNode))
        let llm = try #require(w.llm)
        return try TrainingStepPlanner.plan(llm, precision: w.precision, topology: topology, batch: w.batch, batchLocation: SourceLocation(file: "w.yaml", line: 1, column: 1))
    }

    /// A data-parallel collective of the plan (all replicas: it crosses the NICs).
    static func dpCollective(_ p: TrainingStepPlan) throws -> GroupCollective {
        for t in p.tasks { if case .collective(let c) = t.work, c.group == .dp { return c } }
        throw SimError.deadlock(time: 0, pending: "no data-parallel collective in the plan")
    }

    static func compute(_ name: String, _ seconds: Double, stream: Int, deps: [Int] = []) -> StepTask {
        StepTask(name: name, kind: .forward, stream: stream, entity: 0, work: .compute(seconds), deps: deps)
    }

    @Test func tasksOnAStreamRunInOrderAndDependenciesWait() throws {
        var p = try Self.plan()
        p.streams = [StepStream(name: "a", entity: 0, stage: 0), StepStream(name: "b", entity: 0, stage: 0)]
        p.tasks = [
            Self.compute("a0", 1e-3, stream: 0), Self.compute("a1", 2e-3, stream: 0), Self.compute("a2", 3.5e-3, stream: 0),
            Self.compute("b0", 1e-3, stream: 1, deps: [1]),  // waits for a1 (ends at 3 ms)
            Self.compute("b1", 0.25e-3, stream: 1),
        ]
        let r = try TaskExecutor(plan: p.taskPlan).run()
        #expect(r.start == [0, 1e-3, 3e-3, 3e-3, 4e-3])
        #expect(r.end == [1e-3, 3e-3, 6.5e-3, 4e-3, 4.25e-3])
        #expect(r.stepSeconds == 6.5e-3)
        #expect(r.linkIDs.isEmpty && r.collectivesSimulated == 0)
    }

    /// Two different collectives over the same links at once: each gets the max-min fair share of
    /// its standalone rate, so both take about twice as long as alone (a little less: latency is
    /// part of the standalone time); with sharing off (each as if alone) they take exactly their
    /// standalone time.
    @Test func concurrentCollectivesShareTheirLinksFairly() throws {
        var p = try Self.plan()
        var c = try Self.dpCollective(p)
        c.bytes = 1 << 30  // large enough that bandwidth, not latency, sets its time
        var d = c
        d.bytes += 2  // a different collective on the same links
        let alone = try LinkSimulator(topology: p.topology).run(p.collectivePlan(c))
        let t0 = Double(alone.picoseconds) / 1e12
        p.streams = [StepStream(name: "x", entity: nil, stage: 0), StepStream(name: "y", entity: nil, stage: 0)]
        p.tasks = [
            StepTask(name: "c", kind: .dp, stream: 0, entity: 0, work: .collective(c), deps: []),
            StepTask(name: "d", kind: .dp, stream: 1, entity: 0, work: .collective(d), deps: []),
        ]
        let shared = try TaskExecutor(plan: p.taskPlan).run()
        let separate = try TaskExecutor(plan: p.taskPlan, sharedLinks: false).run()
        #expect(abs(separate.end[0] - t0) < 1e-12)
        for i in 0..<2 {
            #expect(shared.end[i] > 1.8 * t0 && shared.end[i] <= 2.0 * t0 * (1 + 1e-6), "\(shared.end[i]) against \(t0)")
        }
        // The same bytes cross the links either way.
        #expect(shared.linkIDs == separate.linkIDs)
        #expect(shared.linkIDs.allSatisfy { abs(shared.linkBytes[$0] - separate.linkBytes[$0]) <= 1e-9 * separate.linkBytes[$0] })
        // One after the other they do not meet: each runs at full speed.
        p.tasks[1].deps = [0]
        let serial = try TaskExecutor(plan: p.taskPlan).run()
        #expect(abs(serial.end[0] - t0) < 1e-12)
        #expect(abs(serial.end[1] - serial.start[1] - Double(try LinkSimulator(topology: p.topology).run(p.collectivePlan(d)).picoseconds) / 1e12) < 1e-12)
    }

    /// A GPU slowed by 2 from the start doubles its class's compute; cut, it stops the step where
    /// its first compute would start.
    @Test func aSlowGPUStretchesItsComputeAndACutOneStopsTheStep() throws {
        let healthy = try TaskExecutor(plan: try Self.plan().taskPlan).run()
        let slow = try TaskExecutor(plan: try Self.plan(extra: "faults:\n  - {gpu: 1, slowdown: 2}\n").taskPlan).run()
        #expect(slow.stepSeconds > healthy.stepSeconds)
        let own = try #require(slow.rankCompute.first { $0.rank == 1 }?.seconds)
        let base = try #require(slow.rankCompute.first { $0.rank != 1 && $0.seconds > 0 }?.seconds)
        #expect(abs(own - 2 * base) < 1e-9 * own)
        #expect(slow.failure == nil)
        let cut = try TaskExecutor(plan: try Self.plan(extra: "faults:\n  - {gpu: 1, cut: true}\n").taskPlan).run()
        #expect(cut.failure?.rank == 1)
        #expect(cut.stepSeconds == cut.failure?.at)
    }

    @Test func aCycleIsADeadlockNotAHang() throws {
        var p = try Self.plan()
        p.streams = [StepStream(name: "a", entity: 0, stage: 0), StepStream(name: "b", entity: 0, stage: 0)]
        p.tasks = [Self.compute("a", 1e-3, stream: 0, deps: [1]), Self.compute("b", 1e-3, stream: 1, deps: [0])]
        #expect(throws: SimError.self) { try TaskExecutor(plan: p.taskPlan).run() }
    }

    @Test func runsAreDeterministic() throws {
        let p = try Self.plan(parallelism: "{tp: 2, pp: 2, dp: 2, zero: 1, bucket: 1 MiB}")
        let a = try TaskExecutor(plan: p.taskPlan).run(), b = try TaskExecutor(plan: p.taskPlan).run()
        #expect(a.start == b.start && a.end == b.end && a.linkIDs == b.linkIDs && a.linkBusy == b.linkBusy)
    }
}

/// A collective microbenchmark is a chain of collectives on one stream: each size runs alone, so
/// its span is exactly the link simulator's time for it, on the faulty links when a fault holds,
/// and the suspect link is the one the late messages share.
@Suite struct TaskExecutorMicrobenchmarkTests {
    @Test(arguments: [false, true])
    func aChainOfSizesTakesEachSizesLinkTime(_ faulty: Bool) throws {
        let healthy = try ClusterFixture.topology(ClusterFixture.yaml(nodes: 2, gpusPerNode: 8))
        let text = "tessera: 1\nname: c\ncollective: {op: all-reduce, sizes: [1 KiB, 1 MiB, 64 MiB, 1 MiB], algorithm: ring}\n" + (faulty ? "faults:\n  - {link: node1.nic2.up, slowdown: 4}\n" : "")
        let spec = try #require(try WorkloadLoader.parse(text, file: "w.yaml").collective)
        let policy = FaultPolicy(spec.faults, on: healthy)
        let network = policy.network(at: 0)
        let plans = try spec.sizes.map { try CollectivePlanner.plan(spec, bytes: $0, topology: network) }
        var byStage: [Int: CollectivePlan] = [:]
        var tasks: [StepTask] = []
        for (k, plan) in plans.enumerated() {
            byStage[k] = plan
            tasks.append(StepTask(name: "size\(k)", kind: .collective, stream: 0, entity: 0, work: .collective(GroupCollective(op: plan.op, group: .all, stage: k, bytes: plan.bytes)), deps: k > 0 ? [k - 1] : []))
        }
        let taskPlan = TaskPlan(
            topology: healthy, tasks: tasks, streams: [StepStream(name: "c", entity: nil, stage: 0)], entities: [StepEntity(stage: 0, replicas: [0], ranks: Array(0..<16), name: "all")],
            faults: spec.faults, replicatedEntities: false, collectivePlan: { [byStage] in byStage[$0.stage] ?? CollectivePlan(op: $0.op, algorithm: .ring, ranks: 1, bytes: 0, steps: []) })
        let r = try TaskExecutor(plan: taskPlan, sharedLinks: false).run()
        var clock: UInt64 = 0
        var late: [Int: (slowed: Int, messages: Int)] = [:]
        for (k, plan) in plans.enumerated() {
            let alone = try LinkSimulator(topology: network).run(plan, arrivals: faulty)
            if faulty { LinkSimulator.countLateMessages(plan, faulty: alone, healthy: try LinkSimulator(topology: healthy).run(plan, arrivals: true), on: network, into: &late) }
            #expect(r.startPicoseconds[k] == clock)
            clock += alone.picoseconds
            #expect(r.endPicoseconds[k] == clock, "size \(k)")
        }
        let expected = LinkSimulator.rankSuspects(late)
        #expect(r.suspectLinks.map(\.link) == expected.map(\.link))
        #expect(r.suspectLinks.first?.link == (faulty ? healthy.link(named: "node1.nic2.up") : nil))
        if !faulty { #expect(r.suspectLinks.isEmpty) }
    }
}
