import Foundation
import TesseraCore

/// The figures `tessera compare` reads from one JSON report (the format `Report.json()` writes):
/// its schema version, names, top-level metrics and per-layer cycles.
///
/// Reads schema 1 (every report had the clocked figures and `layers`, a cluster's as a 1 GHz
/// count) and schema 2 (the core always — `seconds`, `energy_j` — and the clocked figures and
/// `layers` only where the report has `clock_hz`). A figure a report does not have is absent from
/// `figures`, and `compare` checks the figures both reports have.
public struct ReportFigures: Sendable {
    public struct Layer: Sendable {
        /// The layer's name; a name that repeats gets `#2`, `#3` … in `key` so that layers still
        /// match one to one.
        public var name: String
        public var key: String
        public var figures: [CompareMetric: Double]
    }

    public var path: String
    public var schema: Int
    public var hardware: String
    public var workload: String
    public var figures: [CompareMetric: Double]
    public var layers: [Layer]
    /// Where each top-level key sits in the file (for diagnostics), when it could be found.
    var keyLocations: [String: SourceLocation]

    /// The location of a top-level key, else the file's first character.
    public func location(ofKey key: String) -> SourceLocation {
        keyLocations[key] ?? SourceLocation(file: path, line: 1, column: 1)
    }

    /// Reads and checks one report; `role` ("baseline", "current") goes into the messages.
    public static func load(path: String, role: String) throws(InputError) -> ReportFigures {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(Diagnostic(at: nil, "\(role) report '\(path)' does not exist"))
        }
        guard !isDirectory.boolValue else {
            throw InputError(Diagnostic(at: nil, "\(role) report '\(path)' is a directory", expected: "a JSON report written by tessera simulate"))
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(Diagnostic(at: nil, "cannot read \(role) report '\(path)'"))
        }
        return try parse(data, path: path, role: role)
    }

    /// Parses report JSON; every missing or mistyped figure is reported at once.
    public static func parse(_ data: Data, path: String, role: String) throws(InputError) -> ReportFigures {
        let start = SourceLocation(file: path, line: 1, column: 1)
        guard data.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else {
            throw InputError(Diagnostic(at: start, "\(role) report '\(path)' is empty", expected: "a JSON report written by tessera simulate"))
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw InputError(
                Diagnostic(
                    at: parseErrorLocation(error, data: data, path: path) ?? start, "\(role) report '\(path)' is not valid JSON: \(jsonErrorText(error))",
                    expected: "a JSON report written by tessera simulate"))
        }
        guard let top = object as? [String: Any] else {
            throw InputError(Diagnostic(at: start, "\(role) report '\(path)' is not a Tessera report", expected: "a JSON object", found: jsonKind(object)))
        }
        let keyLocations = topLevelKeyLocations(data, path: path)
        guard let schemaValue = top["tessera"] else {
            throw InputError(
                Diagnostic(
                    at: start, "\(role) report '\(path)' is not a Tessera report", expected: "a top-level 'tessera' schema version",
                    found: "no 'tessera' field"))
        }
        var bag = DiagnosticBag()
        func at(_ key: String) -> SourceLocation { keyLocations[key] ?? start }
        let schema = integer(schemaValue)
        if schema == nil {
            bag.error(at("tessera"), "\(role) report '\(path)' has a bad 'tessera' schema version", expected: "an integer", found: jsonKind(schemaValue))
        } else if let v = schema, !supportedSchemas.contains(v) {
            bag.error(
                at("tessera"), "\(role) report '\(path)' has schema version \(v), which this tessera cannot read",
                expected: "tessera: \(supportedSchemas.lowerBound) to \(supportedSchemas.upperBound)", found: "tessera: \(v)",
                hint: v > supportedSchemas.upperBound ? "it was written by a newer tessera; compare it with that version" : nil)
        }
        // Schema 1 has every figure; schema 2 the clocked ones only where the hardware has a clock.
        let clocked = schema == 1 || top["clock_hz"] != nil
        var names: [String: String] = [:]
        for key in ["hardware", "workload"] {
            if let s = top[key] as? String {
                names[key] = s
            } else {
                bag.error(at(key), "\(role) report '\(path)' has no '\(key)' name", expected: "a string", found: top[key].map(jsonKind) ?? "nothing")
            }
        }
        var figures: [CompareMetric: Double] = [:]
        for metric in CompareMetric.allCases {
            if let path = metric.section {
                var node: Any? = top
                for key in path { node = (node as? [String: Any])?[key] }
                if let v = node.flatMap(number) { figures[metric] = v }
                continue
            }
            if let v = top[metric.rawValue].flatMap(number) {
                figures[metric] = v
            } else if top[metric.rawValue] == nil, metric.isOptional || !(metric.isCore || clocked) || (metric == .energyJoules && schema == 1) {
                continue
            } else {
                bag.error(
                    at(metric.rawValue), "\(role) report '\(path)' has no '\(metric.rawValue)' figure", expected: "a number",
                    found: top[metric.rawValue].map(jsonKind) ?? "nothing")
            }
        }
        var layers: [Layer] = []
        if let list = top["layers"] as? [Any] {
            var seen: [String: Int] = [:]
            for (i, item) in list.enumerated() {
                guard let layer = item as? [String: Any], let name = layer["name"] as? String else {
                    bag.error(at("layers"), "\(role) report '\(path)': layer \(i + 1) has no name", expected: "an object with a 'name'", found: jsonKind(item))
                    continue
                }
                var lf: [CompareMetric: Double] = [:]
                for metric in CompareMetric.layerMetrics {
                    if let v = layer[metric.rawValue].flatMap(number) {
                        lf[metric] = v
                    } else {
                        bag.error(
                            at("layers"), "\(role) report '\(path)': layer '\(name)' has no '\(metric.rawValue)' figure", expected: "a number",
                            found: layer[metric.rawValue].map(jsonKind) ?? "nothing")
                    }
                }
                let n = (seen[name] ?? 0) + 1
                seen[name] = n
                layers.append(Layer(name: name, key: n == 1 ? name : "\(name)#\(n)", figures: lf))
            }
        } else if clocked || top["layers"] != nil {
            bag.error(at("layers"), "\(role) report '\(path)' has no 'layers' list", expected: "an array", found: top["layers"].map(jsonKind) ?? "nothing")
        }
        layers += clusterEntries(top)
        try bag.throwIfErrors()
        return ReportFigures(
            path: path, schema: schema ?? 0, hardware: names["hardware"] ?? "", workload: names["workload"] ?? "", figures: figures, layers: layers,
            keyLocations: keyLocations)
    }

    /// A cluster report's figures that are compared like layers (in nanoseconds, as `total_cycles`
    /// of a 1 GHz count): each collective size (`collective <op> <algorithm> <bytes> B`: its time)
    /// and each stage of a training step (`stage …`: compute + exposed communication as
    /// total, compute, and exposed communication as stall), and of a serving run each
    /// instance's busy time (`serving prefill0` …).
    static func clusterEntries(_ top: [String: Any]) -> [Layer] {
        var out: [Layer] = []
        for item in top["collectives"] as? [Any] ?? [] {
            guard let c = item as? [String: Any], let op = c["op"] as? String, let alg = c["algorithm"] as? String, let bytes = c["bytes"].flatMap(number),
                let seconds = c["seconds"].flatMap(number)
            else { continue }
            let name = "collective \(op) \(alg) \(Int64(bytes)) B"
            out.append(Layer(name: name, key: name, figures: [.totalCycles: seconds * 1e9, .computeCycles: 0, .stallCycles: seconds * 1e9]))
        }
        if let step = top["training_step"] as? [String: Any] {
            for item in step["stages"] as? [Any] ?? [] {
                guard let st = item as? [String: Any], let name = st["name"] as? String, let split = st["time_split"] as? [String: Any],
                    let compute = split["compute_s"].flatMap(number), let exposed = split["exposed_comm_s"].flatMap(number)
                else { continue }
                out.append(Layer(name: name, key: name, figures: [.totalCycles: (compute + exposed) * 1e9, .computeCycles: compute * 1e9, .stallCycles: exposed * 1e9]))
            }
        }
        if let serving = top["serving"] as? [String: Any] {
            // TTFT and TPOT percentiles, SLO attainment and goodput are named figures of their own.
            for item in serving["instances"] as? [Any] ?? [] {
                guard let i = item as? [String: Any], let name = i["name"] as? String, let prefill = i["prefill_s"].flatMap(number), let decode = i["decode_s"].flatMap(number) else { continue }
                out.append(Layer(name: "serving \(name)", key: "serving \(name)", figures: [.totalCycles: (prefill + decode) * 1e9, .computeCycles: (prefill + decode) * 1e9, .stallCycles: 0]))
            }
        }
        return out
    }

    /// The schema versions `compare` reads.
    public static let supportedSchemas = 1...2

    /// A JSON number as a Double; not a Boolean, which Foundation also hands back as an NSNumber
    /// (of Objective-C type `c`, where JSON numbers are `q`, `i` or `d`).
    static func number(_ value: Any) -> Double? {
        guard let n = value as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
        return n.doubleValue
    }

    static func integer(_ value: Any) -> Int? {
        guard let d = number(value), d == d.rounded(), abs(d) < 1e15 else { return nil }
        return Int(d)
    }

    private static func jsonKind(_ value: Any) -> String {
        switch value {
        case is String: return "a string"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        case is NSNull: return "null"
        default: return number(value) != nil ? "a number" : "a boolean"
        }
    }

    /// The places of top-level keys in a report: `Report.json()` puts each on its own line,
    /// indented two spaces (`  "hardware": …`).
    private static func topLevelKeyLocations(_ data: Data, path: String) -> [String: SourceLocation] {
        guard let text = String(data: data, encoding: .utf8) else { return [:] }
        var result: [String: SourceLocation] = [:]
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard line.hasPrefix("  \""), !line.hasPrefix("   "), let end = line.dropFirst(3).firstIndex(of: "\"") else { continue }
            let key = String(line[line.index(line.startIndex, offsetBy: 3)..<end])
            if result[key] == nil { result[key] = SourceLocation(file: path, line: i + 1, column: 3) }
        }
        return result
    }

    /// The line and column of a JSON syntax error, from the offset or line/column Foundation names
    /// in its message ("… around line 3, column 7." or "… around character 42.").
    private static func parseErrorLocation(_ error: Error, data: Data, path: String) -> SourceLocation? {
        let text = jsonErrorText(error)
        if let r = text.range(of: "line "), let line = Int(text[r.upperBound...].prefix { $0.isNumber }),
            let c = text.range(of: "column "), let column = Int(text[c.upperBound...].prefix { $0.isNumber })
        {
            return SourceLocation(file: path, line: max(1, line), column: max(1, column))
        }
        let offset: Int
        if let r = text.range(of: "character "), let o = Int(text[r.upperBound...].prefix { $0.isNumber }) {
            offset = o
        } else if text.lowercased().contains("end of file") || text.lowercased().contains("end of data") {
            offset = data.count
        } else {
            return nil
        }
        let bytes = [UInt8](data.prefix(offset))
        let line = bytes.reduce(1) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        let column = bytes.count - (bytes.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
        return SourceLocation(file: path, line: line, column: column)
    }

    private static func jsonErrorText(_ error: Error) -> String {
        let ns = error as NSError
        if let debug = ns.userInfo["NSDebugDescription"] as? String { return debug }
        return ns.localizedDescription
    }
}
