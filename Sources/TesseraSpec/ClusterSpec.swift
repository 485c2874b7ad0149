import TesseraCore

/// A validated `gpu-cluster`: GPUs (a preset with field overrides), grouped into nodes joined by
/// an intra-node fabric and an inter-node fabric.
public struct ClusterSpec: Sendable, Hashable {
    /// The GPU every rank runs on: a preset name and the fields the file overrides.
    public struct GPU: Sendable, Hashable {
        public var preset: String
        /// Overrides in base units: `hbm_bandwidth` (B/s), `hbm_capacity` (B), `sms`, `tdp` and
        /// `idle_power` (W).
        public var overrides: [String: Double]
        /// Overrides of peak dense and 2:4-sparse throughput, precision → TFLOP/s.
        public var denseTFLOPS: [String: Double]
        public var sparseTFLOPS: [String: Double]
        public var location: SourceLocation
    }

    /// One fabric: its topology kind and the figures of each of its links.
    public struct Fabric: Sendable, Hashable {
        public var kind: String
        /// Bytes per second of one link in one direction (a NIC, an NVLink port, a GPU's switch port).
        public var bandwidth: Double
        /// Fraction of `bandwidth` a collective achieves (protocol overhead); 1 by default.
        public var efficiency: Double
        /// End-to-end latency of one message, seconds.
        public var latency: Double
        /// Extra latency per switch or intermediate node crossed, seconds.
        public var hopLatency: Double
        public var nicsPerNode: Int
        /// Fat-tree: leaf-to-spine oversubscription (down:up), nodes under one leaf switch.
        public var oversubscription: Double
        public var nodesPerLeaf: Int
        /// Fat-tree: 2 (leaf, spine) or 3 (leaf, pod spine, core) levels, and leaves per pod.
        public var levels: Int = 2
        public var leavesPerPod: Int = 1
        /// Torus: the size of each dimension (2 or 3 of them; their product is the node count).
        public var dims: [Int]
        public var location: SourceLocation
    }

    public var gpu: GPU
    public var nodes: Int
    public var gpusPerNode: Int
    public var intraNode: Fabric?
    public var interNode: Fabric?
    /// `nccl_protocol`: collectives costed with NCCL's protocols, `auto` (the fastest of LL,
    /// LL128 and Simple for each collective, as NCCL's tuner picks) or one of them forced (as
    /// NCCL_PROTO does); nil: every message pays its fabric's latency at the fabric's efficiency.
    public var ncclProtocol: String?
    /// `collective_floor`: the least time one collective call takes, seconds (0: none). Calls
    /// issued back to back from the host, as nccl-tests issues them, cannot finish faster than the
    /// host enqueues and launches them; a small message's call is bound by that, not by the links.
    public var collectiveFloor: Double = 0
    public var ranks: Int { nodes * gpusPerNode }
    public var location: SourceLocation

    /// The values of `nccl_protocol`.
    public static let ncclProtocols = ["auto", "ll", "ll128", "simple"]
    /// Intra-node fabric kinds.
    public static let intraKinds = ["nvswitch", "nvlink-ring", "nvlink-mesh"]
    /// Inter-node fabric kinds this version builds.
    public static let interKinds = ["ring", "switch", "fully-connected", "fat-tree", "torus", "rail-optimized"]
    /// Inter-node fabric kinds named by the design that a later version will build.
    public static let plannedInterKinds: [String] = []
    /// GPU fields a file may override, with their dimensions.
    public static let gpuFields: [(String, QuantityDimension?)] = [("hbm_bandwidth", .bandwidth), ("hbm_capacity", .size), ("sms", nil), ("tdp", .power), ("idle_power", .power)]
    /// NIC ports under one fat-tree leaf when `nodes_per_leaf` is not given (half of a 64-port switch).
    public static let leafDownPorts = 32
    /// Leaves under one pod of a three-level fat-tree when `leaves_per_pod` is not given.
    public static let podLeaves = 32
    /// The most GPUs a cluster may have.
    public static let maxRanks = 131_072
    /// The GPU of a file that names none (collectives do not depend on it).
    public static let defaultPreset = "h100-sxm"
    /// Precisions a GPU preset lists throughput for.
    public static let precisions = ["fp64", "tf32", "bf16", "fp16", "fp8", "int8"]
}

