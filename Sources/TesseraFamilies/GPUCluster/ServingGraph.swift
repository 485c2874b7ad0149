import TesseraCore
import TesseraGraph
import TesseraPlan
import TesseraSim

extension ServingPlan {
    /// A serving deployment as a dataflow graph: for each instance its prefill and its decode work
    /// (the compute time its GPUs spent in the run), and in a disaggregated deployment the KV-cache
    /// transfer from each prefill instance to each decode instance, as edges prefill → (transfer →)
    /// decode. One node per instance and phase, not per iteration: the iterations are the schedule's.
    func dataflowGraph(_ result: ServingSimulator.Result, bytesPerElement: Int) -> DataflowGraph {
        // KV-cache bytes from each prefill instance to each decode instance.
        var kvBytes: [Int: UInt64] = [:]
        for q in result.requests where q.output > 1 && q.prefillInstance >= 0 && q.decodeInstance >= 0 && q.prefillInstance != q.decodeInstance {
            let bytes = Saturating.uint64(instances[q.prefillInstance].cost.kvBytes(tokens: q.prompt))
            kvBytes[q.prefillInstance * instances.count + q.decodeInstance, default: 0] = Saturating.add(kvBytes[q.prefillInstance * instances.count + q.decodeInstance] ?? 0, bytes)
        }
        func seconds(_ i: Int, prefill: Bool) -> Double {
            guard i < result.instances.count else { return 0 }
            return prefill ? result.instances[i].prefillSeconds : result.instances[i].decodeSeconds
        }
        var ops: [Operation] = []
        var prefillOp: [Int: OpID] = [:], decodeOp: [Int: OpID] = [:]
        func add(_ name: String, _ op: String, _ work: DeviceWork, gpus: Int, after: [OpID]) -> OpID {
            let id = OpID(ops.count)
            ops.append(.device(id: id, name: name, layer: id.raw, op: op, work: work, gpus: gpus, dependencies: after))
            return id
        }
        for (i, inst) in instances.enumerated() where inst.role != .decode {
            let prefill = add("\(inst.name).prefill", "prefill", .compute(seconds: seconds(i, prefill: true)), gpus: inst.ranks.count, after: [])
            prefillOp[i] = prefill
            if inst.role == .both {
                decodeOp[i] = add("\(inst.name).decode", "decode", .compute(seconds: seconds(i, prefill: false)), gpus: inst.ranks.count, after: [prefill])
            }
        }
        let prefills = instances.indices.filter { instances[$0].role == .prefill }
        for (d, inst) in instances.enumerated() where inst.role == .decode {
            var transfers: [OpID] = []
            for p in prefills {
                let bytes = kvBytes[p * instances.count + d] ?? 0
                guard bytes > 0, let from = prefillOp[p] else { continue }
                transfers.append(add("\(instances[p].name)->\(inst.name).kv-cache", "kv-cache", .collective(GroupCollective(op: .sendRecv, group: .kvCache, stage: 0, bytes: bytes)), gpus: inst.ranks.count, after: [from]))
            }
            decodeOp[d] = add("\(inst.name).decode", "decode", .compute(seconds: seconds(d, prefill: false)), gpus: inst.ranks.count, after: transfers)
        }
        return DataflowGraph(operations: ops, tensors: [], layers: ops.map(\.name), bytesPerElement: bytesPerElement)
    }
}

extension Array where Element == CollectivePlan {
    /// A collective microbenchmark as a dataflow graph: one operation per message size, run one
    /// after another.
    func dataflowGraph(bytesPerElement: Int) -> DataflowGraph {
        var ops: [Operation] = []
        for (k, plan) in enumerated() {
            let id = OpID(k)
            ops.append(.device(
                id: id, name: "\(plan.op.rawValue).\(plan.algorithm.rawValue) \(plan.bytes) B", layer: k, op: "collective",
                work: .collective(GroupCollective(op: plan.op, group: .all, stage: 0, bytes: plan.bytes)), gpus: plan.ranks,
                dependencies: k > 0 ? [OpID(k - 1)] : []))
        }
        return DataflowGraph(operations: ops, tensors: [], layers: ops.map(\.name), bytesPerElement: bytesPerElement)
    }
}
