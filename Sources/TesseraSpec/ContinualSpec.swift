import TesseraCore

/// Sparse continual learning on a device, after SparCL (Wang et al., "SparCL: Sparse Continual
/// Learning on the Edge", NeurIPS 2022): a sequence of tasks, each trained for some epochs over its
/// samples, with three knobs that cut the work.
///
/// ```yaml
/// phase: training
/// continual:
///   tasks: 5
///   epochs: 10                # per task
///   samples: 1000             # per task
///   weight_sparsity: 0.9      # fraction of weights pruned (or "N:M", counted by its density N/M)
///   data_removal: 0.3         # fraction of a task's samples dropped from every epoch
///   gradient_sparsity: 0.8    # fraction of weight gradients masked (not computed)
/// ```
///
/// Weight sparsity removes that fraction of the MACs of the forward and backward-data products;
/// gradient sparsity that fraction of the weight-gradient products'; data removal that fraction of
/// the samples of every epoch. Training FLOPs per step therefore fall to
/// `(FF + BP)·(1 − weight_sparsity) + WG·(1 − gradient_sparsity) + the rest`, and the samples
/// processed to `samples·(1 − data_removal)` per epoch.
public struct ContinualSpec: Sendable, Hashable {
    public var tasks: Int
    public var epochs: Int
    public var samples: Int
    public var weightSparsity: Double
    public var dataRemoval: Double
    public var gradientSparsity: Double
    public var location: SourceLocation

    public init(tasks: Int, epochs: Int, samples: Int, weightSparsity: Double = 0, dataRemoval: Double = 0, gradientSparsity: Double = 0, location: SourceLocation) {
        self.tasks = tasks
        self.epochs = epochs
        self.samples = samples
        self.weightSparsity = weightSparsity
        self.dataRemoval = dataRemoval
        self.gradientSparsity = gradientSparsity
        self.location = location
    }

    /// The same schedule with every knob off (the dense baseline).
    public var dense: ContinualSpec {
        ContinualSpec(tasks: tasks, epochs: epochs, samples: samples, location: location)
    }

    /// Samples in each epoch after data removal: ⌊samples · (1 − data_removal)⌉ (nearest).
    public var samplesPerEpoch: Int { Int((Double(samples) * (1 - dataRemoval)).rounded()) }

    static func read(_ node: SpecNode, bag: inout DiagnosticBag) -> ContinualSpec? {
        guard var r = MappingReader(node, what: "'continual'", bag: &bag) else { return nil }
        let tasks = r.required("tasks", expected: "an integer ≥ 1", bag: &bag).flatMap { Scalar.int($0, min: 1, what: "'continual.tasks'", bag: &bag) }
        let epochs = r.required("epochs", expected: "an integer ≥ 1", bag: &bag).flatMap { Scalar.int($0, min: 1, what: "'continual.epochs'", bag: &bag) }
        let samples = r.required("samples", expected: "an integer ≥ 1", bag: &bag).flatMap { Scalar.int($0, min: 1, what: "'continual.samples'", bag: &bag) }
        func fraction(_ key: String, allowPattern: Bool = false) -> Double {
            guard let n = r.optional(key) else { return 0 }
            if allowPattern, let s = n.scalar, s.contains(":") {
                return NMPattern.read(n, what: "'continual.\(key)'", bag: &bag).map { 1 - $0.density } ?? 0
            }
            guard case .scalar(let s, false) = n.value, let v = Double(s), v.isFinite else {
                bag.error(n.location, "'continual.\(key)' must be a fraction", expected: allowPattern ? "a number in [0, 1), or an N:M pattern" : "a number in [0, 1)", found: n.kindDescription)
                return 0
            }
            guard v >= 0, v < 1 else {
                bag.error(n.location, "'continual.\(key)' is out of range", expected: "a number in [0, 1)", found: s)
                return 0
            }
            return v
        }
        let ws = fraction("weight_sparsity", allowPattern: true)
        let dr = fraction("data_removal")
        let gs = fraction("gradient_sparsity")
        r.finish(bag: &bag)
        guard let tasks, let epochs, let samples else { return nil }
        let spec = ContinualSpec(tasks: tasks, epochs: epochs, samples: samples, weightSparsity: ws, dataRemoval: dr, gradientSparsity: gs, location: node.location)
        if spec.samplesPerEpoch < 1 {
            bag.error(node.location, "'continual.data_removal' drops every sample", expected: "at least one sample per epoch", found: "\(samples) samples with \(dr) removed")
        }
        return spec
    }
}
