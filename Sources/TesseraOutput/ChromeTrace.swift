import TesseraCore
import TesseraSim

/// The one Chrome-trace writer: any run's `Timeline` as trace-event JSON
/// (`{"traceEvents": [...], "displayTimeUnit": "ns", "otherData": {...}}`), which chrome://tracing
/// and Perfetto (ui.perfetto.dev) open.
///
/// Each timeline process is a trace process (`pid` from 1, named by `M` events) and each row a
/// track (`tid` from 1, named and sorted in timeline order); each span is a complete (`X`) event
/// with `ts` and `dur` in microseconds (fractional: engine time is picoseconds), its category as
/// `cat` and its details as `args`, in time order per track. Counters (power, a clock) are `C`
/// events in a process of their own. `otherData` carries the report schema and the run's details.
public struct ChromeTrace: Sendable {
    public var timeline: Timeline

    public init(_ timeline: Timeline) { self.timeline = timeline }

    public func value() -> JSONValue {
        let tl = timeline
        var events: [JSONValue] = []
        func meta(_ name: String, pid: Int64, tid: Int64?, _ args: [(String, JSONValue)]) {
            var pairs: [(String, JSONValue)] = [("name", .string(name)), ("ph", .string("M")), ("ts", .int(0)), ("pid", .int(pid))]
            if let tid { pairs.append(("tid", .int(tid))) }
            pairs.append(("args", .object(args)))
            events.append(.object(pairs))
        }
        func us(_ ps: Picoseconds) -> JSONValue { .double(Double(ps) / 1e6) }
        for (p, name) in tl.processes.enumerated() {
            meta("process_name", pid: Int64(p + 1), tid: nil, [("name", .string(name))])
            meta("process_sort_index", pid: Int64(p + 1), tid: nil, [("sort_index", .int(Int64(p)))])
        }
        for (r, row) in tl.rows.enumerated() {
            meta("thread_name", pid: Int64(row.process + 1), tid: Int64(r + 1), [("name", .string(row.track))])
            meta("thread_sort_index", pid: Int64(row.process + 1), tid: Int64(r + 1), [("sort_index", .int(Int64(r + 1)))])
        }
        var byRow = Array(repeating: [Int](), count: tl.rows.count)
        for (i, s) in tl.spans.enumerated() where s.row >= 0 && s.row < tl.rows.count { byRow[s.row].append(i) }
        for (r, ids) in byRow.enumerated() {
            let pid = Int64(tl.rows[r].process + 1)
            for i in ids.sorted(by: { (tl.spans[$0].start, $0) < (tl.spans[$1].start, $1) }) {
                let s = tl.spans[i]
                events.append(
                    .object([
                        ("name", .string(s.name)), ("cat", .string(s.category)), ("ph", .string("X")), ("ts", us(s.start)),
                        ("dur", us(s.end >= s.start ? s.end - s.start : 0)), ("pid", .int(pid)), ("tid", .int(Int64(r + 1))),
                        ("args", .object(s.args.map { ($0.0, Self.json($0.1)) })),
                    ]))
            }
        }
        if !tl.counters.isEmpty {
            let pid = Int64(tl.processes.count + 1)
            meta("process_name", pid: pid, tid: nil, [("name", .string(tl.counterProcess))])
            meta("process_sort_index", pid: pid, tid: nil, [("sort_index", .int(Int64(tl.processes.count)))])
            for c in tl.counters {
                for sample in c.samples {
                    events.append(
                        .object([
                            ("name", .string(c.name)), ("ph", .string("C")), ("ts", us(sample.at)), ("pid", .int(pid)), ("tid", .int(0)),
                            ("args", .object([(c.unit, .double(sample.value))])),
                        ]))
                }
            }
        }
        return .object([
            ("traceEvents", .array(events)),
            ("displayTimeUnit", .string("ns")),
            ("otherData", .object([("tessera", .int(Int64(Report.schemaVersion)))] + tl.metadata.map { ($0.0, Self.json($0.1)) })),
        ])
    }

    /// The trace as JSON text with a trailing newline.
    public func json() -> String { value().render(trailingNewline: true) }

    static func json(_ v: Timeline.Value) -> JSONValue {
        switch v {
        case .string(let s): .string(s)
        case .int(let i): .int(i)
        case .uint(let u): .uint(u)
        case .double(let d): .double(d)
        }
    }
}
