import TesseraCore
import TesseraModel
import TesseraPlan
import TesseraSim

/// A training step on a GPU cluster as a Gantt chart: one lane per class of GPUs (a pipeline
/// stage of the healthy replicas, or of a replica with a faulty GPU) with four rows — compute
/// (forward, backward, output layer, optimizer), tensor/expert collectives (on the compute stream:
/// the GPU waits for them), pipeline transfers, data-parallel reductions — and below them one lane
/// per busiest link, busy while a collective that crosses it runs.
///
/// Positions are pinned in points for `nop` (`neato -n`). Boxes of the same kind on a row merge
/// when the gap between them is under half a point; if more than `maxBoxes` remain, boxes closer
/// than four points merge whatever their kind (a compute run of forwards and backwards is drawn as
/// "forward and backward, merged": narrow the window with --from/--to to see them apart). The
/// window (`from`, `to`) is in nanoseconds.
public struct ClusterScheduleDOT: Sendable {
    public var plan: TrainingStepPlan
    public var result: StepSimulator.Result
    public var options: ScheduleDOT.Options
    /// How many of the busiest links get a lane.
    public var links: Int

    public init(plan: TrainingStepPlan, result: StepSimulator.Result, options: ScheduleDOT.Options = .init(), links: Int = 8) {
        self.plan = plan
        self.result = result
        self.options = options
        self.links = links
    }

    static let colors: [String: (String, String)] = [
        "forward": ("#7cc47a", "#3d7f3a"), "backward": ("#e57f7f", "#a33a3a"), "head": ("#999999", "#555555"), "optimizer": ("#f1c232", "#a07c12"),
        "tp": ("#f5b26b", "#b4661b"), "ep": ("#c6a0d6", "#7a4a91"), "pp": ("#8fb5de", "#34679e"), "dp": ("#6fa8dc", "#2f5f8f"), "link": ("#b7b7b7", "#6e6e6e"),
        "mixed": ("#c9c26b", "#8a8431"), "cp": ("#e6b8af", "#a14f3d"),
    ]

    struct Box {
        var row: Int
        var kind: String
        var start: Double
        var end: Double
        var busy: Double
        var count: Int
        var first: String
    }

