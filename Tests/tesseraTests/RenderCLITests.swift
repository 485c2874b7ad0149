import Foundation
import Testing

// `tessera render` and `tessera simulate --trace` through the built binary: files written with the
// format their extension names, bad input exits 2.

private let root = cliPackageRoot

private func run(_ arguments: [String], scratch: URL) throws -> (status: Int32, stdout: String, stderr: String) {
    let r = try runTessera(arguments)
    #expect(r.reason == .exit, "tessera \(arguments.joined(separator: " ")) was killed by a signal")
    return (r.status, r.stdout, r.stderr)
}

private let hw = "configs/array/scalesim-32x32-os.yaml"
private let wl = "traces/small-cnn.yaml"

@Suite struct RenderCLITests {
    let scratch: URL

    init() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-render-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    private func file(_ name: String) -> String { scratch.appendingPathComponent(name).path }

    private func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: scratch.appendingPathComponent(name))) }

    @Test func picturesInEveryFormat() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        var r = try run(["render", "hardware", hw, "-o", file("hw.svg")], scratch: scratch)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(String(decoding: try bytes("hw.svg"), as: UTF8.self).contains("<svg"))
        r = try run(["render", "graph", hw, wl, "-o", file("graph.png")], scratch: scratch)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Array(try bytes("graph.png").prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
        r = try run(["render", "schedule", hw, wl, "-o", file("schedule.pdf"), "--to", "20000"], scratch: scratch)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(String(decoding: try bytes("schedule.pdf").prefix(4), as: UTF8.self) == "%PDF")
        r = try run(["render", "schedule", hw, wl, "-o", file("schedule.dot")], scratch: scratch)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(String(decoding: try bytes("schedule.dot"), as: UTF8.self).contains("digraph schedule"))
        r = try run(["render", "graph", hw, wl, "-o", file("graph.out"), "--format", "svg", "--layers", "conv1..pw2", "--collapse", "none"], scratch: scratch)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("wrote "))
        // Nothing but the pictures and the runner's own files is left behind (no temporary files).
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { !$0.hasPrefix(".std") }.sorted()
        #expect(left == [".tessera-written", "graph.out", "graph.png", "hw.svg", "schedule.dot", "schedule.pdf"])
    }

    /// Every picture is byte-identical across runs: each run is its own process, so a dictionary's
    /// per-process order cannot leak into a picture.
    @Test(arguments: [
        ["schedule", "configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-train-8.yaml"],
        ["schedule", "configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-serving-disaggregated.yaml"],
        ["graph", "configs/sat/vcu1525.yaml", "traces/small-cnn-train.yaml"],
        ["hardware", "configs/gpu/dgx-h100-x16.yaml"],
        ["schedule", "configs/edge/phone-soc.yaml", "traces/kws-dscnn-b1.yaml"],
    ]) func everyPictureIsByteIdenticalAcrossRuns(_ what: [String]) throws {
        var outputs: [[UInt8]] = []
        for i in 0..<3 {
            let name = "same-\(what[0])-\(i).svg"
            let r = try run(["render"] + what + ["-o", file(name), "--quiet"], scratch: scratch)
            #expect(r.status == 0, "\(r.stderr)")
            outputs.append(try bytes(name))
        }
        #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2], "\(what) differs between runs")
    }

    @Test func badInputExitsTwo() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        for arguments in [
            ["render", "hardware", hw, "-o", file("hw.gif")],
            ["render", "hardware", hw, "-o", file("hw"), "--format", "jpeg"],
            ["render", "hardware", "configs/array/missing.yaml", "-o", file("hw.svg")],
            ["render", "graph", hw, wl, "-o", file("g.svg"), "--layers", "conv1..nope"],
            ["render", "graph", hw, wl, "-o", file("g.svg"), "--collapse", "everything"],
            ["render", "schedule", hw, wl, "-o", file("s.svg"), "--from", "5", "--to", "5"],
            ["render", "schedule", hw, wl, "-o", file("no/such/dir/s.svg")],
            ["render", "schedule", hw, "-o", file("s.svg")],
        ] {
            let r = try run(arguments, scratch: scratch)
            #expect(r.status == 2, "tessera \(arguments.joined(separator: " ")): status \(r.status), \(r.stderr)")
            #expect(r.stderr.lowercased().contains("error"), "\(r.stderr)")
        }
    }

    @Test func simulateWritesATrace() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let r = try run(["simulate", hw, wl, "-o", file("out"), "--format", "json", "--trace", file("trace.json")], scratch: scratch)
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(try bytes("trace.json"))) as? [String: Any]
        let events = try #require(object?["traceEvents"] as? [[String: Any]])
        #expect(events.contains { $0["ph"] as? String == "X" })
        #expect(r.stdout.contains("trace.json"))
    }

    @Test func helpHasExamples() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        for sub in [["render"], ["render", "hardware"], ["render", "graph"], ["render", "schedule"]] {
            let r = try run(sub + ["--help"], scratch: scratch)
            #expect(r.status == 0)
            #expect(r.stdout.contains("Examples:"))
        }
    }
}

