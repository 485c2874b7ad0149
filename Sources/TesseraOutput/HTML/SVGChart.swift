import TesseraCore

/// Small SVG charts for the HTML report (inline `<svg>` elements of the page), written as text (no scripts, no fonts to fetch): power
/// over time as steps, and cumulative distributions. Axes end on round values (1, 2 or 5 × 10ⁿ
/// per tick), times are shown in the unit that keeps them between 1 and 1000, and the same input
/// gives the same bytes.
public enum SVGChart {
    /// A horizontal or vertical reference line with its label (a budget, an SLO).
    public struct Marker: Sendable {
        public var value: Double
        public var label: String
        public init(value: Double, label: String) {
            self.value = value
            self.label = label
        }
    }

    static let width = 760.0, height = 280.0
    static let left = 70.0, right = 20.0, top = 16.0, bottom = 46.0

    /// A tick step of 1, 2 or 5 × 10ⁿ giving at most `count` intervals over `0...max`.
    static func tickStep(max: Double, count: Int = 6) -> Double {
        guard max > 0, max.isFinite else { return 1 }
        let raw = max / Double(count)
        var p = 1.0
        while p * 10 <= raw { p *= 10 }
        while p > raw { p /= 10 }
        for m in [1.0, 2.0, 5.0, 10.0] where m * p >= raw { return m * p }
        return 10 * p
    }

    /// The unit a time axis is drawn in: the largest of s, ms, µs, ns that keeps `max` at 1 or more.
    static func timeUnit(_ max: Double) -> (scale: Double, name: String) {
        for (s, n) in [(1.0, "s"), (1e-3, "ms"), (1e-6, "µs")] where max >= s { return (s, n) }
        return (1e-9, "ns")
    }

    /// Ticks at multiples of the step up to and including the first at or above `max`.
    static func ticks(max: Double) -> [Double] {
        let step = tickStep(max: max)
        var t: [Double] = [0]
        var k = 1.0
        while t.count < 12 {
            let v = k * step
            t.append(v)
            if v >= max * (1 - 1e-12) { break }
            k += 1
        }
        return t
    }

