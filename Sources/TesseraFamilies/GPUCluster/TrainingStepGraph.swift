import TesseraGraph
import TesseraPlan

extension TrainingStepPlan {
    /// The training step as a dataflow graph: one operation per task of the plan (a class of GPUs'
    /// layer compute for one microbatch, forward or backward, the output layer, the optimizer, and
    /// each tensor-, context-, expert-, pipeline- and data-parallel collective), with the plan's
    /// dependencies as edges.
    ///
    /// This graph is derived from the planned tasks (the cluster family plans a step directly from
    /// the model and its parallelism, not from a graph elaborated first). Operations are ordered by
    /// class of GPUs and kind of work and named `<class>.<kind>.<task>`, so that a picture of a large
    /// step collapses into one node per class and kind (`stage3.backward`, `stage3.dp`, …) whatever
    /// the number of microbatches and layers.
    func dataflowGraph(bytesPerElement: Int) -> DataflowGraph {
        let kindOrder = Dictionary(uniqueKeysWithValues: StepTask.Kind.allCases.enumerated().map { ($1, $0) })
        let order = tasks.indices.sorted { a, b in
            let ta = tasks[a], tb = tasks[b]
            if ta.entity != tb.entity { return ta.entity < tb.entity }
            let ka = kindOrder[ta.kind] ?? 0, kb = kindOrder[tb.kind] ?? 0
            return ka != kb ? ka < kb : a < b
        }
        var newID = [Int](repeating: 0, count: tasks.count)
        for (k, i) in order.enumerated() { newID[i] = k }
        var operations: [Operation] = []
        var names: [String] = []
        operations.reserveCapacity(tasks.count)
        for (k, i) in order.enumerated() {
            let t = tasks[i]
            let entity = entities.indices.contains(t.entity) ? entities[t.entity] : nil
            let gpus = entity?.ranks.count ?? 0
            let work: DeviceWork
            switch t.work {
            case .compute(let seconds): work = .compute(seconds: seconds)
            case .collective(let c): work = .collective(op: c.op.rawValue, group: c.group.rawValue, bytes: c.bytes)
            }
            let name = "\(entity?.name ?? "stage?").\(t.kind.rawValue).\(t.name.replacingOccurrences(of: ".", with: "/"))"
            names.append(name)
            operations.append(.device(
                id: OpID(k), name: name, layer: k, op: t.kind.rawValue, work: work, gpus: gpus, dependencies: t.deps.map { OpID(newID[$0]) }.sorted()))
        }
        return DataflowGraph(operations: operations, tensors: [], layers: names, bytesPerElement: bytesPerElement, isTraining: true)
    }
}
