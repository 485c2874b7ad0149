import TesseraCore
import TesseraSim

/// The one schedule renderer: any run's `Timeline` as a Gantt chart, time left to right.
///
/// Bands (style `band`) run across the top (each layer's span on the critical path, a clock);
/// below them one titled lane per `Timeline` lane, one row of boxes per timeline row. Gaps (a
/// stalled array) are drawn beneath the boxes. Every node carries a pinned position in points
/// (`pos="x,y!"`, `pin=true`) and a fixed size, so the picture is laid out by `nop` (`neato -n`),
/// and the same timeline gives the same bytes.
///
/// Box count is bounded. Spans on a row merge into one box when they have the same category and
/// merge key and the gap between them is under half a point; if more than `maxBoxes` remain,
/// boxes of the same category and coarse key (a layer block) merge across gaps under four points,
/// then boxes of any category across gaps under four points (drawn as `mixed`), then every run of
/// one category on a row. Each step that ran is named in the notes. A band with more than
/// `maxBoxes / 4` spans shows coarse-key blocks instead. Complexity O(n log n) in spans.
public struct ScheduleDOT: Sendable {
    public struct Options: Sendable {
        /// The window to draw, in picoseconds from the start; `nil` is the start or end of the run.
        public var from: Picoseconds?
        public var to: Picoseconds?
        /// The most boxes before merging more coarsely.
        public var maxBoxes: Int
        /// Width of the time axis, in points.
        public var width: Double
        public init(from: Picoseconds? = nil, to: Picoseconds? = nil, maxBoxes: Int = 2000, width: Double = 1600) {
            self.from = from
            self.to = to
            self.maxBoxes = maxBoxes
            self.width = width
        }
    }

    public var timeline: Timeline
    public var options: Options

    public init(_ timeline: Timeline, options: Options = Options()) {
        self.timeline = timeline
        self.options = options
    }

    static let colors: [String: (fill: String, line: String)] = [
        // Accelerators: activities and, on multi-unit runs, passes.
        "compute": ("#7cc47a", "#3d7f3a"), "load": ("#8fb5de", "#34679e"), "writeback": ("#f5b26b", "#b4661b"),
        "memory": ("#c6a0d6", "#7a4a91"), "stall": ("#bdbdbd", "#6e6e6e"), "idle": ("#ececec", "#a8a8a8"), "waiting": ("#d9d9d9", "#8c8c8c"),
        "ff": ("#7cc47a", "#3d7f3a"), "bp": ("#e57f7f", "#a33a3a"), "wg": ("#6fa8dc", "#2f5f8f"), "update": ("#f1c232", "#a07c12"),
        "maskgen": ("#b48ad6", "#6b3f91"), "loss": ("#999999", "#555555"),
        // Training steps.
        "forward": ("#7cc47a", "#3d7f3a"), "backward": ("#e57f7f", "#a33a3a"), "head": ("#999999", "#555555"), "optimizer": ("#f1c232", "#a07c12"),
        "tp": ("#f5b26b", "#b4661b"), "ep": ("#c6a0d6", "#7a4a91"), "cp": ("#e6b8af", "#a14f3d"), "pp": ("#8fb5de", "#34679e"),
        "dp": ("#6fa8dc", "#2f5f8f"), "link": ("#b7b7b7", "#6e6e6e"),
        // Link busy spans, by the share of the link's bandwidth in use (lightest under 20%).
        "link.0": ("#e3e8ef", "#b9c3d1"), "link.1": ("#c3cfdf", "#93a4bb"), "link.2": ("#97abc6", "#6a819f"),
        "link.3": ("#6a86ab", "#4a6488"), "link.4": ("#3f5f8a", "#2b4468"),
        // Serving and collectives.
        "prefill": ("#6fa8dc", "#2f5f8f"), "decode": ("#7cc47a", "#3d7f3a"), "kv": ("#f5b26b", "#b4661b"), "collective": ("#6fa8dc", "#2f5f8f"),
        // Bands and merged boxes.
        "layer": ("#eef2f7", "#dfe6f0"), "block": ("#dfe6f0", "#c9d4e3"),
        "clock0": ("#d9ead3", "#9aa8bb"), "clock1": ("#fce5cd", "#9aa8bb"), "clock2": ("#f4cccc", "#9aa8bb"), "clock3": ("#ea9999", "#9aa8bb"),
        "mixed": ("#c9c26b", "#8a8431"),
    ]
    static let other: (fill: String, line: String) = ("#dddddd", "#888888")

