import TesseraCore
import TesseraSpec

/// The links of a `gpu-cluster` and the route of a message between any two GPUs.
///
/// Every link is one direction of a physical connection with an effective bandwidth β =
/// bandwidth × efficiency. Links are numbered arithmetically (no table of routes), so clusters of
/// thousands of GPUs cost nothing to build:
/// - `nvswitch`: each GPU has an up and a down port to the node's switch; a message uses the
///   sender's up and the receiver's down port.
/// - `nvlink-ring`: GPU i has a link to i+1 and one to i−1; a message takes the shorter way
///   (clockwise on a tie), crossing each GPU on the way.
/// - `nvlink-mesh`: one link per ordered pair of GPUs.
/// - inter-node `switch`: GPU i uses NIC (i mod nics_per_node) of its node; a message uses the
///   sender's NIC up and the receiver's NIC down link; one switch hop.
/// - `fat-tree` (two levels): nodes_per_leaf nodes under each leaf switch; between leaves a
///   message also crosses the source leaf's up link and the destination leaf's down link, each
///   of capacity nodes_per_leaf × nics_per_node × β / oversubscription (ECMP spreading the
///   traffic evenly over the spine is assumed); three switch hops. Three levels: leaves_per_pod
///   leaves form a pod; between pods a message also crosses the source pod's up link and the
///   destination pod's down link to the core, each of leaves_per_pod × (a leaf's up capacity) /
///   oversubscription (every tier oversubscribed by the same ratio); five switch hops.
/// - `ring`: node k links to k±1 with capacity nics_per_node × β; the shorter way.
/// - `fully-connected`: one link of nics_per_node × β per ordered pair of nodes.
/// - `torus` (2D or 3D, `dims`): node k links to its ± neighbour in each dimension with capacity
///   nics_per_node × β; dimension-order routing, the shorter way round each dimension.
/// - `rail-optimized`: NIC r of every node on rail switch r; a message between rails also crosses
///   the source rail's up link and the destination rail's down link to the spine, each of capacity
///   nodes × β / oversubscription; three switch hops (one on the same rail).
/// The link between a GPU and its NIC (PCIe) is not modeled. Route latency = the fabric's
/// latency + hop_latency × switches crossed (rings: intermediate GPUs or nodes; meshes: none).
public struct ClusterTopology: Sendable {
    public var spec: ClusterSpec
    public var gpu: GPUPreset
    public var ranks: Int { spec.ranks }
    public var nodes: Int { spec.nodes }
    public var gpusPerNode: Int { spec.gpusPerNode }

    /// Link id layout: [intra links][inter links]; ids are computed, never stored.
    let intraPerNode: Int
    let intraCount: Int
    /// Faults: link id → time multiplier (> 1: slower), and NICs (node · nics + index) that are down;
    /// a GPU whose NIC is down sends and receives through the next working NIC of its node.
    public var linkSlowdown: [Int: Double] = [:]
    public var cutNICs: Set<Int> = []
    /// Ring links (inter-node `ring`, intra-node `nvlink-ring`) that are down: a message whose
    /// shorter way crosses one goes the other way round.
    public var cutLinks: Set<Int> = []

    /// The links from ring position `from` to `to` of `n`: the shorter way (clockwise on a tie),
    /// or the other way when the shorter crosses a cut link and the other does not.
    func ringPath(_ from: Int, _ to: Int, _ n: Int, clockwise: (Int) -> Int, counter: (Int) -> Int, into links: inout [Int]) -> Int {
        let forward = (to - from + n) % n
        func path(_ cw: Bool) -> [Int] {
            var out: [Int] = []
            var i = from
            for _ in 0..<(cw ? forward : (n - forward) % n) {
                if cw {
                    out.append(clockwise(i))
                    i = (i + 1) % n
                } else {
                    out.append(counter(i))
                    i = (i - 1 + n) % n
                }
            }
            return out
        }
        let shorter = forward <= n - forward
        var p = path(shorter)
        if !cutLinks.isEmpty, p.contains(where: cutLinks.contains) {
            let other = path(!shorter)
            if !other.contains(where: cutLinks.contains) { p = other }
        }
        links += p
        return p.count
    }

