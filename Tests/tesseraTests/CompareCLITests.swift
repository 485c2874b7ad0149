import Foundation
import Testing

// `tessera compare` through the built binary: exit 0 within tolerance, 1 on a regression, 2 on bad
// input or a bad --tolerance, and --junit writes a file.

private let root = cliPackageRoot

private func run(_ arguments: [String], in directory: URL) throws -> (status: Int32, stdout: String, stderr: String) {
    let r = try runTessera(arguments, in: directory)
    #expect(r.reason == .exit, "tessera \(arguments.joined(separator: " ")) was killed by a signal")
    return (r.status, r.stdout, r.stderr)
}

@Suite struct CompareCLITests {
    /// A scratch folder holding base.json (small-cnn on the 32×32 OS array, simulated by the binary).
    private func scratch() throws -> (URL, [String: Any]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-compare-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let sim = try run(
            [
                "simulate", root.appendingPathComponent("configs/array/scalesim-32x32-os.yaml").path,
                root.appendingPathComponent("traces/small-cnn.yaml").path, "-o", dir.path, "--format", "json", "--quiet",
            ], in: dir)
        #expect(sim.status == 0, "\(sim.stderr)")
        let produced = dir.appendingPathComponent("small-cnn--scalesim-32x32-os.json")
        try FileManager.default.moveItem(at: produced, to: dir.appendingPathComponent("base.json"))
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("base.json"))) as? [String: Any]
        return (dir, try #require(object))
    }

    private func write(_ object: [String: Any], _ name: String, in dir: URL) throws {
        try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted]).write(to: dir.appendingPathComponent(name))
    }

    private func withTotalCycles(_ report: [String: Any], times factor: Double) -> [String: Any] {
        var r = report
        r["total_cycles"] = Int(((report["total_cycles"] as! NSNumber).doubleValue * factor).rounded())
        return r
    }

    @Test func exitsZeroWithinToleranceAndWritesJUnit() throws {
        let (dir, base) = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write(withTotalCycles(base, times: 1.005), "current.json", in: dir)
        let r = try run(["compare", "base.json", "current.json", "--junit", "compare.xml"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("**PASS**"))
        #expect(r.stdout.contains("| total_cycles |"))
        let xml = try String(contentsOf: dir.appendingPathComponent("compare.xml"), encoding: .utf8)
        #expect(xml.contains("<testsuite name=\"tessera compare\""))
        #expect(!xml.contains("<failure"))
        // The JUnit file and the manifest that records it as Tessera's; no temporary file.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == [".tessera-written", "base.json", "compare.xml", "current.json"])
    }

    @Test func exitsOneOnARegressionAndStrictImprovement() throws {
        let (dir, base) = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        try write(withTotalCycles(base, times: 1.05), "slower.json", in: dir)
        try write(withTotalCycles(base, times: 0.95), "faster.json", in: dir)
        let slower = try run(["compare", "base.json", "slower.json", "--junit", "compare.xml"], in: dir)
        #expect(slower.status == 1)
        #expect(slower.stdout.contains("**FAIL**"))
        #expect(try String(contentsOf: dir.appendingPathComponent("compare.xml"), encoding: .utf8).contains("<failure type=\"regression\""))
        #expect(try run(["compare", "base.json", "slower.json", "--tolerance", "total_cycles=6%"], in: dir).status == 0)
        #expect(try run(["compare", "base.json", "faster.json"], in: dir).status == 0)
        #expect(try run(["compare", "base.json", "faster.json", "--strict"], in: dir).status == 1)
        #expect(try run(["compare", "base.json", "base.json", "--tolerance", "0%", "--strict"], in: dir).status == 0)
    }

    @Test func exitsTwoOnBadInput() throws {
        let (dir, base) = try scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var other = base
        other["hardware"] = "tpu-128x128-is"
        try write(other, "other.json", in: dir)
        try Data("not json".utf8).write(to: dir.appendingPathComponent("corrupt.json"))

        let missing = try run(["compare", "base.json", "missing.json"], in: dir)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("error: current report 'missing.json' does not exist"))
        let corrupt = try run(["compare", "corrupt.json", "base.json"], in: dir)
        #expect(corrupt.status == 2)
        #expect(corrupt.stderr.hasPrefix("corrupt.json:1:"))
        let mismatch = try run(["compare", "base.json", "other.json"], in: dir)
        #expect(mismatch.status == 2)
        #expect(mismatch.stderr.contains("different hardware") && mismatch.stderr.contains("add --designs"))
        // An A/B of two designs on one workload: compared, named as such.
        let ab = try run(["compare", "base.json", "other.json", "--designs", "--tolerance", "100%"], in: dir)
        #expect(ab.status == 0, "stderr:\n\(ab.stderr)")
        #expect(ab.stdout.contains("(baseline) against"))
        // A worse design: the A/B states it and exits 0; --gate makes it fail; --gate alone is refused.
        try write(withTotalCycles(other, times: 1.5), "worse.json", in: dir)
        let worse = try run(["compare", "base.json", "worse.json", "--designs"], in: dir)
        #expect(worse.status == 0, "stderr:\n\(worse.stderr)")
        #expect(worse.stdout.contains("**A/B**") && worse.stdout.contains("worse beyond tolerance: total_cycles"), "\(worse.stdout)")
        let gated = try run(["compare", "base.json", "worse.json", "--designs", "--gate"], in: dir)
        #expect(gated.status == 1 && gated.stdout.contains("**FAIL**"), "\(gated.stdout)")
        let gateAlone = try run(["compare", "base.json", "base.json", "--gate"], in: dir)
        #expect(gateAlone.status == 2 && gateAlone.stderr.contains("--gate applies to an A/B"), "\(gateAlone.stderr)")
        let tolerance = try run(["compare", "base.json", "base.json", "--tolerance", "1"], in: dir)
        #expect(tolerance.status == 2)
        #expect(tolerance.stderr.contains("invalid --tolerance value"))
        #expect(try run(["compare", "base.json"], in: dir).status == 2)
        let unwritable = try run(["compare", "base.json", "base.json", "--junit", "no/such/dir/x.xml"], in: dir)
        #expect(unwritable.status == 2)
        #expect(unwritable.stderr.contains("cannot write 'no/such/dir/x.xml'"))
    }

    @Test func helpShowsExamples() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-compare-help-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let help = try run(["compare", "--help"], in: dir)
        #expect(help.status == 0)
        #expect(help.stdout.contains("Examples:"))
        #expect(help.stdout.contains("--tolerance total_cycles=0.5%"))
        #expect(help.stdout.contains("--junit <file>"))
    }
}
