import TesseraCore
import TesseraGraph
import TesseraPlan
import TesseraSim

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
