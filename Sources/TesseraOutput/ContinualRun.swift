import TesseraCore
import TesseraSpec

/// A sparse continual-learning schedule composed from simulated training steps.
///
/// Every step of an epoch has the same shapes, so the schedule is simulated as one full-batch step
/// (and, when the epoch's samples do not fill the last batch, one partial step) and composed:
///
///     time = tasks · epochs · (⌊S/B⌋ · t_step(B) + t_step(S mod B)),  S = samples · (1 − data_removal)
///
/// and likewise energy. Training FLOPs are 2 × the MACs each step executes (after weight and
/// gradient sparsity), per sample, times the samples processed. The dense baseline is the same
/// schedule with every knob off (and no N:M weights).
public struct ContinualRun: Sendable {
    public struct Figures: Sendable {
        public var samplesPerEpoch: Int
        public var steps: Int
        public var flops: Double
        public var seconds: Double
        public var joules: Double
    }

    public var spec: ContinualSpec
    public var sparse: Figures
    public var dense: Figures

    public var flopsReduction: Double { sparse.flops > 0 ? dense.flops / sparse.flops : 0 }
    public var speedup: Double { sparse.seconds > 0 ? dense.seconds / sparse.seconds : 0 }
    public var energySaving: Double { sparse.joules > 0 ? dense.joules / sparse.joules : 0 }

    public static func run(_ pipeline: Pipeline, step: Report) throws -> ContinualRun? {
        guard let c = pipeline.workload.continual else { return nil }
        func figures(_ p: Pipeline, spec: ContinualSpec, step full: Report?) throws -> Figures {
            let batch = p.workload.batch
            let perEpoch = spec.samplesPerEpoch
            let fullReport = try full ?? p.run(recordTimeline: true, composeContinual: false).report
            var seconds = Double(perEpoch / batch) * fullReport.seconds
            var joules = Double(perEpoch / batch) * fullReport.energy.totalJoules
            let remainder = perEpoch % batch
            if remainder > 0 {
                var q = p
                q.workload.batch = remainder
                let r = try q.run(recordTimeline: true, composeContinual: false).report
                seconds += r.seconds
                joules += r.energy.totalJoules
            }
            let epochs = Double(spec.tasks * spec.epochs)
            let flopsPerSample = 2 * fullReport.exactMacs / Double(batch)
            return Figures(
                samplesPerEpoch: perEpoch, steps: spec.tasks * spec.epochs * (perEpoch / batch + (remainder > 0 ? 1 : 0)),
                flops: flopsPerSample * Double(perEpoch) * epochs, seconds: seconds * epochs, joules: joules * epochs)
        }
        let sparse = try figures(pipeline, spec: c, step: step)
        var densePipeline = pipeline.dense
        densePipeline.workload.continual = c.dense
        let dense = try figures(densePipeline, spec: c.dense, step: nil)
        return ContinualRun(spec: c, sparse: sparse, dense: dense)
    }
}
