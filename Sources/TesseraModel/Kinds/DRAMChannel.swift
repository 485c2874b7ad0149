import TesseraCore
import TesseraSpec

/// Off-chip DRAM: one channel with a sustained bandwidth and a fixed access latency.
///
/// Cost of one transfer of `b` bytes (pipelined): it occupies the channel for `b / bandwidth`
/// and completes `latency` after it leaves the channel. `unlimited` bandwidth is an ideal memory:
/// transfers take no time (the setting in which compute cycles are compared with SCALE-Sim).
public struct DRAMChannel: ComponentModel {
    public static let schema = ComponentSchema(
        kind: "dram", role: .memory, summary: "off-chip DRAM channel",
        parameters: [
            ParameterDecl("bandwidth", .quantityOrUnlimited(.bandwidth), "sustained bandwidth, or 'unlimited' for an ideal memory"),
            ParameterDecl("latency", .quantityOrZero(.time), default: .number(0), defaultText: "0 ns", "access latency added to every transfer"),
            ParameterDecl("channels", .int(min: 1), default: .int(1), "channels interleaved into one: 'bandwidth' is per channel and the total is bandwidth × channels"),
            ParameterDecl("size", .quantityOrUnlimited(.size), default: .unlimited, defaultText: "unlimited", "capacity: with a host-link, the on-chip memory whose weights stay resident (the rest stream over the link)"),
        ])

    public var name: String
    /// `nil` means unlimited.
    public var bandwidth: Bandwidth?
    public var latency: Duration
    /// Capacity in bytes; `nil` is unlimited.
    public var sizeBytes: UInt64?

    public init(spec: ComponentSpec) {
        name = spec.name
        let channels = Double(max(1, spec.int("channels")))
        bandwidth = spec.number("bandwidth").map { Bandwidth(bytesPerSecond: $0 * channels) }
        latency = Duration(seconds: spec.number("latency") ?? 0)
        sizeBytes = spec.number("size").map { Saturating.uint64($0) }
    }

    public init(name: String, bandwidth: Bandwidth?, latency: Duration = Duration(seconds: 0)) {
        self.name = name
        self.bandwidth = bandwidth
        self.latency = latency
    }

    /// Time the channel is occupied by `bytes`, in picoseconds, rounded up: ⌈bytes·10¹²/bandwidth⌉.
    public func occupancy(bytes: UInt64) -> Picoseconds {
        guard let bw = bandwidth, bytes > 0 else { return 0 }
        return picosecondsRoundedUp(Double(bytes) * 1e12 / bw.bytesPerSecond)
    }
}
