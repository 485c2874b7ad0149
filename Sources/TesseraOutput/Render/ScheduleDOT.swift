import TesseraCore
import TesseraGraph
import TesseraPlan
import TesseraSim

/// The simulated schedule as a Gantt chart: one lane per resource (the compute array, the DRAM
/// channel; buffers have no intervals), time left to right, one box per interval.
///
/// Every node carries a pinned position in points (`pos="x,y!"`, `pin=true`) and a fixed size, so
/// the picture is laid out by `nop` (`neato -n`), not by a graph layout. A box's width is its
/// duration. Above the lanes a band shows each layer's span on the critical path; on the array
/// lane the gaps between compute intervals are drawn as grey `stall` boxes (waiting for DRAM) or
/// light `idle` boxes (a memory-only layer was running). The DRAM lane has one row per activity
/// (operand loads, write-backs, memory-only layers).
///
/// Box count is bounded: intervals of the same layer and activity on a row merge when the gap
/// between them is under half a point; if more than `maxBoxes` remain, each layer's intervals on a
/// row merge into one box, then each layer block's (`layer1.2`). Complexity O(n log n) in intervals.
public struct ScheduleDOT: Sendable {
    public struct Options: Sendable {
        /// The window to draw, in cycles of the hardware clock; `nil` is the start or end of the run.
        public var from: UInt64?
        public var to: UInt64?
        /// The most interval boxes before merging by layer.
        public var maxBoxes: Int
        /// Width of the time axis, in points.
        public var width: Double
        public init(from: UInt64? = nil, to: UInt64? = nil, maxBoxes: Int = 2000, width: Double = 1600) {
            self.from = from
            self.to = to
            self.maxBoxes = maxBoxes
            self.width = width
        }
    }

    public var plan: Plan
    public var result: SimResult
    public var options: Options

    public init(plan: Plan, result: SimResult, options: Options = Options()) {
        self.plan = plan
        self.result = result
        self.options = options
    }

    static let colors: [String: (fill: String, line: String)] = [
        "compute": ("#7cc47a", "#3d7f3a"), "load": ("#8fb5de", "#34679e"), "writeback": ("#f5b26b", "#b4661b"),
        "memory": ("#c6a0d6", "#7a4a91"), "stall": ("#bdbdbd", "#6e6e6e"), "idle": ("#ececec", "#a8a8a8"),
        "waiting": ("#d9d9d9", "#8c8c8c"),
        // Multi-unit runs colour compute by pass.
        "ff": ("#7cc47a", "#3d7f3a"), "bp": ("#e57f7f", "#a33a3a"), "wg": ("#6fa8dc", "#2f5f8f"), "update": ("#f1c232", "#a07c12"),
        "maskgen": ("#b48ad6", "#6b3f91"), "loss": ("#999999", "#555555"),
    ]

    /// One drawn box: a merged run of intervals on one row of one lane.
    struct Box {
        var row: Int
        var activity: String
        var op: Int
        var lastOp: Int
        var start: Picoseconds
        var end: Picoseconds
        var bytes: UInt64
        var intervals: Int
        /// Busy picoseconds inside (less than end − start when sub-point gaps were merged over).
        var busy: Picoseconds
    }

    struct Row {
        var lane: String
        var title: String
        var y: Double
        var height: Double
    }

