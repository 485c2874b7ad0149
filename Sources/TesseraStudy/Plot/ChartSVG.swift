import Foundation
import TesseraCore
import TesseraOutput

extension Chart {
    /// The chart as a standalone SVG document.
    ///
    /// Structure (what the tests and other tools can rely on): `<g class="axis x">` and
    /// `<g class="axis y">`, each with a `line class="domain"`, one `<g class="tick">` per tick and a
    /// `text class="label"`; one `<g class="series">` per series holding `circle class="point"`
    /// (line and scatter; `circle class="point-ring"` where an earlier series already has a point,
    /// and a dashed line for a series that coincides with an earlier one) or `rect class="bar"`
    /// elements, each with a `<title>` tooltip;
    /// `<g class="pareto">` with a `path class="front"` step line; `<g class="legend">` with one
    /// `<g class="entry">` per series (and one for the front). Coordinates have two decimals, so the
    /// same chart gives the same bytes.
    public func svg(width: Double = 760, height: Double = 480) -> String {
        let hasLegend = legendTitle != nil || !front.isEmpty || series.count > 1
        let legendWidth = hasLegend ? legendWidthNeeded() : 24
        let top = subtitle == nil ? 48.0 : 64.0
        let left = 88.0
        let rotate = x.categories.map { cats in cats.count > 6 && cats.contains { $0.count > 6 } } ?? false
        let bottom = height - (rotate ? 92 : 60)
        let right = width - legendWidth
        let plot = Frame(left: left, top: top, right: right, bottom: bottom)

        var s = """
            <?xml version="1.0" encoding="UTF-8" standalone="no"?>
            <svg xmlns="http://www.w3.org/2000/svg" width="\(n(width))pt" height="\(n(height))pt" viewBox="0 0 \(n(width)) \(n(height))" font-family="Helvetica, Arial, sans-serif" font-size="12">
            <title>\(esc(title))</title>
            <rect class="background" x="0" y="0" width="\(n(width))" height="\(n(height))" fill="#ffffff"/>
            <text class="title" x="\(n(width / 2))" y="26" text-anchor="middle" font-size="16" font-weight="bold">\(esc(title))</text>

            """
        if let subtitle {
            s += "<text class=\"subtitle\" x=\"\(n(width / 2))\" y=\"44\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555555\">\(esc(subtitle))</text>\n"
        }
        // Grid and axes.
        s += "<g class=\"grid\" stroke=\"#e6e6e6\" stroke-width=\"1\">\n"
        for t in y.ticks { s += "<line x1=\"\(n(plot.left))\" y1=\"\(n(py(t.value, plot)))\" x2=\"\(n(plot.right))\" y2=\"\(n(py(t.value, plot)))\"/>\n" }
        if x.categories == nil {
            for t in x.ticks { s += "<line x1=\"\(n(px(t.value, plot)))\" y1=\"\(n(plot.top))\" x2=\"\(n(px(t.value, plot)))\" y2=\"\(n(plot.bottom))\"/>\n" }
        }
        s += "</g>\n"
        s +=
            "<g class=\"axis x\" font-size=\"11\">\n<line class=\"domain\" x1=\"\(n(plot.left))\" y1=\"\(n(plot.bottom))\" x2=\"\(n(plot.right))\" y2=\"\(n(plot.bottom))\" stroke=\"#333333\"/>\n"
        for t in x.ticks {
            let xx = px(t.value, plot)
            let anchor = rotate ? "end" : "middle"
            let transform = rotate ? " transform=\"rotate(-35 \(n(xx)) \(n(plot.bottom + 16)))\"" : ""
            s += "<g class=\"tick\"><line x1=\"\(n(xx))\" y1=\"\(n(plot.bottom))\" x2=\"\(n(xx))\" y2=\"\(n(plot.bottom + 5))\" stroke=\"#333333\"/>"
            s += "<text x=\"\(n(xx))\" y=\"\(n(plot.bottom + 18))\" text-anchor=\"\(anchor)\"\(transform)>\(esc(t.label))</text></g>\n"
        }
        s +=
            "<text class=\"label\" x=\"\(n((plot.left + plot.right) / 2))\" y=\"\(n(height - 14))\" text-anchor=\"middle\" font-size=\"12\">\(esc(x.label))</text>\n</g>\n"
        s +=
            "<g class=\"axis y\" font-size=\"11\">\n<line class=\"domain\" x1=\"\(n(plot.left))\" y1=\"\(n(plot.top))\" x2=\"\(n(plot.left))\" y2=\"\(n(plot.bottom))\" stroke=\"#333333\"/>\n"
        for t in y.ticks {
            let yy = py(t.value, plot)
            s += "<g class=\"tick\"><line x1=\"\(n(plot.left - 5))\" y1=\"\(n(yy))\" x2=\"\(n(plot.left))\" y2=\"\(n(yy))\" stroke=\"#333333\"/>"
            s += "<text x=\"\(n(plot.left - 8))\" y=\"\(n(yy + 4))\" text-anchor=\"end\">\(esc(t.label))</text></g>\n"
        }
        let ly = (plot.top + plot.bottom) / 2
        s +=
            "<text class=\"label\" x=\"18\" y=\"\(n(ly))\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 18 \(n(ly)))\">\(esc(y.label))</text>\n</g>\n"

        // Data.
        s += "<g class=\"data\">\n"
        let barGroup = x.categories.map { plot.width / Double(max(1, $0.count)) * 0.8 } ?? 0
        // A series whose points all coincide with an earlier one's is drawn dashed and named so in
        // the legend; any point drawn where another series already has one is drawn as a ring
        // around it, so every series stays visible.
        let same = coincidences()
        var drawnAt: Set<String> = []
        for (i, serie) in series.enumerated() {
            s += "<g class=\"series\" data-series=\"\(esc(serie.name))\" fill=\"\(serie.color)\" stroke=\"\(serie.color)\">\n"
            switch kind {
            case .bar:
                let w = barGroup / Double(max(1, series.count))
                for p in serie.points {
                    let cx = px(p.x, plot) - barGroup / 2 + w * Double(i)
                    let y0 = py(max(y.lower, 0), plot)
                    let y1 = py(p.y, plot)
                    s +=
                        "<rect class=\"bar\" x=\"\(n(cx))\" y=\"\(n(min(y0, y1)))\" width=\"\(n(max(1, w - 1)))\" height=\"\(n(abs(y0 - y1)))\" stroke=\"none\"><title>\(esc(p.tooltip))</title></rect>\n"
                }
            case .line, .scatter:
                if kind == .line, serie.points.count > 1 {
                    let pts = serie.points.map { "\(n(px($0.x, plot))),\(n(py($0.y, plot)))" }.joined(separator: " ")
                    let dash = same[i] != nil ? " stroke-dasharray=\"6 4\"" : ""
                    s += "<polyline class=\"line\" points=\"\(pts)\" fill=\"none\" stroke-width=\"2\"\(dash)/>\n"
                }
                let r = kind == .line ? 3.5 : 4.5
                var mine: Set<String> = []
                for p in serie.points {
                    let (cx, cy) = (n(px(p.x, plot)), n(py(p.y, plot)))
                    let key = cx + "," + cy
                    if drawnAt.contains(key) {
                        s +=
                            "<circle class=\"point-ring\" cx=\"\(cx)\" cy=\"\(cy)\" r=\"\(n(r + 2.5))\" fill=\"none\" stroke-width=\"1.6\"><title>\(esc(p.tooltip))</title></circle>\n"
                    } else {
                        s +=
                            "<circle class=\"point\" cx=\"\(cx)\" cy=\"\(cy)\" r=\"\(n(r))\" fill-opacity=\"0.85\" stroke=\"#ffffff\" stroke-width=\"0.8\"><title>\(esc(p.tooltip))</title></circle>\n"
                    }
                    mine.insert(key)
                }
                drawnAt.formUnion(mine)
            }
            s += "</g>\n"
        }
        s += "</g>\n"
        if !front.isEmpty {
            var d = ""
            for (i, p) in front.enumerated() {
                let (xx, yy) = (px(p.x, plot), py(p.y, plot))
                if i == 0 {
                    d = "M\(n(xx)),\(n(yy))"
                } else if frontMaximizes.x {
                    d += " V\(n(yy)) H\(n(xx))"
                } else {
                    d += " H\(n(xx)) V\(n(yy))"
                }
            }
            s += "<g class=\"pareto\">\n<path class=\"front\" d=\"\(d)\" fill=\"none\" stroke=\"#222222\" stroke-width=\"2.5\" stroke-linejoin=\"round\"/>\n"
            for p in front {
                s +=
                    "<circle class=\"front-point\" cx=\"\(n(px(p.x, plot)))\" cy=\"\(n(py(p.y, plot)))\" r=\"7\" fill=\"none\" stroke=\"#222222\" stroke-width=\"1.8\"><title>Pareto front: \(esc(p.tooltip))</title></circle>\n"
            }
            s += "</g>\n"
        }

        // Legend.
        if hasLegend {
            var yy = plot.top + 4
            let lx = plot.right + 18
            s += "<g class=\"legend\" font-size=\"11\">\n"
            if let legendTitle {
                s += "<text class=\"legend-title\" x=\"\(n(lx))\" y=\"\(n(yy + 4))\" font-weight=\"bold\">\(esc(legendTitle))</text>\n"
                yy += 20
            }
            for (i, serie) in series.enumerated() {
                s += "<g class=\"entry\">"
                if kind == .bar {
                    s += "<rect x=\"\(n(lx))\" y=\"\(n(yy - 5))\" width=\"12\" height=\"10\" fill=\"\(serie.color)\"/>"
                } else {
                    if kind == .line {
                        s += "<line x1=\"\(n(lx - 2))\" y1=\"\(n(yy))\" x2=\"\(n(lx + 14))\" y2=\"\(n(yy))\" stroke=\"\(serie.color)\" stroke-width=\"2\"/>"
                    }
                    s += "<circle cx=\"\(n(lx + 6))\" cy=\"\(n(yy))\" r=\"4\" fill=\"\(serie.color)\"/>"
                }
                let note = same[i].map { " (= \(series[$0].name))" } ?? ""
                s += "<text x=\"\(n(lx + 22))\" y=\"\(n(yy + 4))\">\(esc(serie.name + note))</text></g>\n"
                yy += 18
            }
            if !front.isEmpty {
                s +=
                    "<g class=\"entry\"><line x1=\"\(n(lx - 2))\" y1=\"\(n(yy))\" x2=\"\(n(lx + 14))\" y2=\"\(n(yy))\" stroke=\"#222222\" stroke-width=\"2.5\"/>"
                s += "<circle cx=\"\(n(lx + 6))\" cy=\"\(n(yy))\" r=\"5\" fill=\"none\" stroke=\"#222222\" stroke-width=\"1.5\"/>"
                s += "<text x=\"\(n(lx + 22))\" y=\"\(n(yy + 4))\">Pareto front</text></g>\n"
            }
            s += "</g>\n"
        }
        s += "</svg>\n"
        return s
    }