    /// One drawn box: a merged run of spans on one row.
    struct Box {
        var row: Int
        var category: String
        var key: Int
        var coarseKey: Int
        var first: Int
        var last: Int
        var start: Picoseconds
        var end: Picoseconds
        var bytes: UInt64
        var count: Int
        /// Busy picoseconds inside (less than end − start when gaps were merged over).
        var busy: Picoseconds
    }

    public func build() throws(InputError) -> DOTDocument {
        let tl = timeline
        let end = max(tl.end, 1)
        if let a = options.from, let b = options.to, b <= a {
            throw InputError(Diagnostic(at: nil, "the window is empty", expected: "--from below --to", found: "--from \(time(a)) --to \(time(b))"))
        }
        let w0 = options.from ?? 0
        if w0 >= end {
            throw InputError(Diagnostic(at: nil, "--from \(time(w0)) is past the end of the run", expected: "a time below \(time(end))"))
        }
        var notes: [String] = []
        if let to = options.to, to > end { notes.append("--to \(time(to)) is past the end of the run; the window ends at \(time(end))") }
        let w1 = max(min(options.to ?? end, end), w0 + 1)
        let span = Double(w1 - w0)
        let plotWidth = options.width
        let left = 210.0
        let quantum = Picoseconds(span / plotWidth * 0.5)
        let wide = Picoseconds(span / plotWidth * 4)
        func x(_ t: Picoseconds) -> Double { left + Double(min(max(t, w0), w1) - w0) / span * plotWidth }

        // Layout, top to bottom (y grows upwards in Graphviz): bands, then lanes of rows.
        var rowY = Array(repeating: 0.0, count: tl.rows.count)
        var rowH = Array(repeating: 0.0, count: tl.rows.count)
        var laneSpans: [(title: String, top: Double, bottom: Double)] = []
        var y = 0.0
        var k = 0
        while k < tl.rows.count {
            let r = tl.rows[k]
            if r.style == .band {
                rowY[k] = y - 12
                rowH[k] = 24
                y -= 28
                k += 1
                if k < tl.rows.count, tl.rows[k].style != .band { y -= 6 }
                continue
            }
            let top = y
            var j = k
            while j < tl.rows.count, tl.rows[j].style != .band, tl.rows[j].process == r.process, tl.rows[j].lane == r.lane {
                let (h, pitch): (Double, Double) =
                    switch tl.rows[j].style {
                    case .tall: (44, 48)
                    case .thin: (14, 18)
                    default: (18, 22)
                    }
                rowY[j] = y - pitch / 2 - 2
                rowH[j] = h
                y -= pitch
                j += 1
            }
            y -= 4
            laneSpans.append((r.lane, top, y))
            y -= 10
            k = j
        }

        // Spans in the window, per row, in time order.
        var byRow = Array(repeating: [Int](), count: tl.rows.count)
        for (i, s) in tl.spans.enumerated() where s.row >= 0 && s.row < tl.rows.count && s.end >= s.start && s.end > w0 && s.start < w1 {
            byRow[s.row].append(i)
        }
        for r in byRow.indices { byRow[r].sort { (tl.spans[$0].start, tl.spans[$0].end, $0) < (tl.spans[$1].start, tl.spans[$1].end, $1) } }

        // Boxes: runs of one category and key closer than half a point.
        var boxes: [Box] = []
        var spanCount = 0
        for (r, ids) in byRow.enumerated() where tl.rows[r].style != .band {
            var open: Box?
            for i in ids where !tl.spans[i].isGap {
                let sp = tl.spans[i]
                spanCount += 1
                let s = max(sp.start, w0), e = min(sp.end, w1)
                if var b = open, b.category == sp.category, b.key == sp.key, s <= b.end + quantum {
                    b.busy += e - max(s, min(b.end, e))
                    b.end = max(b.end, e)
                    b.bytes += sp.bytes
                    b.count += 1
                    b.last = i
                    open = b
                } else {
                    if let b = open { boxes.append(b) }
                    open = Box(row: r, category: sp.category, key: sp.key, coarseKey: sp.coarseKey, first: i, last: i, start: s, end: e, bytes: sp.bytes, count: 1, busy: e - s)
                }
            }
            if let b = open { boxes.append(b) }
        }
        if boxes.count > options.maxBoxes {
            let before = boxes.count
            boxes = merge(boxes, gap: wide) { $0.category == $1.category && $0.coarseKey == $1.coarseKey }
            var how = "runs of one kind and block with gaps under 4 points"
            if boxes.count > options.maxBoxes {
                boxes = merge(boxes, gap: wide) { _, _ in true }
                how = "gaps under 4 points closed whatever the kind (drawn as 'mixed' where kinds differ)"
            }
            if boxes.count > options.maxBoxes {
                boxes = merge(boxes, gap: .max) { $0.category == $1.category }
                how = "every run of one kind on a row merged"
            }
            notes.append("\(before) boxes merged into \(boxes.count): \(how); narrow the window with --from/--to to see them apart")
        }

        var s = "// \(tl.comment) Positions are pinned, in points:\n"
        s += "// render with `neato -n2 -Tsvg` (or `tessera render schedule`).\n"
        s += "digraph schedule {\n"
        let windowed = options.from != nil || options.to != nil
        let window = windowed ? "\nwindow: \(time(w0)) to \(time(w1))" : ""
        s +=
            "  graph \(DOTText.attributes([("splines", "false"), ("outputorder", "nodesfirst"), ("bgcolor", "white"), ("pad", "0.25"), ("fontname", "Helvetica"), ("fontsize", "18"), ("labelloc", "t"), ("label", DOTText.literal(tl.title) + window + "\n ")]))\n"
        s +=
            "  node \(DOTText.attributes([("shape", "box"), ("style", "filled"), ("fixedsize", "true"), ("pin", "true"), ("fontname", "Helvetica"), ("fontsize", "9"), ("penwidth", "0.6"), ("label", "")]))\n"
        s += "  edge \(DOTText.attributes([("arrowhead", "none"), ("color", "#444444"), ("penwidth", "0.8")]))\n"
        var n = 0
        func node(_ pairs: [(String, String)], x cx: Double, y cy: Double, w: Double, h: Double) {
            s +=
                "  n\(n) \(DOTText.attributes([("pos", "\(DOTText.number(cx)),\(DOTText.number(cy))!"), ("width", DOTText.number(max(w, 0.75) / 72)), ("height", DOTText.number(h / 72))] + pairs))\n"
            n += 1
        }
        func text(_ label: String, x cx: Double, y cy: Double, w: Double, h: Double, size: Double = 10, color: String = "#222222") {
            node([("shape", "plaintext"), ("style", ""), ("label", label), ("fontsize", DOTText.number(size)), ("fontcolor", color)], x: cx, y: cy, w: w, h: h)
        }
        func fits(_ label: String, _ width: Double, size: Double = 9) -> Bool { Double(label.count) * size * 0.55 + 6 <= width }

        // Lane backgrounds and titles, row titles.
        for lane in laneSpans {
            node([("fillcolor", "#fafafa"), ("color", "#dddddd")], x: left + plotWidth / 2, y: (lane.top + lane.bottom) / 2, w: plotWidth, h: lane.top - lane.bottom)
            let title = DOTText.literal(lane.title).replacingOccurrences(of: "\n", with: "\\l") + "\\l"
            text(title, x: 8 + 45, y: (lane.top + lane.bottom) / 2, w: 90, h: 28, size: 11)
        }
        for (r, row) in tl.rows.enumerated() where !row.title.isEmpty || row.style == .band {
            if row.style == .band {
                text(DOTText.literal(row.title.isEmpty ? row.lane : row.title) + "\\l", x: 8 + 45, y: rowY[r], w: 90, h: 16, size: 12)
            } else {
                text(DOTText.literal(row.title) + "\\r", x: left - 6 - 55, y: rowY[r], w: 110, h: 14, size: 8, color: "#666666")
            }
        }

        // Bands: a box per span, alternating tints; blocks instead when there are too many.
        for (r, ids) in byRow.enumerated() where tl.rows[r].style == .band {
            var runs: [(first: Int, last: Int, start: Picoseconds, end: Picoseconds, count: Int)] = []
            for i in ids where tl.spans[i].end > tl.spans[i].start {
                runs.append((i, i, max(tl.spans[i].start, w0), min(tl.spans[i].end, w1), 1))
            }
            var merged = false
            if runs.count > options.maxBoxes / 4 {
                var blocks: [(first: Int, last: Int, start: Picoseconds, end: Picoseconds, count: Int)] = []
                for run in runs {
                    if let l = blocks.last, tl.spans[l.last].coarseKey == tl.spans[run.first].coarseKey {
                        blocks[blocks.count - 1].last = run.last
                        blocks[blocks.count - 1].end = run.end
                        blocks[blocks.count - 1].count += 1
                    } else {
                        blocks.append(run)
                    }
                }
                runs = blocks
                merged = true
            }
            for (k, run) in runs.enumerated() {
                let first = tl.spans[run.first]
                let x0 = x(run.start), x1 = x(run.end)
                let name = merged ? LayerBlocks.block(of: first.name) : first.name
                let tint = Self.colors[first.category] ?? Self.other
                let fill = first.category.hasPrefix("clock") ? tint.fill : (k % 2 == 0 ? tint.fill : tint.line)
                var tip = "\(name): \(duration(run.end - run.start)) from \(at(run.start))"
                if run.count == 1, !first.args.isEmpty { tip += "; " + details(first.args) } else if run.count > 1 { tip += " (\(run.count) spans)" }
                node(
                    [("fillcolor", fill), ("color", "#9aa8bb"), ("label", label(name, width: x1 - x0, fits: fits)), ("tooltip", DOTText.literal(tip))],
                    x: (x0 + x1) / 2, y: rowY[r], w: x1 - x0, h: rowH[r])
            }
        }

        // Gaps beneath the boxes: touching pieces of one kind draw as one.
        var gapCount = 0
        var drawn = Set<String>()
        for (r, ids) in byRow.enumerated() where tl.rows[r].style != .band {
            var gaps: [(first: Int, start: Picoseconds, end: Picoseconds)] = []
            for i in ids where tl.spans[i].isGap {
                let sp = tl.spans[i]
                let a = max(sp.start, w0), b = min(sp.end, w1)
                if let l = gaps.last, tl.spans[l.first].category == sp.category, l.end == a { gaps[gaps.count - 1].end = b } else { gaps.append((i, a, b)) }
            }
            for g in gaps where g.end - g.start > quantum {
                let sp = tl.spans[g.first]
                let x0 = x(g.start), x1 = x(g.end)
                let c = Self.colors[sp.category] ?? Self.other
                var tip = "\(sp.category) \(duration(g.end - g.start)) from \(at(g.start))"
                if !sp.args.isEmpty { tip += "; " + details(sp.args) }
                node(
                    [("fillcolor", c.fill), ("color", c.line), ("label", fits(sp.category, x1 - x0) ? sp.category : ""), ("tooltip", DOTText.literal(tip)), ("fontcolor", "#333333")],
                    x: (x0 + x1) / 2, y: rowY[r], w: x1 - x0, h: rowH[r])
                drawn.insert(sp.category)
                gapCount += 1
            }
        }

        for b in boxes.sorted(by: { ($0.row, $0.start) < ($1.row, $1.start) }) {
            let x0 = x(b.start), x1 = x(b.end)
            let c = Self.colors[b.category] ?? Self.other
            drawn.insert(b.category)
            let first = tl.spans[b.first], last = tl.spans[b.last]
            var tip = b.count == 1 ? first.name : (first.name == last.name ? "\(b.count) × \(first.name)" : "\(first.name) … \(last.name) (\(b.count) spans)")
            tip += ": \(b.category), \(duration(b.end - b.start)) from \(at(b.start))"
            if b.bytes > 0 { tip += ", \(formatBytes(b.bytes))" }
            if b.busy < b.end - b.start, b.end - b.start - b.busy > (tl.clockPeriod ?? 1) { tip += ", \(duration(b.end - b.start - b.busy)) of gaps inside" }
            if b.count == 1, !first.args.isEmpty { tip += "; " + details(first.args) }
            let lab = tl.rows[b.row].style == .tall ? label(first.name, width: x1 - x0, fits: fits) : ""
            // A merged box is as dark as it was busy: one busy 6% of its length is drawn pale, not solid.
            let busy = b.end > b.start ? Double(b.busy) / Double(b.end - b.start) : 1
            let fill = busy < 0.9 ? Self.lighten(c.fill, keeping: 0.2 + 0.8 * busy) : c.fill
            if busy < 0.9 { tip += " (busy \(formatDecimal(busy * 100, maxDecimals: 1))% of it)" }
            node([("fillcolor", fill), ("color", c.line), ("label", lab), ("tooltip", DOTText.literal(tip))], x: (x0 + x1) / 2, y: rowY[b.row], w: x1 - x0, h: rowH[b.row])
        }

        // Time axis: round ticks, in cycles with the time under them where there is one clock.
        let axisY = y - 6
        s += "  axis0 [shape=point, width=0.01, pos=\"\(DOTText.number(left)),\(DOTText.number(axisY))!\", style=invis]\n"
        s += "  axis1 [shape=point, width=0.01, pos=\"\(DOTText.number(left + plotWidth)),\(DOTText.number(axisY))!\", style=invis]\n"
        s += "  axis0 -> axis1\n"
        var ticks: [(at: Picoseconds, label: String)] = []
        if let period = tl.clockPeriod {
            let c0 = w0 / period, c1 = w1 / period
            let step = Self.tickStep(Double(c1 - c0) / 8)
            var tick = (c0 + step - 1) / step * step
            while tick <= c1 {
                ticks.append((tick * period, "\(DOTText.grouped(tick))\n\(DOTText.seconds(Double(tick * period) / 1e12))"))
                tick += step
            }
            text("cycles\\rtime\\r", x: left / 2 - 6, y: axisY - 20, w: left - 20, h: 24, size: 9, color: "#666666")
        } else {
            let step = Self.tickStep(span / 8)
            var tick = (w0 + step - 1) / step * step
            while tick <= w1 {
                ticks.append((tick, DOTText.seconds(Double(tick) / 1e12)))
                tick += step
            }
        }
        for (t, tick) in ticks.enumerated() {
            let tx = x(tick.at)
            s += "  tick\(t) [shape=point, width=0.01, pos=\"\(DOTText.number(tx)),\(DOTText.number(axisY - 5))!\", style=invis]\n"
            s += "  tick\(t)b [shape=point, width=0.01, pos=\"\(DOTText.number(tx)),\(DOTText.number(axisY + 2))!\", style=invis]\n"
            s += "  tick\(t) -> tick\(t)b\n"
            text(tick.label, x: tx, y: axisY - 20, w: 90, h: 24, size: 9)
        }

        // Legend: what was drawn, in the provider's order.
        let legendY = axisY - 52
        var lx = left
        let legend = tl.legend + (drawn.contains("mixed") ? [("mixed", "several kinds, merged")] : [])
        for item in legend where drawn.contains(item.category) {
            let c = Self.colors[item.category] ?? Self.other
            node([("fillcolor", c.fill), ("color", c.line), ("style", "filled")], x: lx + 9, y: legendY, w: 18, h: 12)
            let w = Double(item.label.count) * 5.6 + 10
            text(DOTText.literal(item.label) + "\\l", x: lx + 24 + w / 2, y: legendY, w: w, h: 14, size: 10)
            lx += 24 + w + 18
        }
        s += "}\n"
        notes.insert("\(spanCount) spans drawn as \(boxes.count) boxes and \(gapCount) gaps", at: 0)
        return DOTDocument(text: s, engine: "nop", notes: notes + tl.notes)
    }

