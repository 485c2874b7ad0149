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

    /// The timeline as Chrome trace-event JSON; `energy` adds a power counter track.
    public func chromeTrace(energy: EnergyAccount? = nil) -> String {
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
        if let energy {
            let pid = Int64(plan.instances.count + 1)
            events.append(.object([("name", .string("process_name")), ("ph", .string("M")), ("pid", .int(pid)), ("args", .object([("name", .string("power (all GPUs and links)"))]))]))
            events += ChromeTrace.powerCounters(energy, pid: pid)
        }
        return JSONValue.object([("traceEvents", .array(events)), ("displayTimeUnit", .string("ns"))]).render() + "\n"
    }

    /// The Gantt chart; `from`/`to` in nanoseconds.
    public func schedule(options: ScheduleDOT.Options = .init()) throws(InputError) -> DOTDocument {
        let total = result.end
        var chart = try TimeChart(options: options, total: total, left: 190)
        let from = chart.from, to = chart.to, quantum = chart.quantum
        chart.begin(
            comment: "LLM serving on \(plan.topology.spec.nodes * plan.topology.spec.gpusPerNode) GPUs.",
            title: "\(plan.spec.transformer.name), \(plan.spec.mode.rawValue): \(result.requests.count) requests in \(DOTText.seconds(total))")
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
            chart.lane("\(inst.name)\n\(inst.role.rawValue), \(inst.ranks.count) GPUs", top: top, bottom: top - 44, titleWidth: 110)
            for (k, row) in [rows[i * 2], rows[i * 2 + 1]].enumerated() {
                for b in row {
                    let tip = "\(b.count) \(b.kind == "kv" ? "KV caches" : b.kind) \(b.count == 1 ? "" : "iterations ")from \(DOTText.seconds(b.start)) to \(DOTText.seconds(b.end))\(b.kind == "kv" ? "" : ", largest batch \(b.batch)")"
                    chart.box(b.start, b.end, y: top - 11 - Double(k) * 22, h: 16, color: colors[b.kind] ?? ("#dddddd", "#888888"), tooltip: tip)
                }
            }
            y -= 54
        }
        let legend = [("prefill", "prefill iteration"), ("decode", "decode iteration"), ("kv", "KV cache arriving")]
        chart.finish(axisY: y - 6, legend: legend.map { (colors[$0.0] ?? ("#dddddd", "#888888"), $0.1) })
        return DOTDocument(text: chart.text, engine: "nop")
    }
}
