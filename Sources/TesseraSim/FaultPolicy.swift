import TesseraCore
import TesseraModel
import TesseraSpec

/// Faults as a policy of a cluster run: the executor asks it, at each task's start, how slow a
/// GPU is and which network is in force; it holds no state of the run.
///
/// - A GPU fault slows every kernel of its GPU that starts at or after `at` by `slowdown` (the
///   largest factor of the faults in force); an infinite factor is a cut GPU, which stops the run.
/// - Link and NIC faults change the network from `at` on: the run is split into epochs at the
///   distinct times link faults start, each with the topology of the faults in force
///   (`ClusterTopology.applying`); a collective that starts in an epoch runs on its network.
public struct FaultPolicy: Sendable {
    /// Times (seconds, ascending, distinct) at which link and NIC faults start.
    public let epochStarts: [Double]
    /// The network of each epoch: index 0 is the healthy one (before the first link fault), k the
    /// one in force from `epochStarts[k − 1]` on (none when the run has no network).
    public let topologies: [ClusterTopology]
    /// GPU rank → its faults (start, slowdown), in file order.
    let gpuFaults: [Int: [(at: Double, slowdown: Double)]]

    public init(_ faults: [FaultSpec], on topology: ClusterTopology?) {
        let network = topology == nil ? [] : faults.filter { if case .gpu = $0.target { return false } else { return true } }
        let times = Array(Set(network.map(\.at))).sorted()
        epochStarts = times
        topologies = topology.map { t in [t] + times.map { t.applying(network, at: $0) } } ?? []
        var gpu: [Int: [(at: Double, slowdown: Double)]] = [:]
        for f in faults { if case .gpu(let r) = f.target { gpu[r, default: []].append((f.at, f.slowdown)) } }
        gpuFaults = gpu
    }

    /// Whether any link or NIC fault changes the network during the run.
    public var changesNetwork: Bool { !epochStarts.isEmpty }

    /// The epoch in force at `t` seconds: the number of link-fault start times at or before it.
    public func epoch(at t: Double) -> Int {
        var i = 0
        while i < epochStarts.count, epochStarts[i] <= t { i += 1 }
        return i
    }

    /// The network in force at `t` seconds.
    public func network(at t: Double) -> ClusterTopology { topologies[epoch(at: t)] }

    /// Whether a fault names GPU `rank`.
    public func isFaulty(gpu rank: Int) -> Bool { gpuFaults[rank] != nil }

    /// How many times slower GPU `rank` runs a kernel that starts at `t` seconds: 1 when healthy,
    /// the largest slowdown of its faults in force, +∞ when it is cut.
    public func slowdown(gpu rank: Int, at t: Double) -> Double {
        var x = 1.0
        for (at, s) in gpuFaults[rank] ?? [] where at <= t { x = max(x, s) }
        return x
    }
}
