import Foundation
import Testing
import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraPlan
import TesseraSpec
import TesseraTestSupport

@testable import TesseraSim

/// The equivalence harness of the accelerator executor moved onto the cluster executor: its tile
/// policies are now a task source of `TaskExecutor`, and on every bundled accelerator pair (each
/// array configuration × inference workload, in program order; each sparse-training array and
/// each edge SoC × every layer workload it accepts, in per-unit streams, with DVFS and power
/// budgets) they give exactly what the engine they replaced gave (`ReferenceStreamSimulator`,
/// kept here with its own event loop): every op's cycles, start and end, every unit's busy
/// cycles, every interval of the timeline, the bytes, the event count and the operating points.
@Suite struct StreamEquivalenceTests {
    static func layerTraces() throws -> [(name: String, workload: WorkloadSpec)] {
        let dir = packageRoot.appendingPathComponent("traces")
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted().compactMap { name in
            guard name.hasSuffix(".yaml"), let text = try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8) else { return nil }
            // Layer workloads (inference or training), not cluster or continual-learning ones.
            guard !text.contains("\ntransformer:") && !text.contains("\ncollective:") && !text.contains("\ncontinual:") else { return nil }
            return (name, try WorkloadLoader.load(path: dir.appendingPathComponent(name).path))
        }
    }

    static func configs(_ folder: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent("configs/\(folder)").path).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    @Test func everyBundledAcceleratorPairIsIdentical() throws {
        let traces = try Self.layerTraces()
        var pairs: [String: Int] = [:]
        for folder in ["array", "sat", "edge"] {
            for config in try Self.configs(folder) {
                let spec = try KindTable.hardwareLoader.load(path: packageRoot.appendingPathComponent("configs/\(folder)/\(config)").path)
                let hw = HardwareModel(spec)
                for (name, wl) in traces {
                    let plan: Plan
                    switch folder {
                    case "array":
                        guard wl.phase == .inference else { continue }
                        plan = try Mapper.plan(graph: Elaborator.elaborate(wl), hardware: hw, workload: wl.name)
                    case "sat":
                        guard wl.phase == .training else { continue }
                        plan = try TrainingMapper.plan(graph: TrainingElaborator.elaborate(wl), hardware: hw, workload: wl.name, optimizations: spec.optimizations)
                    default:
                        // Pairs the edge mapper refuses (a model too large for the SoC) are skipped.
                        guard let p = try? EdgeMapper.plan(graph: TrainingElaborator.elaborate(wl), hardware: hw, workload: wl) else { continue }
                        plan = p
                    }
                    let reference = try ReferenceStreamSimulator(plan: plan).run()
                    let executed = try StreamSimulator(plan: plan).run()
                    ProgramOrderEquivalenceTests.expectSame(reference, executed, "\(name) on \(folder)/\(config)")
                    pairs[folder, default: 0] += 1
                }
            }
        }
        // When this was written: 7 arrays × 11 inference workloads, 1 SAT array × its training
        // workloads, 4 edge SoCs × the workloads each accepts.
        #expect((pairs["array"] ?? 0) >= 77 && (pairs["sat"] ?? 0) >= 3 && (pairs["edge"] ?? 0) >= 20, "\(pairs)")
    }

    /// A plan with no network that is handed a collective says so instead of trapping.
    @Test func aCollectiveWithoutANetworkIsAnError() throws {
        struct OneCollective: TaskSource {
            mutating func start(_ out: inout TaskSubmissions) throws(SimError) {
                out.begin(0, stream: 0, entity: 0, .collective(GroupCollective(op: .allReduce, group: .all, stage: 0, bytes: 1024)))
            }
            mutating func ended(_ token: Int, began: Picoseconds, at now: Picoseconds, _ out: inout TaskSubmissions) throws(SimError) {}
            mutating func timer(_ tag: Int, at now: Picoseconds, _ out: inout TaskSubmissions) throws(SimError) {}
        }
        let plan = TaskPlan(
            topology: nil, tasks: [], streams: [StepStream(name: "u", entity: 0, stage: 0)], entities: [StepEntity(stage: 0, replicas: [], ranks: [], name: "u")],
            faults: [], replicatedEntities: false, collectivePlan: { _ in CollectivePlan(op: .allReduce, algorithm: .ring, ranks: 0, bytes: 0, steps: []) })
        var source = OneCollective()
        #expect(throws: SimError.self) { try TaskExecutor(plan: plan).run(source: &source) }
    }
}