    public init?(_ spec: ClusterSpec) {
        guard let gpu = GPUPreset.resolve(spec.gpu) else { return nil }
        self.spec = spec
        self.gpu = gpu
        let g = spec.gpusPerNode
        switch spec.intraNode?.kind {
        case "nvswitch"?, "nvlink-ring"?: intraPerNode = 2 * g
        case "nvlink-mesh"?: intraPerNode = g * g
        default: intraPerNode = 0
        }
        intraCount = intraPerNode * spec.nodes
    }

    /// Parallel rings used by ring collectives that cross nodes: one per NIC, so that each ring
    /// leaves a node through its own NIC (as NCCL's channels do); one inside a single node.
    public var channels: Int { nodes > 1 && gpusPerNode > 1 ? min(spec.interNode?.nicsPerNode ?? 1, gpusPerNode) : 1 }

    static func ps(_ seconds: Double) -> UInt64 { Saturating.uint64Rounded(seconds * 1e12) }

    /// The protocols a collective is timed with under `nccl_protocol` (all three for `auto`, the
    /// fastest kept); nil: the fabric model (each message its route's latency, full efficiency).
    public var protocolChoices: [CollectiveProtocol]? {
        guard let p = spec.ncclProtocol else { return nil }
        return p == "auto" ? CollectiveProtocol.allCases : CollectiveProtocol(rawValue: p).map { [$0] }
    }

    /// The latency a message from `a` to `b` pays under `protocol`: its route's latency with the
    /// fabric's `latency` replaced by the protocol's per-step latency for the link class (NVLink
    /// inside a node, the network between nodes); `hop_latency` is kept.
    public func protocolLatency(_ a: Int, _ b: Int, route: UInt64, protocol p: CollectiveProtocol, row: CollectiveProtocol.Row) -> UInt64 {
        let network = a / gpusPerNode != b / gpusPerNode
        let fabric = (network ? spec.interNode : spec.intraNode)?.latency ?? 0
        return Saturating.add(route >= Self.ps(fabric) ? route - Self.ps(fabric) : 0, Self.ps(p.stepLatency(row, network: network)))
    }

    /// Link `id`'s bandwidth under `protocol`, bytes per second: its effective bandwidth × the
    /// protocol's factor, LL capped at NCCL's llMaxBw for this GPU and node count.
    public func protocolCapacity(_ id: Int, protocol p: CollectiveProtocol, row: CollectiveProtocol.Row) -> Double {
        let c = capacity(id) * p.bandwidthFactor(row, nodes: nodes)
        guard p == .ll, let cap = CollectiveProtocol.llCap(gpu, nodes: nodes) else { return c }
        return min(c, cap)
    }

    /// Whether NVLink SHARP can run an all-reduce of all ranks: one node on NVSwitch, a GPU that has
    /// it (Hopper and later), and NCCL's protocols in use.
    public var nvlsAvailable: Bool { nodes == 1 && gpusPerNode > 1 && spec.intraNode?.kind == "nvswitch" && gpu.nvls && protocolChoices?.contains(.simple) == true }

