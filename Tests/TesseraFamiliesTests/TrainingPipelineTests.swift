import Foundation
import Testing
import TesseraCore
import TesseraSpec

@testable import TesseraOutput
import TesseraStudy
import TesseraFamilies
import TesseraTestSupport

private func pipeline(_ hw: String, _ wl: String) throws -> Pipeline {
    try Pipeline.load(hardwarePath: packageRoot.appendingPathComponent(hw).path, workloadPath: packageRoot.appendingPathComponent(wl).path)
}

private func withSparsity(_ p: Pipeline, pattern: String, scheme: SparsityScheme) throws -> Pipeline {
    // Re-read the workload with another pattern and scheme, so validation runs on it as a user's file would.
    let text = try String(contentsOfFile: p.workload.file, encoding: .utf8)
        .replacingOccurrences(of: "sparsity: {pattern: \"2:8\", scheme: bdwp}", with: "sparsity: {pattern: \"\(pattern)\", scheme: \(scheme.rawValue)}")
    var q = p
    q.workload = try WorkloadLoader.parse(text, file: p.workload.file)
    return q
}

@Suite struct TrainingPipelineTests {
    /// The SAT preset on ResNet-18: BDWP 2:8 beats dense but stays under the compute-bound ideal
    /// 3/(2·N/M + 1) = 2.0× (SAT, TCAD, arXiv 2309.13015); forward-only gains less, 2:4 less still.
    @Test func bdwpSpeedupIsBelowTheComputeBoundIdeal() throws {
        let p = try pipeline("configs/sat/vcu1525.yaml", "traces/resnet18-train-b16.yaml")
        let dense = try p.dense.run(recordTimeline: false).report.totalCycles
        func speedup(_ pattern: String, _ scheme: SparsityScheme) throws -> Double {
            Double(dense) / Double(try withSparsity(p, pattern: pattern, scheme: scheme).run(recordTimeline: false).report.totalCycles)
        }
        let bdwp28 = try speedup("2:8", .bdwp)
        #expect(bdwp28 > 1.3 && bdwp28 < 2.0)
        #expect(try speedup("2:8", .forwardOnly) < bdwp28)
        #expect(try speedup("2:4", .bdwp) < bdwp28)
        // 1:8's ideal is 3/(2/8 + 1) = 2.4×.
        #expect(try speedup("1:8", .bdwp) < 2.4)
    }

    /// Each optimization, removed alone, costs time on the preset.
    @Test func everyOptimizationBuysTime() throws {
        let a = try Ablation.run(try pipeline("configs/sat/vcu1525.yaml", "traces/resnet18-train-b16.yaml"))
        let all = try #require(a.rows.first).totalCycles
        for row in a.rows.dropFirst() { #expect(row.totalCycles > all, "\(row.name)") }
        #expect(a.markdown().contains("| no pre-generation | on | off | on |"))
    }

    @Test func reportCarriesPassesAndTheDenseComparison() throws {
        let p = try pipeline("configs/sat/vcu1525.yaml", "traces/small-cnn-train.yaml")
        var report = try p.run().report
        report.denseTotalCycles = try p.dense.run(recordTimeline: false).report.totalCycles
        let json = report.json()
        for key in ["\"phase\": \"training\"", "\"scheme\": \"bdwp\"", "\"pattern\": \"2:8\"", "\"phases\"", "\"ff\"", "\"bp\"", "\"wg\"", "\"update\"",
            "\"maskgen\"", "\"dense_total_cycles\"", "\"speedup_over_dense\"", "\"dense_macs\"", "\"left_dense\"", "\"pass\": \"wg\"", "\"sparsity\": \"2:8\""]
        {
            #expect(json.contains(key), "\(key)")
        }
        let t = try #require(report.training)
        #expect(t.passes.reduce(0) { $0 + $1.macs } == report.macs)
        #expect(t.passes.reduce(0) { $0 + $1.denseMacs } == t.denseMacs)
        #expect(t.leftDense == ["dw2"])
        #expect(report.csv().hasPrefix("layer,op,unit,dataflow,"))
    }

    @Test func trainingOrSparsityOnAPlainArrayIsALocatedError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let wl = dir.appendingPathComponent("t.yaml")
        try "tessera: 1\nname: t\nmodel: resnet18\nphase: training\nsparsity: {pattern: \"2:8\"}\n".write(to: wl, atomically: true, encoding: .utf8)
        let p = try Pipeline.load(hardwarePath: packageRoot.appendingPathComponent("configs/array/scalesim-32x32-os.yaml").path, workloadPath: wl.path)
        #expect {
            _ = try p.run()
        } throws: { error in
            guard let e = error as? InputError else { return false }
            let phase = e.diagnostics.first { $0.message.contains("training runs on a 'sparse-training-array' or an 'edge-soc'") }
            let sparsity = e.diagnostics.first { $0.message.contains("N:M sparsity runs on a 'sparse-training-array'") }
            return phase?.location?.line == 4 && phase?.location?.column == 8 && sparsity?.location?.line == 5
        }
    }

    @Test func trainingReportsAreByteIdenticalAcrossRuns() throws {
        let p = try pipeline("configs/sat/vcu1525.yaml", "traces/small-cnn-train.yaml")
        #expect(try p.run().report.json() == (try p.run().report.json()))
    }
}
