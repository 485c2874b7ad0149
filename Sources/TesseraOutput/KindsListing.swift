import TesseraCore
import TesseraModel
import TesseraSpec

/// The `tessera kinds` listing, generated from the kind table's declarations.
public enum KindsListing {
    public static func text() -> String {
        var s = "Hardware kinds:\n"
        for (k, v) in HardwareKind.supported.sorted(by: { $0.key < $1.key }) { s += "  \(k): \(v)\n" }
        s += "\nComponent kinds:\n"
        for schema in KindTable.schemas {
            s += "\n  \(schema.kind)  (\(schema.role.rawValue)) — \(schema.summary)\n"
            let w = schema.parameters.map(\.name.count).max() ?? 0
            for p in schema.parameters {
                let name = p.name + String(repeating: " ", count: w - p.name.count)
                let def = p.defaultText.map { "default \($0)" } ?? "required"
                s += "    \(name)  \(p.description); \(p.type.summary); \(def)\n"
            }
            let actions = EnergyAction.performed(byKind: schema.kind)
            if !actions.isEmpty {
                let table = EnergyTable.horowitz45nm
                s += "    energy: " + actions.map { "\($0.rawValue) \(formatDecimal(table[$0] ?? 0)) pJ" }.joined(separator: ", ")
                s += schema.kind == "sram" ? " per byte at 8 KiB (×2 at 32 KiB, ×10 at 1 MiB)\n" : schema.kind == "dram" ? " per byte\n" : "\n"
            }
        }
        s += "\nWorkload layer ops:\n  conv2d: input [H, W, C], kernel [R, S], filters, stride (1), padding (0), groups (1)\n"
        s += "  gemm: m, n, k (the batch multiplies m)\n  matmul: count (1), m, n, k (the batch multiplies count)\n"
        s += "  maxpool, avgpool: input [H, W, C], kernel [R, S], stride (1), padding (0)\n"
        s += "  " + Elementwise.Kind.allCases.map(\.rawValue).joined(separator: ", ") + ": elements (per sample)\n"
        s += "  any layer: inputs: [earlier layer names] (its graph edges; [] reads the graph's input; default: the layer before)\n"
        s += "  or layers: {scalesim_csv: path}: a SCALE-Sim topology CSV (convolution or GEMM format)\n"
        s += "  or model: {onnx: path, input_shapes: {input: [1, dims…]}}: an ONNX graph (\(ONNXImport.supportedOperators.count) operators; its branches kept)\n"
        s += "\nVector-unit lane-operations per element (forward / backward):\n"
        s += "  " + Elementwise.Kind.allCases.map { "\($0.rawValue) \(VectorCost.forward($0))/\(VectorCost.backward($0))" }.joined(separator: ", ") + "\n"
        s += "  pooling R·S per output / 1 per input; softmax cross-entropy loss \(VectorCost.loss) per logit; SGD-momentum update \(VectorCost.update) per weight\n"
        s += "\nWorkload sparsity (training on a sparse-training-array):\n"
        s += "  sparsity: {pattern: \"N:M\", scheme: " + SparsityScheme.allCases.map(\.rawValue).joined(separator: " | ")
        s += ", dense_first_last: true, layers: {NAME: \"N:M\" | dense}}\n"
        s += "\nEnergy: defaults from Horowitz, ISSCC 2014 (45 nm, not scaled); a hardware file's 'energy:' overrides any action, e.g. 'energy: {dram.read: 32 pJ}'\n"
        s += "\nGPU clusters (kind: gpu-cluster):\n"
        s += "  gpu: {preset: " + GPUPreset.all.map(\.name).joined(separator: " | ") + "} (default \(ClusterSpec.defaultPreset)); overrides: "
        s += ClusterSpec.gpuFields.map(\.0).joined(separator: ", ") + ", dense_tflops: {PRECISION: TFLOP/s}, sparse_tflops: {…}\n"
        s += "  nodes (required), gpus_per_node (1); at most \(ClusterSpec.maxRanks) GPUs\n"
        s += "  intra_node: {kind: " + ClusterSpec.intraKinds.joined(separator: " | ") + ", bandwidth, efficiency (1), latency (0), hop_latency (0)}\n"
        s += "  inter_node: {kind: " + ClusterSpec.interKinds.joined(separator: " | ") + ", bandwidth (or nic), efficiency (1), latency (0), hop_latency (0),\n"
        s += "              nics_per_node (1), oversubscription (fat-tree, rail-optimized; 1), nodes_per_leaf (fat-tree), levels (fat-tree; 2 or 3), leaves_per_pod (3-level fat-tree; 32), dims (torus)}\n"
        for p in GPUPreset.all {
            let dense = ClusterSpec.precisions.compactMap { k in p.denseTFLOPS[k].map { "\(k) \(formatDecimal($0))" } }.joined(separator: ", ")
            s += "  \(p.name): dense TFLOP/s \(dense) (2:4 sparse twice, fp64 excepted); HBM \(formatDecimal(p.hbmBandwidth / 1e12)) TB/s, \(formatDecimal(p.hbmCapacity / 1e9)) GB; \(p.sms) SMs\n"
        }
        s += "\nCollective workloads (on a gpu-cluster):\n"
        s += "  collective: {op: " + CollectiveSpec.Op.allCases.map(\.rawValue).joined(separator: " | ") + ", sizes: [SIZE, …] or {from, to, factor},\n"
        s += "               algorithm: " + CollectiveSpec.Algorithm.allCases.map(\.rawValue).joined(separator: " | ") + " (auto), chunk (1 MiB)}\n"
        s += "\nTransformer training steps (on a gpu-cluster; phase: training):\n"
        s += "  transformer: " + TransformerSpec.zoo.map(\.name).joined(separator: " | ") + ", or {preset | hf_config: config.json, layers, hidden, heads, kv_heads, ffn, seq_len, vocab, gated_ffn, experts, top_k, untied_head}\n"
        s += "  hf_config reads a Hugging Face config.json (model_type " + HuggingFaceConfig.families.joined(separator: ", ") + "); keys beside it override\n"
        s += "  parallelism: {tp, pp, dp, ep (1), cp (1), microbatch (1), virtual_stages (1), zero (0-3; 0), sequence_parallel (false), bucket (25 MiB), overlap (true), recompute: "
        s += ParallelismSpec.Recompute.allCases.map(\.rawValue).joined(separator: " | ") + " (none), co2: {local_steps}}\n"
        s += "  faults: [{gpu: RANK | link: NAME | nic: nodeN.nicK, slowdown: FACTOR | cut: true, at: TIME (0)}, …]\n"
        s += "  Serving (phase: inference): transformer + serving: {mode: colocated | disaggregated, instances, max_batch, max_prefill_tokens,\n"
        s += "    slo: {ttft, tpot, attainment (a target share, e.g. 90%)}, requests: {rate, count, prompt, output} or a list} (README: Serving)\n"
        s += "\nModel zoo: " + ModelZoo.names.joined(separator: ", ") + "\n"
        return s
    }
}
