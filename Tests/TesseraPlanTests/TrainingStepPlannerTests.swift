import Testing
import TesseraCore
import TesseraModel
import TesseraSpec
import TesseraTestSupport

@testable import TesseraPlan

/// The cluster training-step planner on its own: the layout must cover the cluster, the tasks
/// form a DAG in order, each stage runs a forward and a backward per microbatch and layer chunk,
/// tensor parallelism adds its collectives and data parallelism reduces every gradient once.
@Suite struct TrainingStepPlannerTests {
    static let model = "{layers: 4, hidden: 512, heads: 8, ffn: 2048, seq_len: 256, vocab: 1000}"

    static func plan(gpus: Int = 8, parallelism: String, batch: Int = 8) throws -> TrainingStepPlan {
        let wl = "tessera: 1\nname: t\nphase: training\nprecision: bf16\nbatch: \(batch)\ntransformer: \(model)\nparallelism: \(parallelism)\n"
        let w = try WorkloadLoader.parse(wl, file: "w.yaml")
        let topology = try ClusterFixture.topology(ClusterFixture.yaml(nodes: gpus / 4, gpusPerNode: 4))
        let llm = try #require(w.llm)
        return try TrainingStepPlanner.plan(llm, precision: w.precision, topology: topology, batch: w.batch, batchLocation: SourceLocation(file: "w.yaml", line: 5, column: 1))
    }

    @Test func theLayoutMustCoverTheCluster() throws {
        #expect {
            _ = try Self.plan(parallelism: "{tp: 2, pp: 2, dp: 1}")
        } throws: { error in
            (error as? InputError)?.description.contains("does not cover the cluster") == true
        }
    }

    @Test(arguments: ["{tp: 2, pp: 2, dp: 2}", "{tp: 1, pp: 4, dp: 2, zero: 1}", "{tp: 4, pp: 1, dp: 2, zero: 3}", "{tp: 2, pp: 2, dp: 2, virtual_stages: 2}"])
    func tasksFormADAGInOrder(_ parallelism: String) throws {
        let p = try Self.plan(parallelism: parallelism)
        #expect(!p.tasks.isEmpty)
        for (i, t) in p.tasks.enumerated() {
            #expect(t.deps.allSatisfy { $0 >= 0 && $0 < i }, "\(t.name) depends on a later task")
            #expect(t.stream >= 0 && t.stream < p.streams.count)
            #expect(t.entity >= 0 && t.entity < p.entities.count)
            if let e = p.streams[t.stream].entity { #expect(e == t.entity || t.kind == .pp, "\(t.name) on another class's stream") }
        }
        // Every rank belongs to exactly one class of GPUs.
        let ranks = p.entities.flatMap(\.ranks).sorted()
        #expect(ranks == Array(0..<p.topology.ranks))
    }

    /// Each stage computes one forward and one backward per microbatch and layer chunk.
    @Test func everyStageRunsAForwardAndABackwardPerMicrobatch() throws {
        let p = try Self.plan(parallelism: "{tp: 2, pp: 2, dp: 2}")
        #expect(p.microbatches == 8 / 2)
        for e in p.entities.indices {
            let mine = p.tasks.filter { $0.entity == e }
            let forwards = mine.filter { $0.kind == .forward }.count, backwards = mine.filter { $0.kind == .backward }.count
            #expect(forwards > 0 && forwards == backwards)
            #expect(forwards % p.microbatches == 0)
            #expect(mine.filter { $0.kind == .optimizer }.count == 1)
        }
    }

    @Test func tensorParallelismAddsItsCollectives() throws {
        let without = try Self.plan(parallelism: "{tp: 1, pp: 2, dp: 4}")
        let with = try Self.plan(parallelism: "{tp: 2, pp: 2, dp: 2}")
        #expect(!without.tasks.contains { $0.kind == .tp })
        #expect(with.tasks.contains { $0.kind == .tp })
    }

    /// Without ZeRO every gradient is all-reduced once: a stage's buckets add up to its parameters
    /// at two bytes each (bf16), to within a byte per bucket (each bucket's bytes are whole).
    @Test func dataParallelismReducesEveryGradientOnce() throws {
        let p = try Self.plan(parallelism: "{tp: 2, pp: 2, dp: 2, bucket: 1 MiB}")
        for s in 0..<2 {
            var bytes: UInt64 = 0, buckets = 0
            for t in p.tasks where t.name.hasPrefix("stage\(s).bucket") {
                if case .collective(let c) = t.work {
                    #expect(c.op == .allReduce && c.group == .dp)
                    bytes += c.bytes
                    buckets += 1
                }
            }
            #expect(buckets > 1)
            #expect(abs(Double(bytes) - 2 * p.stageParameters[s]) <= Double(buckets), "stage \(s): \(bytes) B of gradients")
        }
    }
}
