import Foundation
import Testing

// LLM serving from the command line: a bundled trace writes its reports with TTFT and TPOT; a
// deployment larger than the cluster exits 2 with a located error.

@Suite struct ServingCLITests {
    private func outDir() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-serving-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func simulateWritesTheServingReport() throws {
        let dir = try outDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try runTessera(["simulate", "configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-serving-disaggregated.yaml", "-o", dir.path, "--format", "json"])
        #expect(r.reason == .exit && r.status == 0, "stderr:\n\(r.stderr)")
        #expect(r.stdout.contains("served disaggregated on 4 GPUs"), "\(r.stdout)")
        let json = try String(contentsOf: dir.appendingPathComponent("llama3-8b-serving-disaggregated--dgx-h100-x1.json"), encoding: .utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let serving = try #require(object["serving"] as? [String: Any])
        #expect((serving["tpot"] as? [String: Any])?["p90_s"] is Double)
        #expect(serving["kv_transfer"] != nil)
    }

    /// An SLO attainment target: the console and the JSON give the verdict, and --strict fails
    /// the run (status 1) when it is missed.
    @Test func aMissedAttainmentTargetFailsUnderStrict() throws {
        let dir = try outDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = try String(contentsOfFile: "traces/llama3-8b-serving-colocated.yaml", encoding: .utf8)
        for (target, status) in [("99%", Int32(1)), ("0.5", Int32(0)), ("190%", Int32(2))] {
            let trace = dir.appendingPathComponent("slo-\(status).yaml")
            try base.replacingOccurrences(of: "slo: {ttft: 200 ms, tpot: 5 ms}", with: "slo: {ttft: 200 ms, tpot: 5 ms, attainment: \(target)}").write(to: trace, atomically: true, encoding: .utf8)
            let r = try runTessera(["simulate", "configs/gpu/dgx-h100-x1.yaml", trace.path, "-o", dir.path, "--format", "json", "--strict", "--force"])
            #expect(r.reason == .exit && r.status == status, "\(target): \(r.stderr)")
            if status == 2 {
                #expect(r.stderr.contains(":16:47: error: 'slo.attainment' is not a share of requests"), "\(r.stderr)")
                continue
            }
            if status == 1 {
                #expect(r.stderr.contains("--strict: SLO MISSED: attainment 75.5% is below the 99% target"), "\(r.stderr)")
                #expect(r.stdout.contains("SLO MISSED"))
            } else {
                #expect(r.stdout.contains("SLO attainment 75.5% meets the 50% target"), "\(r.stdout)")
            }
            let object = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("llama3-8b-serving-colocated--dgx-h100-x1.json"))) as? [String: Any])
            let slo = try #require((object["serving"] as? [String: Any])?["slo"] as? [String: Any])
            #expect(slo["met"] as? Bool == (status == 0))
        }
    }

    @Test func aDeploymentLargerThanTheClusterExitsWithStatus2() throws {
        let dir = try outDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trace = dir.appendingPathComponent("too-big.yaml")
        try """
            tessera: 1
            name: too-big
            phase: inference
            transformer: llama3-8b
            serving:
              mode: colocated
              instances: {gpus: 16, tp: 8}
              slo: {ttft: 1 s, tpot: 50 ms}
              requests: {rate: 1/s, count: 4, prompt: 128, output: 8}
            """.write(to: trace, atomically: true, encoding: .utf8)
        let r = try runTessera(["simulate", "configs/gpu/dgx-h100-x1.yaml", trace.path, "-o", dir.path, "--quiet"])
        #expect(r.reason == .exit && r.status == 2, "stderr:\n\(r.stderr)")
        #expect(r.stderr.contains("too-big.yaml:7:14: error: the serving groups need more GPUs than the cluster has"), "stderr:\n\(r.stderr)")
    }

    /// A serving run has a trace (iterations per instance, KV caches arriving) and a schedule.
    @Test func aServingRunHasATraceAndASchedule() throws {
        let dir = try outDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try runTessera(["simulate", "configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-serving-disaggregated.yaml", "-o", dir.path, "--trace", dir.appendingPathComponent("t.json").path, "--quiet"])
        #expect(r.reason == .exit && r.status == 0, "stderr:\n\(r.stderr)")
        let trace = try String(contentsOf: dir.appendingPathComponent("t.json"), encoding: .utf8)
        for piece in ["\"prefill\"", "\"decode\"", "KV cache", "\"batch\""] { #expect(trace.contains(piece), "\(piece)") }
        let s = try runTessera(["render", "schedule", "configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-serving-disaggregated.yaml", "-o", dir.appendingPathComponent("s.dot").path])
        #expect(s.reason == .exit && s.status == 0, "stderr:\n\(s.stderr)")
        let dot = try String(contentsOf: dir.appendingPathComponent("s.dot"), encoding: .utf8)
        for piece in ["#6fa8dc", "#7cc47a", "#f5b26b", "KV cache arriving"] { #expect(dot.contains(piece), "\(piece)") }
    }
}