/// Reads the `gpu-cluster` keys of a hardware file.
enum ClusterReader {
    static func read(_ r: inout MappingReader, gpuPresets: [String], bag: inout DiagnosticBag) -> ClusterSpec? {
        let at = r.location
        let gpuNode = r.optional("gpu")
        let nodes = r.required("nodes", expected: "an integer ≥ 1", bag: &bag).flatMap { Scalar.int($0, min: 1, what: "'nodes'", bag: &bag) }
        let gpn = r.optional("gpus_per_node").flatMap { Scalar.int($0, min: 1, what: "'gpus_per_node'", bag: &bag) } ?? 1
        let gpnNode = r.optional("gpus_per_node")
        let intraNode = r.optional("intra_node")
        let interNode = r.optional("inter_node")
        var chosenProtocol: String?
        if let p = r.optional("nccl_protocol") {
            let names = ClusterSpec.ncclProtocols
            if let v = p.scalar, names.contains(v) {
                chosenProtocol = v
            } else {
                bag.error(
                    p.location, "unknown NCCL protocol", expected: "one of " + names.map { "'\($0)'" }.joined(separator: ", ") + " ('auto': the fastest for each collective)",
                    found: p.kindDescription, hint: p.scalar.flatMap { closestMatch(to: $0, in: names) }.map { "did you mean '\($0)'?" })
            }
        }
        var floor = 0.0
        if let f = r.optional("collective_floor"), case .number(let x)? = Scalar.quantity(f, .time, what: "'collective_floor'", allowZero: true, bag: &bag) { floor = x }
        let gpu = gpuNode.map { readGPU($0, presets: gpuPresets, bag: &bag) }
            ?? ClusterSpec.GPU(preset: ClusterSpec.defaultPreset, overrides: [:], denseTFLOPS: [:], sparseTFLOPS: [:], location: at)
        let intra = intraNode.flatMap { fabric($0, intra: true, bag: &bag) }
        let inter = interNode.flatMap { fabric($0, intra: false, bag: &bag) }
        guard let nodes else { return nil }
        if nodes > ClusterSpec.maxRanks || gpn > ClusterSpec.maxRanks || nodes * gpn > ClusterSpec.maxRanks {
            bag.error(gpnNode?.location ?? at, "the cluster has too many GPUs to simulate", expected: "nodes × gpus_per_node ≤ \(ClusterSpec.maxRanks)", found: "\(nodes) × \(gpn)")
            return nil
        }
        if gpn > 1, intraNode == nil {
            bag.error(gpnNode?.location ?? at, "a node of \(gpn) GPUs needs an intra-node fabric", expected: "'intra_node: {kind: nvswitch, bandwidth: …}'", found: "no 'intra_node'")
        }
        if nodes > 1, interNode == nil {
            bag.error(at, "a cluster of \(nodes) nodes needs an inter-node fabric", expected: "'inter_node: {kind: switch, bandwidth: …}'", found: "no 'inter_node'")
        }
        if let f = inter, let n = interNode {
            if f.kind == "fat-tree", nodes > f.nodesPerLeaf, nodes % f.nodesPerLeaf != 0 {
                bag.error(n["nodes_per_leaf"]?.location ?? n.location, "the fat-tree's leaves do not divide the nodes", expected: "nodes_per_leaf dividing nodes: \(nodes)", found: "nodes_per_leaf: \(f.nodesPerLeaf)")
            } else if f.kind == "fat-tree", f.levels == 3 {
                let leaves = max(1, nodes / f.nodesPerLeaf)
                if leaves > f.leavesPerPod, leaves % f.leavesPerPod != 0 {
                    bag.error(
                        n["leaves_per_pod"]?.location ?? n.location, "the fat-tree's pods do not divide the leaves", expected: "leaves_per_pod dividing the \(leaves) leaves",
                        found: "leaves_per_pod: \(f.leavesPerPod)")
                }
            }
            if f.kind == "torus", f.dims.count >= 2, f.dims.reduce(1, *) != nodes {
                bag.error(
                    n["dims"]?.location ?? n.location, "the torus cannot be built: its dimensions do not multiply to the node count",
                    expected: "dims whose product is nodes: \(nodes)", found: "dims: [" + f.dims.map(String.init).joined(separator: ", ") + "] (\(f.dims.reduce(1, *)) nodes)")
            }
            if f.kind == "ring", nodes < 2 {
                bag.error(n.location, "a ring needs at least two nodes", expected: "nodes ≥ 2", found: "nodes: \(nodes)")
            }
            if f.nicsPerNode > gpn, f.kind == "switch" || f.kind == "fat-tree" || f.kind == "rail-optimized" {
                bag.error(
                    n["nics_per_node"]?.location ?? n.location, "more NICs than GPUs in a node", expected: "nics_per_node ≤ gpus_per_node (\(gpn))",
                    found: "nics_per_node: \(f.nicsPerNode)")
            } else if gpn % f.nicsPerNode != 0 {
                bag.error(
                    n["nics_per_node"]?.location ?? n.location, "the NICs do not divide the GPUs of a node", expected: "nics_per_node dividing gpus_per_node (\(gpn))",
                    found: "nics_per_node: \(f.nicsPerNode)")
            }
        }
        guard let gpu else { return nil }
        var interFabric = inter
        if let f = inter, f.kind == "fat-tree", f.nodesPerLeaf > nodes { interFabric?.nodesPerLeaf = nodes }  // one leaf holds them all
        if let f = interFabric, f.kind == "fat-tree", f.levels == 3, f.leavesPerPod > nodes / f.nodesPerLeaf { interFabric?.leavesPerPod = max(1, nodes / f.nodesPerLeaf) }
        return ClusterSpec(
            gpu: gpu, nodes: nodes, gpusPerNode: gpn, intraNode: gpn > 1 ? intra : nil, interNode: nodes > 1 ? interFabric : nil, ncclProtocol: chosenProtocol,
            collectiveFloor: floor, location: at)
    }

