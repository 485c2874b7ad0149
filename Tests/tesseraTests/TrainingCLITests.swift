import Foundation
import Testing

// The sparse-training commands: simulate --compare-dense, the optimization flags, and ablate.

private func outDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-train-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

@Suite struct TrainingCLITests {
    @Test func compareDenseAddsTheBaselineToTheReport() throws {
        let out = try outDirectory()
        let r = try runTessera(["simulate", "configs/sat/vcu1525.yaml", "traces/small-cnn-train.yaml", "--compare-dense", "-o", out.path, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("speedup over dense"))
        let json = try String(contentsOf: out.appendingPathComponent("small-cnn-train--sat-vcu1525.json"), encoding: .utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let dense = try #require(object["dense_total_cycles"] as? Int)
        let total = try #require(object["total_cycles"] as? Int)
        let speedup = try #require(object["speedup_over_dense"] as? Double)
        #expect(abs(speedup - Double(dense) / Double(total)) < 1e-12)
    }

    @Test func optimizationFlagsChangeTheRunAndTheReportSaysSo() throws {
        let out = try outDirectory()
        let r = try runTessera(["simulate", "configs/sat/vcu1525.yaml", "traces/small-cnn-train.yaml", "--no-pregeneration", "--no-offline-schedule", "-o", out.path, "--format", "json", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try String(contentsOf: out.appendingPathComponent("small-cnn-train--sat-vcu1525.json"), encoding: .utf8)
        #expect(json.contains("\"interleave\": true") && json.contains("\"pregeneration\": false") && json.contains("\"offline_schedule\": false"))
    }

    @Test func sparseTrainingOptionsOnAPlainArrayExitWithStatus2() throws {
        let out = try outDirectory()
        let flag = try runTessera(["simulate", "configs/array/scalesim-32x32-os.yaml", "traces/small-cnn.yaml", "--no-interleave", "-o", out.path])
        #expect(flag.status == 2)
        #expect(flag.stderr.contains("configs/array/scalesim-32x32-os.yaml:1:1: error:"))
        let dense = try runTessera(["simulate", "configs/array/scalesim-32x32-os.yaml", "traces/small-cnn.yaml", "--compare-dense", "-o", out.path])
        #expect(dense.status == 2)
        let training = try runTessera(["simulate", "configs/array/scalesim-32x32-os.yaml", "traces/small-cnn-train.yaml", "-o", out.path])
        #expect(training.status == 2)
        #expect(training.stderr.contains("traces/small-cnn-train.yaml:6:8: error: training runs on a 'sparse-training-array' or an 'edge-soc'"))
        let ablate = try runTessera(["ablate", "configs/array/scalesim-32x32-os.yaml", "traces/small-cnn.yaml"])
        #expect(ablate.status == 2)
    }

    @Test func aPatternTheArrayDoesNotListExitsWithStatus2AtThePattern() throws {
        let dir = try outDirectory()
        let wl = dir.appendingPathComponent("w.yaml")
        try "tessera: 1\nname: w\nmodel: resnet18\nphase: training\nprecision: fp16\nsparsity: {pattern: \"3:8\"}\n".write(to: wl, atomically: true, encoding: .utf8)
        let r = try runTessera(["simulate", "configs/sat/vcu1525.yaml", wl.path, "-o", dir.path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("w.yaml:6:21: error: the array 'stce' does not run 3:8"))
        #expect(r.stderr.contains("configs/sat/vcu1525.yaml:"))
    }

    @Test func ablatePrintsOneRowPerConfiguration() throws {
        let r = try runTessera(["ablate", "configs/sat/vcu1525.yaml", "traces/small-cnn-train.yaml"])
        #expect(r.status == 0, "\(r.stderr)")
        for row in ["| all optimizations |", "| no interleave mapping |", "| no pre-generation |", "| no offline schedule |", "| none |", "| dense, all optimizations |"] {
            #expect(r.stdout.contains(row), "\(row)")
        }
    }
}
