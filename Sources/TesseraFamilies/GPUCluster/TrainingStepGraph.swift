import TesseraGraph
import TesseraPlan

extension ParallelStep {
    /// The elaborated step's dataflow graph as `render graph` draws it: the same operations and
    /// edges (one replica's layer compute per microbatch chunk, forward and backward, the output
    /// layer, the optimizer, each tensor-, context-, expert-, pipeline- and data-parallel
    /// collective), reordered by pipeline stage and kind of work and named
    /// `stage<s>.<kind>.<operation>`, so that a picture of a large step collapses into one node per
    /// stage and kind (`stage3.backward`, `stage3.dp`, …) whatever the number of microbatches and
    /// layers. The graph is the one the planner maps onto the cluster, from before mapping: it has
    /// no classes of replicas (a faulty replica's copy is the planner's).
    func pictureGraph() -> DataflowGraph {
        let ops = graph.operations
        let kindOrder = Dictionary(uniqueKeysWithValues: StepWorkKind.allCases.enumerated().map { ($1, $0) })
        let order = ops.indices.sorted { a, b in
            let pa = placement[a], pb = placement[b]
            if pa.stage != pb.stage { return pa.stage < pb.stage }
            let ka = kindOrder[pa.kind] ?? 0, kb = kindOrder[pb.kind] ?? 0
            return ka != kb ? ka < kb : a < b
        }
        var newID = [Int](repeating: 0, count: ops.count)
        for (k, i) in order.enumerated() { newID[i] = k }
        var operations: [Operation] = []
        operations.reserveCapacity(ops.count)
        for (k, i) in order.enumerated() {
            var op = ops[i]
            let place = placement[i]
            op.name = "stage\(place.stage).\(place.kind.rawValue).\(op.name.replacingOccurrences(of: ".", with: "/"))"
            op.id = OpID(k)
            op.layer = k
            op.dependencies = op.dependencies.map { OpID(newID[$0.raw]) }.sorted()
            operations.append(op)
        }
        return DataflowGraph(operations: operations, tensors: [], layers: operations.map(\.name), bytesPerElement: graph.bytesPerElement, isTraining: true)
    }
}