    private static func readGPU(_ node: SpecNode, presets: [String], bag: inout DiagnosticBag) -> ClusterSpec.GPU? {
        guard var r = MappingReader(node, what: "'gpu'", bag: &bag) else { return nil }
        var preset: String?
        if let p = r.required("preset", expected: "one of " + presets.map { "'\($0)'" }.joined(separator: ", "), bag: &bag) {
            if let s = p.scalar, presets.contains(s) {
                preset = s
            } else {
                bag.error(
                    p.location, "unknown GPU preset", expected: "one of " + presets.map { "'\($0)'" }.joined(separator: ", "), found: p.kindDescription,
                    hint: closestMatch(to: p.scalar ?? "", in: presets).map { "did you mean '\($0)'?" })
            }
        }
        var overrides: [String: Double] = [:]
        for (key, dim) in ClusterSpec.gpuFields {
            guard let v = r.optional(key) else { continue }
            if let dim {
                if case .number(let x)? = Scalar.quantity(v, dim, what: "'gpu.\(key)'", bag: &bag) { overrides[key] = x }
            } else if let i = Scalar.int(v, min: 1, what: "'gpu.\(key)'", bag: &bag) {
                overrides[key] = Double(i)
            }
        }
        let dense = r.optional("dense_tflops").map { tflops($0, what: "gpu.dense_tflops", bag: &bag) } ?? [:]
        let sparse = r.optional("sparse_tflops").map { tflops($0, what: "gpu.sparse_tflops", bag: &bag) } ?? [:]
        r.finish(bag: &bag)
        guard let preset else { return nil }
        return ClusterSpec.GPU(preset: preset, overrides: overrides, denseTFLOPS: dense, sparseTFLOPS: sparse, location: node.location)
    }