    /// A tick value with as many decimals as its step needs (a step of 0.05 → two), so every tick
    /// reads as the round value it is.
    static func label(_ v: Double, step: Double) -> String {
        var decimals = 0
        var unit = 1.0
        while unit > step * (1 + 1e-9), decimals < 15 {
            unit /= 10
            decimals += 1
        }
        // Fixed point, never an exponent: the value in units of 10^-decimals, then the point placed.
        let scaled = (v / unit).rounded()
        guard scaled.isFinite, abs(scaled) < 1e15 else { return formatDecimal(v, maxDecimals: decimals) }
        var digits = String(Int64(abs(scaled)))
        if decimals > 0 {
            if digits.count <= decimals { digits = String(repeating: "0", count: decimals - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
            while digits.hasSuffix("0") { digits.removeLast() }
            if digits.hasSuffix(".") { digits.removeLast() }
        }
        return (scaled < 0 ? "-" : "") + digits
    }

    static func label(_ v: Double) -> String { formatDecimal(v, maxDecimals: 6) }

    static func num(_ v: Double) -> String { formatDecimal(v, maxDecimals: 2) }

    /// The frame, grid and tick labels; returns the maps from data to picture coordinates.
    private static func axes(
        xMax: Double, yMax: Double, xTitle: String, yTitle: String, xLabel: ((Double) -> String)? = nil, yLabel: ((Double) -> String)? = nil,
        into s: inout String
    ) -> (x: (Double) -> Double, y: (Double) -> Double) {
        let xt = ticks(max: xMax), yt = ticks(max: yMax)
        let xs = tickStep(max: xMax), ys = tickStep(max: yMax)
        let xLabel = xLabel ?? { label($0, step: xs) }, yLabel = yLabel ?? { label($0, step: ys) }
        let xEnd = xt.last ?? 1, yEnd = yt.last ?? 1
        let pw = width - left - right, ph = height - top - bottom
        let fx = { (v: Double) in left + pw * (xEnd > 0 ? v / xEnd : 0) }
        let fy = { (v: Double) in top + ph * (1 - (yEnd > 0 ? v / yEnd : 0)) }
        for v in yt {
            s += "<line x1=\"\(num(left))\" y1=\"\(num(fy(v)))\" x2=\"\(num(width - right))\" y2=\"\(num(fy(v)))\" class=\"grid\"/>"
            s += "<text x=\"\(num(left - 6))\" y=\"\(num(fy(v) + 4))\" text-anchor=\"end\">\(HTML.escape(yLabel(v)))</text>"
        }
        for v in xt {
            s += "<line x1=\"\(num(fx(v)))\" y1=\"\(num(top))\" x2=\"\(num(fx(v)))\" y2=\"\(num(top + ph))\" class=\"grid\"/>"
            s += "<text x=\"\(num(fx(v)))\" y=\"\(num(top + ph + 16))\" text-anchor=\"middle\">\(HTML.escape(xLabel(v)))</text>"
        }
        s += "<rect x=\"\(num(left))\" y=\"\(num(top))\" width=\"\(num(pw))\" height=\"\(num(ph))\" class=\"frame\"/>"
        s += "<text x=\"\(num(left + pw / 2))\" y=\"\(num(height - 6))\" text-anchor=\"middle\" class=\"title\">\(HTML.escape(xTitle))</text>"
        s += "<text x=\"14\" y=\"\(num(top + ph / 2))\" text-anchor=\"middle\" class=\"title\" transform=\"rotate(-90 14 \(num(top + ph / 2)))\">\(HTML.escape(yTitle))</text>"
        return (fx, fy)
    }

    private static func open(_ caption: String) -> String {
        "<svg class=\"chart\" viewBox=\"0 0 \(num(width)) \(num(height))\" role=\"img\" aria-label=\"\(HTML.escape(caption))\">"
    }

    /// Power over time: one step per window, from 0 to the end of the run, with an optional budget line.
    public static func power(_ series: PowerSeries, budget: Double? = nil) -> String {
        let total = series.windowSeconds * Double(series.watts.count)
        let unit = timeUnit(total)
        let peak = max(series.watts.max() ?? 0, budget ?? 0)
        var s = open("power over time")
        let (fx, fy) = axes(
            xMax: total / unit.scale, yMax: peak * 1.05, xTitle: "time (\(unit.name))", yTitle: "power (W)", into: &s)
        var d = ""
        for (i, w) in series.watts.enumerated() {
            let x0 = fx(Double(i) * series.windowSeconds / unit.scale), x1 = fx(Double(i + 1) * series.windowSeconds / unit.scale)
            d += (i == 0 ? "M" : "L") + "\(num(x0)) \(num(fy(w)))L\(num(x1)) \(num(fy(w)))"
        }
        if !d.isEmpty { s += "<path d=\"\(d)\" class=\"series\"/>" }
        if let budget {
            s += "<line x1=\"\(num(left))\" y1=\"\(num(fy(budget)))\" x2=\"\(num(width - right))\" y2=\"\(num(fy(budget)))\" class=\"marker\"/>"
            s += "<text x=\"\(num(width - right - 4))\" y=\"\(num(fy(budget) - 4))\" text-anchor=\"end\" class=\"marker-label\">budget \(HTML.escape(label(budget))) W</text>"
        }
        return s + "</svg>"
    }

    /// A cumulative distribution of seconds given as its 101 percentiles (0 %, 1 %, …, 100 %), with
    /// an optional vertical marker (an SLO).
    public static func cdf(quantiles: [Double], title: String, marker: Marker? = nil) -> String {
        let top = max(quantiles.last ?? 0, marker?.value ?? 0)
        let unit = timeUnit(top)
        var s = open("\(title) distribution")
        let (fx, fy) = axes(
            xMax: top * 1.02 / unit.scale, yMax: 1, xTitle: "\(title) (\(unit.name))", yTitle: "fraction of requests",
            yLabel: { formatDecimal($0 * 100, maxDecimals: 0) + "%" }, into: &s)
        var d = ""
        for (k, q) in quantiles.enumerated() {
            d += (k == 0 ? "M" : "L") + "\(num(fx(q / unit.scale))) \(num(fy(Double(k) / 100)))"
        }
        if !d.isEmpty { s += "<path d=\"\(d)\" class=\"series\"/>" }
        if let m = marker {
            let x = fx(m.value / unit.scale)
            s += "<line x1=\"\(num(x))\" y1=\"\(num(Self.top))\" x2=\"\(num(x))\" y2=\"\(num(height - bottom))\" class=\"marker\"/>"
            // The label sits on the side of the line with more room, so it is never clipped.
            let leftSide = x > left + (width - left - right) / 2
            s += "<text x=\"\(num(leftSide ? x - 4 : x + 4))\" y=\"\(num(Self.top + 12))\" text-anchor=\"\(leftSide ? "end" : "start")\" class=\"marker-label\">\(HTML.escape(m.label))</text>"
        }
        return s + "</svg>"
    }
}
