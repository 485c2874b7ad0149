import Foundation
import TesseraCore
import TesseraModel
import TesseraSpec

/// The `tessera kinds` listing, generated from the kind table's declarations.
public enum KindsListing {
    public static func text() -> String {
        var s = "Hardware kinds:\n"
        for (k, v) in HardwareKind.supported.sorted(by: { $0.key < $1.key }) { s += "  \(k): \(v)\n" }
        s += fileKeys()
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
        s += "  nccl_protocol: " + ClusterSpec.ncclProtocols.joined(separator: " | ") + " (absent: each message pays its fabric's latency at its efficiency): collectives costed with NCCL's LL, LL128 and Simple protocols\n"
        s += "  collective_floor: a time (default 0): the least time one collective call takes (calls issued back to back from the host, as nccl-tests issues them)\n"
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
        s += "  parallelism: {tp, pp, dp, ep (1), cp (1), microbatch (1), virtual_stages (1), first_stage_layers, last_stage_layers (uneven stages), embedding_as_layer, loss_as_layer (false), zero (0-3; 0), sequence_parallel (false), bucket (25 MiB), overlap (true), attention: flash | materialized (flash), recompute_collectives (true), recompute_num_layers (all; with recompute: full), tp_comm_overlap (false), overlap_param_gather (false; zero 1-2), recompute: "
        s += ParallelismSpec.Recompute.allCases.map(\.rawValue).joined(separator: " | ") + " (none), co2: {local_steps}}\n"
        s += "  faults: [{gpu: RANK | link: NAME | nic: nodeN.nicK, slowdown: FACTOR | cut: true, at: TIME (0)}, …]\n"
        s += "  Serving (phase: inference): transformer + serving: {mode: colocated | disaggregated, instances, max_batch, max_prefill_tokens,\n"
        s += "    slo: {ttft, tpot, attainment (a target share, e.g. 90%)}, requests: {rate, count, prompt, output} or a list} (docs/families/gpu-cluster.md: Serving)\n"
        s += "\nModel zoo: " + ModelZoo.names.joined(separator: ", ") + "\n"
        return s
    }

    /// The top-level keys of hardware and workload files, per family (each section's own keys
    /// follow in the sections below). A test checks that every key of every bundled file is here.
    static func fileKeys() -> String {
        let precisions = Precision.allCases.map(\.rawValue).joined(separator: " | ")
        var s = "\nHardware files (top-level keys):\n"
        s += "  every kind: tessera: 1 (required), name (required), kind (required), description, extends: FILE (keys here override it)\n"
        s += "  array, sparse-training-array, edge-soc: clock (required), compute: [COMPONENT, …] (required), memory: [COMPONENT, …],\n"
        s += "    energy: {ACTION: ENERGY, …} (overrides the default energy of an action, e.g. dram.read: 32 pJ)\n"
        s += "  sparse-training-array: optimizations: {" + Optimizations.keys.map { "\($0.key) (true)" }.joined(separator: ", ") + "}\n"
        s += "  edge-soc: operating_points: [{frequency, voltage}, …] (fastest first), operating_point: FREQUENCY (where the run starts; the first),\n"
        s += "    power: {static (0 W), budget, window (100 us)}, placement: {OP or LAYER: UNIT, …}\n"
        s += "  gpu-cluster: gpu, nodes (required), gpus_per_node, intra_node, inter_node, nccl_protocol, collective_floor (see GPU clusters below); no clock, compute or memory\n"
        s += "  a COMPONENT is {name, kind, …} with the parameters of its kind (Component kinds below)\n"
        s += "\nWorkload files (top-level keys):\n"
        s += "  every workload: tessera: 1 (required), name (required), description, extends: FILE, phase: inference | training (inference),\n"
        s += "    precision: \(precisions) (int8; bf16 for a transformer; fp8 only for a transformer training step: FP8 matrix products, the rest bf16), batch (1)\n"
        s += "  the work, one of: model: ZOO-NAME or {onnx: path, input_shapes}; layers: [LAYER, …] or {scalesim_csv: path};\n"
        s += "    transformer (on a gpu-cluster); collective (on a gpu-cluster)\n"
        s += "  with model or layers: sequence (zoo transformers' sequence length), sparsity (training on a sparse-training-array),\n"
        s += "    continual: {tasks, epochs, samples, weight_sparsity, data_removal, gradient_sparsity} (on an edge-soc)\n"
        s += "  with transformer: parallelism and faults (training), serving (inference)\n"
        return s
    }

    /// The listing as Markdown (the generated `docs/reference/schema.md`): the same text, each
    /// section under its own heading, its lines in a code block.
    public static func markdown() -> String {
        var s = "# YAML schema reference\n\n"
        s += "Generated from the code by `make docs` (`tessera reference schema`); the same text as `tessera kinds`. "
        s += "A test fails when this file is stale. Every key of every bundled file under `configs/` and `traces/` is listed here "
        s += "(another test checks that).\n"
        var block: [String] = []
        func flush() {
            guard !block.isEmpty else { return }
            while block.last?.isEmpty == true { block.removeLast() }
            s += "\n```\n" + block.joined(separator: "\n") + "\n```\n"
            block = []
        }
        for line in text().split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if !line.hasPrefix(" "), let colon = line.firstIndex(of: ":") {
                flush()
                let title = String(line[..<colon])
                s += "\n## \(title)\n"
                let rest = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if !rest.isEmpty { s += "\n\(rest)\n" }
            } else if !(block.isEmpty && line.isEmpty) {
                block.append(line)
            }
        }
        flush()
        return s
    }
}