    private static func tflops(_ node: SpecNode, what: String, bag: inout DiagnosticBag) -> [String: Double] {
        guard let entries = node.entries else {
            bag.error(node.location, "'\(what)' must be a mapping", expected: "'precision: TFLOP/s' lines such as 'fp16: 989.4'", found: node.kindDescription)
            return [:]
        }
        var out: [String: Double] = [:]
        for e in entries {
            guard ClusterSpec.precisions.contains(e.key) else {
                bag.error(
                    e.keyLocation, "unknown precision '\(e.key)' in '\(what)'", expected: "one of " + ClusterSpec.precisions.map { "'\($0)'" }.joined(separator: ", "),
                    found: "'\(e.key)'", hint: closestMatch(to: e.key, in: ClusterSpec.precisions).map { "did you mean '\($0)'?" })
                continue
            }
            guard case .scalar(let s, false) = e.value.value, let v = Double(s), v.isFinite, v > 0 else {
                bag.error(e.value.location, "'\(what).\(e.key)' must be a positive number of TFLOP/s", expected: "a number such as 989.4", found: e.value.kindDescription)
                continue
            }
            out[e.key] = v
        }
        return out
    }

    private static func fabric(_ node: SpecNode, intra: Bool, bag: inout DiagnosticBag) -> ClusterSpec.Fabric? {
        let section = intra ? "intra_node" : "inter_node"
        guard var r = MappingReader(node, what: "'\(section)'", bag: &bag) else { return nil }
        let kinds = intra ? ClusterSpec.intraKinds : ClusterSpec.interKinds
        let expectedKinds = "one of " + kinds.map { "'\($0)'" }.joined(separator: ", ")
        var kind: String?
        if let k = r.required("kind", expected: expectedKinds, bag: &bag) {
            let s = k.scalar ?? ""
            if kinds.contains(s) {
                kind = s
            } else if !intra, ClusterSpec.plannedInterKinds.contains(s) {
                bag.error(k.location, "inter-node fabric '\(s)' is not supported by this version", expected: expectedKinds, found: "'\(s)'")
            } else {
                bag.error(
                    k.location, "unknown \(intra ? "intra" : "inter")-node fabric", expected: expectedKinds, found: k.kindDescription,
                    hint: closestMatch(to: s, in: kinds).map { "did you mean '\($0)'?" })
            }
        }
        let bwNode = r.optional("bandwidth"), nicNode = r.optional("nic")
        var bandwidth: Double?
        switch (bwNode, nicNode) {
        case (nil, nil):
            bag.error(node.location, "'\(section)' is missing the key 'bandwidth'", expected: "'bandwidth': \(QuantityDimension.bandwidth.example)", found: "no 'bandwidth'")
        case (.some, .some(let n)):
            bag.error(n.location, "'bandwidth' and 'nic' cannot both be given", expected: "one of them (both are the bandwidth of one link)", found: "both")
        case (.some(let b), nil), (nil, .some(let b)):
            if case .number(let x)? = Scalar.quantity(b, .bandwidth, what: "'\(section).bandwidth'", bag: &bag) { bandwidth = x }
        }
        func time(_ key: String) -> Double {
            guard let n = r.optional(key) else { return 0 }
            if case .number(let x)? = Scalar.quantity(n, .time, what: "'\(section).\(key)'", allowZero: true, bag: &bag) {
                if x <= 1 { return x }
                bag.error(n.location, "'\(section).\(key)' is out of range", expected: "a time of at most 1 s", found: n.kindDescription)
            }
            return 0
        }
        let latency = time("latency"), hop = time("hop_latency")
        var efficiency = 1.0
        if let e = r.optional("efficiency"), let v = Scalar.number(e, min: 0.01, max: 1, what: "'\(section).efficiency'", bag: &bag) {
            efficiency = v
        }
        var nics = 1, over = 1.0, perLeaf = 1
        if !intra {
            nics = r.optional("nics_per_node").flatMap { Scalar.int($0, min: 1, what: "'\(section).nics_per_node'", bag: &bag) } ?? 1
        }
        let overNode = intra ? nil : r.optional("oversubscription")
        let leafNode = intra ? nil : r.optional("nodes_per_leaf")
        let levelsNode = intra ? nil : r.optional("levels")
        let podNode = intra ? nil : r.optional("leaves_per_pod")
        var levels = 2, perPod = ClusterSpec.podLeaves
        let dimsNode = intra ? nil : r.optional("dims")
        var dims: [Int] = []
        if let o = overNode, kind == "fat-tree" || kind == "rail-optimized" {
            if case .scalar(let s, _) = o.value, let v = ratio(s), v >= 1 {
                over = v
            } else {
                bag.error(o.location, "'\(section).oversubscription' is not a ratio ≥ 1", expected: "a ratio such as '2:1' or 2", found: o.kindDescription)
            }
        } else if let o = overNode, kind != nil {
            bag.error(o.location, "'oversubscription' applies only to a fat-tree or a rail-optimized network", expected: "no 'oversubscription' on a '\(kind ?? "")' fabric", found: o.kindDescription)
        }
        if kind == "fat-tree" {
            // Default: a 64-port leaf (NVIDIA Quantum-2 QM9700, 64 × NDR 400 Gb/s) with half its ports
            // down, so 32 NIC ports of nodes under each leaf.
            perLeaf = leafNode.flatMap { Scalar.int($0, min: 1, what: "'\(section).nodes_per_leaf'", bag: &bag) }
                ?? max(1, ClusterSpec.leafDownPorts / nics)
            if let l = levelsNode, let v = Scalar.int(l, min: 1, what: "'\(section).levels'", bag: &bag) {
                if v == 2 || v == 3 { levels = v } else { bag.error(l.location, "a fat-tree has 2 or 3 levels", expected: "levels: 2 (leaf, spine) or 3 (leaf, pod spine, core)", found: "levels: \(v)") }
            }
            if let pn = podNode {
                if levels == 3 {
                    perPod = Scalar.int(pn, min: 1, what: "'\(section).leaves_per_pod'", bag: &bag) ?? perPod
                } else {
                    bag.error(pn.location, "leaves_per_pod applies to a three-level fat-tree", expected: "levels: 3 with 'leaves_per_pod'", found: "levels: \(levels)")
                }
            }
        } else if kind != nil {
            for n in [leafNode, levelsNode, podNode].compactMap({ $0 }) {
                bag.error(n.location, "nodes_per_leaf, levels and leaves_per_pod apply only to a fat-tree", expected: "no such key on a '\(kind ?? "")' fabric", found: n.kindDescription)
            }
        }
        if kind == "torus" {
            if let d = dimsNode {
                if let items = d.items, items.count == 2 || items.count == 3 {
                    dims = items.compactMap { item in
                        guard let v = Scalar.int(item, min: 2, what: "an entry of '\(section).dims'", bag: &bag) else { return nil }
                        guard v <= ClusterSpec.maxRanks else {
                            bag.error(item.location, "a torus dimension is too large", expected: "at most \(ClusterSpec.maxRanks)", found: "\(v)")
                            return nil
                        }
                        return v
                    }
                } else {
                    bag.error(d.location, "'\(section).dims' must list 2 or 3 sizes", expected: "a list such as [4, 4] or [4, 4, 2]", found: d.kindDescription)
                }
            } else {
                bag.error(node.location, "a torus needs its dimensions", expected: "'dims': a list such as [4, 4] or [4, 4, 2]", found: "no 'dims'")
            }
        } else if let d = dimsNode, kind != nil {
            bag.error(d.location, "'dims' applies only to a torus", expected: "no 'dims' on a '\(kind ?? "")' fabric", found: d.kindDescription)
        }
        r.finish(bag: &bag)
        guard let kind, let bandwidth else { return nil }
        return ClusterSpec.Fabric(
            kind: kind, bandwidth: bandwidth, efficiency: efficiency, latency: latency, hopLatency: hop, nicsPerNode: nics, oversubscription: over,
            nodesPerLeaf: perLeaf, levels: levels, leavesPerPod: perPod, dims: dims, location: node.location)
    }

    /// "2:1" → 2, "2" → 2.
    private static func ratio(_ s: String) -> Double? {
        let parts = s.split(separator: ":")
        if parts.count == 1 { return Double(parts[0]) }
        guard parts.count == 2, let a = Double(parts[0]), let b = Double(parts[1]), b > 0 else { return nil }
        return a / b
    }
}
