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
        let ops = operations
        let kindOrder = Dictionary(uniqueKeysWithValues: StepWorkKind.allCases.enumerated().map { ($1, $0) })
        let order = ops.indices.sorted { a, b in
            let pa = ops[a].placement, pb = ops[b].placement
            if pa.stage != pb.stage { return pa.stage < pb.stage }
            let ka = kindOrder[pa.kind] ?? 0, kb = kindOrder[pb.kind] ?? 0
            return ka != kb ? ka < kb : a < b
        }
        var newID = [Int](repeating: 0, count: ops.count)
        for (k, i) in order.enumerated() { newID[i] = k }
        var operations: [Operation] = []
        operations.reserveCapacity(ops.count)
        for (k, i) in order.enumerated() {
            let o = ops[i], place = o.placement
            let name = "stage\(place.stage).\(place.kind.rawValue).\(o.name.replacingOccurrences(of: ".", with: "/"))"
            operations.append(.device(
                id: OpID(k), name: name, layer: k, op: place.kind.rawValue, work: o.work, gpus: gpusPerStage, dependencies: o.dependencies.map { OpID(newID[$0]) }.sorted()))
        }
        return DataflowGraph(operations: operations, tensors: [], layers: operations.map(\.name), bytesPerElement: bytesPerElement, isTraining: true)
    }
}
