import TesseraCore
import TesseraPlan
import TesseraSim

/// An LLM serving run over time: each instance's prefill and decode iterations and the KV caches it
/// receives, as a Chrome trace (one process per instance, `ts`/`dur` in µs, `args` with the batch)
/// and as a Gantt chart (one lane per instance: iterations coloured prefill or decode, and a row of
/// KV-cache arrivals for decode instances). Positions in the chart are pinned for `nop`.
public struct ServingTimeline: Sendable {
    public var plan: ServingPlan
    public var result: ServingSimulator.Result

    public init(plan: ServingPlan, result: ServingSimulator.Result) {
        self.plan = plan
        self.result = result
    }

    public func chromeTrace() -> String {
        var events: [JSONValue] = []
        for (i, inst) in plan.instances.enumerated() {
            events.append(.object([("name", .string("process_name")), ("ph", .string("M")), ("pid", .int(Int64(i + 1))), ("args", .object([("name", .string("\(inst.name) (\(inst.role.rawValue), \(inst.ranks.count) GPUs)"))]))]))
            for (tid, name) in [(0, "iterations"), (1, "KV caches in")] {
                events.append(.object([("name", .string("thread_name")), ("ph", .string("M")), ("pid", .int(Int64(i + 1))), ("tid", .int(Int64(tid))), ("args", .object([("name", .string(name))]))]))
            }
        }
        for it in result.iterations where it.end > it.start {
            events.append(.object([
                ("name", .string(it.prefill ? "prefill" : "decode")), ("cat", .string(it.prefill ? "prefill" : "decode")), ("ph", .string("X")),
                ("pid", .int(Int64(it.instance + 1))), ("tid", .int(0)), ("ts", .double(it.start * 1e6)), ("dur", .double((it.end - it.start) * 1e6)),
                ("args", .object([("batch", .int(Int64(it.batch)))])),
            ]))
        }
        for (r, q) in result.requests.enumerated() where q.kvTransfer > 0 && q.decodeInstance >= 0 {
            events.append(.object([
                ("name", .string("request \(r) KV cache")), ("cat", .string("kv")), ("ph", .string("X")), ("pid", .int(Int64(q.decodeInstance + 1))), ("tid", .int(1)),
                ("ts", .double(q.firstToken * 1e6)), ("dur", .double(q.kvTransfer * 1e6)), ("args", .object([("prompt_tokens", .int(Int64(q.prompt)))])),
            ]))
        }
        return JSONValue.object([("traceEvents", .array(events)), ("displayTimeUnit", .string("ns"))]).render() + "\n"
    }

