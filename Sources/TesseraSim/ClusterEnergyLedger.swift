import TesseraCore
import TesseraModel

/// The energy ledger of a GPU-cluster run, and its power over time.
///
///     E = Σ_GPU classes n · (P_idle · T + (TDP − P_idle) · t_busy) + Σ_links bytes · 8 · e_bit(kind)
///
/// A GPU draws its TDP while it computes (its busy intervals) and its idle power otherwise (the
/// rule of `Report.gpuEnergyNote`); each link's bytes cost `NetworkEnergy`'s energy per bit.
/// Power over time: GPU power is integrated over equal windows (1 µs, or the run / 4096 if that is
/// longer) from the busy intervals; a link's energy is spread evenly over the interval it was
/// given (the whole run when none), so peak power is exact for the GPUs and averaged for links.
/// Complexity O(intervals + links + windows × distinct link spans).
public struct ClusterEnergyLedger: Sendable {
    public let seconds: Double
    public let windowSeconds: Double
    private var windowJoules: [Double]
    private var components: [(name: String, joules: Double)] = []
    private var idleJoules = 0.0
    private var busyJoules = 0.0
    private var linkJoules: [String: Double] = [:]
    /// Link energy not yet spread, by span (thousands of links share a few spans).
    private var pending: [Span: Double] = [:]

    struct Span: Hashable, Comparable {
        var start: Double, end: Double
        static func < (a: Span, b: Span) -> Bool { a.start != b.start ? a.start < b.start : a.end < b.end }
    }

    public init(seconds: Double) {
        let s = seconds.isFinite ? max(0, seconds) : 0
        self.seconds = s
        let width = max(1e-6, s / 4096)
        windowSeconds = width
        windowJoules = Array(repeating: 0, count: max(1, Int((s / width).rounded(.up))))
    }

    /// `count` GPUs of one class, each busy over `busy` (seconds from the start; overlapping spans
    /// are counted once), idle the rest of the run.
    public mutating func addGPUs(_ name: String, count: Int, gpu: GPUPreset, busy: [(Double, Double)]) {
        let n = Double(count)
        let merged = Self.union(busy.map { (max(0, min($0.0, seconds)), max(0, min($0.1, seconds))) })
        let busyTime = merged.reduce(0) { $0 + ($1.1 - $1.0) }
        let idle = n * gpu.idleWatts * seconds
        let extra = n * (gpu.tdpWatts - gpu.idleWatts) * busyTime
        idleJoules += idle
        busyJoules += extra
        components.append((name, idle + extra))
        spread(idle, over: (0, seconds))
        for span in merged { spread(n * (gpu.tdpWatts - gpu.idleWatts) * (span.1 - span.0), over: span) }
    }

    /// `bytes` carried by one link of `kind`, over `span` (the whole run when nil).
    public mutating func addLink(kind: String, bytes: Double, over span: (Double, Double)? = nil) {
        let j = NetworkEnergy.joules(bytes: max(0, bytes), kind: kind)
        guard j > 0 else { return }
        linkJoules[kind, default: 0] += j
        let s = span ?? (0, seconds)
        pending[Span(start: s.0, end: s.1), default: 0] += j
    }

    /// The ledger as the report's energy account: GPU idle energy is its static part, GPU compute
    /// above idle and link traffic its dynamic part.
    public func account() -> EnergyAccount {
        var ledger = self
        for span in pending.keys.sorted() { ledger.spread(pending[span] ?? 0, over: (span.start, span.end)) }
        ledger.pending = [:]
        return ledger.settled()
    }

    private func settled() -> EnergyAccount {
        let kinds = linkJoules.keys.sorted()
        let network = kinds.reduce(0.0) { $0 + (linkJoules[$1] ?? 0) }
        let dynamic = busyJoules + network
        var byAction: [(String, Double)] = [("gpu-compute-above-idle", busyJoules), ("gpu-idle", idleJoules)]
        byAction += kinds.map { ("\($0)-traffic", linkJoules[$0] ?? 0) }
        let byComponent = components + (network > 0 ? [("network", network)] : [])
        let watts = windowJoules.enumerated().map { w, j -> Double in
            let start = Double(w) * windowSeconds
            let width = min(seconds, start + windowSeconds) - start
            return width > 0 ? j / width : 0
        }
        return EnergyAccount(
            seconds: seconds, dynamicJoules: dynamic, staticJoules: idleJoules, byComponent: byComponent, byAction: byAction, windowSeconds: windowSeconds,
            windowWatts: seconds > 0 ? watts : [])
    }

    private mutating func spread(_ joules: Double, over span: (Double, Double)) {
        guard joules > 0, seconds > 0 else { return }
        let s = max(0, min(span.0, seconds)), e = max(s, min(span.1, seconds))
        let last = windowJoules.count - 1
        if e <= s {
            windowJoules[min(last, Int(s / windowSeconds))] += joules
            return
        }
        var t = s
        var w = min(last, Int(s / windowSeconds))
        while t < e, w <= last {
            let end = w == last ? e : min(e, Double(w + 1) * windowSeconds)
            windowJoules[w] += joules * (end - t) / (e - s)
            t = end
            w += 1
        }
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
