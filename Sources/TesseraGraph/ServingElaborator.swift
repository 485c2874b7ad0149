import TesseraCore
import TesseraModel
import TesseraSpec

/// A serving workload's dataflow graph, elaborated from the workload and the cluster's GPU before
/// instances are placed or a request is batched: the work of one reference request (the trace's
/// mean prompt p̄ and mean output ō, rounded) on idle instances of its groups.
///
/// - Prefill, on the first group's instance (colocated: the instances; disaggregated: the
///   prefill instances) of tensor parallelism t: for each layer its compute at p̄ tokens (the dense
///   products and causal attention, `ServingCost`) followed by its 2 tensor-parallel all-reduces of
///   p̄·h·e bytes (t > 1), then the output layer on the last position.
/// - Disaggregated: the request's KV cache, 2·L·g·d·p̄·e bytes, from the prefill to the decode GPUs.
/// - One decode step at batch 1 over a context of p̄ + 1 tokens on the last group's instance (its
///   compute per layer with the KV-cache read split evenly over the layers, its 2 all-reduces of
///   h·e bytes per layer, the output layer), named "decode step ×(ō − 1)": the request runs it ō − 1
///   times. Continuous batching shares these steps among the requests running at once; how is the
///   run's to decide (the schedule shows it), not the graph's.
///
/// Operations are named `<phase>.<what>`, so that a picture collapses to one node per phase.
public enum ServingElaborator {
    public static func elaborate(_ spec: ServingSpec, gpu: GPUPreset, precision: Precision) -> DataflowGraph {
        let (prompt, output) = spec.meanRequest
        let model = spec.transformer, L = model.layers, e = precision.bytes
        func cost(_ tp: Int) -> ServingCost { ServingCost(model: model, gpu: gpu, precision: precision.rawValue, bytesPerElement: e, tp: tp) }
        let first = spec.groups.first?.tp ?? 1, last = spec.groups.last?.tp ?? 1
        var ops: [Operation] = []
        func add(_ name: String, _ op: String, _ work: DeviceWork, gpus: Int) {
            let id = OpID(ops.count)
            ops.append(.device(id: id, name: name, layer: ops.count, op: op, work: work, gpus: gpus, dependencies: ops.isEmpty ? [] : [OpID(ops.count - 1)]))
        }
        /// One pass over the layers at `tokens` tokens: compute, then the layer's two all-reduces.
        func layers(_ phase: String, tp: Int, tokens: Int, layerSeconds: Double) {
            let bytes = Saturating.uint64(Double(tokens) * Double(model.hidden) * Double(e))
            for l in 0..<L {
                add("\(phase).layer \(l)", "compute", .compute(seconds: layerSeconds), gpus: tp)
                guard tp > 1 else { continue }
                for k in 1...2 {
                    add("\(phase).layer \(l) all-reduce \(k)", "all-reduce", .collective(GroupCollective(op: .allReduce, group: .tp, stage: 0, bytes: bytes)), gpus: tp)
                }
            }
        }
        let prefill = cost(first)
        layers("prefill", tp: first, tokens: prompt, layerSeconds: prefill.layerDenseSeconds(tokens: prompt) + prefill.promptAttentionSeconds(prompt: prompt))
        add("prefill.output layer", "compute", .compute(seconds: prefill.headSeconds(rows: 1)), gpus: first)
        if spec.mode == .disaggregated {
            let bytes = Saturating.uint64(prefill.kvBytes(tokens: prompt))
            add("kv-cache.\(prompt) tokens", "kv-cache", .collective(GroupCollective(op: .sendRecv, group: .kvCache, stage: 0, bytes: bytes)), gpus: first + last)
        }
        if output > 1 {
            let decode = cost(last), phase = "decode step ×\(output - 1)"
            let attention = decode.decodeAttentionSeconds(contextTokens: prompt + 1) / Double(max(1, L))
            layers(phase, tp: last, tokens: 1, layerSeconds: decode.layerDenseSeconds(tokens: 1) + attention)
            add("\(phase).output layer", "compute", .compute(seconds: decode.headSeconds(rows: 1)), gpus: last)
        }
        return DataflowGraph(operations: ops, tensors: [], layers: ops.map(\.name), bytesPerElement: e)
    }
}
