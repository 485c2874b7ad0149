import Foundation
import TesseraCore
import TesseraOutput

/// Assembles a sweep's results from the per-point records of its output directory, in point
/// order: `results.csv` (one row per point), `results.json` (one record per point), and
/// `pareto.csv` (the rows on the Pareto front). It reads only the manifest and the records, so a
/// single run and a merge of shards give the same bytes.
///
/// CSV columns: `point`, one per axis (the path as written), `status` (ok, invalid, failed,
/// crashed), one per objective, `pareto` (true on the front, false off it, empty when not ok),
/// `report` (relative to the directory) and `error`.
public enum SweepResults {
    public struct Summary: Sendable, Hashable {
        public var points = 0
        public var ok = 0
        public var invalid = 0
        public var failed = 0
        public var crashed = 0
        /// The points on the Pareto front, ascending.
        public var front: [Int] = []
    }

    /// Records are read this many at a time (on `jobs` threads), so memory stays bounded.
    static let chunk = 2048

    /// The records of points `range`, read on `jobs` threads.
    private static func records(_ range: Range<Int>, in directory: SweepDirectory, jobs: Int) -> [SweepRecord?] {
        ParallelMap.map(Array(range), jobs: jobs) { SweepRecord.read(directory.record($0)) }
    }

    /// Writes the three files; every point must have a record.
    public static func assemble(manifest: SweepManifest, in directory: SweepDirectory, jobs: Int = 1) throws(InputError) -> Summary {
        // Pass 1: which points are there, and the objective vectors of the ok ones.
        let paretoColumns = manifest.pareto.compactMap { p in manifest.objectives.firstIndex { $0.name == p } }
        var missing: [Int] = []
        var vectors: [[Double]] = []
        var vectorPoints: [Int] = []
        var summary = Summary()
        summary.points = manifest.points
        for start in stride(from: 0, to: manifest.points, by: chunk) {
            let range = start..<min(manifest.points, start + chunk)
            for (k, record) in zip(range, records(range, in: directory, jobs: jobs)) {
                guard let r = record, r.point == k, r.values.count == manifest.axes.count else {
                    missing.append(k)
                    continue
                }
                switch r.status {
                case .ok: summary.ok += 1
                case .invalid: summary.invalid += 1
                case .failed: summary.failed += 1
                case .crashed: summary.crashed += 1
                }
                guard r.status == .ok, r.objectives.count == manifest.objectives.count else { continue }
                let v = paretoColumns.map { c -> Double in
                    guard let x = r.objectives[c] else { return .nan }
                    return manifest.objectives[c].goal == "max" ? -x : x
                }
                vectors.append(v)
                vectorPoints.append(k)
            }
        }
        if !missing.isEmpty {
            throw InputError(
                Diagnostic(
                    at: nil, "'\(directory.path)' lacks the results of \(missing.count) of \(manifest.points) points",
                    expected: "a record for every point (run the missing shards, or merge every shard's directory)",
                    found: "no record for point" + (missing.count > 1 ? "s " : " ") + missing.prefix(10).map(String.init).joined(separator: ", ")
                        + (missing.count > 10 ? ", …" : "")))
        }
        let front = Set(ParetoFront.indices(vectors).map { vectorPoints[$0] })
        summary.front = front.sorted()

        // Pass 2: stream the rows.
        do {
            let csv = try StreamedFile(path: directory.resultsCSV)
            let pareto = try StreamedFile(path: directory.paretoCSV)
            let json = try StreamedFile(path: directory.resultsJSON)
            let header = CSV.row(["point"] + manifest.axes.map(\.path) + ["status"] + manifest.objectives.map(\.name) + ["pareto", "report", "error"])
            try csv.write(header)
            try pareto.write(header)
            try json.write(jsonHead(manifest, summary))
            for start in stride(from: 0, to: manifest.points, by: chunk) {
                let range = start..<min(manifest.points, start + chunk)
                for (k, record) in zip(range, records(range, in: directory, jobs: jobs)) {
                    guard let r = record else { continue }
                    let onFront = front.contains(k)
                    let row = CSV.row(
                        [String(k)] + r.values + [r.status.rawValue]
                            + manifest.objectives.indices.map { i in
                                i < r.objectives.count ? r.objectives[i].map(JSONValue.number) ?? "" : ""
                            } + [r.status == .ok ? String(onFront) : "", r.report ?? "", r.errors.joined(separator: "; ")])
                    try csv.write(row)
                    if onFront { try pareto.write(row) }
                    try json.write((k == 0 ? "" : ",\n") + "    " + pointJSON(r, manifest: manifest, onFront: onFront).render(indent: 2))
                }
            }
            try json.write("\n  ]\n}\n")
            try csv.commit()
            try pareto.commit()
            try json.commit()
        } catch {
            throw InputError(Diagnostic(at: nil, error.description))
        }
        return summary
    }

    private static func jsonHead(_ m: SweepManifest, _ s: Summary) -> String {
        let head: JSONValue = .object([
            ("tessera", .int(Int64(m.tessera))),
            ("sweep", .string(m.sweep)),
            ("digest", .string(m.digest)),
            ("points", .int(Int64(m.points))),
            (
                "axes",
                .array(m.axes.map { .object([("path", .string($0.path)), ("target", .string($0.target)), ("values", .array($0.values.map(typedValue)))]) })
            ),
            ("objectives", .array(m.objectives.map { .object([("name", .string($0.name)), ("goal", .string($0.goal)), ("unit", .string($0.unit))]) })),
            ("pareto_objectives", .array(m.pareto.map(JSONValue.string))),
            (
                "summary",
                .object([
                    ("ok", .int(Int64(s.ok))), ("invalid", .int(Int64(s.invalid))), ("failed", .int(Int64(s.failed))), ("crashed", .int(Int64(s.crashed))),
                    ("pareto", .int(Int64(s.front.count))),
                ])
            ),
        ])
        // The object without its closing brace, then the point records, streamed.
        var text = head.render()
        text.removeLast(2)  // "\n}"
        return text + ",\n  \"results\": [\n"
    }

    private static func pointJSON(_ r: SweepRecord, manifest m: SweepManifest, onFront: Bool) -> JSONValue {
        var pairs: [(String, JSONValue)] = [
            ("point", .int(Int64(r.point))),
            ("values", .object(zip(m.axes, r.values).map { ($0.path, typedValue($1)) })),
            ("status", .string(r.status.rawValue)),
        ]
        if r.status == .ok {
            pairs.append(
                (
                    "objectives",
                    .object(
                        m.objectives.indices.map { i in (m.objectives[i].name, i < r.objectives.count ? r.objectives[i].map(JSONValue.double) ?? .null : .null)
                        })
                ))
            pairs.append(("pareto", .bool(onFront)))
        }
        if let report = r.report { pairs.append(("report", .string(report))) }
        if !r.errors.isEmpty { pairs.append(("errors", .array(r.errors.map(JSONValue.string)))) }
        return .object(pairs)
    }

    /// A value as JSON: a number when the text is a plain integer or decimal, a string otherwise.
    static func typedValue(_ text: String) -> JSONValue {
        if let i = Int64(text) { return .int(i) }
        if text.first.map({ $0.isNumber || $0 == "-" }) == true, text.allSatisfy({ $0.isNumber || ".-+eE".contains($0) }), let d = Double(text), d.isFinite {
            return .double(d)
        }
        return .string(text)
    }
}