    /// The links a message from rank `a` to rank `b` crosses, and its latency in picoseconds.
    public func route(_ a: Int, _ b: Int, into links: inout [Int]) -> UInt64 {
        links.removeAll(keepingCapacity: true)
        let g = gpusPerNode
        let (na, ia) = (a / g, a % g), (nb, ib) = (b / g, b % g)
        if na == nb {
            guard let f = spec.intraNode else { return 0 }
            let base = na * intraPerNode
            switch f.kind {
            case "nvlink-ring":
                let hops = ringPath(ia, ib, g, clockwise: { base + $0 }, counter: { base + g + $0 }, into: &links)
                return Self.ps(f.latency + f.hopLatency * Double(max(hops - 1, 0)))
            case "nvlink-mesh":
                links.append(base + ia * g + ib)
                return Self.ps(f.latency)
            default:
                links.append(base + ia)
                links.append(base + g + ib)
                return Self.ps(f.latency + f.hopLatency)
            }
        }
        guard let f = spec.interNode else { return 0 }
        let m = nodes, nics = f.nicsPerNode
        let base = intraCount
        switch f.kind {
        case "ring":
            let hops = ringPath(na, nb, m, clockwise: { base + $0 }, counter: { base + m + $0 }, into: &links)
            return Self.ps(f.latency + f.hopLatency * Double(max(hops - 1, 0)))
        case "fully-connected":
            links.append(base + na * m + nb)
            return Self.ps(f.latency)
        case "torus":
            // Dimension-order routing, the shorter way round each dimension (+ on a tie).
            let D = f.dims.count
            var cur = na, stride = 1, hops = 0
            for d in 0..<D {
                let size = f.dims[d]
                let from = (cur / stride) % size, to = (nb / stride) % size
                let forward = (to - from + size) % size
                let plus = forward <= size - forward
                for _ in 0..<(plus ? forward : size - forward) {
                    links.append(base + (cur * D + d) * 2 + (plus ? 0 : 1))
                    let c = (cur / stride) % size
                    let next = plus ? (c + 1) % size : (c - 1 + size) % size
                    cur += (next - c) * stride
                    hops += 1
                }
                stride *= size
            }
            return Self.ps(f.latency + f.hopLatency * Double(max(hops - 1, 0)))
        case "rail-optimized":
            // [NIC up: m·nics][NIC down: m·nics][rail up: nics][rail down: nics]
            let ra = nic(na, ia % nics), rb = nic(nb, ib % nics)
            links.append(base + na * nics + ra)
            let down = base + m * nics + nb * nics + rb
            if ra != rb {
                links.append(base + 2 * m * nics + ra)
                links.append(base + 2 * m * nics + nics + rb)
                links.append(down)
                return Self.ps(f.latency + 3 * f.hopLatency)
            }
            links.append(down)
            return Self.ps(f.latency + f.hopLatency)
        default:
            // switch and fat-tree: [NIC up: m·nics][NIC down: m·nics][leaf up: leaves][leaf down: leaves]
            // (three levels: then [pod up: pods][pod down: pods])
            links.append(base + na * nics + nic(na, ia % nics))
            let down = base + m * nics + nb * nics + nic(nb, ib % nics)
            if f.kind == "fat-tree", na / f.nodesPerLeaf != nb / f.nodesPerLeaf {
                let leaves = m / f.nodesPerLeaf
                let la = na / f.nodesPerLeaf, lb = nb / f.nodesPerLeaf
                links.append(base + 2 * m * nics + la)
                if f.levels == 3, la / f.leavesPerPod != lb / f.leavesPerPod {
                    let pods = leaves / f.leavesPerPod
                    links.append(base + 2 * m * nics + 2 * leaves + la / f.leavesPerPod)
                    links.append(base + 2 * m * nics + 2 * leaves + pods + lb / f.leavesPerPod)
                    links.append(base + 2 * m * nics + leaves + lb)
                    links.append(down)
                    return Self.ps(f.latency + 5 * f.hopLatency)
                }
                links.append(base + 2 * m * nics + leaves + lb)
                links.append(down)
                return Self.ps(f.latency + 3 * f.hopLatency)
            }
            links.append(down)
            return Self.ps(f.latency + f.hopLatency)
        }
    }

    /// The NIC a GPU of `node` whose own NIC is `r` uses: `r`, or the next one that is not down.
    func nic(_ node: Int, _ r: Int) -> Int {
        guard !cutNICs.isEmpty, let nics = spec.interNode?.nicsPerNode else { return r }
        for k in 0..<nics where !cutNICs.contains(node * nics + (r + k) % nics) { return (r + k) % nics }
        return r
    }

    /// Effective bandwidth of link `id`, bytes per second, with its fault's slowdown.
    public func capacity(_ id: Int) -> Double {
        guard let slow = linkSlowdown[id] else { return nominalCapacity(id) }
        return nominalCapacity(id) / slow
    }

    /// The number of links; ids run from 0 to `linkCount − 1`.
    public var linkCount: Int {
        guard let f = spec.interNode else { return intraCount }
        let m = nodes, nics = f.nicsPerNode
        switch f.kind {
        case "ring": return intraCount + 2 * m
        case "fully-connected": return intraCount + m * m
        case "torus": return intraCount + m * f.dims.count * 2
        case "rail-optimized": return intraCount + 2 * m * nics + 2 * nics
        case "fat-tree":
            let leaves = m / f.nodesPerLeaf
            return intraCount + 2 * m * nics + 2 * leaves + (f.levels == 3 ? 2 * (leaves / f.leavesPerPod) : 0)
        default: return intraCount + 2 * m * nics
        }
    }

    /// The id of the link `describe` names `name`.
    public func link(named name: String) -> Int? { (0..<linkCount).first { describe($0).name == name } }

