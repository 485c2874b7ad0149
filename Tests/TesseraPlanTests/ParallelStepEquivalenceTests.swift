import Foundation
import Testing
import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraSpec
import TesseraTestSupport

@testable import TesseraPlan

/// Elaborating a training step into its dataflow graph first and mapping that graph onto the
/// cluster gives exactly the tasks, streams and classes of replicas the planner built directly
/// before (`ReferenceTrainingStepPlanner`): every task's name, kind, stream, class, work and
/// dependencies, in the same order, for the bundled GPU training traces and for seeded random
/// layouts with faults, ZeRO 0–3, sequence, context and expert parallelism, interleaving,
/// recomputation and replicas simulated one by one.
@Suite struct ParallelStepEquivalenceTests {
    static func same(_ spec: LLMTrainingSpec, _ precision: Precision, _ topology: ClusterTopology, batch: Int, mergeReplicas: Bool = true) throws -> Int {
        let location = SourceLocation(file: "w.yaml", line: 1, column: 1)
        let reference: (tasks: [StepTask], streams: [StepStream], entities: [StepEntity])
        do {
            reference = try ReferenceTrainingStepPlanner.plan(
                spec, precision: precision, topology: topology, batch: batch, batchLocation: location, mergeReplicas: mergeReplicas, budget: .unlimited)
        } catch {
            // A step the reference refuses is refused the same way.
            #expect(throws: InputError.self) {
                _ = try TrainingStepPlanner.plan(spec, precision: precision, topology: topology, batch: batch, batchLocation: location, mergeReplicas: mergeReplicas, budget: .unlimited)
            }
            do {
                _ = try TrainingStepPlanner.plan(spec, precision: precision, topology: topology, batch: batch, batchLocation: location, mergeReplicas: mergeReplicas, budget: .unlimited)
            } catch let new {
                #expect(new.description == error.description)
            }
            return 0
        }
        let plan = try TrainingStepPlanner.plan(spec, precision: precision, topology: topology, batch: batch, batchLocation: location, mergeReplicas: mergeReplicas, budget: .unlimited)
        #expect(plan.tasks.count == reference.tasks.count)
        var mismatches = 0
        for (a, b) in zip(plan.tasks, reference.tasks) where !Self.equal(a, b) {
            mismatches += 1
            if mismatches <= 3 { Issue.record("task \(a.name) (kind \(a.kind), stream \(a.stream), deps \(a.deps)) ≠ \(b.name) (kind \(b.kind), stream \(b.stream), deps \(b.deps))") }
        }
        #expect(mismatches == 0)
        #expect(plan.streams.map { "\($0.name) \($0.entity ?? -1) \($0.stage)" } == reference.streams.map { "\($0.name) \($0.entity ?? -1) \($0.stage)" })
        #expect(plan.entities.map { "\($0.name) \($0.stage) \($0.replicas) \($0.ranks)" } == reference.entities.map { "\($0.name) \($0.stage) \($0.replicas) \($0.ranks)" })
        // The graph is one replica's: as many operations as the tasks of a single class.
        #expect(plan.step.graph.operations.count <= plan.tasks.count)
        return plan.tasks.count
    }

    static func equal(_ a: StepTask, _ b: StepTask) -> Bool {
        guard a.name == b.name, a.kind == b.kind, a.stream == b.stream, a.entity == b.entity, a.deps == b.deps else { return false }
        switch (a.work, b.work) {
        case (.compute(let x), .compute(let y)): return x == y
        case (.collective(let x), .collective(let y)): return x == y
        default: return false
        }
    }

    @Test(arguments: ["gpt3-175b-train-1024", "llama3-70b-train-128", "llama3-8b-train-8", "mixtral-8x7b-train-128"])
    func bundledTraces(_ name: String) throws {
        let path = packageRoot.appendingPathComponent("traces/\(name).yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let hardware = try #require(text.split(separator: "\n").first?.split(separator: " ").last.map(String.init))
        let topology = try ClusterFixture.topology(try String(contentsOfFile: packageRoot.appendingPathComponent(hardware).path, encoding: .utf8))
        let w = try WorkloadLoader.load(path: path)
        let llm = try #require(w.llm)
        #expect(try Self.same(llm, w.precision, topology, batch: w.batch) > 0)
    }

    /// Random layouts on 16 GPUs (2 nodes of 8) of a small dense or mixture-of-experts model.
    @Test func seededRandomLayouts() throws {
        var rng = SplitMix64(seed: 13)
        let topology = try ClusterFixture.topology(ClusterFixture.yaml(nodes: 2, gpusPerNode: 8))
        var planned = 0, cases = 0
        for _ in 0..<60 {
            let moe = rng.int(in: 0...3) == 0
            let layouts: [(tp: Int, pp: Int, dp: Int, cp: Int)] = [(2, 2, 4, 1), (1, 4, 4, 1), (4, 1, 4, 1), (2, 1, 8, 1), (1, 2, 8, 1), (2, 2, 2, 2), (1, 1, 16, 1), (8, 2, 1, 1), (2, 4, 2, 1)]
            let l = rng.pick(layouts)
            var par = "{tp: \(l.tp), pp: \(l.pp), dp: \(l.dp)"
            if l.cp > 1 { par += ", cp: \(l.cp)" }
            if moe, l.dp % 2 == 0 { par += ", ep: 2" }
            par += ", zero: \(rng.int(in: 0...3))"
            if l.tp > 1, rng.int(in: 0...1) == 1 { par += ", sequence_parallel: true" }
            if l.pp > 1, rng.int(in: 0...2) == 0 { par += ", virtual_stages: 2" }
            par += ", recompute: \(rng.pick(["none", "selective", "full"]))"
            if rng.int(in: 0...3) == 0 { par += ", overlap: false" }
            if rng.int(in: 0...3) == 0 { par += ", bucket: 1 MB" }
            par += "}"
            let model = moe ? "{layers: 8, hidden: 512, heads: 8, ffn: 1024, seq_len: 256, vocab: 1000, experts: 4, top_k: 2}" : "{layers: 8, hidden: 512, heads: 8, ffn: 2048, seq_len: 256, vocab: 1000}"
            let batch = l.dp * rng.pick([2, 4, 8])
            var text = "tessera: 1\nname: t\nphase: training\nprecision: bf16\nbatch: \(batch)\ntransformer: \(model)\nparallelism: \(par)\n"
            switch rng.int(in: 0...3) {
            case 0: text += "faults:\n  - {gpu: \(rng.int(in: 0...15)), slowdown: 1.5}\n"
            case 1: text += "faults:\n  - {gpu: \(rng.int(in: 0...15)), slowdown: 2}\n  - {gpu: \(rng.int(in: 0...15)), slowdown: 1.2, at: 1 ms}\n"
            default: break
            }
            let w = try WorkloadLoader.parse(text, file: "w.yaml")
            let llm = try #require(w.llm)
            let tasks = try Self.same(llm, w.precision, topology, batch: w.batch, mergeReplicas: rng.int(in: 0...4) > 0)
            planned += tasks
            cases += tasks > 0 ? 1 : 0
        }
        // Most layouts plan (some are refused alike: ZeRO 3 with no data parallelism, sizes that do not split).
        #expect(cases >= 40, "\(cases) of 60 layouts planned, \(planned) tasks")
    }
}
