import Foundation
import Testing

// The CLI on GPU clusters: a collective microbenchmark writes its reports and the hardware picture
// draws the topology; every cluster run draws its schedule and trace; a window in cycles (a
// cluster has no single clock) and workloads on the wrong hardware exit 2 with a located error.

@Suite struct ClusterCLITests {
    private func outDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-cluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func simulateWritesCollectiveReportsTwice() throws {
        let dir = try outDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        for _ in 0..<2 {  // the second run replaces its own CSV and Markdown
            let r = try runTessera(["simulate", "configs/gpu/ring-8.yaml", "traces/ar-sweep.yaml", "-o", dir.path, "--quiet"])
            #expect(r.reason == .exit && r.status == 0, "stderr:\n\(r.stderr)")
        }
        let csv = try String(contentsOf: dir.appendingPathComponent("ar-sweep--ring-8.csv"), encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 4)
    }

    @Test func renderHardwareDrawsTheTopology() throws {
        let dir = try outDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("hw.dot")
        let r = try runTessera(["render", "hardware", "configs/gpu/dgx-h100-x16.yaml", "-o", out.path])
        #expect(r.reason == .exit && r.status == 0, "stderr:\n\(r.stderr)")
        let dot = try String(contentsOf: out, encoding: .utf8)
        for piece in ["NVSwitch", "\"spine\"", "leaf 3", "NIC 7", "… 8 more nodes"] { #expect(dot.contains(piece), "\(piece)") }
    }

    /// A transformer training step has a schedule picture and a trace.
    @Test func trainingStepDrawsItsScheduleAndTrace() throws {
        let dir = try outDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try runTessera(["render", "schedule", "configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-train-8.yaml", "-o", dir.appendingPathComponent("s.dot").path])
        #expect(r.reason == .exit && r.status == 0, "stderr:\n\(r.stderr)")
        for _ in 0..<2 {  // the second run replaces its own reports (the CSV is one row per stage)
            let t = try runTessera(["simulate", "configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-train-8.yaml", "-o", dir.path, "--trace", dir.appendingPathComponent("t.json").path, "--quiet"])
            #expect(t.reason == .exit && t.status == 0, "stderr:\n\(t.stderr)")
        }
        let csv = try String(contentsOf: dir.appendingPathComponent("llama3-8b-tp2-dp4--dgx-h100-x1.csv"), encoding: .utf8)
        #expect(csv.hasPrefix("stage,name,gpus,compute_s,") && csv.split(separator: "\n").count == 2)
        for _ in 0..<2 {
            let v = try runTessera(["simulate", "configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-serving-colocated.yaml", "-o", dir.path, "--quiet"])
            #expect(v.reason == .exit && v.status == 0, "stderr:\n\(v.stderr)")
        }
        let trace = try String(contentsOf: dir.appendingPathComponent("t.json"), encoding: .utf8)
        for piece in ["\"traceEvents\"", "stage0 (8 GPUs)", "\"tp\"", "reduce-scatter over dp"] { #expect(trace.contains(piece), "\(piece)") }
        let bad = try runTessera(["simulate", "configs/gpu/dgx-h100-x16.yaml", "traces/llama3-8b-train-8.yaml", "-o", dir.path, "--quiet"])
        #expect(bad.status == 2 && bad.stderr.contains("tp × pp × dp = 128 GPUs"), "stderr:\n\(bad.stderr)")
    }

    /// Training steps, serving runs and collective benchmarks draw their schedule through the one
    /// renderer, byte-identical from run to run, and write a trace with a power track.
    @Test(arguments: [
        ("configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-train-8.yaml"), ("configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-serving-colocated.yaml"),
        ("configs/gpu/ring-8.yaml", "traces/ar-sweep.yaml"),
    ])
    func everyClusterRunDrawsItsScheduleIdentically(_ pair: (String, String)) throws {
        let dir = try outDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        var pictures: [Data] = []
        for k in 0..<2 {
            let file = dir.appendingPathComponent("s\(k).svg")
            let r = try runTessera(["render", "schedule", pair.0, pair.1, "-o", file.path])
            #expect(r.reason == .exit && r.status == 0, "stderr:\n\(r.stderr)")
            pictures.append(try Data(contentsOf: file))
        }
        #expect(pictures[0] == pictures[1])
        let t = try runTessera(["simulate", pair.0, pair.1, "-o", dir.path, "--trace", dir.appendingPathComponent("t.json").path, "--quiet"])
        #expect(t.reason == .exit && t.status == 0, "stderr:\n\(t.stderr)")
        let trace = try String(contentsOf: dir.appendingPathComponent("t.json"), encoding: .utf8)
        #expect(trace.contains("\"ph\": \"X\"") && trace.contains("\"watts\""))
    }

    @Test(arguments: [
        ["render", "schedule", "configs/gpu/ring-8.yaml", "traces/ar-sweep.yaml", "-o", "OUT/s.svg", "--from", "5"],
        ["render", "schedule", "configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-train-8.yaml", "-o", "OUT/s.svg", "--to", "150000cycles"],
        ["simulate", "configs/gpu/ring-8.yaml", "traces/small-cnn.yaml", "-o", "OUT", "--quiet"],
        ["simulate", "configs/array/ideal-32x32-os.yaml", "traces/ar-sweep.yaml", "-o", "OUT", "--quiet"],
    ])
    func unsupportedUsesAreLocatedErrors(_ arguments: [String]) throws {
        let dir = try outDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try runTessera(arguments.map { $0.replacingOccurrences(of: "OUT", with: dir.path) })
        #expect(r.reason == .exit)
        #expect(r.status == 2, "stderr:\n\(r.stderr)")
        #expect(r.stderr.contains(try Regex(#"\.yaml:\d+:\d+: error: "#)), "stderr:\n\(r.stderr)")
    }
}

/// `render graph` draws every bundled GPU trace: training steps, serving deployments and
/// collective microbenchmarks, byte-identical from run to run.
@Suite struct ClusterGraphCLITests {
    @Test(arguments: [
        ("configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-train-8.yaml", "stage0.forward"),
        ("configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-serving-disaggregated.yaml", "kv-cache"),
        ("configs/gpu/dgx-h100-x1.yaml", "traces/ar-sweep.yaml", "all-reduce"),
    ])
    func clusterRunsDrawAGraph(hardware: String, workload: String, piece: String) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-cluster-graph-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.dot").path, b = dir.appendingPathComponent("b.dot").path
        for file in [a, b] {
            let r = try runTessera(["render", "graph", hardware, workload, "-o", file, "--quiet"])
            #expect(r.reason == .exit && r.status == 0, "stderr:\n\(r.stderr)")
        }
        let dot = try String(contentsOfFile: a, encoding: .utf8)
        #expect(dot.contains(piece), "\(piece)")
        #expect(dot == (try String(contentsOfFile: b, encoding: .utf8)))
    }
}