    /// The NIC named `nodeN.nicK` as (node · nics + K), if the inter-node fabric has NICs.
    /// The links as they are at `time` under `faults` (GPU faults are ignored here): slowed links
    /// and NICs (both their links), cut NICs (a NIC's link cut takes the NIC down) and cut ring links.
    public func applying(_ faults: [FaultSpec], at time: Double) -> ClusterTopology {
        var topo = self
        for f in faults where f.at <= time {
            switch f.target {
            case .link(let name):
                guard let id = topo.link(named: name) else { continue }
                if f.isCut {
                    if let nic = topo.nic(ofLink: name) { topo.cutNICs.insert(nic) } else { topo.cutLinks.insert(id) }
                } else {
                    topo.linkSlowdown[id] = max(topo.linkSlowdown[id] ?? 1, f.slowdown)
                }
            case .nic(let name):
                guard let nic = topo.nic(named: name) else { continue }
                if f.isCut { topo.cutNICs.insert(nic) } else { for id in topo.nicLinks(nic) { topo.linkSlowdown[id] = max(topo.linkSlowdown[id] ?? 1, f.slowdown) } }
            case .gpu: break
            }
        }
        return topo
    }

    /// Whether link `id` is a ring link, which a fault may cut.
    public func isRingLink(_ id: Int) -> Bool {
        if id < intraCount { return spec.intraNode?.kind == "nvlink-ring" }
        return spec.interNode?.kind == "ring"
    }

    public func nic(named name: String) -> Int? {
        guard let f = spec.interNode, ["switch", "fat-tree", "rail-optimized"].contains(f.kind) else { return nil }
        let parts = name.split(separator: ".")
        guard parts.count == 2, parts[0].hasPrefix("node"), parts[1].hasPrefix("nic"), let node = Int(parts[0].dropFirst(4)), let k = Int(parts[1].dropFirst(3)),
            node >= 0, node < nodes, k >= 0, k < f.nicsPerNode
        else { return nil }
        return node * f.nicsPerNode + k
    }

    /// The NIC whose up or down link is named `name` (`nodeN.nicK.up`), if it is a NIC's link.
    public func nic(ofLink name: String) -> Int? {
        let parts = name.split(separator: ".")
        guard parts.count == 3, parts[2] == "up" || parts[2] == "down" else { return nil }
        return nic(named: parts[0] + "." + parts[1])
    }

    /// The up and down links of NIC `index` (node · nics + k).
    public func nicLinks(_ index: Int) -> [Int] {
        guard let f = spec.interNode else { return [] }
        return [intraCount + index, intraCount + nodes * f.nicsPerNode + index]
    }

    /// Bandwidth × efficiency of link `id`, bytes per second, without faults.
    public func nominalCapacity(_ id: Int) -> Double {
        if id < intraCount, let f = spec.intraNode { return f.bandwidth * f.efficiency }
        guard let f = spec.interNode else { return 0 }
        let beta = f.bandwidth * f.efficiency
        switch f.kind {
        case "ring", "fully-connected", "torus": return beta * Double(f.nicsPerNode)
        default:
            let nicLinks = 2 * nodes * f.nicsPerNode
            if id - intraCount < nicLinks { return beta }
            if f.kind == "rail-optimized" { return Double(nodes) * beta / f.oversubscription }
            let leafUp = Double(f.nodesPerLeaf * f.nicsPerNode) * beta / f.oversubscription
            if f.kind == "fat-tree", id - intraCount - nicLinks >= 2 * (nodes / f.nodesPerLeaf) {
                return Double(f.leavesPerPod) * leafUp / f.oversubscription  // a pod's up or down link to the core
            }
            return leafUp
        }
    }

    /// The smallest effective bandwidth of any link, bytes per second.
    public var slowestCapacity: Double {
        var c = Double.infinity
        if let f = spec.intraNode { c = min(c, f.bandwidth * f.efficiency) }
        if let f = spec.interNode {
            let beta = f.bandwidth * f.efficiency
            c = min(c, beta)
            if f.kind == "fat-tree" { c = min(c, Double(f.nodesPerLeaf * f.nicsPerNode) * beta / f.oversubscription) }
            if f.kind == "fat-tree", f.levels == 3 { c = min(c, Double(f.leavesPerPod * f.nodesPerLeaf * f.nicsPerNode) * beta / (f.oversubscription * f.oversubscription)) }
            if f.kind == "rail-optimized" { c = min(c, Double(nodes) * beta / f.oversubscription) }
        }
        var slowest = (c.isFinite ? c : 1) / max(1, linkSlowdown.values.max() ?? 1)
        // Under NCCL's protocols, the slowest any of them makes it (a lower bound on every link).
        for p in protocolChoices ?? [] {
            slowest = min(slowest, slowest * (CollectiveProtocol.Row.allCases.map { p.bandwidthFactor($0, nodes: nodes) }.min() ?? 1))
            if p == .ll, let cap = CollectiveProtocol.llCap(gpu, nodes: nodes) { slowest = min(slowest, cap) }
        }
        return slowest
    }

