import TesseraCore
import TesseraOutput
import TesseraSpec

extension ContinualRun {
    /// Composes a continual-learning schedule from simulated steps (see `ContinualRun`).
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
