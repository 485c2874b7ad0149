import TesseraCore
import TesseraModel
import TesseraOutput
import TesseraPlan
import TesseraSim

/// The lane providers of the `gpu-cluster` family: a training step, a serving run and a
/// collective benchmark as the one `Timeline` (no single clock: times only).
extension Timeline {
    /// A training step: one lane per class of GPUs (a pipeline stage of the healthy replicas, or of
    /// a replica with a faulty GPU) with a row per stream it uses (compute; tensor, context and
    /// expert collectives, which run on the compute stream and which the GPUs wait for; pipeline
    /// sends forward and backward; the stage's data-parallel streams), then the `links` busiest
    /// links, each busy while a collective that crosses it runs (its busy intervals merged).
    static func trainingStep(plan: TrainingStepPlan, result: TaskExecutor.Result, energy: EnergyAccount?, links: Int = 8) -> Timeline {
        let m = plan.spec.transformer, p = plan.spec.parallelism
        let gpus = plan.topology.spec.nodes * plan.topology.spec.gpusPerNode
        var tl = Timeline(
            title:
                "\(m.name): tp \(p.tp) × pp \(p.pp) × dp \(p.dp)\(p.cp > 1 ? " × cp \(p.cp)" : "")\(p.ep > 1 ? " (ep \(p.ep))" : ""), ZeRO \(p.zero), \(plan.microbatches) microbatches — step \(DOTText.seconds(result.stepSeconds))",
            comment: "A training step of \(m.name) on \(gpus) GPUs.", end: picoseconds(result.stepSeconds))
        // Which streams each class of GPUs shows: its own, and its stage's shared ones.
        var used = Set<Int>()
        var collectiveOnCompute = Set<Int>()
        for (i, t) in plan.tasks.enumerated() where result.end[i] > result.start[i] {
            used.insert(t.stream)
            // Collectives the compute stream waits for get a row of their own beside it (those of an
            // overlapped tensor-parallel stream are that stream's row).
            if t.kind == .tp || t.kind == .ep || t.kind == .cp, plan.streams[t.stream].name.hasSuffix(".compute") { collectiveOnCompute.insert(t.stream) }
        }
        func title(_ stream: StepStream) -> String {
            let suffix = stream.name.split(separator: ".").last.map(String.init) ?? stream.name
            switch suffix {
            case "compute": return "compute"
            case "send-forward": return "pipeline →"
            case "send-backward": return "pipeline ←"
            default: return suffix.replacingOccurrences(of: "-", with: " ")
            }
        }
        // rows[stream] per entity: (entity, row); the collectives of a compute stream get their own row.
        var streamRows = Array(repeating: [(entity: Int, row: Int)](), count: plan.streams.count)
        var collectiveRows = Array(repeating: [(entity: Int, row: Int)](), count: plan.streams.count)
        for (e, en) in plan.entities.enumerated() {
            let pid = tl.process("\(en.name) (\(en.ranks.count) GPUs)")
            let lane = "\(en.name)\n\(en.ranks.count) GPUs"
            for (k, st) in plan.streams.enumerated() where used.contains(k) && (st.entity == e || (st.entity == nil && st.stage == en.stage)) {
                streamRows[k].append((e, tl.row(process: pid, lane: lane, title: title(st), track: st.name)))
                if collectiveOnCompute.contains(k) {
                    collectiveRows[k].append((e, tl.row(process: pid, lane: lane, title: "tp / cp / ep collectives", track: "\(en.name).collectives")))
                }
            }
        }
        for (i, t) in plan.tasks.enumerated() where result.end[i] > result.start[i] {
            let rows = (t.kind == .tp || t.kind == .ep || t.kind == .cp) && !collectiveRows[t.stream].isEmpty ? collectiveRows[t.stream] : streamRows[t.stream]
            var args: [(String, Timeline.Value)] = [("kind", .string(t.kind.rawValue))]
            var bytes: UInt64 = 0
            if case .collective(let c) = t.work {
                args += [("collective", .string("\(c.op.rawValue) over \(c.group.rawValue)")), ("bytes", .uint(c.bytes))]
                bytes = c.bytes
            }
            let s = picoseconds(result.start[i]), e = picoseconds(result.end[i])
            for r in rows { tl.spans.append(Span(row: r.row, start: s, end: e, name: t.name, category: t.kind.rawValue, bytes: bytes, args: args)) }
        }

        // The busiest links: busy times equal to 12 significant digits count as a tie, broken by
        // the link's name, so that the lanes do not depend on the last bits of a floating-point sum.
        func key(_ id: Int) -> Double {
            let x = result.linkBusy[id]
            return x == 0 ? 0 : (x * 1e12).rounded() / 1e12
        }
        let busiest = result.linkIDs.sorted { a, b in
            let x = key(a), y = key(b)
            return x != y ? x > y : plan.topology.describe(a).name < plan.topology.describe(b).name
        }.prefix(links)
        if !busiest.isEmpty {
            let pid = tl.process("busiest links")
            let index = Dictionary(uniqueKeysWithValues: busiest.enumerated().map { ($1, $0) })
            // Each collective task crossing a link: when it ran, and the seconds it kept the link
            // busy at full bandwidth (its bytes there / the link's capacity; a link slowed by a
            // fault part-way through the step is shaded at its slowed capacity throughout).
            var uses = Array(repeating: [(start: Double, end: Double, busy: Double)](), count: busiest.count)
            let capacity = busiest.map { plan.topology.capacity($0) }
            for i in plan.tasks.indices where result.end[i] > result.start[i] {
                let c = Int(result.taskCollective[i])
                guard c >= 0, c < result.collectiveLinks.count else { continue }
                for link in result.collectiveLinks[c] {
                    if let k = index[link.id] { uses[k].append((result.start[i], result.end[i], capacity[k] > 0 ? link.bytes / capacity[k] : 0)) }
                }
            }
            for (k, id) in busiest.enumerated() {
                let (name, kind) = plan.topology.describe(id)
                let util = result.stepSeconds > 0 ? result.linkBusy[id] / result.stepSeconds : 0
                let row = tl.row(process: pid, lane: "busiest links", title: "\(name) (\(formatDecimal(util * 100, maxDecimals: 1))%)", track: name, style: .thin)
                for span in Self.busySpans(uses[k]) {
                    let band = Self.linkBand(span.share)
                    tl.spans.append(Span(
                        row: row, start: picoseconds(span.start), end: picoseconds(span.end), name: name, category: "link.\(band)",
                        args: [
                            ("link", .string(name)), ("kind", .string(kind)), ("bandwidth_share", .double(span.share)), ("utilization_in_step", .double(util)),
                        ]))
                }
            }
            tl.notes.append(
                "links: the \(busiest.count) busiest of \(result.linkIDs.count), each drawn while a collective crossing it runs, shaded by the share of its bandwidth "
                    + "those collectives used (their bytes on it / capacity / the span's length)")
        }
        tl.legend = [
            ("forward", "forward"), ("backward", "backward"), ("head", "output layer"), ("optimizer", "optimizer"), ("tp", "tensor-parallel all-reduce"),
            ("ep", "expert all-to-all"), ("cp", "context-parallel KV"), ("pp", "pipeline transfer"), ("dp", "gradient / parameter collective"),
        ] + Self.linkLegend
        if let energy { tl.counters.append(powerCounter(energy)) }
        tl.counterProcess = "power (all GPUs and links)"
        tl.metadata = [("model", .string(m.name)), ("gpus", .int(Int64(gpus))), ("step_s", .double(result.stepSeconds))]
        return tl
    }

