import Testing
import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraSpec
import TesseraTestSupport

@testable import TesseraPlan
@testable import TesseraSim

/// The executor's task-source interface on its own, with toy sources: timers and task ends come
/// back in (time, priority, order given) order with their tags and start times; compute on a
/// healthy GPU lasts exactly its picoseconds, on a slowed GPU its slowdown times that (through a
/// reused slot); a source's collectives share links like the plan's; bad tokens are errors.
@Suite struct TaskSourceTests {
    /// Two single-GPU entities on one 2-GPU node, with `faults` (FaultPolicyTests' YAML form).
    static func plan(faults: String = "") throws -> TaskPlan {
        let topology = try ClusterFixture.topology(ClusterFixture.yaml(nodes: 1, gpusPerNode: 2))
        let specs = faults.isEmpty ? [] : try FaultPolicyTests.faults(faults)
        return TaskPlan(
            topology: topology, tasks: [], streams: [StepStream(name: "a", entity: 0, stage: 0), StepStream(name: "b", entity: 1, stage: 0)],
            entities: [StepEntity(stage: 0, replicas: [], ranks: [0], name: "a"), StepEntity(stage: 0, replicas: [], ranks: [1], name: "b")],
            faults: specs, replicatedEntities: false,
            collectivePlan: { c in
                // Rank 0 sends c.bytes to rank 1.
                CollectivePlan(op: .sendRecv, algorithm: .direct, ranks: 2, bytes: c.bytes, steps: [CollectiveStep(flows: [CollectiveFlow(src: 0, dst: 1, bytes: Double(c.bytes))], repeats: 1)])
            })
    }

    /// Records every call; `script` says what to answer at start.
    struct Recorder: TaskSource {
        var script: (inout TaskSubmissions) -> Void
        var log: [String] = []
        var ends: [Int: (began: Picoseconds, at: Picoseconds)] = [:]
        mutating func start(_ out: inout TaskSubmissions) throws(SimError) { script(&out) }
        mutating func ended(_ token: Int, began: Picoseconds, at now: Picoseconds, _ out: inout TaskSubmissions) throws(SimError) {
            log.append("end \(token) @\(now)")
            ends[token] = (began, now)
        }
        mutating func timer(_ tag: Int, at now: Picoseconds, _ out: inout TaskSubmissions) throws(SimError) { log.append("timer \(tag) @\(now)") }
    }

    @Test func timersAndEndsComeBackInTimePriorityAndOrder() throws {
        var source = Recorder(script: { out in
            out.timer(at: 50, tag: 1)
            out.timer(at: 50, priority: -1, tag: 2)
            out.begin(7, stream: 0, entity: 0, .picoseconds(50))
            out.timer(at: 20, tag: 3)
            out.begin(8, stream: 1, entity: 1, .picoseconds(50), priority: 1)
            out.timer(at: 50, tag: 4)
        })
        _ = try TaskExecutor(plan: Self.plan()).run(source: &source)
        #expect(source.log == ["timer 3 @20", "timer 2 @50", "timer 1 @50", "end 7 @50", "timer 4 @50", "end 8 @50"])
        #expect(source.ends[7]?.began == 0 && source.ends[8]?.at == 50)
    }

    @Test func computeLastsItsTimeTimesTheSlowdown() throws {
        var source = Recorder(script: { out in
            out.begin(1, stream: 0, entity: 0, .picoseconds(1_000_000))  // healthy GPU 0
            out.begin(2, stream: 1, entity: 1, .picoseconds(1_000_000))  // GPU 1 at half speed
        })
        _ = try TaskExecutor(plan: Self.plan(faults: "  - {gpu: 1, slowdown: 2}\n")).run(source: &source)
        #expect(source.ends[1]?.at == 1_000_000)
        #expect(source.ends[2]?.at == 2_000_000)
    }

    /// Two sends at once over one link take twice as long as one alone (fluid max-min sharing).
    @Test func aSourcesCollectivesShareTheirLinks() throws {
        let bytes: UInt64 = 64 << 20
        var alone = Recorder(script: { $0.begin(1, stream: 0, entity: 0, .collective(GroupCollective(op: .sendRecv, group: .kvCache, stage: 0, bytes: bytes))) })
        _ = try TaskExecutor(plan: Self.plan()).run(source: &alone)
        var both = Recorder(script: { out in
            for k in 1...2 { out.begin(k, stream: 0, entity: 0, .collective(GroupCollective(op: .sendRecv, group: .kvCache, stage: 0, bytes: bytes))) }
        })
        _ = try TaskExecutor(plan: Self.plan()).run(source: &both)
        let one = try #require(alone.ends[1]?.at), two = try #require(both.ends[1]?.at)
        #expect(both.ends[2]?.at == two)
        #expect(Double(two) > 1.9 * Double(one) && Double(two) <= 2 * Double(one) + 2)
    }

    @Test func aNegativeTokenIsAnError() throws {
        var source = Recorder(script: { $0.begin(-1, stream: 0, entity: 0, .picoseconds(5)) })
        #expect(throws: SimError.self) { try TaskExecutor(plan: Self.plan()).run(source: &source) }
    }
}
