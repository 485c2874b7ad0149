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

        public init(samplesPerEpoch: Int, steps: Int, flops: Double, seconds: Double, joules: Double) {
            self.samplesPerEpoch = samplesPerEpoch
            self.steps = steps
            self.flops = flops
            self.seconds = seconds
            self.joules = joules
        }
    }

    public var spec: ContinualSpec
    public var sparse: Figures
    public var dense: Figures

    public var flopsReduction: Double { sparse.flops > 0 ? dense.flops / sparse.flops : 0 }
    public var speedup: Double { sparse.seconds > 0 ? dense.seconds / sparse.seconds : 0 }
    public var energySaving: Double { sparse.joules > 0 ? dense.joules / sparse.joules : 0 }

    public init(spec: ContinualSpec, sparse: Figures, dense: Figures) {
        self.spec = spec
        self.sparse = sparse
        self.dense = dense
    }
}
