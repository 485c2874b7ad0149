import TesseraCore
import TesseraSpec

/// A link to the host's memory (USB 3.0, PCIe) from which an accelerator streams the weights that
/// do not fit its on-chip memory, every inference, as a Coral Edge TPU does for models over its
/// 8 MB parameter cache.
///
/// Placement (`EdgeMapper`): when an edge SoC has a host link, its `dram` is the on-chip memory
/// and its `size` the capacity for weights (Coral: "roughly 8 MB of SRAM that can cache the
/// model's parameter data"; the activations live in the SoC's buffers). Weights are placed in
/// layer order, each whole, while they fit; they stay resident across layers and inferences. The weights of every later layer that
/// does not fit stream over the link: a tile's weight bytes occupy the link for bytes/bandwidth
/// (+ latency), in parallel with its activations on the on-chip channel. Energy: `link.byte` per
/// byte streamed.
public struct HostLink: ComponentModel {
    public static let schema = ComponentSchema(
        kind: "host-link", role: .memory, summary: "link to host memory that streams the weights the on-chip memory cannot hold",
        parameters: [
            ParameterDecl("bandwidth", .quantity(.bandwidth), "sustained payload bandwidth (USB 3.0: 400 MB/s, PCIe Gen2 x1: 500 MB/s)"),
            ParameterDecl("latency", .quantityOrZero(.time), default: .number(0), defaultText: "0 ns", "latency added to every transfer"),
        ])

    public var name: String
    public var bandwidth: Bandwidth
    public var latency: Duration

    public init(spec: ComponentSpec) {
        name = spec.name
        bandwidth = Bandwidth(bytesPerSecond: spec.number("bandwidth") ?? 1)
        latency = Duration(seconds: spec.number("latency") ?? 0)
    }

    public init(name: String, bandwidth: Bandwidth, latency: Duration = Duration(seconds: 0)) {
        self.name = name
        self.bandwidth = bandwidth
        self.latency = latency
    }

    /// The link as a channel that serves transfers in order.
    public var channel: DRAMChannel { DRAMChannel(name: name, bandwidth: bandwidth, latency: latency) }
}
