import TesseraCore
import TesseraGraph
import TesseraOutput
import TesseraPlan
import TesseraSim

/// The lane provider of the clocked families (`array`, `sparse-training-array`, `edge-soc`): a
/// cycle-level run's intervals as the one `Timeline`.
///
/// Bands on top: layer blocks (when blocks group layers), each layer's span on the critical path
/// (runs whose operations overlap, on several units, have none: their compute is coloured by
/// pass instead), and an edge SoC's clock (one segment per operating point). Then one lane per
/// resource: each compute array (compute intervals, and the gaps between them as `stall`, `idle`
/// or `waiting`), each other unit (vector, mask generator, CPU) and the DRAM channel, with a row
/// per activity (operand loads, write-backs, memory-only layers). A DRAM transfer is shown as the
/// channel's occupancy: it completes `latency` after it leaves the channel, so consecutive
/// transfers would otherwise overlap by the latency; its `args` give the latency.
extension Timeline {
    static func accelerator(plan: Plan, result: SimResult, hardwareName: String, workloadName: String, energy: EnergyAccount?) -> Timeline {
        let period = plan.hardware.clock.periodPicoseconds
        let multiUnit = plan.schedule != nil
        let totalStall = result.ops.reduce(UInt64(0)) { $0 + $1.stallCycles }
        var tl = Timeline(
            title:
                "\(workloadName) on \(hardwareName): \(DOTText.grouped(result.totalCycles)) cycles (\(DOTText.grouped(totalStall)) stalled), \(DOTText.seconds(Double(result.totalPicoseconds) / 1e12)) at \(DOTText.frequency(plan.hardware.clock.hertz))",
            comment: "The schedule of \(workloadName) on \(hardwareName).", end: result.totalPicoseconds, clockPeriod: period)
        let pid = tl.process("\(workloadName) on \(hardwareName)")
        func layerArgs(_ op: Int) -> [(String, Timeline.Value)] {
            [("layer", .string(plan.ops[op].name)), ("op", .string(plan.ops[op].opName)), ("phase", .string(plan.ops[op].pass.rawValue.uppercased()))]
        }
        let blockIndex = LayerBlocks.indices(plan.ops.map(\.name))
        let hasBlocks = !multiUnit && Set(blockIndex).count < plan.ops.count

        // Bands.
        if hasBlocks {
            let row = tl.row(process: pid, lane: "blocks", title: "blocks", style: .band)
            var start = 0
            while start < result.ops.count {
                var last = start
                while last + 1 < result.ops.count, blockIndex[last + 1] == blockIndex[start] { last += 1 }
                let span = result.ops[start...last]
                let s = span.map(\.start).min() ?? 0, e = span.map(\.end).max() ?? 0
                if e > s {
                    tl.spans.append(Timeline.Span(
                        row: row, start: s, end: e, name: LayerBlocks.block(of: plan.ops[start].name), category: "block", key: blockIndex[start], coarseKey: blockIndex[start],
                        args: [
                            ("layers", .int(Int64(last - start + 1))), ("cycles", .uint(span.reduce(0) { $0 + $1.totalCycles })),
                            ("stall_cycles", .uint(span.reduce(0) { $0 + $1.stallCycles })),
                        ]))
                }
                start = last + 1
            }
        }
        if !multiUnit {
            let row = tl.row(process: pid, lane: "layers", title: "layers", style: .band)
            for (i, o) in result.ops.enumerated() {
                let p = plan.ops[i]
                tl.spans.append(Timeline.Span(
                    row: row, start: o.start, end: o.end, name: p.name, category: "layer", key: i, coarseKey: blockIndex[i],
                    args: layerArgs(i) + [
                        ("macs", .uint(p.macs)), ("compute_cycles", .uint(o.computeCycles)), ("stall_cycles", .uint(o.stallCycles)),
                        ("total_cycles", .uint(o.totalCycles)), ("dram_read_bytes", .uint(o.dramReadBytes)), ("dram_write_bytes", .uint(o.dramWriteBytes)),
                        ("unit", .string(p.unit ?? "none")),
                    ]))
            }
        }
        if let power = plan.schedule?.power {
            let row = tl.row(process: pid, lane: "clock", title: "clock", style: .band)
            let changes = result.operatingPoints
            for (k, c) in changes.enumerated() {
                let end = k + 1 < changes.count ? changes[k + 1].start : result.totalPicoseconds
                let mhz = power.points[c.point].hertz / 1e6
                tl.spans.append(Timeline.Span(
                    row: row, start: c.start, end: max(c.start, end), name: "\(DOTText.number(mhz)) MHz", category: "clock\(min(c.point, 3))", key: k, coarseKey: k,
                    args: [("operating_point", .int(Int64(c.point))), ("MHz", .double(mhz)), ("dynamic_energy_scale", .double(c.scale))]))
            }
            if changes.count > 1 { tl.notes.append("the governor changed the operating point \(changes.count - 1) time\(changes.count == 2 ? "" : "s")") }
            tl.counters.append(Counter(name: "clock", unit: "MHz", samples: changes.map { ($0.start, power.points[$0.point].hertz / 1e6) }))
        }

        // One lane per resource.
        let lanes = TimelineLanes(plan: plan, result: result)
        for lane in lanes.lanes {
            if lane.isCompute {
                let row = tl.row(process: pid, lane: lane.resource, title: "", track: lane.resource, style: lane.isArray ? .tall : .normal)
                for iv in lane.intervals where iv.activity == .compute {
                    let category = multiUnit ? plan.ops[iv.op].pass.rawValue : "compute"
                    tl.spans.append(Timeline.Span(
                        row: row, start: iv.start, end: iv.end, name: plan.ops[iv.op].name, category: category, key: iv.op, coarseKey: blockIndex[iv.op],
                        args: layerArgs(iv.op) + [("activity", .string("compute")), ("cycles", .uint(ceilDiv(iv.end - iv.start, period))), ("layer_macs", .uint(plan.ops[iv.op].macs))]))
                }
                for g in lanes.gaps(lane, from: 0, to: result.totalPicoseconds) {
                    tl.spans.append(Timeline.Span(
                        row: row, start: g.start, end: g.end, name: g.kind.rawValue, category: g.kind.rawValue, key: g.op, coarseKey: blockIndex[g.op], isGap: true,
                        args: layerArgs(g.op) + [("stall_cycles", .uint(ceilDiv(g.end - g.start, period))), ("why", .string(g.kind.why))]))
                }
                continue
            }
            let latency = lane.resource == plan.hardware.dram.name ? plan.hardware.dram.latency.picoseconds : 0
            let present = Set(lane.intervals.map(\.activity))
            var rowOf: [Activity: Int] = [:]
            for (activity, title) in [(Activity.load, "load"), (.writeback, "write-back"), (.memory, "pool / eltwise")] where present.contains(activity) {
                rowOf[activity] = tl.row(process: pid, lane: lane.resource, title: title, track: "\(lane.resource) \(title)", style: .normal)
            }
            if rowOf.isEmpty { _ = tl.row(process: pid, lane: lane.resource, title: "", track: lane.resource, style: .normal) }
            for iv in lane.intervals {
                guard let row = rowOf[iv.activity] else { continue }
                let end = max(iv.start, iv.end >= latency ? iv.end - latency : 0)
                var args = layerArgs(iv.op) + [("activity", .string(iv.activity.rawValue)), ("cycles", .uint(ceilDiv(end - iv.start, period))), ("bytes", .uint(iv.bytes))]
                if latency > 0 { args.append(("latency_cycles", .uint(ceilDiv(latency, period)))) }
                tl.spans.append(Timeline.Span(
                    row: row, start: iv.start, end: end, name: plan.ops[iv.op].name, category: iv.activity.rawValue, key: iv.op, coarseKey: blockIndex[iv.op],
                    bytes: iv.bytes, args: args))
            }
        }

        tl.legend =
            multiUnit
            ? [
                ("ff", "FF"), ("bp", "BP"), ("wg", "WG"), ("update", "update"), ("maskgen", "mask generation"), ("loss", "loss"),
                ("waiting", "array waiting"), ("load", "DRAM load"), ("writeback", "DRAM write-back"), ("memory", "pool / eltwise traffic"),
            ]
            : [
                ("compute", "compute"), ("stall", "stall (waiting for DRAM)"), ("idle", "array idle (memory-only layer)"), ("load", "DRAM load"),
                ("writeback", "DRAM write-back"), ("memory", "pool / eltwise traffic"),
            ]
        if let energy { tl.counters.append(Timeline.powerCounter(energy)) }
        tl.counterProcess = "power and clock"
        tl.metadata = [
            ("hardware", .string(hardwareName)), ("workload", .string(workloadName)), ("clock_hz", .double(plan.hardware.clock.hertz)),
            ("total_cycles", .uint(result.totalCycles)),
        ]
        return tl
    }
}

extension TimelineLanes.GapKind {
    /// Why the array was idle, in words.
    var why: String {
        switch self {
        case .stall: "waiting for DRAM"
        case .idle: "memory-only layer running"
        case .waiting: "no tile ready: inputs, a mask or operands not in yet"
        }
    }
}
