import Foundation
import Testing

// `simulate --format html` and `tessera report`: one self-contained page, byte-identical across
// runs; bad input exits 2 with its location.

private let hw = "configs/array/scalesim-32x32-os.yaml"
private let wl = "traces/small-cnn.yaml"

@Suite struct ReportCLITests {
    let scratch: URL

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-report-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    private func path(_ name: String) -> String { scratch.appendingPathComponent(name).path }
    private func text(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }

    @Test func simulateWritesOnePageWithItsPicturesTheSameEveryTime() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        var r = try runTessera(["simulate", hw, wl, "-o", path("a"), "--format", "html", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        r = try runTessera(["simulate", hw, wl, "-o", path("b"), "--format", "html", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let a = try text("a/small-cnn--scalesim-32x32-os.html"), b = try text("b/small-cnn--scalesim-32x32-os.html")
        #expect(a == b)
        #expect(a.contains("<figcaption>Schedule") && a.contains("<figcaption>Hardware"))
        #expect(a.contains("id=\"layers\"") && a.contains("id=\"power\""))
        #expect(try FileManager.default.contentsOfDirectory(atPath: path("a")).filter { !$0.hasPrefix(".") } == ["small-cnn--scalesim-32x32-os.html"])
    }

    @Test func reportFromJSONAloneAndWithTheFiles() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        var r = try runTessera(["simulate", hw, wl, "-o", scratch.path, "--format", "json", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = path("small-cnn--scalesim-32x32-os.json")
        r = try runTessera(["report", json, "-o", path("alone.html")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("wrote"))
        let alone = try text("alone.html")
        #expect(alone.contains("pictures need the run") && !alone.contains("<figcaption>Schedule"))
        r = try runTessera(["report", json, "-o", path("files.html"), "--hardware", hw, "--workload", wl, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try text("files.html").contains("<figcaption>Schedule"))
        // The page from the JSON equals the one simulate writes (pictures and all).
        r = try runTessera(["simulate", hw, wl, "-o", path("sim"), "--format", "html", "--quiet"])
        let fromFiles = try text("files.html"), fromSimulate = try text("sim/small-cnn--scalesim-32x32-os.html")
        #expect(fromFiles == fromSimulate)
    }

    @Test func badInputExitsTwoWithItsPlace() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        var r = try runTessera(["report", path("missing.json"), "-o", path("x.html")])
        #expect(r.status == 2 && r.stderr.contains("does not exist"), "\(r.stderr)")
        try "{\"tessera\": 2,\n  \"oops\" }".write(toFile: path("bad.json"), atomically: true, encoding: .utf8)
        r = try runTessera(["report", path("bad.json"), "-o", path("x.html")])
        #expect(r.status == 2 && r.stderr.contains("bad.json:"), "\(r.stderr)")
        r = try runTessera(["report", path("bad.json"), "-o", path("x.html"), "--workload", wl])
        #expect(r.status == 2 && r.stderr.contains("--workload needs --hardware"), "\(r.stderr)")
        // Files that give another run than the report are refused at the workload.
        r = try runTessera(["simulate", hw, wl, "-o", scratch.path, "--format", "json", "--quiet"])
        #expect(r.status == 0)
        r = try runTessera(["report", path("small-cnn--scalesim-32x32-os.json"), "-o", path("y.html"), "--hardware", "configs/array/scalesim-32x32-ws.yaml", "--workload", wl])
        #expect(r.status == 2 && r.stderr.contains("different run") && r.stderr.contains("\(wl):1:1"), "\(r.stderr)")
        // A file Tessera did not write is not replaced without --force.
        try "mine".write(toFile: path("keep.html"), atomically: true, encoding: .utf8)
        r = try runTessera(["report", path("small-cnn--scalesim-32x32-os.json"), "-o", path("keep.html")])
        #expect(r.status == 2 && r.stderr.contains("--force"), "\(r.stderr)")
        #expect(try text("keep.html") == "mine")
        r = try runTessera(["report", path("small-cnn--scalesim-32x32-os.json"), "-o", path("keep.html"), "--force", "--quiet"])
        let replaced = try text("keep.html")
        #expect(r.status == 0 && replaced.hasPrefix("<!DOCTYPE html>"))
    }
}
