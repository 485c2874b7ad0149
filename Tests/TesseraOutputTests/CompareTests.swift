import Foundation
import TesseraCore
import Testing

@testable import TesseraOutput
import TesseraStudy
import TesseraFamilies
import TesseraTestSupport

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// `tessera compare`: every exit path, tolerance parsing, refused inputs, JUnit XML and atomic writes.
/// Reports come from running the pipeline (small-cnn on the 32×32 OS array, which stalls on DRAM)
/// and then editing figures in the parsed JSON.
@Suite struct CompareTests {
    // MARK: helpers

    /// The small-cnn report as a JSON dictionary; `ideal` uses unlimited DRAM bandwidth (no stalls).
    static func report(ideal: Bool = false) throws -> [String: Any] {
        let hw = ideal ? "configs/array/ideal-32x32-os.yaml" : "configs/array/scalesim-32x32-os.yaml"
        let out = try Pipeline.load(
            hardwarePath: packageRoot.appendingPathComponent(hw).path,
            workloadPath: packageRoot.appendingPathComponent("traces/small-cnn.yaml").path
        ).run()
        return try #require(try JSONSerialization.jsonObject(with: Data(out.report.json().utf8)) as? [String: Any])
    }

    /// A fresh scratch directory; the caller removes it.
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-compare-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes `object` as pretty JSON and returns its path.
    static func write(_ object: [String: Any], _ name: String, in dir: URL) throws -> String {
        let url = dir.appendingPathComponent(name)
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]).write(to: url)
        return url.path
    }

    /// A copy of `report` with one top-level figure multiplied (counts stay whole).
    static func scaled(_ report: [String: Any], _ key: String, by factor: Double) -> [String: Any] {
        var r = report
        let v = (report[key] as! NSNumber).doubleValue * factor
        r[key] = ["seconds", "utilization", "energy_j"].contains(key) ? v as Any : Int((v).rounded()) as Any
        return r
    }

    /// A copy of `report` with one figure of layer `index` set.
    static func settingLayer(_ report: [String: Any], _ index: Int, _ key: String, to value: Any) -> [String: Any] {
        var r = report
        var layers = report["layers"] as! [[String: Any]]
        layers[index][key] = value
        r["layers"] = layers
        return r
    }

    static func layerNumber(_ report: [String: Any], _ index: Int, _ key: String) -> Int {
        ((report["layers"] as! [[String: Any]])[index][key] as! NSNumber).intValue
    }

    /// Writes both reports and compares them.
    static func compare(
        _ baseline: [String: Any], _ current: [String: Any], tolerance: [String] = [], strict: Bool = false
    ) throws -> CompareReport {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        return try ReportComparison.compare(
            baselinePath: write(baseline, "baseline.json", in: dir), currentPath: write(current, "current.json", in: dir),
            tolerance: CompareTolerance.parse(tolerance), strict: strict)
    }

    /// The diagnostics of comparing two files, which must be refused.
    static func refusal(baselinePath: String, currentPath: String) -> [Diagnostic] {
        do {
            _ = try ReportComparison.compare(baselinePath: baselinePath, currentPath: currentPath)
            Issue.record("expected the comparison to be refused")
            return []
        } catch {
            return error.diagnostics
        }
    }

    static func figure(_ r: CompareReport, _ m: CompareMetric) -> FigureDelta { r.figures.first { $0.metric == m }! }

    // MARK: exit paths

    /// A serving run's latencies, SLO attainment and goodput are figures of their own, each with
    /// its direction: a slower p90 TTFT and a lower goodput are regressions by name.
    @Test func servingFiguresAreGatedByName() throws {
        let data = try Data(contentsOf: packageRoot.appendingPathComponent("reports/llama3-8b-serving-colocated--dgx-h100-x1.json"))
        let base = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var current = base
        var serving = try #require(base["serving"] as? [String: Any])
        var ttft = try #require(serving["ttft"] as? [String: Any])
        ttft["p90_s"] = (ttft["p90_s"] as! NSNumber).doubleValue * 1.2
        serving["ttft"] = ttft
        serving["goodput_rps"] = (serving["goodput_rps"] as! NSNumber).doubleValue * 0.9
        current["serving"] = serving
        let r = try Self.compare(base, current)
        #expect(r.figures.map(\.metric).contains(.sloAttainment) && r.figures.map(\.metric).contains(.ttftP99))
        #expect(Set(r.regressions.map(\.subject)) == ["ttft_p90_s", "goodput_rps"])
        #expect(!r.layers.contains { $0.name.contains("ttft") })
        // A tolerance by name lets one of them through.
        let loose = try Self.compare(base, current, tolerance: ["goodput_rps=15%"])
        #expect(loose.regressions.map(\.subject) == ["ttft_p90_s"])
        #expect(loose.markdown().contains("| ttft_p90_s | 50.50983241 ms | 60.611798892 ms | +20% | **regression** (beyond 1%) |"))
    }

    @Test func identicalReportsPass() throws {
        let base = try Self.report()
        let r = try Self.compare(base, base)
        #expect(r.passed)
        #expect(r.figures.allSatisfy { $0.status == .unchanged })
        #expect(r.figures.map(\.metric) == CompareMetric.allCases.filter { $0.section == nil })
        #expect(r.layers.count == 7 && r.removedLayers.isEmpty && r.addedLayers.isEmpty)
        let md = r.markdown()
        #expect(md.contains("**PASS**: every figure is unchanged."))
        #expect(md.contains("| metric | baseline | current | delta % | status |"))
        #expect(md.contains("| total_cycles | \(base["total_cycles"]!) | \(base["total_cycles"]!) | 0% | unchanged |"))
        #expect(md.contains("No layer moved"))
    }

    @Test func changeWithinTolerancePasses() throws {
        let base = try Self.report()
        let r = try Self.compare(base, Self.scaled(base, "total_cycles", by: 1.005))
        #expect(r.passed)
        #expect(Self.figure(r, .totalCycles).status == .withinTolerance)
        #expect(r.markdown().contains("**PASS**: every figure is within tolerance."))
        #expect(r.markdown().contains("ok (within 1%)"))
    }

    @Test func changeExactlyAtTheTolerancePasses() throws {
        var base = try Self.report()
        base["total_cycles"] = 100_000
        var current = base
        current["total_cycles"] = 101_000
        let r = try Self.compare(base, current)
        #expect(Self.figure(r, .totalCycles).status == .withinTolerance)
        #expect(r.passed)
        current["total_cycles"] = 101_001
        #expect(try !Self.compare(base, current).passed)
    }

    @Test func regressionFails() throws {
        let base = try Self.report()
        let r = try Self.compare(base, Self.scaled(base, "total_cycles", by: 1.05))
        #expect(!r.passed)
        #expect(Self.figure(r, .totalCycles).status == .regression)
        #expect(abs(Self.figure(r, .totalCycles).change - 0.05) < 1e-4)
        #expect(r.regressions.map(\.subject) == ["total_cycles"])
        let md = r.markdown()
        #expect(md.hasPrefix("# tessera compare: small-cnn on scalesim-32x32-os\n\n**FAIL**"))
        #expect(md.contains("1 figure regressed beyond tolerance: total_cycles +5"))
        #expect(md.contains("**regression** (beyond 1%)"))
    }

    @Test(arguments: ["seconds", "stall_cycles", "compute_cycles", "dram_read_bytes", "dram_write_bytes"])
    func higherIsWorseForCyclesSecondsStallsAndBytes(key: String) throws {
        let base = try Self.report()
        let metric = try #require(CompareMetric(rawValue: key))
        let up = try Self.compare(base, Self.scaled(base, key, by: 1.1))
        #expect(Self.figure(up, metric).status == .regression)
        #expect(!up.passed)
        let down = try Self.compare(base, Self.scaled(base, key, by: 0.9))
        #expect(Self.figure(down, metric).status == .improvement)
        #expect(down.passed)
    }

    @Test func utilizationIsHigherIsBetter() throws {
        let base = try Self.report()
        let lower = try Self.compare(base, Self.scaled(base, "utilization", by: 0.9))
        #expect(Self.figure(lower, .utilization).status == .regression)
        #expect(!lower.passed)
        let higher = try Self.compare(base, Self.scaled(base, "utilization", by: 1.1))
        #expect(Self.figure(higher, .utilization).status == .improvement)
        #expect(higher.passed)
    }

    @Test func improvementPassesAndFailsOnlyWhenStrict() throws {
        let base = try Self.report()
        let faster = Self.scaled(base, "total_cycles", by: 0.95)
        let lenient = try Self.compare(base, faster)
        #expect(lenient.passed)
        #expect(lenient.improvements.map(\.subject) == ["total_cycles"])
        #expect(lenient.markdown().contains("**PASS** with 1 improvement beyond tolerance (total_cycles -5"))
        #expect(lenient.markdown().contains("Improvements fail only with --strict"))

        let strict = try Self.compare(base, faster, strict: true)
        #expect(!strict.passed)
        #expect(strict.markdown().contains("1 figure improved beyond tolerance, which fails under --strict"))
        #expect(strict.markdown().contains("tolerance 1%, strict."))
        // Within tolerance, strict still passes.
        #expect(try Self.compare(base, Self.scaled(base, "total_cycles", by: 0.995), strict: true).passed)
    }

    @Test func layerFiguresAreComparedByName() throws {
        let base = try Self.report()
        let name = (base["layers"] as! [[String: Any]])[3]["name"] as! String
        let cycles = Self.layerNumber(base, 3, "total_cycles")
        let current = Self.settingLayer(base, 3, "total_cycles", to: cycles * 2)
        let r = try Self.compare(base, current)
        #expect(!r.passed)
        #expect(r.regressions.map(\.subject) == ["layer \(name) total_cycles"])
        #expect(r.layersThatMovedMost().map(\.name) == [name])
        #expect(r.markdown().contains("| \(name) | \(cycles) → \(cycles * 2) | +100% |"))
        // Layers in another order still match by name.
        var shuffled = base
        shuffled["layers"] = Array((base["layers"] as! [[String: Any]]).reversed())
        let reordered = try Self.compare(base, shuffled)
        #expect(reordered.passed && reordered.layers.count == 7)
    }

    @Test func layersThatMovedMostAreAtMostTenLargestFirst() throws {
        var base = try Self.report()
        var layers = base["layers"] as! [[String: Any]]
        let template = layers[0]
        layers = (0..<15).map { i in
            var l = template
            l["name"] = "l\(i)"
            l["total_cycles"] = 1000
            return l
        }
        base["layers"] = layers
        var current = base
        current["layers"] = layers.enumerated().map { i, l in
            var l = l
            l["total_cycles"] = 1000 + 10 * (i + 1)
            return l
        }
        let r = try Self.compare(base, current, tolerance: ["100%"])
        #expect(r.passed)
        #expect(r.layersThatMovedMost().map(\.name) == (5..<15).reversed().map { "l\($0)" })
        #expect(r.markdown().contains("15 of 15 layers in common moved; the 10 that moved most:"))
    }

    @Test func aFigureThatWasZeroMovesInfinitely() throws {
        let base = try Self.report(ideal: true)
        #expect((base["stall_cycles"] as! NSNumber).intValue == 0)
        var current = base
        current["stall_cycles"] = 5
        let r = try Self.compare(base, current, tolerance: ["1000%"])
        #expect(Self.figure(r, .stallCycles).change == .infinity)
        #expect(Self.figure(r, .stallCycles).status == .regression)
        #expect(r.markdown().contains("| stall_cycles | 0 | 5 | +∞% |"))
    }

    @Test func removedLayerFailsWhateverTheTolerance() throws {
        let base = try Self.report()
        var current = base
        var layers = base["layers"] as! [[String: Any]]
        let removed = layers.removeLast()["name"] as! String
        current["layers"] = layers
        let r = try Self.compare(base, current, tolerance: ["1000%"])
        #expect(!r.passed)
        #expect(r.removedLayers == [removed] && r.addedLayers.isEmpty)
        #expect(r.layers.count == 6)
        let md = r.markdown()
        #expect(md.contains("the layers differ (1 removed, 0 added): a different workload shape"))
        #expect(md.contains("## Layers added or removed: FAIL"))
        #expect(md.contains("different workload shapes"))
        #expect(md.contains("- only in the baseline (removed, 1): \(removed)"))
    }

    @Test func addedLayerFails() throws {
        let base = try Self.report()
        var current = base
        var layers = base["layers"] as! [[String: Any]]
        var extra = layers[0]
        extra["name"] = "conv_extra"
        layers.append(extra)
        current["layers"] = layers
        let r = try Self.compare(base, current)
        #expect(!r.passed)
        #expect(r.addedLayers == ["conv_extra"] && r.removedLayers.isEmpty)
        #expect(r.markdown().contains("- only in the current report (added, 1): conv_extra"))
    }

    @Test func repeatedLayerNamesMatchInOrder() throws {
        var base = try Self.report()
        var layers = base["layers"] as! [[String: Any]]
        layers[1]["name"] = layers[0]["name"]
        base["layers"] = layers
        let first = layers[0]["name"] as! String
        let r = try Self.compare(base, base)
        #expect(r.passed)
        #expect(r.layers.map(\.name).prefix(2) == [first, "\(first)#2"])
        var fewer = base
        fewer["layers"] = Array(layers.dropFirst())
        let shape = try Self.compare(base, fewer)
        #expect(shape.removedLayers == ["\(first)#2"])
    }

    // MARK: tolerances

    @Test(arguments: [("1%", 0.01), ("0.5%", 0.005), ("0%", 0.0), ("10%", 0.1), ("2.5 %", 0.025), ("150%", 1.5)])
    func parsesPercentages(text: String, fraction: Double) throws {
        let t = try CompareTolerance.parse([text])
        #expect(abs(t.fraction - fraction) < 1e-15)
        #expect(t.overrides.isEmpty)
    }

    @Test func defaultToleranceIsOnePercent() throws {
        #expect(try CompareTolerance.parse([]) == CompareTolerance(0.01))
        #expect(CompareTolerance().fraction(for: .seconds) == 0.01)
    }

    @Test func parsesPerMetricOverrides() throws {
        let t = try CompareTolerance.parse(["total_cycles=2%", "3%", "utilization=0.5%"])
        #expect(t.fraction == 0.03)
        #expect(t.fraction(for: .totalCycles) == 0.02)
        #expect(t.fraction(for: .utilization) == 0.005)
        #expect(t.fraction(for: .dramReadBytes) == 0.03)
        #expect(t.summary == "3% (total_cycles 2%, utilization 0.5%)")
    }

    @Test(arguments: [
        "abc", "1", "0.01", "-1%", "%", "1%%", "nan%", "inf%", "1e2%", "", "foo=1%", "=1%", "total_cycles=", "total_cycles=abc",
        "total_cycles=-2%", "total_cycles=2",
    ])
    func refusesBadTolerances(text: String) {
        #expect(throws: InputError.self) { try CompareTolerance.parse([text]) }
    }

    @Test func reportsEveryBadToleranceAtOnceWithHints() throws {
        do {
            _ = try CompareTolerance.parse(["x", "totl_cycles=1%", "1%", "2%", "seconds=1%", "seconds=2%"])
            Issue.record("expected an error")
        } catch {
            #expect(error.diagnostics.count == 4)
            let text = error.description
            #expect(text.contains("found 'x'"))
            #expect(text.contains("did you mean 'total_cycles'?"))
            #expect(text.contains("the default --tolerance is given more than once"))
            #expect(text.contains("--tolerance for seconds is given more than once"))
        }
    }

    @Test func perMetricOverrideDecides() throws {
        let base = try Self.report()
        let slower = Self.scaled(base, "total_cycles", by: 1.03)
        #expect(try !Self.compare(base, slower).passed)
        #expect(try Self.compare(base, slower, tolerance: ["total_cycles=5%"]).passed)
        #expect(try !Self.compare(base, slower, tolerance: ["10%", "total_cycles=2%"]).passed)
        // Another metric is still held to the default.
        let both = Self.scaled(slower, "dram_read_bytes", by: 1.03)
        let r = try Self.compare(base, both, tolerance: ["total_cycles=5%"])
        #expect(r.regressions.map(\.subject) == ["dram_read_bytes"])
        // An override applies to the layer figure of the same name.
        let cycles = Self.layerNumber(base, 0, "total_cycles")
        let layerSlower = Self.settingLayer(base, 0, "total_cycles", to: Int(Double(cycles) * 1.03))
        #expect(try !Self.compare(base, layerSlower).passed)
        #expect(try Self.compare(base, layerSlower, tolerance: ["total_cycles=5%"]).passed)
    }

    @Test func zeroToleranceDemandsAnExactMatch() throws {
        let base = try Self.report()
        var current = base
        current["total_cycles"] = (base["total_cycles"] as! NSNumber).intValue + 1
        let r = try Self.compare(base, current, tolerance: ["0%"])
        #expect(!r.passed)
        #expect(r.markdown().contains("+<0.001%") || r.markdown().contains("+0.00"))
        #expect(try Self.compare(base, base, tolerance: ["0%"], strict: true).passed)
    }

    // MARK: refused inputs

    @Test(arguments: [("hardware", "tpu-128x128-is"), ("workload", "resnet50-b1")])
    func refusesReportsOfDifferentHardwareOrWorkload(key: String, value: String) throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Self.report()
        var other = base
        other[key] = value
        let b = try Self.write(base, "base.json", in: dir)
        let c = try Self.write(other, "other.json", in: dir)
        let diagnostics = Self.refusal(baselinePath: b, currentPath: c)
        #expect(diagnostics.count == 1)
        let d = try #require(diagnostics.first)
        #expect(d.message.contains(b) && d.message.contains(c))
        #expect(d.message.contains(value))
        #expect(d.location?.file == c)
        #expect((d.location?.line ?? 0) > 1, "the location points at the key's line")
        let expected = ["hardware": "different hardware", "workload": "different workloads"][key]!
        #expect(d.message.contains(expected))
    }

    /// A schema this tessera does not know is refused at its 'tessera' key; schema 1 and 2 are
    /// compared on the figures both have.
    @Test func readsSchemaOneAndTwoAndRefusesNewer() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try Self.report()
        #expect(base["tessera"] as? Int == 2)
        var newer = base
        newer["tessera"] = 3
        let diagnostics = Self.refusal(baselinePath: try Self.write(base, "base.json", in: dir), currentPath: try Self.write(newer, "newer.json", in: dir))
        let d = try #require(diagnostics.first)
        #expect(diagnostics.count == 1 && d.message.contains("schema version 3") && d.description.contains("newer tessera"), "\(d)")
        #expect((d.location?.line ?? 0) > 1)
        // A schema-1 report of the same run (no 'family', units without busy_s) compares equal.
        var old = base
        old["tessera"] = 1
        old.removeValue(forKey: "family")
        old["units"] = (base["units"] as! [[String: Any]]).map { u in var u = u; u.removeValue(forKey: "busy_s"); return u }
        let r = try Self.compare(old, base, tolerance: ["0%"], strict: true)
        #expect(r.passed)
        #expect(r.figures.map(\.metric) == CompareMetric.allCases.filter { $0.section == nil })
        // A schema-2 cluster report has no cycles: only the core figures are compared.
        var cluster = base
        for key in ["clock_hz", "total_cycles", "macs", "utilization", "compute_cycles", "stall_cycles", "plan_estimate_cycles", "dram_read_bytes", "dram_write_bytes", "layers"] {
            cluster.removeValue(forKey: key)
        }
        let c = try Self.compare(cluster, Self.scaled(cluster, "energy_j", by: 1.5))
        #expect(c.figures.map(\.metric) == [.seconds, .energyJoules, .averagePowerW, .peakPowerW])
        #expect(!c.passed && c.regressions.map(\.subject) == ["energy_j"])
    }

    @Test func refusesMissingFilesNamingBoth() throws {
        let diagnostics = Self.refusal(baselinePath: "/nonexistent/base.json", currentPath: "/nonexistent/current.json")
        #expect(diagnostics.count == 2)
        #expect(diagnostics[0].description == "error: baseline report '/nonexistent/base.json' does not exist")
        #expect(diagnostics[1].description == "error: current report '/nonexistent/current.json' does not exist")
    }

    @Test(arguments: [
        ("{\n  \"tessera\": 1,\n  oops\n}", "is not valid JSON"),
        ("", "is empty"),
        ("  \n", "is empty"),
        ("{\"tessera\": 1", "is not valid JSON"),
        ("[1, 2]", "is not a Tessera report"),
        ("\"text\"", "is not a Tessera report"),
        ("{\"hello\": 1}", "is not a Tessera report"),
        ("{\"tessera\": \"one\"}", "bad 'tessera' schema version"),
    ])
    func refusesCorruptFiles(text: String, message: String) throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try Self.write(try Self.report(), "good.json", in: dir)
        let bad = dir.appendingPathComponent("bad.json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: bad))
        let diagnostics = Self.refusal(baselinePath: good, currentPath: bad)
        let d = try #require(diagnostics.first)
        #expect(d.message.contains(message), "\(d)")
        #expect(d.message.contains("current report '\(bad)'"))
        #expect(d.location?.file == bad)
    }

    @Test func pointsAtTheJSONSyntaxError() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = dir.appendingPathComponent("bad.json").path
        try Data("{\n  \"tessera\": 1,\n  \"x\": oops\n}".utf8).write(to: URL(fileURLWithPath: bad))
        let d = try #require(Self.refusal(baselinePath: bad, currentPath: bad).first)
        #expect(d.location?.line == 3, "\(d)")
    }

    @Test func refusesAReportMissingFiguresListingEach() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var partial = try Self.report()
        partial["total_cycles"] = nil
        partial["utilization"] = "high"
        partial = Self.settingLayer(partial, 0, "stall_cycles", to: true)
        let good = try Self.write(try Self.report(), "good.json", in: dir)
        let bad = try Self.write(partial, "partial.json", in: dir)
        let text = Self.refusal(baselinePath: bad, currentPath: good).map(\.description).joined(separator: "\n")
        #expect(text.contains("has no 'total_cycles' figure (expected a number, found nothing)"))
        #expect(text.contains("has no 'utilization' figure (expected a number, found a string)"))
        #expect(text.contains("has no 'stall_cycles' figure (expected a number, found a boolean)"))
    }

    // MARK: JUnit

    /// Collects what a JUnit file holds, read back with Foundation's XMLParser.
    final class JUnitReader: NSObject, XMLParserDelegate {
        var suites: [[String: String]] = []
        var cases: [[String: String]] = []
        var failures: [(testcase: String, attributes: [String: String])] = []
        var properties: [String: String] = [:]
        var text = ""

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName qName: String?,
            attributes attributeDict: [String: String] = [:]
        ) {
            switch elementName {
            case "testsuite": suites.append(attributeDict)
            case "testcase": cases.append(attributeDict)
            case "failure": failures.append((cases.last?["name"] ?? "", attributeDict))
            case "property": properties[attributeDict["name"] ?? ""] = attributeDict["value"]
            default: break
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        static func read(_ xml: String) throws -> JUnitReader {
            let reader = JUnitReader()
            let parser = XMLParser(data: Data(xml.utf8))
            parser.delegate = reader
            let ok = parser.parse()
            #expect(ok, "JUnit XML does not parse: \(String(describing: parser.parserError))")
            return reader
        }
    }

    @Test func junitParsesWithOneTestcasePerFigureAndFailuresForRegressions() throws {
        let base = try Self.report()
        var current = Self.scaled(base, "total_cycles", by: 1.2)
        current = Self.scaled(current, "dram_write_bytes", by: 0.5)
        var layers = current["layers"] as! [[String: Any]]
        layers.removeLast()
        current["layers"] = layers
        let r = try Self.compare(base, current)
        let junit = try JUnitReader.read(r.junit())
        #expect(junit.suites.count == 1)
        #expect(junit.suites.first?["name"] == "tessera compare")
        #expect(junit.cases.count == 10 + 3 * 6 + 1)
        #expect(junit.suites.first?["tests"] == "\(junit.cases.count)")
        #expect(junit.suites.first?["failures"] == "2")
        #expect(junit.failures.map(\.testcase) == ["total_cycles", "layer set"])
        #expect(junit.failures[0].attributes["type"] == "regression")
        #expect(junit.failures[0].attributes["message"]?.hasPrefix("total_cycles regressed: baseline") == true)
        #expect(junit.failures[1].attributes["type"] == "layers-differ")
        #expect(junit.text.contains("dram_write_bytes improved beyond tolerance"))
        #expect(junit.properties["tolerance"] == "1%")

        // Strict turns the improvement into a failure too.
        let strict = try JUnitReader.read(try Self.compare(base, current, strict: true).junit())
        #expect(strict.failures.map(\.testcase) == ["total_cycles", "dram_write_bytes", "layer set"])
        // A clean comparison has no failures.
        let clean = try JUnitReader.read(try Self.compare(base, base).junit())
        #expect(clean.failures.isEmpty && clean.suites.first?["failures"] == "0")
    }

    @Test func junitEscapesNamesAndPaths() throws {
        let odd = "a<b & \"c\" 'd' >\u{1}"
        let base = Self.settingLayer(try Self.report(), 0, "name", to: odd)
        let current = Self.settingLayer(base, 0, "total_cycles", to: 10 * Self.layerNumber(base, 0, "total_cycles"))
        let r = try Self.compare(base, current)
        let junit = try JUnitReader.read(r.junit())
        #expect(junit.cases.contains { $0["name"] == "a<b & \"c\" 'd' >\u{FFFD} total_cycles" })
        #expect(junit.failures.first?.attributes["message"]?.hasPrefix("layer a<b & \"c\" 'd' >\u{FFFD} total_cycles regressed") == true)
        #expect(CompareReport.xmlEscape("<&>\"'") == "&lt;&amp;&gt;&quot;&apos;")
        #expect(r.markdown().contains("| a<b & \"c\" 'd' >\u{1} |"))
    }

    // MARK: atomic writes

    @Test func atomicWriteReplacesTheFileAndLeavesNoTemporaryFile() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("out.xml").path
        try AtomicFile.write("first\n", to: path)
        try AtomicFile.write("second\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.xml"])
    }

    @Test func atomicWriteFailureLeavesNothingBehind() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The destination is a non-empty directory: the rename fails, and the temporary file goes.
        let blocked = dir.appendingPathComponent("blocked")
        try FileManager.default.createDirectory(at: blocked, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: blocked.appendingPathComponent("inside"))
        #expect(throws: AtomicFile.WriteError.self) { try AtomicFile.write("text", to: blocked.path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["blocked"])
        // A missing directory is named in the error.
        do {
            try AtomicFile.write("text", to: dir.appendingPathComponent("missing/out.xml").path)
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("missing/out.xml"))
            #expect(error.description.contains("does not exist"))
        }
    }
}
