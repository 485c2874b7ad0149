import Foundation
import TesseraCore
import TesseraOutput

/// Axis ranges and tick marks.
///
/// Linear ticks step by 1, 2 or 5 × 10ᵏ, about six to an axis; log ticks sit on powers of ten, with
/// 2× and 5× added when the data span less than two decades. An axis of a few distinct values (a
/// sweep axis) gets a tick at each value instead.
enum ChartScale {
    static func axis(label: String, values: [Double], scale: Chart.Scale, includeZero: Bool, ticksAtValues: Bool) -> Chart.Axis {
        var lo = values.min() ?? 0
        var hi = values.max() ?? 1
        if includeZero { lo = min(lo, 0) }
        var lower: Double
        var upper: Double
        switch scale {
        case .linear:
            if lo == hi {
                let d = lo == 0 ? 1 : abs(lo) * 0.1
                lo -= d
                hi += d
            }
            let pad = (hi - lo) * 0.05
            lower = includeZero && lo == 0 ? 0 : lo - pad
            upper = hi + pad
        case .log:
            if lo == hi {
                lo /= 2
                hi *= 2
            }
            lower = lo / pow(hi / lo, 0.05)
            upper = hi * pow(hi / lo, 0.05)
        }
        var ticks: [Double]
        if ticksAtValues {
            ticks = Array(Set(values)).sorted()
        } else {
            switch scale {
            case .linear: ticks = linearTicks(lower, upper)
            case .log: ticks = logTicks(lower, upper)
            }
        }
        ticks = ticks.filter { $0 >= lower - 1e-12 * abs(lower) && $0 <= upper + 1e-12 * abs(upper) }
        let step = ticks.count > 1 ? zip(ticks.dropFirst(), ticks).map { $0 - $1 }.min() ?? 0 : 0
        if ticksAtValues, ticks.count > 1 {
            lower = min(lower, ticks[0])
            upper = max(upper, ticks[ticks.count - 1])
        }
        return Chart.Axis(
            label: label, scale: scale, lower: lower, upper: upper, ticks: ticks.map { Chart.Tick(value: $0, label: tickLabel($0, step: step)) },
            categories: nil)
    }

    static func linearTicks(_ lo: Double, _ hi: Double, target: Double = 6) -> [Double] {
        let span = hi - lo
        guard span > 0, span.isFinite else { return [lo] }
        let raw = span / target
        let magnitude = pow(10, floor(log10(raw)))
        let n = raw / magnitude
        let step = (n < 1.5 ? 1 : n < 3 ? 2 : n < 7 ? 5 : 10) * magnitude
        var out: [Double] = []
        var i = ceil(lo / step)
        while i * step <= hi + step * 1e-9, out.count < 50 {
            let v = i * step
            out.append(abs(v) < step * 1e-9 ? 0 : v)
            i += 1
        }
        return out
    }

    static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        guard lo > 0, hi > lo else { return [lo] }
        let first = Int(floor(log10(lo)))
        let last = Int(ceil(log10(hi)))
        let decades = log10(hi / lo)
        let multiples: [Double] = decades < 2 ? [1, 2, 5] : [1]
        var out: [Double] = []
        for e in first...max(first, last) {
            for m in multiples {
                let v = m * pow(10, Double(e))
                if v >= lo, v <= hi { out.append(v) }
            }
        }
        if out.count < 2 { return linearTicks(lo, hi, target: 4).filter { $0 > 0 } }
        return out
    }

    /// A short label: a hundred thousand and up with k, M, G, T; smaller numbers as they are (up to six decimals).
    static func tickLabel(_ v: Double, step: Double) -> String {
        let a = abs(v)
        for (factor, suffix) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] where a >= factor && a >= 1e5 {
            return formatDecimal(v / factor, maxDecimals: 2) + suffix
        }
        return formatDecimal(v, maxDecimals: 6)
    }
}