    public func build() throws(InputError) -> DOTDocument {
        let total = result.stepSeconds
        let from = Double(options.from ?? 0) * 1e-9
        let to = min(options.to.map { Double($0) * 1e-9 } ?? total, total)
        if let a = options.from, let b = options.to, b <= a {
            throw InputError(Diagnostic(at: nil, "the window is empty", expected: "--from below --to", found: "--from \(a) --to \(b)"))
        }
        if from >= total {
            throw InputError(Diagnostic(at: nil, "--from \(options.from ?? 0) is past the end of the step", expected: "a time in ns below \(UInt64(total * 1e9))"))
        }
        var notes: [String] = []
        let span = max(to - from, 1e-12)
        let left = 170.0, width = options.width
        func x(_ t: Double) -> Double { left + (min(max(t, from), to) - from) / span * width }
        let quantum = span / width * 0.5

        // Rows: per entity compute, tp/ep, pp, dp; then the busiest links.
        let rowTitles = ["compute", "tensor / context / expert", "pipeline", "data parallel"]
        var rowY: [Double] = []
        var laneSpans: [(title: String, top: Double, bottom: Double)] = []
        var y = -30.0
        for en in plan.entities {
            let top = y
            for _ in rowTitles {
                rowY.append(y - 11)
                y -= 22
            }
            laneSpans.append(("\(en.name)\n\(en.ranks.count) GPUs", top, y))
            y -= 10
        }
        let busiest = result.linkBusy.keys.sorted { a, b in
            let x = result.linkBusy[a] ?? 0, y = result.linkBusy[b] ?? 0
            return x != y ? x > y : a < b
        }.prefix(links)
        var linkRow: [Int: Int] = [:]
        let linkTop = y
        for id in busiest {
            linkRow[id] = rowY.count
            rowY.append(y - 9)
            y -= 18
        }
        if !busiest.isEmpty { laneSpans.append(("busiest links", linkTop, y)) }

        // Boxes.
        var open: [Int: Box] = [:]
        var boxes: [Box] = []
        func add(_ row: Int, _ kind: String, _ s: Double, _ e: Double, _ name: String) {
            guard e > from, s < to, e > s else { return }
            let s0 = max(s, from), e0 = min(e, to)
            if var b = open[row], b.kind == kind, s0 <= b.end + quantum {
                b.busy += e0 - max(s0, min(b.end, e0))
                b.end = max(b.end, e0)
                b.count += 1
                open[row] = b
            } else {
                if let b = open[row] { boxes.append(b) }
                open[row] = Box(row: row, kind: kind, start: s0, end: e0, busy: e0 - s0, count: 1, first: name)
            }
        }
        let order = plan.tasks.indices.sorted { result.start[$0] != result.start[$1] ? result.start[$0] < result.start[$1] : $0 < $1 }
        let linkTasks = result.collectiveLinks.map { Set($0) }
        for i in order {
            let t = plan.tasks[i]
            let s = result.start[i], e = result.end[i]
            let entities: [Int]
            if plan.streams[t.stream].entity == nil {
                entities = plan.entities.indices.filter { plan.entities[$0].stage == plan.streams[t.stream].stage }
            } else {
                entities = [t.entity]
            }
            let sub: Int
            switch t.kind {
            case .forward, .backward, .head, .optimizer: sub = 0
            case .tp, .ep, .cp: sub = 1
            case .pp: sub = 2
            case .dp: sub = 3
            }
            for en in entities { add(en * rowTitles.count + sub, t.kind.rawValue, s, e, t.name) }
            let c = Int(result.taskCollective[i])
            if c >= 0 { for (id, row) in linkRow where linkTasks[c].contains(id) { add(row, "link", s, e, t.name) } }
        }
        boxes += open.keys.sorted().compactMap { open[$0] }
        if boxes.count > options.maxBoxes {
            // First the communication and link rows (many short collectives), then, if still too
            // many, the compute rows too (whose forwards and backwards then merge).
            let before = boxes.count
            let computeRows = Set(plan.entities.indices.map { $0 * rowTitles.count })
            func merge(_ boxes: [Box], rows: (Int) -> Bool) -> [Box] {
                var merged: [Box] = []
                for b in boxes.sorted(by: { ($0.row, $0.start) < ($1.row, $1.start) }) {
                    if rows(b.row), var l = merged.last, l.row == b.row, b.start - l.end < span / width * 4 {
                        l.end = max(l.end, b.end)
                        l.busy += b.busy
                        l.count += b.count
                        if l.kind != b.kind { l.kind = computeRows.contains(l.row) ? "mixed" : l.kind }
                        merged[merged.count - 1] = l
                    } else {
                        merged.append(b)
                    }
                }
                return merged
            }
            boxes = merge(boxes) { !computeRows.contains($0) }
            if boxes.count > options.maxBoxes {
                boxes = merge(boxes) { _ in true }
                notes.append("\(before) boxes merged into \(boxes.count) (gaps under 4 points closed, compute rows included)")
            } else {
                notes.append("\(before) boxes merged into \(boxes.count) (gaps under 4 points closed on communication and link rows)")
            }
        }
        boxes.sort { ($0.row, $0.start) < ($1.row, $1.start) }

        let m = plan.spec.transformer, p = plan.spec.parallelism
        var s = "// A training step of \(m.name) on \(plan.topology.spec.nodes * plan.topology.spec.gpusPerNode) GPUs. Positions are pinned, in points:\n"
        s += "// render with `neato -n2 -Tsvg` (or `tessera render schedule`).\n"
        s += "digraph schedule {\n"
        let title = "\(m.name): tp \(p.tp) × pp \(p.pp) × dp \(p.dp)\(p.ep > 1 ? " (ep \(p.ep))" : ""), ZeRO \(p.zero), \(plan.microbatches) microbatches — step \(DOTText.seconds(total))"
        let window = options.from != nil || options.to != nil ? "\nwindow: \(DOTText.seconds(from)) to \(DOTText.seconds(to))" : ""
        s +=
            "  graph \(DOTText.attributes([("splines", "false"), ("outputorder", "nodesfirst"), ("bgcolor", "white"), ("pad", "0.25"), ("fontname", "Helvetica"), ("fontsize", "18"), ("labelloc", "t"), ("label", DOTText.literal(title) + window + "\n ")]))\n"
        s +=
            "  node \(DOTText.attributes([("shape", "box"), ("style", "filled"), ("fixedsize", "true"), ("pin", "true"), ("fontname", "Helvetica"), ("fontsize", "9"), ("penwidth", "0.6"), ("label", "")]))\n"
        var n = 0
        func node(_ pairs: [(String, String)], x cx: Double, y cy: Double, w: Double, h: Double) {
            s += "  n\(n) \(DOTText.attributes([("pos", "\(DOTText.number(cx)),\(DOTText.number(cy))!"), ("width", DOTText.number(max(w, 0.75) / 72)), ("height", DOTText.number(h / 72))] + pairs))\n"
            n += 1
        }
        func text(_ label: String, x cx: Double, y cy: Double, w: Double, h: Double, size: Double = 10, color: String = "#222222") {
            node([("shape", "plaintext"), ("style", ""), ("label", label), ("fontsize", DOTText.number(size)), ("fontcolor", color)], x: cx, y: cy, w: w, h: h)
        }
        for lane in laneSpans {
            node([("fillcolor", "#fafafa"), ("color", "#dddddd")], x: left + width / 2, y: (lane.top + lane.bottom) / 2, w: width, h: lane.top - lane.bottom)
            text(DOTText.literal(lane.title).replacingOccurrences(of: "\n", with: "\\l") + "\\l", x: 8 + 40, y: (lane.top + lane.bottom) / 2, w: 80, h: 28, size: 11)
        }
        for (e, _) in plan.entities.enumerated() {
            for (k, title) in rowTitles.enumerated() { text(title + "\\r", x: left - 40, y: rowY[e * rowTitles.count + k], w: 76, h: 12, size: 8, color: "#666666") }
        }
        for (id, row) in linkRow {
            let name = plan.topology.describe(id).name
            let util = total > 0 ? (result.linkBusy[id] ?? 0) / total : 0
            text(DOTText.literal(name) + " (" + formatDecimal(util * 100, maxDecimals: 1) + "%)\\r", x: left - 60, y: rowY[row], w: 116, h: 12, size: 8, color: "#666666")
        }
        for b in boxes {
            let x0 = x(b.start), x1 = x(b.end)
            let color = Self.colors[b.kind] ?? ("#dddddd", "#888888")
            let h = b.row < linkRow.values.min() ?? Int.max ? 18.0 : 14.0
            let tip = "\(b.first)\(b.count > 1 ? " and \(b.count - 1) more" : ""): \(DOTText.seconds(b.start)) to \(DOTText.seconds(b.end)), busy \(DOTText.seconds(b.busy))"
            node([("fillcolor", color.0), ("color", color.1), ("tooltip", DOTText.literal(tip))], x: (x0 + x1) / 2, y: rowY[b.row], w: max(x1 - x0, 0.5), h: h)
        }
        // Time axis and legend.
        let axisY = y - 16
        for k in 0...4 {
            let t = from + span * Double(k) / 4
            text(DOTText.seconds(t), x: x(t), y: axisY, w: 70, h: 12, size: 9)
        }
        var lx = left
        let legend: [(String, String)] = (boxes.contains { $0.kind == "mixed" } ? [("mixed", "forward and backward, merged")] : []) + [("forward", "forward"), ("backward", "backward"), ("head", "output layer"), ("optimizer", "optimizer"), ("tp", "tensor-parallel all-reduce"), ("ep", "expert all-to-all"), ("cp", "context-parallel KV"), ("pp", "pipeline transfer"), ("dp", "gradient / parameter collective"), ("link", "link busy")]
        for (kind, label) in legend {
            let c = Self.colors[kind] ?? ("#dddddd", "#888888")
            node([("fillcolor", c.0), ("color", c.1)], x: lx + 6, y: axisY - 22, w: 12, h: 10)
            text(label + "\\l", x: lx + 16 + Double(label.count) * 2.75, y: axisY - 22, w: Double(label.count) * 5.5, h: 12, size: 9)
            lx += max(100, Double(label.count) * 5.5 + 36)
        }
        s += "}\n"
        return DOTDocument(text: s, engine: "nop", notes: notes)
    }
}
