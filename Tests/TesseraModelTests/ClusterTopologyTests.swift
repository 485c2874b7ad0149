import Testing
import TesseraCore
import TesseraSpec

@testable import TesseraModel

/// Cluster topologies: which links a message crosses, their names and kinds, and their capacity.
@Suite struct ClusterTopologyTests {
    static func topology(_ body: String) throws -> ClusterTopology {
        let spec = try KindTable.hardwareLoader.parse("tessera: 1\nname: c\nkind: gpu-cluster\ngpu: {preset: h100-sxm}\n" + body, file: "c.yaml")
        let cluster = try #require(spec.cluster)
        return try #require(ClusterTopology(cluster))
    }

    /// Inside an NVSwitch node a message goes up its GPU's port and down the other's: two links,
    /// latency + one hop, each port at bandwidth × efficiency.
    @Test func nvswitchRoutesThroughTwoPorts() throws {
        let t = try Self.topology("nodes: 1\ngpus_per_node: 8\nintra_node: {kind: nvswitch, bandwidth: 450 GB/s, efficiency: 0.8, latency: 1 us, hop_latency: 100 ns}\n")
        var links: [Int] = []
        let ps = t.route(2, 5, into: &links)
        #expect(links.count == 2)
        #expect(ps == 1_100_000)
        #expect(links.map { t.describe($0).name } == ["node0.gpu2.up", "node0.gpu5.down"])
        #expect(links.allSatisfy { t.describe($0).kind == "nvswitch-port" })
        #expect(links.allSatisfy { abs(t.capacity($0) - 450e9 * 0.8) < 1 })
        #expect(t.linkCount == 16)
    }

    /// Across nodes on a switch a message leaves through a NIC and enters through one; every link
    /// has a unique name that `link(named:)` finds again.
    @Test func switchedNodesRouteThroughNICsAndNamesRoundTrip() throws {
        let t = try Self.topology(
            "nodes: 4\ngpus_per_node: 8\nintra_node: {kind: nvswitch, bandwidth: 450 GB/s, latency: 1 us}\ninter_node: {kind: switch, nic: 400 Gb/s, nics_per_node: 8, latency: 5 us}\n")
        var links: [Int] = []
        _ = t.route(3, 8 + 3, into: &links)
        #expect(links.contains { t.describe($0).kind == "nic" })
        #expect(links.allSatisfy { $0 >= 0 && $0 < t.linkCount })
        let names = (0..<t.linkCount).map { t.describe($0).name }
        #expect(Set(names).count == names.count)
        for id in stride(from: 0, to: t.linkCount, by: 7) { #expect(t.link(named: t.describe(id).name) == id) }
    }

    /// A ring of nodes goes the shorter way round; a message to oneself crosses nothing.
    @Test func ringTakesTheShorterWay() throws {
        let t = try Self.topology("nodes: 8\ngpus_per_node: 1\ninter_node: {kind: ring, bandwidth: 50 GB/s, latency: 2 us, hop_latency: 500 ns}\n")
        var links: [Int] = []
        let ps = t.route(0, 6, into: &links)
        #expect(links.count == 2)
        #expect(ps == 2_500_000)
        #expect(t.route(3, 3, into: &links) == 0 || links.isEmpty)
    }

    /// `kind(_:)` (the energy ledger's fast path) agrees with `describe(_:)` on every link of every
    /// fabric.
    @Test(arguments: [
        "nodes: 2\ngpus_per_node: 4\nintra_node: {kind: nvlink-mesh, bandwidth: 50 GB/s, latency: 1 us}\ninter_node: {kind: ring, bandwidth: 25 GB/s, latency: 2 us}\n",
        "nodes: 3\ngpus_per_node: 4\nintra_node: {kind: nvlink-ring, bandwidth: 50 GB/s, latency: 1 us}\ninter_node: {kind: fully-connected, bandwidth: 25 GB/s, latency: 2 us}\n",
        "nodes: 9\ngpus_per_node: 2\nintra_node: {kind: nvswitch, bandwidth: 450 GB/s, latency: 1 us}\ninter_node: {kind: torus, dims: [3, 3], bandwidth: 50 GB/s, latency: 1 us}\n",
        "nodes: 4\ngpus_per_node: 4\nintra_node: {kind: nvswitch, bandwidth: 300 GB/s, latency: 1 us}\ninter_node: {kind: rail-optimized, bandwidth: 25 GB/s, nics_per_node: 4, latency: 5 us}\n",
        "nodes: 8\ngpus_per_node: 2\nintra_node: {kind: nvswitch, bandwidth: 300 GB/s, latency: 1 us}\ninter_node: {kind: fat-tree, bandwidth: 50 GB/s, latency: 1 us, nodes_per_leaf: 2, levels: 3, leaves_per_pod: 2}\n",
        "nodes: 4\ngpus_per_node: 8\nintra_node: {kind: nvswitch, bandwidth: 450 GB/s, latency: 1 us}\ninter_node: {kind: switch, nic: 400 Gb/s, nics_per_node: 8, latency: 5 us}\n",
    ])
    func kindAgreesWithDescribe(_ body: String) throws {
        let t = try Self.topology(body)
        #expect(t.linkCount > 0)
        for id in 0..<t.linkCount { #expect(t.kind(id) == t.describe(id).kind, "link \(id) \(t.describe(id).name)") }
    }
}
