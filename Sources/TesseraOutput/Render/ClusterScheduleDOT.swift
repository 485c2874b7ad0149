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
        var chart = try TimeChart(options: options, total: total, left: 170, minWidth: 0.75)
        let from = chart.from, to = chart.to, span = chart.span, width = chart.width, quantum = chart.quantum
        var notes: [String] = []

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
        // Busy times equal to 12 significant digits count as a tie, broken by the link's name, so
        // that the lanes do not depend on the last bits of a floating-point sum.
        func key(_ id: Int) -> Double {
            let x = result.linkBusy[id] ?? 0
            return x == 0 ? 0 : (x * 1e12).rounded() / 1e12
        }
        let busiest = result.linkBusy.keys.sorted { a, b in
            let x = key(a), y = key(b)
            return x != y ? x > y : plan.topology.describe(a).name < plan.topology.describe(b).name
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
        chart.begin(
            comment: "A training step of \(m.name) on \(plan.topology.spec.nodes * plan.topology.spec.gpusPerNode) GPUs.",
            title: "\(m.name): tp \(p.tp) × pp \(p.pp) × dp \(p.dp)\(p.cp > 1 ? " × cp \(p.cp)" : "")\(p.ep > 1 ? " (ep \(p.ep))" : ""), ZeRO \(p.zero), \(plan.microbatches) microbatches — step \(DOTText.seconds(total))")
        for lane in laneSpans { chart.lane(lane.title, top: lane.top, bottom: lane.bottom, titleWidth: 80) }
        for (e, _) in plan.entities.enumerated() {
            for (k, title) in rowTitles.enumerated() { chart.label(title + "\\r", x: chart.left - 40, y: rowY[e * rowTitles.count + k], w: 76, size: 8, color: "#666666") }
        }
        // In row order: a dictionary's order changes from run to run.
        for (id, row) in linkRow.sorted(by: { $0.value < $1.value }) {
            let name = plan.topology.describe(id).name
            let util = total > 0 ? (result.linkBusy[id] ?? 0) / total : 0
            chart.label(DOTText.literal(name) + " (" + formatDecimal(util * 100, maxDecimals: 1) + "%)\\r", x: chart.left - 60, y: rowY[row], w: 116, size: 8, color: "#666666")
        }
        let firstLinkRow = linkRow.values.min() ?? Int.max
        for b in boxes {
            let tip = "\(b.first)\(b.count > 1 ? " and \(b.count - 1) more" : ""): \(DOTText.seconds(b.start)) to \(DOTText.seconds(b.end)), busy \(DOTText.seconds(b.busy))"
            chart.box(b.start, b.end, y: rowY[b.row], h: b.row < firstLinkRow ? 18 : 14, color: Self.colors[b.kind] ?? ("#dddddd", "#888888"), tooltip: tip)
        }
        let kinds = (boxes.contains { $0.kind == "mixed" } ? [("mixed", "forward and backward, merged")] : []) + [
            ("forward", "forward"), ("backward", "backward"), ("head", "output layer"), ("optimizer", "optimizer"), ("tp", "tensor-parallel all-reduce"),
            ("ep", "expert all-to-all"), ("cp", "context-parallel KV"), ("pp", "pipeline transfer"), ("dp", "gradient / parameter collective"), ("link", "link busy"),
        ]
        chart.finish(axisY: y - 16, legend: kinds.map { (Self.colors[$0.0] ?? ("#dddddd", "#888888"), $0.1) })
        return DOTDocument(text: chart.text, engine: "nop", notes: notes)
    }
}
