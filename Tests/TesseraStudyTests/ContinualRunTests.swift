import Foundation
import Testing
import TesseraCore
import TesseraGraph
import TesseraSpec

@testable import TesseraOutput
@testable import TesseraStudy
import TesseraFamilies
import TesseraTestSupport

@Suite struct ContinualRunTests {
    private func pipeline(_ wl: String, hw: String = "configs/edge/phone-soc.yaml") throws -> Pipeline {
        try Pipeline.load(hardwarePath: packageRoot.appendingPathComponent(hw).path, workloadPath: packageRoot.appendingPathComponent(wl).path)
    }

    /// The FLOPs reduction is exactly what the knobs imply: with F the forward and backward-data MACs
    /// of the layers with weights, G their weight-gradient MACs and R everything else,
    /// dense/sparse = (F + G + R) / ((1−w)·F + (1−g)·G + R) / (1 − d).
    @Test func flopsReductionIsWhatTheKnobsImply() throws {
        let p = try pipeline("traces/sparcl-kws-continual.yaml")
        let c = try #require(try p.run().report.continual)
        var dense = p.workload
        dense.continual = nil
        let graph = TrainingElaborator.elaborate(dense)
        var f = 0.0, g = 0.0, r = 0.0
        for op in graph.operations {
            let weighted = p.workload.layers[op.layer].op.hasWeights
            switch (op.pass, weighted) {
            case (.ff, true), (.bp, true): f += Double(op.macs)
            case (.wg, true): g += Double(op.macs)
            default: r += Double(op.macs)
            }
        }
        let k = c.spec
        let perEpoch = Double(k.samplesPerEpoch) / Double(k.samples)
        let expected = (f + g + r) / ((1 - k.weightSparsity) * f + (1 - k.gradientSparsity) * g + r) / perEpoch
        #expect(abs(c.flopsReduction - expected) < 1e-9 * expected, "\(c.flopsReduction) vs \(expected)")
        #expect(c.dense.samplesPerEpoch == 500 && c.sparse.samplesPerEpoch == 350)
        // 350 samples at batch 16 is 21 full steps and a partial one, per epoch, over 5 × 10 epochs.
        #expect(c.sparse.steps == 50 * 22)
        #expect(c.speedup > 1 && c.energySaving > 1)
    }

    @Test func withEveryKnobOffTheScheduleEqualsTheDenseBaseline() throws {
        var p = try pipeline("traces/sparcl-kws-continual.yaml")
        p.workload.continual = p.workload.continual?.dense
        let c = try #require(try p.run().report.continual)
        #expect(c.flopsReduction == 1)
        #expect(c.sparse.seconds == c.dense.seconds && c.sparse.joules == c.dense.joules)
    }

    @Test func continualLearningOnAPlainArrayIsALocatedError() throws {
        let p = try pipeline("traces/sparcl-kws-continual.yaml", hw: "configs/array/scalesim-32x32-os.yaml")
        #expect {
            _ = try p.run()
        } throws: { error in
            (error as? InputError)?.diagnostics.contains { $0.message.contains("continual learning runs on") && $0.message.contains("'edge-soc'") && $0.location?.line == 11 } == true
        }
    }
}
