import TesseraCore
import TesseraPlan
import TesseraSim

/// The timeline as Chrome trace-event JSON (`{"traceEvents": [...], "displayTimeUnit": "ns"}`),
/// which chrome://tracing and Perfetto (ui.perfetto.dev) open.
///
/// One process (the accelerator) with one track per resource: `layers` (each layer's span on the
/// critical path), then each compute array (compute intervals, and the gaps between them as
/// `stall` or `idle` events) and the DRAM channel (loads, write-backs, memory-only traffic).
/// DRAM events show the channel's occupancy (a transfer completes `latency_cycles` after it ends).
/// `M` events name the process and tracks; every other event is a complete (`X`) event with `ts`
/// and `dur` in microseconds (fractional: engine time is picoseconds). `args` carry the layer, its
/// op, the phase (`FF`: inference is forward only), MACs, bytes, cycles and stall cycles.
public struct ChromeTrace: Sendable {
    public var plan: Plan
    public var result: SimResult
    public var hardwareName: String
    public var workloadName: String
    /// The phase every event belongs to: `FF` (forward) for inference.
    public var phase: String
    /// The run's energy account, for the power track (the report's, so that it is not integrated
    /// again; computed from the plan and result when nil).
    public var energy: EnergyAccount?

    public init(plan: Plan, result: SimResult, hardwareName: String, workloadName: String, phase: String = "FF", energy: EnergyAccount? = nil) {
        self.plan = plan
        self.result = result
        self.hardwareName = hardwareName
        self.workloadName = workloadName
        self.phase = phase
        self.energy = energy
    }

    static let pid: Int64 = 1

