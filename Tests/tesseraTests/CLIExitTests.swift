import Foundation
import Testing

// Runs the built `tessera` binary and checks its exit statuses: 0 ok, 2 bad input or usage, and
// never a crash (a signal) on any malformed fixture.

private let packageRoot = cliPackageRoot

/// The malformed fixtures, relative to the package root.
private let badDirectory = "Tests/TesseraSpecTests/Fixtures/bad"

/// Fixtures whose diagnostic points into another fixture (an `extends` cycle closes there).
private let pointsInto = [
    "hw-extends-cycle-a.yaml": "hw-extends-cycle-b.yaml",
    "hw-extends-cycle-b.yaml": "hw-extends-cycle-a.yaml",
]

private typealias RunResult = TesseraRun

private func tessera(_ arguments: [String]) throws -> RunResult { try runTessera(arguments) }

private func badFixtures() -> [String] {
    let dir = packageRoot.appendingPathComponent(badDirectory).path
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
}

private func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-cli-out-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct CLIExitTests {
    @Test func thereAreBadFixtures() {
        #expect(badFixtures().count >= 34)
    }

    @Test(arguments: badFixtures())
    func validateRejectsBadFixture(_ name: String) throws {
        let path = "\(badDirectory)/\(name)"
        let r = try tessera(["validate", path])
        #expect(r.reason == .exit, "tessera crashed with signal \(r.status) on \(name)")
        #expect(r.status == 2, "status \(r.status) for \(name); stderr:\n\(r.stderr)")
        let located = try Regex(#"^\d+:\d+: error: \S"#)
        let pointed = "\(badDirectory)/\(pointsInto[name] ?? name):"
        let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix(pointed) }
        #expect(
            lines.contains { $0.dropFirst(pointed.count).firstMatch(of: located) != nil },
            "no '\(pointed)LINE:COLUMN: error: ' line for \(name); stderr:\n\(r.stderr)")
        #expect(!r.stdout.contains(": ok"), "\(name) was reported ok")
    }

    @Test func simulateWithAMissingFileNamesIt() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try tessera(["simulate", "configs/array/no-such-hardware.yaml", "traces/small-cnn.yaml", "-o", dir.path, "--quiet"])
        #expect(r.reason == .exit)
        #expect(r.status == 2, "stderr:\n\(r.stderr)")
        #expect(r.stderr.contains("configs/array/no-such-hardware.yaml:1:1: error: cannot read file"), "stderr:\n\(r.stderr)")
    }

    @Test func simulateWithOneFileIsAUsageError() throws {
        let r = try tessera(["simulate", "configs/array/ideal-32x32-os.yaml"])
        #expect(r.reason == .exit)
        #expect(r.status == 2, "stderr:\n\(r.stderr)")
        #expect(r.stderr.contains("give both a hardware file and a workload file"), "stderr:\n\(r.stderr)")
    }

    @Test func anUnknownOptionIsAUsageError() throws {
        let r = try tessera(["simulate", "--no-such-option"])
        #expect(r.reason == .exit)
        #expect(r.status == 2, "stderr:\n\(r.stderr)")
        #expect(r.stderr.contains("--no-such-option"), "stderr:\n\(r.stderr)")
    }

    @Test func validateWithNoFilesIsAUsageError() throws {
        let r = try tessera(["validate"])
        #expect(r.reason == .exit)
        #expect(r.status == 2, "stderr:\n\(r.stderr)")
    }

    @Test func versionExitsZero() throws {
        let r = try tessera(["--version"])
        #expect(r.status == 0, "stderr:\n\(r.stderr)")
        #expect(r.stdout.range(of: #"^\d+\.\d+\.\d+"#, options: .regularExpression) != nil, "stdout:\n\(r.stdout)")
    }

    @Test func helpExitsZero() throws {
        let r = try tessera(["--help"])
        #expect(r.status == 0, "stderr:\n\(r.stderr)")
        #expect(r.stdout.contains("simulate"))
    }

    @Test func kindsListsEveryComponentKind() throws {
        let r = try tessera(["kinds"])
        #expect(r.status == 0, "stderr:\n\(r.stderr)")
        for kind in ["systolic-array", "sram", "dram"] {
            #expect(r.stdout.contains(kind), "'\(kind)' missing from tessera kinds")
        }
    }

    @Test func validateAcceptsAGoodPair() throws {
        let r = try tessera(["validate", "configs/array/ideal-32x32-os.yaml", "traces/small-cnn.yaml"])
        #expect(r.status == 0, "stderr:\n\(r.stderr)")
        #expect(r.stderr.isEmpty)
    }

    @Test func simulateIsDeterministic() throws {
        var reports: [Data] = []
        for _ in 0..<2 {
            let dir = try temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let r = try tessera([
                "simulate", "configs/array/ideal-32x32-os.yaml", "traces/small-cnn.yaml", "-o", dir.path, "--format", "json", "--quiet",
            ])
            #expect(r.reason == .exit)
            #expect(r.status == 0, "stderr:\n\(r.stderr)")
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") }
            #expect(files.count == 1, "\(files)")
            let file = try #require(files.first)
            reports.append(try Data(contentsOf: dir.appendingPathComponent(file)))
        }
        #expect(reports.count == 2)
        #expect(reports.first?.isEmpty == false)
        #expect(reports.first == reports.last, "two runs of the same simulation wrote different JSON")
    }
}