    public func build() throws(InputError) -> DOTDocument {
        let period = plan.hardware.clock.periodPicoseconds
        let totalCycles = result.totalCycles
        let fromCycles = options.from ?? 0
        let toCycles = min(options.to ?? totalCycles, max(totalCycles, 1))
        if let to = options.to, let from = options.from, to <= from {
            throw InputError(Diagnostic(at: nil, "the window is empty", expected: "--from below --to", found: "--from \(from) --to \(to)"))
        }
        if fromCycles >= max(totalCycles, 1) {
            throw InputError(Diagnostic(at: nil, "--from \(fromCycles) is past the end of the run", expected: "a cycle below \(totalCycles)"))
        }
        var notes: [String] = []
        if let to = options.to, to > totalCycles { notes.append("--to \(to) is past the end of the run; the window ends at cycle \(totalCycles)") }
        let w0 = fromCycles * period
        let w1 = max(toCycles * period, w0 + 1)
        let span = Double(w1 - w0)
        let plotWidth = options.width
        let left = 150.0
        let quantum = Picoseconds(span / plotWidth * 0.5)
        func x(_ t: Picoseconds) -> Double { left + Double(min(max(t, w0), w1) - w0) / span * plotWidth }

        // Rows, top to bottom (y grows upwards in Graphviz).
        let lanes = TimelineLanes(plan: plan, result: result)
        var rows: [Row] = []
        var y = 0.0
        let bandHeight = 24.0
        // A band of layer blocks (layer1.2, …) over the band of layers, when blocks group layers.
        let multiUnit = plan.schedule != nil
        let blockIndex = LayerBlocks.indices(plan.ops.map(\.name))
        // Operations of a multi-unit run overlap, so it has no band of layer spans: compute boxes
        // are coloured by pass instead.
        let hasBlocks = !multiUnit && Set(blockIndex).count < plan.ops.count
        let blockBandY = y
        if hasBlocks { y -= bandHeight + 4 }
        let bandY = y
        if !multiUnit { y -= bandHeight + 10 }
        // An edge SoC's clock over the run: one segment per operating point in force.
        let power = plan.schedule?.power
        let clockBandY = y
        if power != nil { y -= bandHeight + 10 }
        var rowOf: [String: [String: Int]] = [:]
        var laneSpans: [(lane: TimelineLanes.Lane, top: Double, bottom: Double)] = []
        for lane in lanes.lanes {
            let top = y
            if lane.isArray {
                rowOf[lane.resource] = ["compute": rows.count]
                rows.append(Row(lane: lane.resource, title: "", y: y - 24, height: 44))
                y -= 48
            } else if lane.isCompute {
                rowOf[lane.resource] = ["compute": rows.count]
                rows.append(Row(lane: lane.resource, title: "", y: y - 15, height: 26))
                y -= 30
            } else {
                let present = Set(lane.intervals.map(\.activity.rawValue))
                var map: [String: Int] = [:]
                for (activity, title) in [("load", "load"), ("writeback", "write-back"), ("memory", "pool / eltwise")] where present.contains(activity) {
                    map[activity] = rows.count
                    rows.append(Row(lane: lane.resource, title: title, y: y - 13, height: 22))
                    y -= 26
                }
                if map.isEmpty {
                    rows.append(Row(lane: lane.resource, title: "", y: y - 13, height: 22))
                    y -= 26
                }
                rowOf[lane.resource] = map
            }
            laneSpans.append((lane, top, y))
            y -= 12
        }

        // Boxes: merge runs of the same layer and activity on a row.
        var boxes: [Box] = []
        var intervalCount = 0
        for lane in lanes.lanes {
            var open: [Int: Box] = [:]
            for i in lane.intervals where i.end > w0 && i.start < w1 {
                guard let row = rowOf[lane.resource]?[i.activity.rawValue] else { continue }
                intervalCount += 1
                let s = max(i.start, w0)
                let e = min(i.end, w1)
                if var b = open[row], b.op == i.op, b.activity == i.activity.rawValue, s <= b.end + quantum {
                    b.busy += e - max(s, min(b.end, e))
                    b.end = max(b.end, e)
                    b.bytes += i.bytes
                    b.intervals += 1
                    open[row] = b
                } else {
                    if let b = open[row] { boxes.append(b) }
                    open[row] = Box(
                        row: row, activity: i.activity.rawValue, op: i.op, lastOp: i.op, start: s, end: e, bytes: i.bytes, intervals: 1, busy: e - s)
                }
            }
            boxes += open.keys.sorted().compactMap { open[$0] }
        }
        if boxes.count > options.maxBoxes {
            let before = boxes.count
            boxes = merge(boxes) { $0.op }
            if boxes.count > options.maxBoxes {
                let blocks = LayerBlocks.indices(plan.ops.map(\.name))
                boxes = merge(boxes) { blocks[$0.op] }
                notes.append("\(before) boxes merged into \(boxes.count), one per layer block and activity")
            } else {
                notes.append("\(before) boxes merged into \(boxes.count), one per layer and activity")
            }
        }
        boxes.sort { ($0.row, $0.start) < ($1.row, $1.start) }

        var s = "// The schedule of \(plan.workload) on \(plan.hardware.spec.name). Positions are pinned, in points:\n"
        s += "// render with `neato -n2 -Tsvg` (or `tessera render schedule`).\n"
        s += "digraph schedule {\n"
        let title =
            "\(plan.workload) on \(plan.hardware.spec.name): \(DOTText.grouped(totalCycles)) cycles (\(DOTText.grouped(result.ops.reduce(0) { $0 + $1.stallCycles })) stalled), \(DOTText.seconds(Double(result.totalPicoseconds) / 1e12)) at \(DOTText.frequency(plan.hardware.clock.hertz))"
        let window = options.from != nil || options.to != nil ? "\nwindow: cycles \(DOTText.grouped(fromCycles)) to \(DOTText.grouped(toCycles))" : ""
        s +=
            "  graph \(DOTText.attributes([("splines", "false"), ("outputorder", "nodesfirst"), ("bgcolor", "white"), ("pad", "0.25"), ("fontname", "Helvetica"), ("fontsize", "18"), ("labelloc", "t"), ("label", DOTText.literal(title) + window + "\n ")]))\n"
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

        // Lane backgrounds and titles.
        for (lane, top, bottom) in laneSpans {
            let h = top - bottom
            node([("fillcolor", "#fafafa"), ("color", "#dddddd")], x: left + plotWidth / 2, y: (top + bottom) / 2, w: plotWidth, h: h)
            text(DOTText.literal(lane.resource) + "\\l", x: 8 + 35, y: (top + bottom) / 2, w: 70, h: 16, size: 12)
        }
        for r in rows where !r.title.isEmpty {
            text(r.title + "\\r", x: left - 6 - 35, y: r.y, w: 70, h: 14, size: 9, color: "#666666")
        }

        // Bands: each layer's span on the critical path, and each block's above it.
        typealias Span = (name: String, first: Int, last: Int, start: Picoseconds, end: Picoseconds)
        var spans: [Span] = []
        for (i, o) in result.ops.enumerated() where o.end > w0 && o.start < w1 && o.end > o.start {
            spans.append((plan.ops[i].name, i, i, max(o.start, w0), min(o.end, w1)))
        }
        var blockSpans: [Span] = []
        for sp in spans {
            if let l = blockSpans.last, blockIndex[l.last] == blockIndex[sp.first] {
                blockSpans[blockSpans.count - 1].end = sp.end
                blockSpans[blockSpans.count - 1].last = sp.last
            } else {
                blockSpans.append((LayerBlocks.block(of: sp.name), sp.first, sp.last, sp.start, sp.end))
            }
        }
        if spans.count > options.maxBoxes / 4 { spans = blockSpans }
        if multiUnit { spans = [] }
        func band(_ title: String, _ spans: [Span], y top: Double, colors: (String, String)) {
            text(title + "\\l", x: 8 + 35, y: top - bandHeight / 2, w: 70, h: 16, size: 12)
            for (k, sp) in spans.enumerated() {
                let x0 = x(sp.start)
                let x1 = x(sp.end)
                let stats = (sp.first...sp.last).map { result.ops[$0] }
                let cycles = stats.reduce(0) { $0 + $1.totalCycles }
                let stall = stats.reduce(0) { $0 + $1.stallCycles }
                let macs = (sp.first...sp.last).reduce(UInt64(0)) { $0 + plan.ops[$1].macs }
                let label = bandLabel(sp.name, width: x1 - x0, fits: fits)
                let what = sp.first == sp.last ? plan.ops[sp.first].opName : "\(sp.last - sp.first + 1) layers"
                let tip = "\(sp.name) (\(what)): \(DOTText.grouped(cycles)) cycles, \(DOTText.grouped(stall)) stalled, \(DOTText.si(macs)) MACs"
                node(
                    [("fillcolor", k % 2 == 0 ? colors.0 : colors.1), ("color", "#9aa8bb"), ("label", label), ("tooltip", tip)], x: (x0 + x1) / 2,
                    y: top - bandHeight / 2, w: x1 - x0, h: bandHeight)
            }
        }
        if hasBlocks { band("blocks", blockSpans, y: blockBandY, colors: ("#dfe6f0", "#c9d4e3")) }
        if !multiUnit { band("layers", spans, y: bandY, colors: ("#eef2f7", "#dfe6f0")) }
        if let power {
            text("clock\\l", x: 8 + 35, y: clockBandY - bandHeight / 2, w: 70, h: 16, size: 12)
            let changes = result.operatingPoints
            for (k, c) in changes.enumerated() {
                let s0 = max(c.start, w0), s1 = min(k + 1 < changes.count ? changes[k + 1].start : w1, w1)
                guard s1 > s0 else { continue }
                let x0 = x(s0), x1 = x(s1)
                let mhz = power.points[c.point].hertz / 1e6
                let shade = ["#d9ead3", "#fce5cd", "#f4cccc", "#ea9999"][min(c.point, 3)]
                let label = "\(DOTText.number(mhz)) MHz"
                let tip = "operating point \(c.point): \(DOTText.number(mhz)) MHz, dynamic energy ×\(DOTText.number(c.scale)) from cycle \(DOTText.grouped(c.start / period))"
                node(
                    [("fillcolor", shade), ("color", "#9aa8bb"), ("label", fits(label, x1 - x0) ? label : ""), ("tooltip", tip)], x: (x0 + x1) / 2,
                    y: clockBandY - bandHeight / 2, w: x1 - x0, h: bandHeight)
            }
            if changes.count > 1 { notes.append("the governor changed the operating point \(changes.count - 1) time\(changes.count == 2 ? "" : "s")") }
        }

        // Stall and idle gaps on array lanes (drawn first: compute boxes sit on top).
        var gapCount = 0
        for lane in lanes.lanes where lane.isArray {
            guard let row = rowOf[lane.resource]?["compute"] else { continue }
            // Touching pieces of the same kind (stall in one layer running into the next) draw as one.
            var merged: [TimelineLanes.Gap] = []
            for g in lanes.gaps(lane, from: w0, to: w1) {
                if let l = merged.last, l.kind == g.kind, l.end == g.start { merged[merged.count - 1].end = g.end } else { merged.append(g) }
            }
            for g in merged where g.end - g.start > quantum {
                let x0 = x(g.start)
                let x1 = x(g.end)
                let c = Self.colors[g.kind.rawValue]!
                let cycles = ceilDiv(g.end - g.start, period)
                let label = fits(g.kind.rawValue, x1 - x0) ? g.kind.rawValue : ""
                let why =
                    switch g.kind {
                    case .stall: "waiting for DRAM"
                    case .idle: "memory-only layer running"
                    case .waiting: "no tile ready: inputs, a mask or operands not in yet"
                    }
                let tip = "\(g.kind.rawValue) \(DOTText.grouped(cycles)) cycles in \(plan.ops[g.op].name) (\(why))"
                node(
                    [("fillcolor", c.fill), ("color", c.line), ("style", "filled"), ("label", label), ("tooltip", tip), ("fontcolor", "#333333")],
                    x: (x0 + x1) / 2, y: rows[row].y, w: x1 - x0, h: rows[row].height)
                gapCount += 1
            }
        }

        for b in boxes {
            let x0 = x(b.start)
            let x1 = x(b.end)
            let key = multiUnit && b.activity == "compute" ? plan.ops[b.op].pass.rawValue : b.activity
            let c = Self.colors[key] ?? ("#dddddd", "#888888")
            let name = b.op == b.lastOp ? plan.ops[b.op].name : "\(plan.ops[b.op].name) … \(plan.ops[b.lastOp].name)"
            let cycles = ceilDiv(b.end - b.start, period)
            var tip = "\(name): \(b.activity), \(DOTText.grouped(cycles)) cycles from \(DOTText.grouped(b.start / period))"
            if b.bytes > 0 { tip += ", \(formatBytes(b.bytes))" }
            if b.intervals > 1 { tip += ", \(b.intervals) intervals" }
            if b.busy + period < b.end - b.start { tip += ", \(DOTText.grouped(ceilDiv(b.end - b.start - b.busy, period))) cycles of gaps inside" }
            let label = rows[b.row].height >= 40 ? bandLabel(plan.ops[b.op].name, width: x1 - x0, fits: fits) : ""
            node(
                [("fillcolor", c.fill), ("color", c.line), ("label", label), ("tooltip", tip)], x: (x0 + x1) / 2, y: rows[b.row].y, w: x1 - x0,
                h: rows[b.row].height)
        }

        // Time axis: ticks in cycles with seconds under them.
        let axisY = y - 6
        s += "  axis0 [shape=point, width=0.01, pos=\"\(DOTText.number(left)),\(DOTText.number(axisY))!\", style=invis]\n"
        s += "  axis1 [shape=point, width=0.01, pos=\"\(DOTText.number(left + plotWidth)),\(DOTText.number(axisY))!\", style=invis]\n"
        s += "  axis0 -> axis1\n"
        let step = Self.tickStep(Double(toCycles - fromCycles) / 8)
        var tick = (fromCycles + step - 1) / step * step
        var t = 0
        while tick <= toCycles {
            let tx = x(tick * period)
            s += "  tick\(t) [shape=point, width=0.01, pos=\"\(DOTText.number(tx)),\(DOTText.number(axisY - 5))!\", style=invis]\n"
            s += "  tick\(t)b [shape=point, width=0.01, pos=\"\(DOTText.number(tx)),\(DOTText.number(axisY + 2))!\", style=invis]\n"
            s += "  tick\(t) -> tick\(t)b\n"
            let secs = Double(tick * period) / 1e12
            text("\(DOTText.grouped(tick))\n\(DOTText.seconds(secs))", x: tx, y: axisY - 20, w: 90, h: 24, size: 9)
            tick += step
            t += 1
        }
        text("cycles\\rtime\\r", x: left / 2 - 6, y: axisY - 20, w: left - 20, h: 24, size: 9, color: "#666666")

        // Legend.
        let legendY = axisY - 52
        var lx = left
        let legend: [(String, String)] =
            multiUnit
            ? [
                ("ff", "FF"), ("bp", "BP"), ("wg", "WG"), ("update", "update"), ("maskgen", "mask generation"), ("loss", "loss"),
                ("waiting", "array waiting"), ("load", "DRAM load"), ("writeback", "DRAM write-back"),
            ] + (plan.schedule?.power != nil ? [("compute", "compute (vector, CPU)")] : [])
            : [
                ("compute", "compute"), ("stall", "stall (waiting for DRAM)"), ("idle", "array idle (memory-only layer)"), ("load", "DRAM load"),
                ("writeback", "DRAM write-back"), ("memory", "pool / eltwise traffic"),
            ]
        let passes = Set(plan.ops.map(\.pass.rawValue))
        for (key, title) in legend where !multiUnit || !Pass.allCases.map(\.rawValue).contains(key) || passes.contains(key) {
            let c = Self.colors[key]!
            node([("fillcolor", c.fill), ("color", c.line), ("style", "filled")], x: lx + 9, y: legendY, w: 18, h: 12)
            let w = Double(title.count) * 5.6 + 10
            text(title + "\\l", x: lx + 24 + w / 2, y: legendY, w: w, h: 14, size: 10)
            lx += 24 + w + 18
        }
        s += "}\n"
        notes.insert("\(intervalCount) intervals drawn as \(boxes.count) boxes and \(gapCount) stall/idle gaps", at: 0)
        return DOTDocument(text: s, engine: "nop", notes: notes)
    }

