import TesseraCore
import TesseraModel

/// A GPU cluster's energy model, posted into the one `EnergyLedger`:
///
///     E = Σ_GPU classes n · (P_idle · T + (TDP − P_idle) · t_busy) + Σ_links bytes · 8 · e_bit(kind)
///
/// A GPU draws its TDP while it computes (its busy intervals) and its idle power otherwise (the
/// rule of `Report.gpuEnergyNote`); each link's bytes cost `NetworkEnergy`'s energy per bit.
/// Idle power is the static part; TDP above idle and link traffic the dynamic part. In time, GPU
/// power is exact per window (busy spans are merged, then spread); a link's energy is spread evenly
/// over the span it was given (the whole run when none), so peak power averages link traffic.
extension EnergyLedger {
    /// `count` GPUs of one class, each busy over `busy` (seconds from the start, clamped to the run;
    /// overlapping spans are counted once), idle the rest of the run.
    public mutating func addGPUs(_ name: String, count: Int, gpu: GPUPreset, busy: [(Double, Double)]) {
        let n = Double(count)
        let end = seconds
        let merged = Self.union(busy.map { (max(0, min($0.0, end)), max(0, min($0.1, end))) })
        let busyTime = merged.reduce(0) { $0 + ($1.1 - $1.0) }
        addStatic(watts: n * gpu.idleWatts, component: name, action: "gpu-idle")
        add(n * (gpu.tdpWatts - gpu.idleWatts) * busyTime, component: name, action: "gpu-compute-above-idle")
        for span in merged {
            spread(n * (gpu.tdpWatts - gpu.idleWatts) * (span.1 - span.0), from: Self.picoseconds(span.0), to: Self.picoseconds(span.1))
        }
    }

    /// `bytes` carried by one link of `kind`, over `span` in seconds (the whole run when nil).
    public mutating func addLink(kind: String, bytes: Double, over span: (Double, Double)? = nil) {
        let j = NetworkEnergy.joules(bytes: max(0, bytes), kind: kind)
        guard j > 0 else { return }
        add(j, component: "network", action: "\(kind)-traffic")
        let s = span.map { (min(Self.picoseconds($0.0), duration), min(Self.picoseconds($0.1), duration)) } ?? (0, duration)
        spreadLater(j, from: s.0, to: max(s.0, s.1))
    }

    /// The account of a cluster run: GPU classes in the order added, then the network; GPU actions
    /// first (listed even when zero), then each link kind's traffic in name order.
    public func clusterAccount() -> EnergyAccount {
        let traffic = actionsSeen.filter { $0.hasSuffix("-traffic") }.sorted()
        return account(componentOrder: [], actionOrder: ["gpu-compute-above-idle", "gpu-idle"] + traffic, keepEmptyActions: true)
    }

    /// Sorted, merged intervals.
    public static func union(_ spans: [(Double, Double)]) -> [(Double, Double)] {
        var out: [(Double, Double)] = []
        for s in spans.sorted(by: { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }) where s.1 > s.0 {
            if let last = out.last, s.0 <= last.1 { out[out.count - 1].1 = max(last.1, s.1) } else { out.append(s) }
        }
        return out
    }
}