    /// Merges each row's neighbouring boxes that `same` accepts and that lie less than `gap` apart.
    private func merge(_ boxes: [Box], gap: Picoseconds, same: (Box, Box) -> Bool) -> [Box] {
        var out: [Box] = []
        for b in boxes.sorted(by: { ($0.row, $0.start) < ($1.row, $1.start) }) {
            if var l = out.last, l.row == b.row, same(l, b), b.start <= Saturating.add(l.end, gap) {
                if l.category != b.category { l.category = "mixed" }
                l.end = max(l.end, b.end)
                l.last = b.last
                l.bytes += b.bytes
                l.count += b.count
                l.busy += b.busy
                out[out.count - 1] = l
            } else {
                out.append(b)
            }
        }
        return out
    }

    /// A length of time: cycles (and seconds) on clocked hardware, seconds otherwise.
    private func duration(_ ps: Picoseconds) -> String {
        if let p = timeline.clockPeriod { return "\(DOTText.grouped(ceilDiv(ps, p))) cycles" }
        return DOTText.seconds(Double(ps) / 1e12)
    }

    /// A point in time: a cycle on clocked hardware, seconds otherwise.
    private func at(_ ps: Picoseconds) -> String {
        if let p = timeline.clockPeriod { return "cycle \(DOTText.grouped(ps / p))" }
        return DOTText.seconds(Double(ps) / 1e12)
    }