    /// The Gantt chart; `from`/`to` in nanoseconds.
    public func schedule(options: ScheduleDOT.Options = .init()) throws(InputError) -> DOTDocument {
        let total = result.end
        let from = Double(options.from ?? 0) * 1e-9
        let to = min(options.to.map { Double($0) * 1e-9 } ?? total, total)
        if let a = options.from, let b = options.to, b <= a {
            throw InputError(Diagnostic(at: nil, "the window is empty", expected: "--from below --to", found: "--from \(a) --to \(b)"))
        }
        if from >= total { throw InputError(Diagnostic(at: nil, "--from \(options.from ?? 0) is past the end of the run", expected: "a time in ns below \(UInt64(total * 1e9))")) }
        let span = max(to - from, 1e-12), left = 190.0, width = options.width
        func x(_ t: Double) -> Double { left + (min(max(t, from), to) - from) / span * width }
        let quantum = span / width * 0.5
        var s = "// LLM serving on \(plan.topology.spec.nodes * plan.topology.spec.gpusPerNode) GPUs. Positions are pinned, in points:\n"
        s += "// render with `neato -n2 -Tsvg` (or `tessera render schedule`).\ndigraph schedule {\n"
        let title = "\(plan.spec.transformer.name), \(plan.spec.mode.rawValue): \(result.requests.count) requests in \(DOTText.seconds(total))"
        s += "  graph \(DOTText.attributes([("splines", "false"), ("bgcolor", "white"), ("pad", "0.25"), ("fontname", "Helvetica"), ("fontsize", "18"), ("labelloc", "t"), ("label", DOTText.literal(title) + "\n ")]))\n"
        s += "  node \(DOTText.attributes([("shape", "box"), ("style", "filled"), ("fixedsize", "true"), ("pin", "true"), ("fontname", "Helvetica"), ("fontsize", "9"), ("penwidth", "0.6"), ("label", "")]))\n"
        var n = 0
        func node(_ pairs: [(String, String)], x cx: Double, y cy: Double, w: Double, h: Double) {
            s += "  n\(n) \(DOTText.attributes([("pos", "\(DOTText.number(cx)),\(DOTText.number(cy))!"), ("width", DOTText.number(max(w, 0.5) / 72)), ("height", DOTText.number(h / 72))] + pairs))\n"
            n += 1
        }
        func text(_ label: String, x cx: Double, y cy: Double, w: Double, size: Double = 10) {
            node([("shape", "plaintext"), ("style", ""), ("label", label), ("fontsize", DOTText.number(size))], x: cx, y: cy, w: w, h: 14)
        }
        let colors = ["prefill": ("#6fa8dc", "#2f5f8f"), "decode": ("#7cc47a", "#3d7f3a"), "kv": ("#f5b26b", "#b4661b")]
        // Boxes per (instance, row): merged while the gap is under half a point and the kind is the same.
        var rows: [[(kind: String, start: Double, end: Double, count: Int, batch: Int)]] = Array(repeating: [], count: plan.instances.count * 2)
        func add(_ row: Int, _ kind: String, _ a: Double, _ b: Double, _ batch: Int) {
            guard b > from, a < to else { return }
            let a0 = max(a, from), b0 = min(b, to)
            if let last = rows[row].last, last.kind == kind, a0 <= last.end + quantum {
                rows[row][rows[row].count - 1].end = max(last.end, b0)
                rows[row][rows[row].count - 1].count += 1
                rows[row][rows[row].count - 1].batch = max(last.batch, batch)
            } else {
                rows[row].append((kind, a0, b0, 1, batch))
            }
        }
        for it in result.iterations { add(it.instance * 2, it.prefill ? "prefill" : "decode", it.start, it.end, it.batch) }
        for q in result.requests.sorted(by: { $0.firstToken < $1.firstToken }) where q.kvTransfer > 0 && q.decodeInstance >= 0 {
            add(q.decodeInstance * 2 + 1, "kv", q.firstToken, q.firstToken + q.kvTransfer, 1)
        }
        var y = -30.0
        for (i, inst) in plan.instances.enumerated() {
            let top = y
            node([("fillcolor", "#fafafa"), ("color", "#dddddd")], x: left + width / 2, y: top - 22, w: width, h: 44)
            text(DOTText.literal("\(inst.name)\n\(inst.role.rawValue), \(inst.ranks.count) GPUs").replacingOccurrences(of: "\n", with: "\\l") + "\\l", x: 60, y: top - 22, w: 110)
            for (k, row) in [rows[i * 2], rows[i * 2 + 1]].enumerated() {
                let cy = top - 11 - Double(k) * 22
                for b in row {
                    let c = colors[b.kind] ?? ("#dddddd", "#888888")
                    let tip = "\(b.count) \(b.kind == "kv" ? "KV caches" : b.kind) \(b.count == 1 ? "" : "iterations ")from \(DOTText.seconds(b.start)) to \(DOTText.seconds(b.end))\(b.kind == "kv" ? "" : ", largest batch \(b.batch)")"
                    node([("fillcolor", c.0), ("color", c.1), ("tooltip", DOTText.literal(tip))], x: (x(b.start) + x(b.end)) / 2, y: cy, w: max(x(b.end) - x(b.start), 0.5), h: 16)
                }
            }
            y -= 54
        }
        for k in 0...4 {
            let t = from + span * Double(k) / 4
            text(DOTText.seconds(t), x: x(t), y: y - 6, w: 70, size: 9)
        }
        var lx = left
        for (kind, label) in [("prefill", "prefill iteration"), ("decode", "decode iteration"), ("kv", "KV cache arriving")] {
            let c = colors[kind] ?? ("#dddddd", "#888888")
            node([("fillcolor", c.0), ("color", c.1)], x: lx + 6, y: y - 28, w: 12, h: 10)
            text(label + "\\l", x: lx + 16 + Double(label.count) * 2.75, y: y - 28, w: Double(label.count) * 5.5, size: 9)
            lx += Double(label.count) * 5.5 + 40
        }
        s += "}\n"
        return DOTDocument(text: s, engine: "nop")
    }
}
