import TesseraCore
import TesseraGraph
import TesseraPlan
import TesseraSim

extension ServingPlan {
    /// A serving deployment as a dataflow graph: for each instance its prefill and its decode work
    /// (the compute time its GPUs spent in the run), and in a disaggregated deployment the KV-cache
    /// transfer from each prefill instance to each decode instance, as edges prefill → (transfer →)
    /// decode. One node per instance and phase, not per iteration: the iterations are the schedule's.
    func dataflowGraph(_ result: ContinuousBatching.Result, bytesPerElement: Int) -> DataflowGraph {
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
    /// A collective microbenchmark as a dataflow graph, elaborated from its plans before it runs:
    /// each message size's point-to-point steps in order (a step repeated k times, as a ring's
    /// 2(n − 1) identical steps, is one operation "×k"), each carrying its messages' bytes over
    /// the GPUs that send or receive them, one size after another. The operations of one size
    /// share a block (`<op>.<algorithm> <S> B`), so a graph of many steps collapses to one node
    /// per size.
    func dataflowGraph(bytesPerElement: Int) -> DataflowGraph {
        var ops: [Operation] = []
        for (k, plan) in enumerated() {
            let block = "\(plan.op.rawValue).\(plan.algorithm.rawValue) \(plan.bytes) B"
            for (j, step) in plan.steps.enumerated() {
                let id = OpID(ops.count)
                let bytes = step.flows.reduce(0.0) { $0 + $1.bytes } * Double(step.repeats)
                var ranks = Set<Int>()
                for f in step.flows { ranks.insert(f.src); ranks.insert(f.dst) }
                ops.append(.device(
                    id: id, name: "\(block).step\(j)" + (step.repeats > 1 ? " ×\(step.repeats)" : ""), layer: ops.count, op: "collective",
                    work: .collective(GroupCollective(op: .sendRecv, group: .all, stage: k, bytes: Saturating.uint64(bytes))), gpus: ranks.count,
                    dependencies: ops.isEmpty ? [] : [OpID(ops.count - 1)]))
            }
        }
        return DataflowGraph(operations: ops, tensors: [], layers: ops.map(\.name), bytesPerElement: bytesPerElement)
    }
}