    /// The bands a link's busy span is shaded by: the share of its bandwidth in use.
    static let linkBandEdges = [0.2, 0.4, 0.6, 0.8]
    static func linkBand(_ share: Double) -> Int { linkBandEdges.firstIndex { share < $0 } ?? linkBandEdges.count }
    static let linkLegend: [(category: String, label: String)] = [
        ("link.0", "link, < 20% of its bandwidth"), ("link.1", "link, 20–40%"), ("link.2", "link, 40–60%"), ("link.3", "link, 60–80%"),
        ("link.4", "link, ≥ 80%"),
    ]

    /// The union of a link's uses, each merged span with the share of the link's bandwidth used
    /// in it (Σ busy seconds of its uses / its length, at most 1).
    static func busySpans(_ uses: [(start: Double, end: Double, busy: Double)]) -> [(start: Double, end: Double, share: Double)] {
        let sorted = uses.sorted { $0.start != $1.start ? $0.start < $1.start : $0.end < $1.end }
        var out: [(start: Double, end: Double, share: Double)] = []
        var open: (start: Double, end: Double, busy: Double)?
        func close() {
            guard let o = open else { return }
            let length = o.end - o.start
            out.append((o.start, o.end, length > 0 ? min(1, o.busy / length) : 0))
        }
        for u in sorted {
            if var o = open, u.start <= o.end {
                o.end = max(o.end, u.end)
                o.busy += u.busy
                open = o
            } else {
                close()
                open = u
            }
        }
        close()
        return out
    }