    private struct Frame {
        var left, top, right, bottom: Double
        var width: Double { right - left }
        var height: Double { bottom - top }
    }

    /// For each series, the first earlier series with exactly the same points, if any.
    func coincidences() -> [Int?] {
        let keys = series.map { s in s.points.map { "\($0.x),\($0.y)" }.sorted() }
        return keys.indices.map { i in keys.isEmpty || keys[i].isEmpty ? nil : keys[..<i].firstIndex(of: keys[i]) }
    }

    private func legendWidthNeeded() -> Double {
        let same = coincidences()
        let names = series.indices.map { series[$0].name + (same[$0].map { " (= \(series[$0].name))" } ?? "") }
        let longest = (names + [legendTitle ?? "", front.isEmpty ? "" : "Pareto front"]).map(\.count).max() ?? 0
        return min(260, max(120, 48 + Double(longest) * 6.6))
    }

    private func position(_ v: Double, _ axis: Axis) -> Double {
        switch axis.scale {
        case .linear: return (v - axis.lower) / (axis.upper - axis.lower)
        case .log: return (log10(v) - log10(axis.lower)) / (log10(axis.upper) - log10(axis.lower))
        }
    }

    private func px(_ v: Double, _ f: Frame) -> Double { f.left + position(v, x) * f.width }
    private func py(_ v: Double, _ f: Frame) -> Double { f.bottom - position(v, y) * f.height }

    /// A coordinate with two decimals and no trailing zeros.
    private func n(_ v: Double) -> String { formatDecimal(v.isFinite ? v : 0, maxDecimals: 2) }

    /// XML text escaping: the same four entities as a Graphviz HTML-like label.
    private func esc(_ s: String) -> String { DOTText.escape(s) }
}
