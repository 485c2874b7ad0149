import Foundation
import TesseraCore
import TesseraSpec
import TesseraOutput

/// What a sweep's output directory holds, and everything needed to assemble its results without
/// the sweep file (which is what `tessera sweep merge` works from).
///
/// ```
/// DIR/sweep.json          the manifest: sweep name, digest, axes, objectives, shard
/// DIR/points/NNNN.json    one record per finished point (written last, atomically: it marks the point done)
/// DIR/points/started-I-of-N.log  the points shard I/N started, one per line (to find a point that killed a run)
/// DIR/reports/NNNN.json   the point's full report
/// DIR/results.csv         one row per point, in point order, with the Pareto front marked
/// DIR/results.json        the same as JSON records
/// DIR/pareto.csv          the rows on the front
/// DIR/plots/              the sweep file's plots
/// ```
public struct SweepManifest: Sendable, Hashable, Codable {
    public struct Axis: Sendable, Hashable, Codable {
        public var path: String
        public var target: String
        public var values: [String]
    }
    public struct Objective: Sendable, Hashable, Codable {
        public var name: String
        public var goal: String
        public var unit: String
    }

    public var tessera: Int
    public var sweep: String
    public var digest: String
    /// `SweepSpec.frameDigest`; absent from manifests written before it existed.
    public var frame: String?
    public var points: Int
    public var shard: String
    public var axes: [Axis]
    public var objectives: [Objective]
    public var pareto: [String]

    public static let fileName = "sweep.json"

    public init(spec: SweepSpec, shard: SweepShard) {
        tessera = Report.schemaVersion
        sweep = spec.name
        digest = spec.digest
        frame = spec.frameDigest
        points = spec.count
        self.shard = shard.description
        axes = spec.axes.map { Axis(path: $0.path, target: $0.target.rawValue, values: $0.texts) }
        objectives = spec.objectives.map { o in
            let known = SweepObjective.named(o.name)
            return Objective(name: o.name, goal: known?.goal.rawValue ?? "min", unit: known?.unit ?? "")
        }
        pareto = spec.pareto.map(\.name)
    }

    /// The manifest as written: keys in a fixed order.
    public func json() -> String {
        let value: JSONValue = .object([
            ("tessera", .int(Int64(tessera))),
            ("kind", .string("tessera-sweep")),
            ("sweep", .string(sweep)),
            ("digest", .string(digest)),
            ("frame", frame.map(JSONValue.string) ?? .null),
            ("points", .int(Int64(points))),
            ("shard", .string(shard)),
            (
                "axes",
                .array(axes.map { .object([("path", .string($0.path)), ("target", .string($0.target)), ("values", .array($0.values.map(JSONValue.string)))]) })
            ),
            ("objectives", .array(objectives.map { .object([("name", .string($0.name)), ("goal", .string($0.goal)), ("unit", .string($0.unit))]) })),
            ("pareto", .array(pareto.map(JSONValue.string))),
        ])
        return value.render() + "\n"
    }

    /// True when both describe the same sweep (the shard may differ).
    public func sameSweep(as other: SweepManifest) -> Bool {
        var a = self
        a.shard = other.shard
        return a == other
    }
}

/// Paths inside one sweep output directory.
public struct SweepDirectory: Sendable {
    public var path: String
    /// Digits in point file names (at least 4), from the number of points.
    public var width: Int

    public init(path: String, points: Int) {
        self.path = path
        width = max(4, String(max(0, points - 1)).count)
    }

    public func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }
    public var manifest: String { file(SweepManifest.fileName) }
    public var pointsDirectory: String { file("points") }
    public var reportsDirectory: String { file("reports") }
    public var plotsDirectory: String { file("plots") }
    public var resultsCSV: String { file("results.csv") }
    public var resultsJSON: String { file("results.json") }
    public var paretoCSV: String { file("pareto.csv") }

    public func name(_ point: Int) -> String {
        let s = String(point)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    public func record(_ point: Int) -> String { (pointsDirectory as NSString).appendingPathComponent(name(point) + ".json") }
    /// The log of the points a shard's run started.
    public func journal(_ shard: SweepShard) -> String {
        (pointsDirectory as NSString).appendingPathComponent("started-\(shard.index)-of-\(shard.count).log")
    }

    /// The points with a record file, from one listing of `points/` (records are read only for these).
    public func recordedPoints() -> Set<Int> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: pointsDirectory)) ?? []
        return Set(names.compactMap { n in n.hasSuffix(".json") ? Int(n.dropLast(5)) : nil })
    }
    /// The report's path relative to the directory, as results name it.
    public func reportName(_ point: Int) -> String { "reports/" + name(point) + ".json" }

    /// Makes the directory and its `points/` and `reports/` folders.
    public func create() throws(InputError) {
        for d in [path, pointsDirectory, reportsDirectory] {
            do {
                try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            } catch {
                throw InputError(Diagnostic(at: nil, "cannot create directory '\(d)'", expected: "a writable place", found: error.localizedDescription))
            }
        }
    }

    /// Reads the manifest, with located errors; `nil` when there is none.
    public static func readManifest(in directory: String) throws(InputError) -> SweepManifest? {
        let path = (directory as NSString).appendingPathComponent(SweepManifest.fileName)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(SweepManifest.self, from: data)
        } catch {
            throw InputError(
                Diagnostic(
                    at: SourceLocation(file: path, line: 1, column: 1), "'\(path)' is not a sweep manifest",
                    expected: "the sweep.json that tessera sweep writes", found: "\(error)".split(separator: "\n").first.map(String.init)))
        }
    }

    /// The place of a top-level key in a manifest file (for diagnostics), else its first character.
    public static func location(ofKey key: String, inManifestAt path: String) -> SourceLocation {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let r = line.range(of: "  \"\(key)\": ") {
                return SourceLocation(file: path, line: i + 1, column: line.distance(from: line.startIndex, to: r.upperBound) + 1)
            }
        }
        return SourceLocation(file: path, line: 1, column: 1)
    }
}

/// What became of one point: written to `points/NNNN.json` when the point is finished.
public struct SweepRecord: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable {
        /// Simulated; the objectives are filled in.
        case ok
        /// Its hardware or workload is not valid input (a value an axis set, or a mapping the
        /// plan cannot make, such as a buffer too small for one tile).
        case invalid
        /// The simulation failed with an internal error.
        case failed
        /// The simulator process died while running it (found when a sweep resumed).
        case crashed
    }

    public var point: Int
    public var values: [String]
    public var status: Status
    /// One per objective of the manifest, in order; `nil` where a point has no value.
    public var objectives: [Double?]
    /// The report's path relative to the output directory.
    public var report: String?
    public var errors: [String]

    public init(point: Int, values: [String], status: Status, objectives: [Double?] = [], report: String? = nil, errors: [String] = []) {
        self.point = point
        self.values = values
        self.status = status
        self.objectives = objectives
        self.report = report
        self.errors = errors
    }

    public func data() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return ((try? encoder.encode(self)) ?? Data()) + Data("\n".utf8)
    }

    /// The record at `path`, or `nil` when there is none or it cannot be read.
    public static func read(_ path: String) -> SweepRecord? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(SweepRecord.self, from: data)
    }
}