    /// The largest latency a route can have, seconds (an upper bound; under NCCL's protocols their
    /// largest step latency, plus a launch latency).
    public var largestLatencySeconds: Double {
        let protocolStep = (protocolChoices ?? []).flatMap { p in CollectiveProtocol.Row.allCases.map { p.stepLatency($0, network: true) + p.stepLatency($0, network: false) + p.launchLatency($0) } }.max() ?? 0
        let intra = spec.intraNode.map { $0.latency + $0.hopLatency * Double(gpusPerNode) } ?? 0
        let inter = spec.interNode.map { $0.latency + $0.hopLatency * Double(nodes + 5) } ?? 0
        return max(intra, inter) + protocolStep
    }

    /// A readable name and a kind for link `id`.
    /// The kind of link `id` (what `describe` gives as its kind), without building its name.
    public func kind(_ id: Int) -> String {
        if id < intraCount, let f = spec.intraNode {
            switch f.kind {
            case "nvlink-mesh", "nvlink-ring": return "nvlink"
            default: return "nvswitch-port"
            }
        }
        guard let f = spec.interNode else { return "link" }
        switch f.kind {
        case "ring": return "ring-link"
        case "fully-connected": return "link"
        case "torus": return "torus-link"
        default:
            let m = nodes, i = id - intraCount, nics = f.nicsPerNode
            if i < 2 * m * nics { return "nic" }
            if f.kind == "rail-optimized" { return "rail-uplink" }
            let leaves = m / f.nodesPerLeaf
            return i - 2 * m * nics < 2 * leaves ? "leaf-uplink" : "pod-uplink"
        }
    }

    public func describe(_ id: Int) -> (name: String, kind: String) {
        let g = gpusPerNode
        if id < intraCount, let f = spec.intraNode {
            let node = id / intraPerNode, r = id % intraPerNode
            switch f.kind {
            case "nvlink-mesh": return ("node\(node).gpu\(r / g)->gpu\(r % g)", "nvlink")
            case "nvlink-ring": return r < g ? ("node\(node).gpu\(r)->gpu\((r + 1) % g)", "nvlink") : ("node\(node).gpu\(r - g)->gpu\((r - g - 1 + g) % g)", "nvlink")
            default: return r < g ? ("node\(node).gpu\(r).up", "nvswitch-port") : ("node\(node).gpu\(r - g).down", "nvswitch-port")
            }
        }
        let m = nodes, i = id - intraCount
        guard let f = spec.interNode else { return ("link\(id)", "link") }
        switch f.kind {
        case "ring": return i < m ? ("node\(i)->node\((i + 1) % m)", "ring-link") : ("node\(i - m)->node\((i - m - 1 + m) % m)", "ring-link")
        case "fully-connected": return ("node\(i / m)->node\(i % m)", "link")
        case "torus": return ("node\(i / (2 * f.dims.count)).dim\((i / 2) % f.dims.count)\(i % 2 == 0 ? "+" : "-")", "torus-link")
        default:
            let nics = f.nicsPerNode
            if i < m * nics { return ("node\(i / nics).nic\(i % nics).up", "nic") }
            if i < 2 * m * nics { let j = i - m * nics; return ("node\(j / nics).nic\(j % nics).down", "nic") }
            let j = i - 2 * m * nics
            if f.kind == "rail-optimized" { return j < nics ? ("rail\(j).up", "rail-uplink") : ("rail\(j - nics).down", "rail-uplink") }
            let leaves = m / f.nodesPerLeaf
            if j < leaves { return ("leaf\(j).up", "leaf-uplink") }
            if j < 2 * leaves { return ("leaf\(j - leaves).down", "leaf-uplink") }
            let pods = leaves / max(1, f.leavesPerPod), k = j - 2 * leaves
            return k < pods ? ("pod\(k).up", "pod-uplink") : ("pod\(k - pods).down", "pod-uplink")
        }
    }
}
