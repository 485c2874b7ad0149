import TesseraCore
import TesseraModel
import TesseraSpec

/// A GPU cluster's topology as a graph: each node a box of its GPUs around its intra-node fabric,
/// its NICs, and the inter-node fabric (switch, leaves and spine, rails, ring, torus or mesh
/// links) with each link's bandwidth.
///
/// Clusters of more than `shownNodes` nodes draw the first few and the last, with one box
/// standing for the rest.
public struct ClusterDOT: Sendable {
    public var topology: ClusterTopology
    public var shownNodes = 8

    public init(_ topology: ClusterTopology) { self.topology = topology }

    public func build() -> DOTDocument {
        let spec = topology.spec
        let g = spec.gpusPerNode, m = spec.nodes
        let nodes: [Int] = m <= shownNodes ? Array(0..<m) : Array(0..<(shownNodes - 1)) + [m - 1]
        let hidden = m - nodes.count
        var s = "graph cluster {\n"
        let title = "\(spec.gpu.preset) × \(spec.ranks): \(m) node\(m == 1 ? "" : "s") of \(g) GPU\(g == 1 ? "" : "s")"
        s += "  graph \(DOTText.attributes([("fontname", "Helvetica"), ("fontsize", "16"), ("labelloc", "t"), ("pad", "0.3"), ("compound", "true"), ("label", "\(DOTText.literal(title))\n\n")]))\n"
        s += "  node \(DOTText.attributes([("fontname", "Helvetica"), ("fontsize", "11"), ("style", "filled"), ("penwidth", "1.2")]))\n"
        s += "  edge \(DOTText.attributes([("fontname", "Helvetica"), ("fontsize", "10"), ("color", "#555555"), ("fontcolor", "#333333")]))\n"
        let nics = spec.interNode?.nicsPerNode ?? 0
        for k in nodes {
            s += "  subgraph \(DOTText.quote("cluster_node\(k)")) {\n"
            s += "    graph \(DOTText.attributes([("label", "node \(k)"), ("style", "rounded"), ("color", "#888888")]))\n"
            for i in 0..<g {
                s += "    \(gpu(k, i)) \(DOTText.attributes([("shape", "box"), ("fillcolor", "#d8efd3"), ("color", "#3b8a2e"), ("label", "GPU \(i)")]))\n"
            }
            if let f = spec.intraNode {
                let bw = bandwidth(f)
                switch f.kind {
                case "nvswitch":
                    s += "    \(DOTText.quote("sw\(k)")) \(DOTText.attributes([("shape", "hexagon"), ("fillcolor", "#dcebf7"), ("color", "#2f6ea5"), ("label", "NVSwitch")]))\n"
                    for i in 0..<g { s += "    \(gpu(k, i)) -- \(DOTText.quote("sw\(k)")) \(DOTText.attributes(i == 0 ? [("label", bw)] : []))\n" }
                case "nvlink-ring":
                    for i in 0..<g where g > 2 || i == 0 { s += "    \(gpu(k, i)) -- \(gpu(k, (i + 1) % g)) \(DOTText.attributes(i == 0 ? [("label", bw)] : []))\n" }
                default:
                    for i in 0..<g { for j in (i + 1)..<g { s += "    \(gpu(k, i)) -- \(gpu(k, j)) \(DOTText.attributes(i == 0 && j == 1 ? [("label", bw)] : []))\n" } }
                }
            }
            if let f = spec.interNode, ["switch", "fat-tree", "rail-optimized"].contains(f.kind) {
                for r in 0..<nics {
                    s += "    \(nic(k, r)) \(DOTText.attributes([("shape", "box"), ("style", "filled,rounded"), ("fillcolor", "#fff2c6"), ("color", "#a07c12"), ("label", "NIC \(r)")]))\n"
                    for i in 0..<g where i % nics == r { s += "    \(gpu(k, i)) -- \(nic(k, r)) \(DOTText.attributes([("style", "dashed")]))\n" }
                }
            }
            s += "  }\n"
        }
        if hidden > 0 {
            s += "  \"more\" \(DOTText.attributes([("shape", "box"), ("style", "dashed"), ("label", "… \(hidden) more nodes")]))\n"
        }
        if let f = spec.interNode { s += inter(f, nodes: nodes, hidden: hidden) }
        s += "}\n"
        return DOTDocument(text: s, engine: "dot")
    }

