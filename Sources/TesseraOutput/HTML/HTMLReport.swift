import Foundation
import TesseraCore

/// Text escaping for HTML: the XML escaping the JUnit writer uses (`CompareReport.xmlEscape`),
/// which HTML reads the same way.
public enum HTML {
    public static func escape(_ s: String) -> String { CompareReport.xmlEscape(s) }
}

/// One self-contained HTML page for one run, built from its JSON report (schema 2) and, when the
/// run is at hand, its pictures: the summary in the family's own terms, the schedule and hardware
/// pictures, power over time, energy by component and action, sortable tables of layers, stages,
/// collectives, instances and units, the serving latency distributions, and the model notes.
///
/// The page loads nothing: styles and the one small script (table sorting, picture zoom) are
/// inline, pictures are `data:` URIs, and a Content-Security-Policy forbids every fetch. The same
/// report and pictures give the same bytes.
public struct HTMLReport {
    /// A picture to embed: SVG bytes, with the notes its renderer made (what was collapsed …).
    public struct Picture: Sendable {
        public var title: String
        public var svg: [UInt8]
        public var notes: [String]
        public init(title: String, svg: [UInt8], notes: [String] = []) {
            self.title = title
            self.svg = svg
            self.notes = notes
        }
    }

    /// The most rows a table shows (the JSON has them all).
    public static let maxRows = 2000

    public var report: JSONValue
    public var pictures: [Picture]
    /// Said under the pictures heading when there are none (how to get them).
    public var picturesNote: String?
    public var generator: String

    public init(report: JSONValue, pictures: [Picture] = [], picturesNote: String? = nil, generator: String) {
        self.report = report
        self.pictures = pictures
        self.picturesNote = picturesNote
        self.generator = generator
    }

    // MARK: - Formatting