    /// Merges each row's boxes that share `key` and are adjacent in the row, into one box.
    private func merge(_ boxes: [Box], key: (Box) -> Int) -> [Box] {
        var out: [Box] = []
        var open: [Int: Int] = [:]
        for b in boxes.sorted(by: { ($0.row, $0.start) < ($1.row, $1.start) }) {
            if let i = open[b.row], out[i].activity == b.activity, key(out[i]) == key(b) {
                out[i].end = max(out[i].end, b.end)
                out[i].lastOp = max(out[i].lastOp, b.op)
                out[i].bytes += b.bytes
                out[i].intervals += b.intervals
                out[i].busy += b.busy
            } else {
                open[b.row] = out.count
                out.append(b)
            }
        }
        return out
    }

    /// The label of a layer span: its name, a shorter form, or nothing, whichever fits.
    private func bandLabel(_ name: String, width: Double, fits: (String, Double, Double) -> Bool) -> String {
        var candidates = [name]
        if name.hasPrefix("layer") { candidates.append(String(name.dropFirst(5))) }
        let parts = name.split(separator: ".")
        if parts.count > 2 { candidates.append(parts.suffix(2).joined(separator: ".")) }
        if let last = parts.last, String(last) != name { candidates.append(String(last)) }
        return candidates.first { fits($0, width, 9) }.map(DOTText.literal) ?? ""
    }

    /// A round tick step (1, 2 or 5 × 10ᵏ) at least `rough`.
    static func tickStep(_ rough: Double) -> UInt64 {
        guard rough > 1 else { return 1 }
        var p: UInt64 = 1
        while Double(p) * 10 <= rough { p *= 10 }
        for m: UInt64 in [1, 2, 5, 10] where Double(p * m) >= rough { return p * m }
        return p * 10
    }
}