    public func value() -> JSONValue {
        let lanes = TimelineLanes(plan: plan, result: result)
        let period = plan.hardware.clock.periodPicoseconds
        var events: [JSONValue] = []
        func meta(_ name: String, tid: Int64, _ args: [(String, JSONValue)]) {
            events.append(
                .object([("name", .string(name)), ("ph", .string("M")), ("ts", .int(0)), ("pid", .int(Self.pid)), ("tid", .int(tid)), ("args", .object(args))]))
        }
        func us(_ ps: Picoseconds) -> JSONValue { .double(Double(ps) / 1e6) }
        func complete(_ name: String, cat: String, tid: Int64, start: Picoseconds, end: Picoseconds, _ args: [(String, JSONValue)]) {
            events.append(
                .object([
                    ("name", .string(name)), ("cat", .string(cat)), ("ph", .string("X")), ("ts", us(start)), ("dur", us(end >= start ? end - start : 0)),
                    ("pid", .int(Self.pid)), ("tid", .int(tid)), ("args", .object(args)),
                ]))
        }
        func layerArgs(_ op: Int) -> [(String, JSONValue)] {
            [
                ("layer", .string(plan.ops[op].name)), ("op", .string(plan.ops[op].opName)),
                ("phase", .string(plan.schedule == nil ? phase : plan.ops[op].pass.rawValue.uppercased())),
            ]
        }

        meta("process_name", tid: 0, [("name", .string("\(workloadName) on \(hardwareName)"))])
        meta("process_sort_index", tid: 0, [("sort_index", .int(0))])
        meta("thread_name", tid: 1, [("name", .string("layers"))])
        meta("thread_sort_index", tid: 1, [("sort_index", .int(1))])
        for (k, lane) in lanes.lanes.enumerated() {
            meta("thread_name", tid: Int64(k + 2), [("name", .string(lane.resource))])
            meta("thread_sort_index", tid: Int64(k + 2), [("sort_index", .int(Int64(k + 2)))])
        }

        // Multi-unit operations overlap; their slices are on the unit tracks only.
        for (i, o) in result.ops.enumerated() where plan.schedule == nil {
            let p = plan.ops[i]
            complete(
                p.name, cat: "layer", tid: 1, start: o.start, end: o.end,
                layerArgs(i) + [
                    ("macs", .uint(p.macs)), ("compute_cycles", .uint(o.computeCycles)), ("stall_cycles", .uint(o.stallCycles)),
                    ("total_cycles", .uint(o.totalCycles)), ("dram_read_bytes", .uint(o.dramReadBytes)), ("dram_write_bytes", .uint(o.dramWriteBytes)),
                    ("unit", p.unit.map(JSONValue.string) ?? .null),
                ])
        }
        for (k, lane) in lanes.lanes.enumerated() {
            let tid = Int64(k + 2)
            var items: [(start: Picoseconds, end: Picoseconds, name: String, cat: String, args: [(String, JSONValue)])] = []
            // A DRAM transfer's interval runs until it completes, `latency` after it leaves the
            // channel, so consecutive transfers overlap by the latency; a trace track must not hold
            // overlapping slices, so it shows the channel's occupancy and gives the latency in args.
            let latency = lane.resource == plan.hardware.dram.name ? plan.hardware.dram.latency.picoseconds : 0
            for iv in lane.intervals {
                let end = max(iv.start, iv.end >= latency ? iv.end - latency : 0)
                var args = layerArgs(iv.op) + [("activity", .string(iv.activity.rawValue)), ("cycles", .uint(ceilDiv(end - iv.start, period)))]
                if iv.activity == .compute {
                    args.append(("layer_macs", .uint(plan.ops[iv.op].macs)))
                } else {
                    args.append(("bytes", .uint(iv.bytes)))
                    if latency > 0 { args.append(("latency_cycles", .uint(ceilDiv(latency, period)))) }
                }
                items.append((iv.start, end, plan.ops[iv.op].name, iv.activity.rawValue, args))
            }
            for g in lanes.gaps(lane, from: 0, to: result.totalPicoseconds) {
                let args = layerArgs(g.op) + [("stall_cycles", .uint(ceilDiv(g.end - g.start, period)))]
                items.append((g.start, g.end, g.kind.rawValue, g.kind.rawValue, args))
            }
            let sorted = items.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }
            for (_, e) in sorted { complete(e.name, cat: e.cat, tid: tid, start: e.start, end: e.end, e.args) }
        }
        // An edge SoC's clock: a counter track of the operating point's frequency.
        if let power = plan.schedule?.power {
            for c in result.operatingPoints {
                events.append(
                    .object([
                        ("name", .string("clock")), ("ph", .string("C")), ("ts", us(c.start)), ("pid", .int(Self.pid)), ("tid", .int(0)),
                        ("args", .object([("MHz", .double(power.points[c.point].hertz / 1e6))])),
                    ]))
            }
        }
        // Power over time: a counter track, one sample per energy window (static included).
        events += Self.powerCounters(energy ?? EnergyAccount(plan: plan, result: result), pid: Self.pid)
        return .object([
            ("traceEvents", .array(events)),
            ("displayTimeUnit", .string("ns")),
            (
                "otherData",
                .object([
                    ("tessera", .int(Int64(Report.schemaVersion))), ("hardware", .string(hardwareName)), ("workload", .string(workloadName)),
                    ("clock_hz", .double(plan.hardware.clock.hertz)), ("total_cycles", .uint(result.totalCycles)),
                ])
            ),
        ])
    }

    /// The trace as JSON text with a trailing newline.
    public func json() -> String { value().render() + "\n" }

    /// A "power" counter track from an energy account's windows (a sample where the power
    /// changes, zero at the end), for the trace writers whose time is in seconds.
    public static func powerCounters(_ energy: EnergyAccount, pid: Int64) -> [JSONValue] {
        var events: [JSONValue] = []
        var previous: Double? = nil
        func sample(_ seconds: Double, _ watts: Double) -> JSONValue {
            .object([
                ("name", .string("power")), ("ph", .string("C")), ("ts", .double(seconds * 1e6)), ("pid", .int(pid)), ("tid", .int(0)),
                ("args", .object([("watts", .double(watts))])),
            ])
        }
        for (w, watts) in energy.windowWatts.enumerated() where watts != previous {
            events.append(sample(Double(w) * energy.windowSeconds, watts))
            previous = watts
        }
        if !energy.windowWatts.isEmpty { events.append(sample(energy.seconds, 0)) }
        return events
    }
}