    static func seconds(_ s: Double) -> String { DOTText.seconds(s) }
    static func joules(_ j: Double) -> String {
        let a = abs(j)
        if a == 0 { return "0 J" }
        for (f, u) in [(1e3, "kJ"), (1.0, "J"), (1e-3, "mJ"), (1e-6, "µJ")] where a >= f { return formatDecimal(j / f, maxDecimals: 4) + " " + u }
        return formatDecimal(j / 1e-9, maxDecimals: 4) + " nJ"
    }
    static func watts(_ w: Double) -> String {
        abs(w) >= 1e3 ? formatDecimal(w / 1e3, maxDecimals: 3) + " kW" : formatDecimal(w, maxDecimals: 4) + " W"
    }
    static func pct(_ x: Double) -> String { formatDecimal(x * 100, maxDecimals: 2) + "%" }
    static func bytes(_ b: Double) -> String { formatBytes(Saturating.uint64Rounded(b)) }
    static func count(_ x: Double) -> String {
        // Thousands separated by a thin space, the same everywhere.
        guard x.isFinite, abs(x) < 1e18, x == x.rounded() else { return formatDecimal(x, maxDecimals: 3) }
        let digits = String(Int64(x).magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out += "\u{2009}" }
            out.append(c)
        }
        return (x < 0 ? "-" : "") + out
    }

    // MARK: - Pieces

    /// A cell: what it shows, and the value it sorts by (numbers sort as numbers).
    struct Cell {
        var text: String
        var sort: Double?
        init(_ text: String, sort: Double? = nil) {
            self.text = text
            self.sort = sort
        }
    }

    static func table(_ id: String, _ head: [String], _ rows: [[Cell]], numeric: Set<Int>, caption: String? = nil) -> String {
        var s = "<table class=\"sortable\" id=\"\(id)\">"
        if let caption { s += "<caption>\(HTML.escape(caption))</caption>" }
        s += "<thead><tr>"
        for (i, h) in head.enumerated() {
            s += "<th\(numeric.contains(i) ? " class=\"num\"" : "") tabindex=\"0\" title=\"sort by \(HTML.escape(h))\">\(HTML.escape(h))</th>"
        }
        s += "</tr></thead><tbody>"
        for (n, r) in rows.prefix(maxRows).enumerated() {
            s += "<tr data-i=\"\(n)\">"
            for (i, c) in r.enumerated() {
                let sortAttr = c.sort.map { " data-v=\"\(JSONValue.number($0))\"" } ?? ""
                s += "<td\(numeric.contains(i) ? " class=\"num\"" : "")\(sortAttr)>\(HTML.escape(c.text))</td>"
            }
            s += "</tr>"
        }
        s += "</tbody></table>"
        if rows.count > maxRows { s += "<p class=\"note\">The first \(maxRows) of \(rows.count) rows; the JSON report has them all.</p>" }
        return s
    }

    static func figures(_ rows: [(String, String)]) -> String {
        "<dl class=\"figures\">" + rows.map { "<div><dt>\(HTML.escape($0.0))</dt><dd>\(HTML.escape($0.1))</dd></div>" }.joined() + "</dl>"
    }

    // MARK: - Sections

    var family: String { report["family"]?.asString ?? "" }

    func summary() -> String {
        let r = report
        var rows: [(String, String)] = []
        if let t = r["seconds"]?.asDouble { rows.append(("time", Self.seconds(t))) }
        if let c = r["total_cycles"]?.asDouble, let hz = r["clock_hz"]?.asDouble {
            rows.append(("cycles", "\(Self.count(c)) at \(formatDecimal(hz / 1e6)) MHz"))
        }
        if let u = r["utilization"]?.asDouble { rows.append(("utilization", Self.pct(u))) }
        if let c = r["compute_cycles"]?.asDouble, let st = r["stall_cycles"]?.asDouble {
            rows.append(("compute / stall cycles", "\(Self.count(c)) / \(Self.count(st))"))
        }
        if let m = r["macs"]?.asDouble { rows.append(("MACs", Self.count(m))) }
        if let rd = r["dram_read_bytes"]?.asDouble, let wr = r["dram_write_bytes"]?.asDouble {
            rows.append(("DRAM read / write", "\(Self.bytes(rd)) / \(Self.bytes(wr))"))
        }
        if let e = r["energy_j"]?.asDouble { rows.append(("energy", Self.joules(e))) }
        if let a = r["average_power_w"]?.asDouble, let p = r["peak_power_w"]?.asDouble {
            rows.append(("power average / peak", "\(Self.watts(a)) / \(Self.watts(p))"))
        }
        // A training step on clocked hardware (its fields are top-level keys of the report).
        if let phase = r["phase"]?.asString, let scheme = r["scheme"]?.asString {
            let pattern = r["pattern"]?.asString.map { " \($0)" } ?? ""
            let on = r["optimizations"]?.asObject?.map { "\($0.0.replacingOccurrences(of: "_", with: " ")) \($0.1.asBool == true ? "on" : "off")" } ?? []
            rows.append(("training", "\(phase) step, \(scheme)\(pattern)" + (on.isEmpty ? "" : "; " + on.joined(separator: ", "))))
            if let sp = r["speedup_over_dense"]?.asDouble, let d = r["dense_total_cycles"]?.asDouble {
                rows.append(("speedup over dense", formatDecimal(sp, maxDecimals: 3) + "× (dense: \(Self.count(d)) cycles)"))
            }
        }
        if let h = r["host_link"] {
            let streamed = h["streamed_weight_bytes"]?.asDouble ?? 0, resident = h["resident_weight_bytes"]?.asDouble ?? 0
            rows.append(("host link", "\(h["link"]?.asString ?? ""): \(Self.bytes(streamed)) of weights streamed, \(Self.bytes(resident)) resident, busy \(Self.seconds(h["busy_s"]?.asDouble ?? 0))"))
        }
        if let c = r["continual"] {
            if let sp = c["speedup"]?.asDouble { rows.append(("continual learning speedup", formatDecimal(sp, maxDecimals: 3) + "×")) }
            if let es = c["energy_saving"]?.asDouble { rows.append(("continual learning energy saving", formatDecimal(es, maxDecimals: 3) + "×")) }
        }
        if let c = r["training_step"] {
            let p = c["parallelism"]
            let layout = ["tp", "pp", "dp", "cp", "ep"].compactMap { k -> String? in
                guard let v = p?[k]?.asDouble, v > 1 || k == "tp" || k == "pp" || k == "dp" else { return nil }
                return "\(k) \(Self.count(v))"
            }.joined(separator: " × ")
            rows.append(("model", "\(c["model"]?.asString ?? "") on \(Self.count(c["gpus"]?.asDouble ?? 0)) GPUs (\(layout))"))
            if let s = c["step_seconds"]?.asDouble { rows.append(("step", Self.seconds(s))) }
            if let m = c["mfu"]?.asDouble { rows.append(("MFU", Self.pct(m))) }
            if let t = c["tokens_per_second"]?.asDouble { rows.append(("tokens per second", Self.count(t.rounded()))) }
            if let sp = c["time_split"] {
                let parts = [("compute_s", "compute"), ("exposed_comm_s", "exposed communication"), ("overlapped_comm_s", "overlapped"), ("idle_s", "idle")]
                rows.append(("per GPU", parts.compactMap { k, n in sp[k]?.asDouble.map { "\(n) \(Self.seconds($0))" } }.joined(separator: ", ")))
            }
            if let s = c["slowest_rank"], let n = s["name"]?.asString { rows.append(("slowest rank", "\(n): \(Self.seconds(s["compute_s"]?.asDouble ?? 0)) of compute")) }
            if let l = c["busiest_link"], let n = l["name"]?.asString { rows.append(("busiest link", "\(n), \(Self.pct(l["utilization"]?.asDouble ?? 0)) busy")) }
            if let f = c["failure"], let comp = f["component"]?.asString { rows.append(("failure", "\(comp): the step does not complete")) }
        }
        if let v = r["serving"] {
            rows.append(("served", "\(v["model"]?.asString ?? "") \(v["mode"]?.asString ?? ""), \(Self.count(v["requests"]?.asDouble ?? 0)) requests on \(Self.count(v["gpus"]?.asDouble ?? 0)) GPUs"))
            for (key, name) in [("ttft", "TTFT"), ("tpot", "TPOT")] {
                if let d = v[key] {
                    let ps = [("p50_s", "p50"), ("p90_s", "p90"), ("p99_s", "p99")].compactMap { k, n in d[k]?.asDouble.map { "\(n) \(Self.seconds($0))" } }
                    rows.append((name, ps.joined(separator: ", ")))
                }
            }
            if let g = v["goodput_rps"]?.asDouble { rows.append(("goodput", formatDecimal(g, maxDecimals: 3) + " requests/s")) }
            if let slo = v["slo"], let a = slo["attainment"]?.asDouble {
                var text = "\(Self.pct(a)) of requests within TTFT \(Self.seconds(slo["ttft_s"]?.asDouble ?? 0)) and TPOT \(Self.seconds(slo["tpot_s"]?.asDouble ?? 0))"
                if let target = slo["target_attainment"]?.asDouble { text += a >= target ? " (target \(Self.pct(target)): met)" : " (target \(Self.pct(target)): MISSED)" }
                rows.append(("SLO attainment", text))
            }
        }
        if let b = r["power_budget"], let budget = b["budget_w"]?.asDouble {
            let within = b["average_within"]?.asBool ?? true
            var text = within ? "\(Self.watts(budget)): average within" : "\(Self.watts(budget)): average OVER BUDGET"
            if let over = b["windows_over"]?.asDouble, let all = b["windows"]?.asDouble, over > 0 {
                text += "; above it in \(Self.count(over)) of \(Self.count(all)) windows (\(Self.seconds(b["seconds_over"]?.asDouble ?? 0)))"
            }
            rows.append(("power budget", text))
        }
        return "<section id=\"summary\"><h2>Summary</h2>" + Self.figures(rows) + "</section>"
    }

    func picturesSection() -> String {
        var s = "<section id=\"pictures\"><h2>Pictures</h2>"
        if pictures.isEmpty, let note = picturesNote { s += "<p class=\"note\">\(HTML.escape(note))</p>" }
        for p in pictures {
            let data = Data(p.svg).base64EncodedString()
            s += "<figure class=\"picture\"><figcaption>\(HTML.escape(p.title)) <span class=\"hint\">(click to zoom)</span></figcaption>"
            s += "<div class=\"scroll\"><img alt=\"\(HTML.escape(p.title))\" src=\"data:image/svg+xml;base64,\(data)\"/></div>"
            for n in p.notes { s += "<p class=\"note\">\(HTML.escape(n))</p>" }
            s += "</figure>"
        }
        return s + "</section>"
    }

    func powerSection() -> String? {
        guard let e = report["energy"], let p = e["power_over_time"], let w = p["window_s"]?.asDouble, let watts = p["watts"]?.asArray else { return nil }
        let series = PowerSeries(windowSeconds: w, watts: watts.compactMap(\.asDouble))
        guard !series.watts.isEmpty else { return nil }
        let budget = report["power_budget"]?["budget_w"]?.asDouble
        var s = "<section id=\"power\"><h2>Power over time</h2>"
        s += SVGChart.power(series, budget: budget)
        s += "<p class=\"note\">Average power in \(Self.count(Double(series.watts.count))) windows of \(Self.seconds(series.windowSeconds)); the peak in the summary is over the finest windows (\(Self.seconds(e["power_window_s"]?.asDouble ?? 0))).</p>"
        return s + "</section>"
    }

    func energySection() -> String? {
        guard let e = report["energy"], let total = report["energy_j"]?.asDouble else { return nil }
        var s = "<section id=\"energy\"><h2>Energy</h2>"
        for (key, name, id) in [("by_component", "component", "energy-components"), ("by_action", "action", "energy-actions")] {
            guard let pairs = e[key]?.asObject, !pairs.isEmpty else { continue }
            let top = pairs.compactMap { $0.1.asDouble }.max() ?? 0
            s += "<table class=\"sortable bars\" id=\"\(id)\"><thead><tr><th tabindex=\"0\">\(name)</th><th class=\"num\" tabindex=\"0\">energy</th><th class=\"num\" tabindex=\"0\">share</th><th></th></tr></thead><tbody>"
            for (i, (n, v)) in pairs.enumerated() {
                let j = v.asDouble ?? 0
                let width = top > 0 ? formatDecimal(100 * j / top, maxDecimals: 2) : "0"
                s += "<tr data-i=\"\(i)\"><td>\(HTML.escape(n))</td><td class=\"num\" data-v=\"\(JSONValue.number(j))\">\(Self.joules(j))</td>"
                s += "<td class=\"num\" data-v=\"\(JSONValue.number(j))\">\(Self.pct(total > 0 ? j / total : 0))</td><td class=\"bar\"><span style=\"width:\(width)%\"></span></td></tr>"
            }
            s += "</tbody></table>"
        }
        if let d = e["dynamic_j"]?.asDouble, let st = e["static_j"]?.asDouble {
            s += "<p class=\"note\">\(Self.joules(total)) in all: \(Self.joules(d)) dynamic, \(Self.joules(st)) static.</p>"
        }
        return s + "</section>"
    }

    func servingSection() -> String? {
        guard let v = report["serving"] else { return nil }
        var s = "<section id=\"latency\"><h2>Serving latency</h2>"
        for (key, name, sloKey) in [("ttft", "TTFT", "ttft_s"), ("tpot", "TPOT", "tpot_s")] {
            guard let q = v[key]?["quantiles_s"]?.asArray?.compactMap(\.asDouble), q.count == 101 else { continue }
            let marker = v["slo"]?[sloKey]?.asDouble.map { SVGChart.Marker(value: $0, label: "SLO \(Self.seconds($0))") }
            s += "<figure class=\"chart\"><figcaption>\(name): cumulative distribution over \(Self.count(v[key]?["count"]?.asDouble ?? 0)) requests</figcaption>"
            s += SVGChart.cdf(quantiles: q, title: name, marker: marker) + "</figure>"
        }
        if let inst = v["instances"]?.asArray, !inst.isEmpty {
            let rows: [[Cell]] = inst.map { i in
                let pre = i["prefill_s"]?.asDouble ?? 0, dec = i["decode_s"]?.asDouble ?? 0, u = i["utilization"]?.asDouble ?? 0
                let mb = i["mean_decode_batch"]?.asDouble ?? 0, peak = i["peak_kv_tokens"]?.asDouble ?? 0
                return [
                    Cell(i["name"]?.asString ?? ""), Cell(i["role"]?.asString ?? ""), Cell(Self.count(i["tp"]?.asDouble ?? 0), sort: i["tp"]?.asDouble),
                    Cell(Self.seconds(pre), sort: pre), Cell(Self.seconds(dec), sort: dec), Cell(Self.pct(u), sort: u),
                    Cell(formatDecimal(mb, maxDecimals: 2), sort: mb), Cell(Self.count(peak), sort: peak),
                ]
            }
            s += Self.table("instances", ["instance", "role", "tp", "prefill", "decode", "busy", "mean decode batch", "peak KV tokens"], rows, numeric: [2, 3, 4, 5, 6, 7])
        }
        return s + "</section>"
    }

    func tablesSection() -> String {
        var s = "<section id=\"tables\"><h2>Tables</h2><p class=\"note\">Click a column's heading to sort by it; click again to reverse.</p>"
        if let layers = report["layers"]?.asArray, !layers.isEmpty {
            let training = layers.contains { $0["pass"] != nil }
            let rows: [[Cell]] = layers.map { l in
                func n(_ k: String) -> Double { l[k]?.asDouble ?? 0 }
                var row = [Cell(l["name"]?.asString ?? ""), Cell(l["op"]?.asString ?? ""), Cell(l["unit"]?.asString ?? "")]
                if training { row.append(Cell(l["pass"]?.asString ?? "")) }
                row += [
                    Cell(Self.count(n("total_cycles")), sort: n("total_cycles")), Cell(Self.count(n("compute_cycles")), sort: n("compute_cycles")),
                    Cell(Self.count(n("stall_cycles")), sort: n("stall_cycles")), Cell(Self.pct(n("utilization")), sort: n("utilization")),
                    Cell(Self.count(n("macs")), sort: n("macs")), Cell(Self.bytes(n("dram_read_bytes")), sort: n("dram_read_bytes")),
                    Cell(Self.bytes(n("dram_write_bytes")), sort: n("dram_write_bytes")),
                ]
                return row
            }
            var head = ["layer", "op", "unit"]
            if training { head.append("pass") }
            head += ["total cycles", "compute", "stall", "utilization", "MACs", "DRAM read", "DRAM write"]
            let first = training ? 4 : 3
            s += Self.table("layers", head, rows, numeric: Set(first..<head.count), caption: "Layers, in workload order (\(layers.count))")
        }
        if let phases = report["phases"]?.asObject, !phases.isEmpty {
            let rows: [[Cell]] = phases.map { name, p in
                func n(_ k: String) -> Double { p[k]?.asDouble ?? 0 }
                return [Cell(name), Cell(Self.count(n("operations")), sort: n("operations")), Cell(Self.count(n("dense_macs")), sort: n("dense_macs")),
                        Cell(Self.count(n("macs")), sort: n("macs")), Cell(Self.count(n("busy_cycles")), sort: n("busy_cycles")),
                        Cell(Self.bytes(n("dram_read_bytes")), sort: n("dram_read_bytes")), Cell(Self.bytes(n("dram_write_bytes")), sort: n("dram_write_bytes")),
                        Cell(Self.count(n("first_cycle")), sort: n("first_cycle")), Cell(Self.count(n("last_cycle")), sort: n("last_cycle"))]
            }
            s += Self.table("passes", ["pass", "operations", "dense MACs", "executed MACs", "busy cycles", "DRAM read", "DRAM write", "first cycle", "last cycle"],
                rows, numeric: Set(1..<9), caption: "Training passes")
        }
        if let points = report["operating_points"]?.asArray, points.count > 1 {
            let rows: [[Cell]] = points.map { p in
                let c = p["start_cycle"]?.asDouble ?? 0, f = p["frequency_hz"]?.asDouble ?? 0, e = p["energy_scale"]?.asDouble ?? 0
                return [Cell(Self.count(c), sort: c), Cell(formatDecimal(f / 1e6, maxDecimals: 3) + " MHz", sort: f), Cell(formatDecimal(e, maxDecimals: 4), sort: e)]
            }
            s += Self.table("operating-points", ["from cycle", "clock", "energy scale"], rows, numeric: [0, 1, 2], caption: "Operating points the governor chose")
        }
        if let stages = report["training_step"]?["stages"]?.asArray, !stages.isEmpty {
            let rows: [[Cell]] = stages.map { st in
                let sp = st["time_split"]
                func t(_ k: String) -> Cell {
                    let v = sp?[k]?.asDouble ?? 0
                    return Cell(Self.seconds(v), sort: v)
                }
                let mem = st["memory_bytes"]?["total"]?.asDouble
                return [Cell(st["name"]?.asString ?? ""), Cell(Self.count(st["gpus"]?.asDouble ?? 0), sort: st["gpus"]?.asDouble),
                        t("compute_s"), t("exposed_comm_s"), t("overlapped_comm_s"), t("idle_s"), Cell(mem.map(Self.bytes) ?? "", sort: mem)]
            }
            s += Self.table("stages", ["stage", "GPUs", "compute", "exposed communication", "overlapped", "idle", "memory per GPU"], rows, numeric: [1, 2, 3, 4, 5, 6], caption: "Pipeline stages, per GPU")
        }
        if let cs = report["collectives"]?.asArray, !cs.isEmpty {
            let rows: [[Cell]] = cs.map { c in
                func n(_ k: String) -> Double { c[k]?.asDouble ?? 0 }
                return [Cell(c["op"]?.asString ?? ""), Cell(c["algorithm"]?.asString ?? ""), Cell(Self.count(n("ranks")), sort: n("ranks")),
                        Cell(Self.bytes(n("bytes")), sort: n("bytes")), Cell(Self.seconds(n("seconds")), sort: n("seconds")),
                        Cell(formatDecimal(n("algbw_gbps"), maxDecimals: 2) + " GB/s", sort: n("algbw_gbps")),
                        Cell(formatDecimal(n("busbw_gbps"), maxDecimals: 2) + " GB/s", sort: n("busbw_gbps"))]
            }
            s += Self.table("collectives", ["collective", "algorithm", "ranks", "size", "time", "algorithm bandwidth", "bus bandwidth"], rows, numeric: [2, 3, 4, 5, 6], caption: "Collectives")
        }
        if let units = report["units"]?.asArray, !units.isEmpty {
            let rows: [[Cell]] = units.map { u in
                let busy = u["busy_s"]?.asDouble ?? 0, ut = u["utilization"]?.asDouble ?? 0
                return [Cell(u["name"]?.asString ?? ""), Cell(u["kind"]?.asString ?? ""), Cell(Self.seconds(busy), sort: busy), Cell(Self.pct(ut), sort: ut)]
            }
            s += Self.table("units", ["unit", "kind", "busy", "utilization"], rows, numeric: [2, 3], caption: "Units (\(units.count))")
        }
        return s + "</section>"
    }

    func notesSection() -> String? {
        guard let notes = report["model_notes"]?.asArray?.compactMap(\.asString), !notes.isEmpty else { return nil }
        return "<section id=\"model\"><h2>Model</h2><ul class=\"notes\">" + notes.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul></section>"
    }

    // MARK: - Page

    public func page() -> String {
        let workload = report["workload"]?.asString ?? "run", hardware = report["hardware"]?.asString ?? ""
        let title = "\(workload) on \(hardware)"
        let sections = [summary(), picturesSection(), powerSection(), energySection(), servingSection(), tablesSection(), notesSection()].compactMap { $0 }
        var s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        s += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
        s += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><link rel=\"icon\" href=\"data:,\">"
        s += "<meta name=\"generator\" content=\"\(HTML.escape(generator))\">"
        s += "<title>\(HTML.escape(title)) — Tessera</title><style>\(Self.style)</style></head>\n<body>"
        s += "<header><h1>\(HTML.escape(title))</h1><p class=\"sub\">\(HTML.escape(family)) · report schema \(report["tessera"]?.asDouble.map { formatDecimal($0) } ?? "?") · \(HTML.escape(generator))</p>"
        s += "<nav>" + sections.compactMap { sec -> String? in
            guard let idStart = sec.range(of: "id=\""), let idEnd = sec[idStart.upperBound...].firstIndex(of: "\""),
                let h = sec.range(of: "<h2>"), let he = sec.range(of: "</h2>") else { return nil }
            return "<a href=\"#\(sec[idStart.upperBound..<idEnd])\">\(sec[h.upperBound..<he.lowerBound])</a>"
        }.joined() + "</nav></header>\n<main>"
        s += sections.joined(separator: "\n")
        s += "</main>\n<script>\(Self.script)</script></body></html>\n"
        return s
    }

    static let style = """
        :root{--fg:#1d2430;--muted:#5b6575;--line:#d9dee6;--accent:#2f6fb2;--warn:#c2410c;--bg:#fff;--alt:#f6f8fb}
        *{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
        header{padding:18px 28px 8px;border-bottom:1px solid var(--line);position:sticky;top:0;background:var(--bg);z-index:2}
        h1{margin:0;font-size:22px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
        .sub{margin:2px 0 8px;color:var(--muted)}nav a{margin-right:14px;color:var(--accent);text-decoration:none}nav a:hover{text-decoration:underline}
        main{padding:0 28px 40px;max-width:1280px}
        dl.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:8px;margin:0}
        dl.figures div{border:1px solid var(--line);border-radius:6px;padding:8px 10px;background:var(--alt)}
        dt{color:var(--muted);font-size:12px}dd{margin:2px 0 0;font-weight:600;overflow-wrap:anywhere}
        table{border-collapse:collapse;margin:10px 0 18px;font-variant-numeric:tabular-nums}caption{text-align:left;font-weight:600;padding:4px 0}
        th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left;white-space:nowrap}th{background:var(--alt);cursor:pointer;user-select:none;position:relative}
        th.asc::after{content:" ▲";font-size:10px}th.desc::after{content:" ▼";font-size:10px}.num{text-align:right}
        tbody tr:nth-child(even){background:#fafbfd}td.bar{width:240px}td.bar span{display:block;height:10px;background:var(--accent);border-radius:2px;min-width:1px}
        .note{color:var(--muted);font-size:13px}.hint{color:var(--muted);font-weight:400;font-size:12px}
        figure{margin:10px 0 20px}figcaption{font-weight:600;margin-bottom:6px}
        .scroll{overflow:auto;border:1px solid var(--line);border-radius:6px;max-height:720px;background:#fff}
        .picture img{display:block;width:100%;height:auto;cursor:zoom-in}.picture img.zoom{width:auto;max-width:none;cursor:zoom-out}
        svg.chart{width:100%;max-width:820px;height:auto;font-size:11px;fill:var(--fg)}svg .grid{stroke:#e6e9ef;stroke-width:1}
        svg .frame{fill:none;stroke:#9aa3b2}svg .series{fill:none;stroke:var(--accent);stroke-width:1.6}svg .title{font-size:12px;fill:var(--muted)}
        svg .marker{stroke:var(--warn);stroke-dasharray:5 4;stroke-width:1.4}svg .marker-label{fill:var(--warn)}
        ul.notes li{margin:3px 0}
        """

    /// Sorting (numbers by `data-v`, text otherwise; stable on the original order) and picture zoom.
    /// Sets `data-ready` on the body when it has run, which the browser check reads.
    static let script = """
        (function(){
        document.querySelectorAll('table.sortable').forEach(function(table){
          var heads=table.tHead?table.tHead.rows[0].cells:[];
          Array.prototype.forEach.call(heads,function(th,col){
            if(!th.textContent)return;
            function sort(){
              var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
              var desc=!th.classList.contains('desc');
              Array.prototype.forEach.call(heads,function(h){h.classList.remove('asc','desc');});
              th.classList.add(desc?'desc':'asc');
              rows.sort(function(a,b){
                var x=a.cells[col],y=b.cells[col],r;
                if(x.hasAttribute('data-v')&&y.hasAttribute('data-v')){r=parseFloat(x.getAttribute('data-v'))-parseFloat(y.getAttribute('data-v'));}
                else{r=x.textContent.localeCompare(y.textContent);}
                if(desc)r=-r;
                return r!==0?r:(+a.getAttribute('data-i'))-(+b.getAttribute('data-i'));
              });
              rows.forEach(function(r){body.appendChild(r);});
            }
            th.addEventListener('click',sort);
            th.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();sort();}});
          });
        });
        document.querySelectorAll('.picture img').forEach(function(img){img.addEventListener('click',function(){img.classList.toggle('zoom');});});
        document.body.setAttribute('data-ready','1');
        })();
        """
}
