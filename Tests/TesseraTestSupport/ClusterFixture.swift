import TesseraCore
import TesseraModel
import TesseraSpec

/// GPU-cluster hardware files for tests: H100 nodes on NVSwitch, joined by one switch.
public enum ClusterFixture {
    public struct NoTopology: Error {}

    /// `nodes` × `gpusPerNode` H100s; with more than one node, one NIC a GPU on a 400 Gb/s switch.
    public static func yaml(nodes: Int, gpusPerNode: Int) -> String {
        var s = "tessera: 1\nname: c\nkind: gpu-cluster\ngpu: {preset: h100-sxm}\nnodes: \(nodes)\ngpus_per_node: \(gpusPerNode)\n"
        s += "intra_node: {kind: nvswitch, bandwidth: 450 GB/s, latency: 1 us}\n"
        if nodes > 1 { s += "inter_node: {kind: switch, nic: 400 Gb/s, nics_per_node: \(gpusPerNode), latency: 5 us}\n" }
        return s
    }

    /// The topology `yaml` describes.
    public static func topology(_ yaml: String) throws -> ClusterTopology {
        let spec = try KindTable.hardwareLoader.parse(yaml, file: "hw.yaml")
        guard let cluster = spec.cluster, let topology = ClusterTopology(cluster) else { throw NoTopology() }
        return topology
    }
}