/// `tessera import scalesim-config`: a SCALE-Sim .cfg becomes an array file that loads and runs a
/// SCALE-Sim topology CSV; a bad config exits 2 at its line; a file Tessera did not write is kept.
@Suite struct ImportCLITests {
    @Test func aScaleSimCaseRunsHere() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func path(_ name: String) -> String { dir.appendingPathComponent(name).path }
        let cfg = "[general]\nrun_name = small_os\n\n[architecture_presets]\nArrayHeight: 16\nArrayWidth: 16\nIfmapSramSzkB: 64\nFilterSramSzkB: 64\nOfmapSramSzkB: 64\nDataflow : os\nBandwidth : 10\n\n[run_presets]\nInterfaceBandwidth: CALC\n"
        try cfg.write(toFile: path("small.cfg"), atomically: true, encoding: .utf8)
        try "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\nConv1,32,32,3,3,3,16,1,\nConv2,30,30,3,3,16,32,2,\n"
            .write(toFile: path("net.csv"), atomically: true, encoding: .utf8)
        try "tessera: 1\nname: net\nlayers: {scalesim_csv: net.csv}\n".write(toFile: path("net.yaml"), atomically: true, encoding: .utf8)
        var r = try runTessera(["import", "scalesim-config", path("small.cfg"), "-o", path("hw.yaml")])
        #expect(r.reason == .exit && r.status == 0, "stderr:\n\(r.stderr)")
        r = try runTessera(["simulate", path("hw.yaml"), path("net.yaml"), "-o", path("out"), "--format", "json", "--quiet"])
        #expect(r.status == 0, "stderr:\n\(r.stderr)")
        let report = try String(contentsOfFile: path("out/net--small_os.json"), encoding: .utf8)
        #expect(report.contains("\"Conv1\"") && report.contains("\"Conv2\""))
        // A file the user wrote is not replaced without --force.
        try "mine\n".write(toFile: path("mine.yaml"), atomically: true, encoding: .utf8)
        r = try runTessera(["import", "scalesim-config", path("small.cfg"), "-o", path("mine.yaml")])
        let kept = try String(contentsOfFile: path("mine.yaml"), encoding: .utf8)
        #expect(r.status == 2 && kept == "mine\n", "stderr:\n\(r.stderr)")
        r = try runTessera(["import", "scalesim-config", path("small.cfg"), "-o", path("mine.yaml"), "--force"])
        #expect(r.status == 0)
        // A bad value is located at its line.
        try cfg.replacingOccurrences(of: "Dataflow : os", with: "Dataflow : xs").write(toFile: path("bad.cfg"), atomically: true, encoding: .utf8)
        r = try runTessera(["import", "scalesim-config", path("bad.cfg"), "-o", path("bad.yaml")])
        #expect(r.status == 2 && r.stderr.contains("bad.cfg:10:1: error: unknown 'Dataflow'"), "stderr:\n\(r.stderr)")
    }
}