    /// A serving run: one lane per instance, a row of iterations (runs of back-to-back prefills or
    /// decode steps, with their count and largest batch) and, on instances that receive them, a
    /// row of KV caches arriving.
    static func serving(plan: ServingPlan, result: ContinuousBatching.Result, energy: EnergyAccount?) -> Timeline {
        let gpus = plan.topology.spec.nodes * plan.topology.spec.gpusPerNode
        var tl = Timeline(
            title: "\(plan.spec.transformer.name), \(plan.spec.mode.rawValue): \(result.requests.count) requests in \(DOTText.seconds(result.end))",
            comment: "LLM serving on \(gpus) GPUs.", end: picoseconds(result.end))
        let receives = Set(result.requests.filter { $0.kvTransfer > 0 && $0.decodeInstance >= 0 }.map(\.decodeInstance))
        var iterationRow: [Int] = [], kvRow: [Int: Int] = [:]
        for (i, inst) in plan.instances.enumerated() {
            let pid = tl.process("\(inst.name) (\(inst.role.rawValue), \(inst.ranks.count) GPUs)")
            let lane = "\(inst.name)\n\(inst.role.rawValue), \(inst.ranks.count) GPUs"
            iterationRow.append(tl.row(process: pid, lane: lane, title: "iterations", track: "iterations"))
            if receives.contains(i) { kvRow[i] = tl.row(process: pid, lane: lane, title: "KV caches in", track: "KV caches in") }
        }
        for run in result.iterationRuns where run.end > run.start && Int(run.instance) < iterationRow.count {
            let kind = run.prefill ? "prefill" : "decode"
            let name = run.count == 1 ? kind : "\(kind) ×\(run.count)"
            var args: [(String, Value)] = [("iterations", .int(Int64(run.count))), ("batch", .int(Int64(run.batch)))]
            if run.minBatch != run.batch { args.append(("smallest_batch", .int(Int64(run.minBatch)))) }
            tl.spans.append(Span(row: iterationRow[Int(run.instance)], start: picoseconds(run.start), end: picoseconds(run.end), name: name, category: kind, args: args))
        }
        for (r, q) in result.requests.enumerated() where q.kvTransfer > 0 && q.decodeInstance >= 0 {
            guard let row = kvRow[q.decodeInstance] else { continue }
            tl.spans.append(Span(
                row: row, start: picoseconds(q.firstToken), end: picoseconds(q.firstToken + q.kvTransfer), name: "request \(r) KV cache", category: "kv",
                args: [("prompt_tokens", .int(Int64(q.prompt)))]))
        }
        tl.legend = [("prefill", "prefill iteration"), ("decode", "decode iteration"), ("kv", "KV cache arriving")]
        if let energy { tl.counters.append(powerCounter(energy)) }
        tl.counterProcess = "power (all GPUs and links)"
        tl.metadata = [("model", .string(plan.spec.transformer.name)), ("requests", .int(Int64(result.requests.count)))]
        return tl
    }

    /// A collective benchmark: its sizes one after another, each a span with its algorithm and
    /// bandwidths.
    static func collectives(_ rows: [(plan: CollectivePlan, start: Picoseconds, end: Picoseconds, algbwGBps: Double, busbwGBps: Double)], ranks: Int, energy: EnergyAccount?) -> Timeline {
        let end = rows.last?.end ?? 0
        let op = rows.first?.plan.op.rawValue ?? "collective"
        var tl = Timeline(title: "\(op) on \(ranks) GPUs: \(rows.count) size\(rows.count == 1 ? "" : "s") in \(DOTText.seconds(Double(end) / 1e12))", comment: "A collective benchmark on \(ranks) GPUs.", end: end)
        let pid = tl.process("collectives (\(ranks) GPUs)")
        let row = tl.row(process: pid, lane: "\(ranks) GPUs", title: "sizes", track: "collectives")
        for r in rows {
            tl.spans.append(Span(
                row: row, start: r.start, end: r.end, name: "\(r.plan.op.rawValue) \(formatBytes(r.plan.bytes))", category: "collective",
                bytes: r.plan.bytes,
                args: [
                    ("algorithm", .string(r.plan.algorithm.rawValue)), ("bytes", .uint(r.plan.bytes)), ("algbw_GBps", .double(r.algbwGBps)),
                    ("busbw_GBps", .double(r.busbwGBps)),
                ]))
        }
        tl.legend = [("collective", "collective (one size)")]
        if let energy { tl.counters.append(powerCounter(energy)) }
        tl.counterProcess = "power (all GPUs and links)"
        return tl
    }
}