    /// A bound of the window as the user would write it.
    private func time(_ ps: Picoseconds) -> String {
        if let p = timeline.clockPeriod { return "\(ps / p)cycles" }
        return DOTText.seconds(Double(ps) / 1e12)
    }

    private func details(_ args: [(String, Timeline.Value)]) -> String {
        args.map { k, v in
            let value: String =
                switch v {
                case .string(let s): s
                case .int(let i): DOTText.grouped(UInt64(clamping: max(0, i)))
                case .uint(let u): DOTText.grouped(u)
                case .double(let d): formatDecimal(d, maxDecimals: 3)
                }
            return "\(k.replacingOccurrences(of: "_", with: " ")) \(value)"
        }.joined(separator: ", ")
    }

    /// The label of a span: its name, a shorter form, or nothing, whichever fits.
    private func label(_ name: String, width: Double, fits: (String, Double, Double) -> Bool) -> String {
        var candidates = [name]
        if name.hasPrefix("layer") { candidates.append(String(name.dropFirst(5))) }
        let parts = name.split(separator: ".")
        if parts.count > 2 { candidates.append(parts.suffix(2).joined(separator: ".")) }
        if let last = parts.last, String(last) != name { candidates.append(String(last)) }
        return candidates.first { fits($0, width, 9) }.map(DOTText.literal) ?? ""
    }

    /// `hex` (`#rrggbb`) mixed with white, keeping `fraction` of the colour.
    static func lighten(_ hex: String, keeping fraction: Double) -> String {
        guard hex.count == 7, hex.hasPrefix("#"), let v = UInt32(hex.dropFirst(), radix: 16) else { return hex }
        let f = min(max(fraction, 0), 1)
        let parts = [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff].map { c -> UInt32 in UInt32((Double(c) * f + 255 * (1 - f)).rounded()) }
        let hexDigits = Array("0123456789abcdef")
        return "#" + String(parts.flatMap { [hexDigits[Int($0 >> 4)], hexDigits[Int($0 & 0xf)]] })
    }

    /// A round tick step (1, 2 or 5 × 10ᵏ) at least `rough`.
    static func tickStep(_ rough: Double) -> UInt64 {
        guard rough > 1 else { return 1 }
        var p: UInt64 = 1
        while Double(p) * 10 <= rough, p < UInt64.max / 100 { p *= 10 }
        for m: UInt64 in [1, 2, 5, 10] where Double(p * m) >= rough { return p * m }
        return p * 10
    }
}
