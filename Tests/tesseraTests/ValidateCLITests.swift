import Foundation
import Testing

/// `validate` runs the checks `simulate` runs before simulating (DESIGN convention 12 and the
/// "validate ≡ simulate" rule): a pair it accepts simulates, a pair simulate refuses it refuses
/// with the same located diagnostic, and work past the budget is refused before it starts.
@Suite struct ValidateCLITests {
    /// Every bundled pair the regression baselines run, a few mismatched pairs, and each verdict
    /// of validate agrees with simulate's.
    @Test(arguments: [
        ("configs/array/scalesim-32x32-os.yaml", "traces/gemm-512.yaml", true),
        ("configs/sat/vcu1525.yaml", "traces/small-cnn-train.yaml", true),
        ("configs/edge/phone-soc.yaml", "traces/kws-dscnn-b1.yaml", true),
        ("configs/gpu/ring-8.yaml", "traces/ar-sweep.yaml", true),
        ("configs/gpu/dgx-h100-x1.yaml", "traces/llama3-8b-serving-colocated.yaml", true),
        ("configs/array/scalesim-32x32-os.yaml", "traces/resnet18-train-b16.yaml", false),
        ("configs/gpu/ring-8.yaml", "traces/gemm-512.yaml", false),
        ("configs/edge/phone-soc.yaml", "traces/ar-sweep.yaml", false),
    ]) func validateOfAPairAgreesWithSimulate(_ hardware: String, _ workload: String, _ accepted: Bool) throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-validate-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        let v = try runTessera(["validate", hardware, workload])
        let s = try runTessera(["simulate", hardware, workload, "-o", out.path, "--format", "json", "--quiet"])
        #expect((v.status == 0) == accepted, "\(v.stdout)\(v.stderr)")
        #expect((s.status == 0) == accepted, "\(s.stderr)")
        if accepted {
            #expect(v.stdout == "\(hardware) + \(workload): ok\n")
        } else {
            #expect(v.status == 2 && s.status == 2)
            #expect(v.stderr == s.stderr, "validate and simulate disagree:\n\(v.stderr)\n\(s.stderr)")
        }
    }

    @Test func aSweepsPointsAreCheckedAndCounted() throws {
        let r = try runTessera(["validate", "sweeps/array-design-space.yaml", "sweeps/llama3-8b-layouts.yaml"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("sweeps/array-design-space.yaml: ok (all 120 points checked)"), "\(r.stdout)")
        #expect(r.stdout.contains("invalid, which the sweep skips: on_invalid: skip)"), "\(r.stdout)")
    }

    /// Work past the budget is refused where the key that makes it is, and --allow-large lifts it.
    @Test func workPastTheBudgetIsRefusedAtItsKey() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-budget-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let sizes = (1...2000).map { "\($0) MiB" }.joined(separator: ", ")
        let wl = dir.appendingPathComponent("many.yaml")
        try "tessera: 1\nname: many\ncollective: {op: all-to-all, sizes: [\(sizes)]}\n".write(to: wl, atomically: true, encoding: .utf8)
        let cwd = cliPackageRoot.path
        let hw = cwd + "/configs/gpu/dgx-h100-x16.yaml"
        let v = try runTessera(["validate", hw, wl.path])
        #expect(v.status == 2)
        #expect(v.stderr.contains("many.yaml:3:13: error: the run would take about 32512000 point-to-point messages"), "\(v.stderr)")
        #expect(v.stderr.contains("pass --allow-large"))
        let big = try runTessera(["validate", "configs/array/tpu-128x128-os.yaml", "traces/mobilenetv2-b1.yaml"])
        #expect(big.status == 0)
        let batch = dir.appendingPathComponent("big.yaml")
        try "tessera: 1\nextends: \(cwd)/traces/mobilenetv2-b1.yaml\nname: big\nbatch: 65536\n".write(to: batch, atomically: true, encoding: .utf8)
        let folds = try runTessera(["simulate", "configs/array/tpu-128x128-os.yaml", batch.path, "-o", dir.path])
        #expect(folds.status == 2)
        #expect(folds.stderr.contains("big.yaml:4:8: error: the run would take about") && folds.stderr.contains("array folds"), "\(folds.stderr)")
    }
}

/// Nothing a user wrote is overwritten without --force, whatever it looks like; every target is
/// checked before the first is written.
@Suite struct OverwriteCLITests {
    @Test func reportsAndTracesReplaceOnlyTheirOwnFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-overwrite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let pair = ["configs/array/scalesim-32x32-os.yaml", "traces/gemm-512.yaml"]
        let md = dir.appendingPathComponent("gemm-512--scalesim-32x32-os.md")
        let trace = dir.appendingPathComponent("t.json")
        let mine = "# my notes\n\n## Model\nkeep me\n"
        try mine.write(to: md, atomically: true, encoding: .utf8)
        let refused = try runTessera(["simulate"] + pair + ["-o", dir.path, "--quiet"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("refusing to overwrite") && refused.stderr.contains(".md"), "\(refused.stderr)")
        // Checked before the first write: the .json and .csv were not written either.
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("gemm-512--scalesim-32x32-os.json").path))
        #expect(try String(contentsOf: md, encoding: .utf8) == mine)

        try "{\"tessera\": 2, \"mine\": true}".write(to: trace, atomically: true, encoding: .utf8)
        let traced = try runTessera(["simulate"] + pair + ["-o", dir.appendingPathComponent("r").path, "--quiet", "--trace", trace.path])
        #expect(traced.status == 2 && traced.stderr.contains("refusing to overwrite '\(trace.path)'"), "\(traced.stderr)")

        // Its own files it replaces; --force replaces the user's.
        let forced = try runTessera(["simulate"] + pair + ["-o", dir.path, "--quiet", "--force", "--trace", trace.path])
        #expect(forced.status == 0, "\(forced.stderr)")
        let again = try runTessera(["simulate"] + pair + ["-o", dir.path, "--quiet", "--trace", trace.path])
        #expect(again.status == 0, "\(again.stderr)")
    }
}
