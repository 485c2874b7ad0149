/// NCCL's three protocols, as its tuner costs them (`nccl_protocol` in a `gpu-cluster` file).
///
/// NCCL moves a collective's data with one of three protocols and picks, per call, the algorithm
/// and protocol of least predicted time (latency + size / bandwidth):
/// - **LL** (low latency): 8-byte stores of 4 bytes of data and a 4-byte flag, polled by the
///   receiver: the least latency per step and half the bandwidth;
/// - **LL128**: 128-byte lines of 120 bytes of data and an 8-byte flag;
/// - **Simple**: bulk copies with a fence and a flag per chunk: full bandwidth, the most latency.
///
/// The constants are NCCL's own performance model, `src/graph/tuning.cc` of NVIDIA/nccl at commit
/// 5067397c (identical to v2.30.7; the latencies and caps below are unchanged since v2.23.4):
/// - launch latency once per collective, `baseLatencies` (µs): ring LL 6.6, LL128 14.0, Simple 8.4;
///   tree LL 6.8, LL128 14.0, Simple 8.4;
/// - latency per step, `hwLatencies` (µs): NVLink ring 0.6 / 1.9 / 3.4, tree 0.6 / 1.25 / 4.0;
///   network (NET) ring 2.7 / 4.0 / 14.0, tree 5.0 / 8.5 / 14.0 (LL / LL128 / Simple);
/// - bandwidth: ring LL half of the link's (min(0.5·bw, llMaxBw)), ring LL128 0.92 of it (the
///   source's comment says 120/128), Simple all of it; the double binary tree 0.92 of it for
///   Simple, that /3.8 for LL, and × 7/9 (one node) or × 120/128 for LL128;
/// - llMaxBw, the LL bandwidth cap per GPU (GB/s, one node / two / more): Ampere 87.7 / 22.5 / 19.0,
///   Hopper 141 / 45 / 35, Blackwell 282 / 90 / 70 (`GPUPreset.llMaxBandwidth`).
///
/// How Tessera applies them (an approximation of NCCL's model, stated in `model_notes`): every
/// message of a step pays the protocol's per-step latency for the link class its route crosses
/// (NVLink inside a node, NET between nodes) in place of the fabric's `latency` (a route's
/// `hop_latency` is still added); every link's effective bandwidth (bandwidth × efficiency, the
/// Simple protocol's) is multiplied by the protocol's factor, LL capped at llMaxBw; the launch
/// latency is added once per collective. The double binary tree takes the tree rows; every other
/// algorithm (ring, halving-doubling, direct, hierarchical) the ring rows. `auto` times all three
/// on the link simulation and keeps the fastest (LL on a tie, then LL128), as NCCL's tuner keeps
/// the least predicted time. NVLink SHARP (`algorithm: nvls`, all-reduce inside one node on
/// NVSwitch of a GPU that has it, Simple only): NCCL sets its latency to 25 µs (NVLink) with no
/// launch latency, and its bandwidth from nvlsEfficiency 0.85 (Hopper) × 15/16 (16 channels on
/// sm90; 18 µs on the network, unused by a one-node NVLS); here every GPU's port carries S up (its data into the switch's reduction) and S down
/// (the reduced result) at the link's bandwidth × efficiency × that factor. Not modeled: CollNet,
/// NVLS across nodes (NVLSTree) and for reduce-scatter and all-gather, NCCL's channel and thread
/// trimming for small messages, its per-channel LL128 and tree caps.
public enum CollectiveProtocol: String, Sendable, Hashable, CaseIterable {
    case ll, ll128, simple

    /// NCCL's rows of constants: the ring's (ring and every algorithm but the tree and NVLS), the
    /// tree's (double binary tree) and NVLink SHARP's (`nvls`, Simple only).
    public enum Row: Sendable, Hashable, CaseIterable { case ring, tree, nvls }

    /// Whether NCCL runs the row with this protocol (NVLS only with Simple).
    public func applies(to row: Row) -> Bool { row != .nvls || self == .simple }

    /// NCCL's constants by row, each list in protocol order (LL, LL128, Simple), µs: `baseLatencies`
    /// (NVLS none: its latency is all in its step) and `hwLatencies` over NVLink and over the
    /// network (NET), as `src/graph/tuning.cc` tabulates them.
    static let launch: [Row: [Double]] = [.ring: [6.6, 14.0, 8.4], .tree: [6.8, 14.0, 8.4], .nvls: [0, 0, 0]]
    static let nvlinkStep: [Row: [Double]] = [.ring: [0.6, 1.9, 3.4], .tree: [0.6, 1.25, 4.0], .nvls: [25, 25, 25]]
    static let networkStep: [Row: [Double]] = [.ring: [2.7, 4.0, 14.0], .tree: [5.0, 8.5, 14.0], .nvls: [18, 18, 18]]

    /// This protocol's place in the lists above.
    var index: Int { CollectiveProtocol.allCases.firstIndex(of: self) ?? 0 }

    /// Launch latency of one collective, seconds.
    public func launchLatency(_ row: Row) -> Double { (Self.launch[row]?[index] ?? 0) * 1e-6 }

    /// Latency of one step of a message over NVLink (`network` false) or the inter-node network, seconds.
    public func stepLatency(_ row: Row, network: Bool) -> Double { ((network ? Self.networkStep : Self.nvlinkStep)[row]?[index] ?? 0) * 1e-6 }

    /// The share of a link's effective bandwidth the protocol reaches on `nodes` nodes. NVLS:
    /// NCCL's nvlsEfficiency for Hopper (0.85) × (nCh − 1)/nCh with its 16 NVLS channels on sm90.
    public func bandwidthFactor(_ row: Row, nodes: Int) -> Double {
        switch (self, row) {
        case (_, .nvls): 0.85 * 15.0 / 16.0
        case (.ll, .ring): 0.5
        case (.ll128, .ring): 0.92
        case (.simple, .ring): 1
        case (.ll, .tree): 0.92 / 3.8
        case (.ll128, .tree): 0.92 * (nodes == 1 ? 7.0 / 9.0 : 120.0 / 128.0)
        case (.simple, .tree): 0.92
        }
    }

    /// NCCL's LL bandwidth cap, bytes per second, for `gpu` on `nodes` nodes (nil: no cap known).
    public static func llCap(_ gpu: GPUPreset, nodes: Int) -> Double? {
        guard gpu.llMaxBandwidth.count == 3 else { return nil }
        return gpu.llMaxBandwidth[nodes <= 1 ? 0 : nodes == 2 ? 1 : 2] * 1e9
    }

    /// NCCL's names, for reports.
    public var ncclName: String {
        switch self {
        case .ll: "LL"
        case .ll128: "LL128"
        case .simple: "Simple"
        }
    }
}