    private func inter(_ f: ClusterSpec.Fabric, nodes: [Int], hidden: Int) -> String {
        var s = ""
        let m = topology.nodes, nics = f.nicsPerNode
        let bw = bandwidth(f)
        let anchor = { (k: Int) in gpuOrNode(k) }
        switch f.kind {
        case "switch":
            s += "  \"net\" \(DOTText.attributes([("shape", "hexagon"), ("fillcolor", "#fde3c8"), ("color", "#c46a12"), ("label", "switch")]))\n"
            for (n, k) in nodes.enumerated() { for r in 0..<nics { s += "  \(nic(k, r)) -- \"net\" \(DOTText.attributes(n == 0 && r == 0 ? [("label", bw)] : []))\n" } }
            if hidden > 0 { s += "  \"more\" -- \"net\"\n" }
        case "fat-tree":
            let leafCap = Double(f.nodesPerLeaf * nics) * f.bandwidth * f.efficiency / f.oversubscription
            s += "  \"spine\" \(DOTText.attributes([("shape", "hexagon"), ("fillcolor", "#fde3c8"), ("color", "#c46a12"), ("label", f.levels == 3 ? "core" : "spine")]))\n"
            var leaves: [Int] = []
            for k in nodes where !leaves.contains(k / f.nodesPerLeaf) { leaves.append(k / f.nodesPerLeaf) }
            // Three levels: each leaf goes up to its pod's spine, each pod's spine to the core ("spine").
            var pods: [Int] = []
            for l in leaves {
                s += "  \(DOTText.quote("leaf\(l)")) \(DOTText.attributes([("shape", "hexagon"), ("fillcolor", "#fde3c8"), ("color", "#c46a12"), ("label", "leaf \(l)")]))\n"
                let up = f.levels == 3 ? DOTText.quote("pod\(l / f.leavesPerPod)") : "\"spine\""
                if f.levels == 3, !pods.contains(l / f.leavesPerPod) { pods.append(l / f.leavesPerPod) }
                s += "  \(DOTText.quote("leaf\(l)")) -- \(up) \(DOTText.attributes([("label", "\(gbps(leafCap)) (\(formatDecimal(f.oversubscription)):1)"), ("penwidth", "2")]))\n"
            }
            for p in pods {
                s += "  \(DOTText.quote("pod\(p)")) \(DOTText.attributes([("shape", "hexagon"), ("fillcolor", "#fde3c8"), ("color", "#c46a12"), ("label", "pod \(p) spine")]))\n"
                s += "  \(DOTText.quote("pod\(p)")) -- \"spine\" \(DOTText.attributes([("label", "\(gbps(leafCap * Double(f.leavesPerPod) / f.oversubscription)) (\(formatDecimal(f.oversubscription)):1)"), ("penwidth", "3")]))\n"
            }
            for (n, k) in nodes.enumerated() {
                for r in 0..<nics { s += "  \(nic(k, r)) -- \(DOTText.quote("leaf\(k / f.nodesPerLeaf)")) \(DOTText.attributes(n == 0 && r == 0 ? [("label", bw)] : []))\n" }
            }
            if hidden > 0 { s += "  \"more\" -- \"spine\"\n" }
        case "rail-optimized":
            s += "  \"spine\" \(DOTText.attributes([("shape", "hexagon"), ("fillcolor", "#fde3c8"), ("color", "#c46a12"), ("label", "spine")]))\n"
            for r in 0..<nics {
                s += "  \(DOTText.quote("rail\(r)")) \(DOTText.attributes([("shape", "hexagon"), ("fillcolor", "#fde3c8"), ("color", "#c46a12"), ("label", "rail \(r)")]))\n"
                s += "  \(DOTText.quote("rail\(r)")) -- \"spine\" \(DOTText.attributes([("penwidth", "2")]))\n"
                for (n, k) in nodes.enumerated() { s += "  \(nic(k, r)) -- \(DOTText.quote("rail\(r)")) \(DOTText.attributes(n == 0 && r == 0 ? [("label", bw)] : []))\n" }
                if hidden > 0 { s += "  \"more\" -- \(DOTText.quote("rail\(r)"))\n" }
            }
        case "ring":
            for (n, k) in nodes.enumerated() {
                let next = n + 1 < nodes.count ? anchor(nodes[n + 1]) : anchor(nodes[0])
                if n + 1 == nodes.count - 1, hidden > 0 {
                    s += "  \(anchor(k)) -- \"more\" \(DOTText.attributes(n == 0 ? [("label", bw)] : []))\n  \"more\" -- \(next)\n"
                } else {
                    s += "  \(anchor(k)) -- \(next) \(DOTText.attributes(n == 0 ? [("label", bw)] : []))\n"
                }
            }
        case "torus":
            var drawn = false
            var stride = 1
            for size in f.dims {
                for k in nodes {
                    let c = (k / stride) % size
                    let next = k + (((c + 1) % size) - c) * stride
                    guard nodes.contains(next), size > 2 || c == 0 else { continue }
                    s += "  \(anchor(k)) -- \(anchor(next)) \(DOTText.attributes(drawn ? [] : [("label", bw)]))\n"
                    drawn = true
                }
                stride *= size
            }
            if hidden > 0 { s += "  \(anchor(nodes[0])) -- \"more\" \(DOTText.attributes([("style", "dashed")]))\n" }
        default:  // fully-connected
            for (a, ka) in nodes.enumerated() {
                for kb in nodes[(a + 1)...] { s += "  \(anchor(ka)) -- \(anchor(kb)) \(DOTText.attributes(a == 0 && kb == nodes[1] ? [("label", bw)] : []))\n" }
            }
            if hidden > 0 { s += "  \(anchor(nodes[0])) -- \"more\" \(DOTText.attributes([("style", "dashed")]))\n" }
        }
        _ = m
        return s
    }

    private func gpu(_ k: Int, _ i: Int) -> String { DOTText.quote("n\(k)g\(i)") }
    private func nic(_ k: Int, _ r: Int) -> String { DOTText.quote("n\(k)nic\(r)") }
    private func gpuOrNode(_ k: Int) -> String { gpu(k, 0) }

    private func bandwidth(_ f: ClusterSpec.Fabric) -> String {
        let b = gbps(f.bandwidth)
        return f.efficiency < 1 ? "\(b) × \(formatDecimal(f.efficiency))" : b
    }

    private func gbps(_ bytesPerSecond: Double) -> String { "\(formatDecimal(bytesPerSecond / 1e9)) GB/s" }
}
