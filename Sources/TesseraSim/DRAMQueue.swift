import TesseraCore
import TesseraModel

/// One DRAM channel serving transfers in issue order: a transfer of b bytes occupies the channel
/// for b/bandwidth from when it is free, and completes `latency` after it leaves the channel.
struct DRAMQueue {
    let channel: DRAMChannel
    let latency: Picoseconds
    private(set) var freeAt: Picoseconds = 0
    /// Picoseconds the channel has been occupied.
    private(set) var busy: Picoseconds = 0

    init(_ channel: DRAMChannel) {
        self.channel = channel
        self.latency = channel.latency.picoseconds
    }

    /// Queues a transfer issued at `now`; returns when it starts on the channel and when it completes.
    mutating func transfer(bytes: UInt64, at now: Picoseconds) -> (start: Picoseconds, done: Picoseconds) {
        let occupancy = channel.occupancy(bytes: bytes)
        let start = max(now, freeAt)
        freeAt = Saturating.add(start, occupancy)
        busy = Saturating.add(busy, occupancy)
        return (start, Saturating.add(freeAt, latency))
    }
}
