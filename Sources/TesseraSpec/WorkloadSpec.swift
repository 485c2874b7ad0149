import TesseraCore

/// Numeric precision of a workload's operands.
public enum Precision: String, Sendable, Hashable, CaseIterable {
    case int8, fp8, fp16, bf16, fp32
    /// Bytes per element.
    public var bytes: Int {
        switch self {
        case .int8, .fp8: 1
        case .fp16, .bf16: 2
        case .fp32: 4
        }
    }
    /// Where tensors live between kernels: FP8 training (Transformer Engine style) keeps
    /// activations, gradients, weights and communication in BF16 and runs only the matrix products
    /// in FP8; every other precision is its own storage.
    public var storage: Precision { self == .fp8 ? .bf16 : self }
}

/// What the workload runs: inference (the forward pass) or one training step (forward,
/// backward-data, weight-gradient and weight-update passes).
public enum Phase: String, Sendable, Hashable, CaseIterable { case inference, training }

/// A validated workload: a batch of samples through a list of layers.
public struct WorkloadSpec: Sendable, Hashable {
    public var name: String
    public var batch: Int
    public var phase: Phase
    public var precision: Precision
    /// The zoo model it came from, if any.
    public var model: String?
    public var layers: [LayerSpec]
    public var file: String
    /// The `sparsity:` section, if any.
    public var sparsity: SparsitySpec?
    /// The N:M pattern of each layer (parallel to `layers`); `nil` is dense.
    public var layerSparsity: [LayerSparsity?]
    /// Where `phase:` was written (the file's start when it was not).
    /// Where `batch:` was written, when it was (the key a work bound names).
    public var batchLocation: SourceLocation? = nil
    public var phaseLocation: SourceLocation
    /// Sparse continual learning (a training schedule of tasks and epochs with SparCL's knobs).
    public var continual: ContinualSpec? = nil
    /// A collective microbenchmark (runs on a `gpu-cluster`); such a workload has no layers.
    public var collective: CollectiveSpec? = nil
    /// A large-model training step (runs on a `gpu-cluster`); such a workload has no layers.
    public var llm: LLMTrainingSpec? = nil
    /// LLM inference served to a request trace (runs on a `gpu-cluster`); such a workload has no layers.
    public var serving: ServingSpec? = nil
    /// What importing the layers did (an ONNX model's folds and approximations), for the report's model notes.
    public var importNotes: [String] = []

    public init(
        name: String, batch: Int, phase: Phase, precision: Precision, model: String?, layers: [LayerSpec], file: String,
        sparsity: SparsitySpec? = nil, layerSparsity: [LayerSparsity?]? = nil, phaseLocation: SourceLocation? = nil
    ) {
        self.name = name
        self.batch = batch
        self.phase = phase
        self.precision = precision
        self.model = model
        self.layers = layers
        self.file = file
        self.sparsity = sparsity
        self.layerSparsity = layerSparsity ?? layers.map { _ in nil }
        self.phaseLocation = phaseLocation ?? SourceLocation(file: file, line: 1, column: 1)
    }

    /// The same workload with every layer dense (the baseline a sparse run is compared with).
    public var densified: WorkloadSpec {
        var w = self
        w.sparsity?.scheme = .dense
        w.layerSparsity = layers.map { _ in nil }
        return w
    }
}

/// Parses, validates and builds a `WorkloadSpec` from a trace file.
public enum WorkloadLoader {
    public static func load(path: String) throws(InputError) -> WorkloadSpec {
        let raw = try YAMLReader.load(path: path)
        return try build(try Extends.resolve(raw, file: path), file: path)
    }

    public static func parse(_ text: String, file: String) throws(InputError) -> WorkloadSpec {
        let raw = try YAMLReader.parse(text, file: file)
        return try build(try Extends.resolve(raw, file: file), file: file)
    }

    static func build(_ node: SpecNode, file: String) throws(InputError) -> WorkloadSpec {
        var bag = DiagnosticBag()
        guard var r = MappingReader(node, what: "a workload file", bag: &bag) else { throw InputError(bag.diagnostics) }
        Header.check(&r, bag: &bag)
        _ = r.optional("description")
        let name = r.required("name", expected: "a name", bag: &bag).flatMap { Scalar.fileName($0, what: "'name'", bag: &bag) }
        let batch = r.optional("batch").flatMap { Scalar.int($0, min: 1, what: "'batch'", bag: &bag) } ?? 1
        var phase = Phase.inference
        var phaseLocation = node.location
        if let p = r.optional("phase") {
            phaseLocation = p.location
            if let v = p.scalar.flatMap(Phase.init(rawValue:)) {
                phase = v
            } else {
                bag.error(p.location, "unknown phase", expected: "'inference' or 'training'", found: p.kindDescription,
                    hint: closestMatch(to: p.scalar ?? "", in: Phase.allCases.map(\.rawValue)).map { "did you mean '\($0)'?" })
            }
        }
        var precision = Precision.int8
        if let p = r.optional("precision") {
            if let v = p.scalar.flatMap(Precision.init(rawValue:)) {
                precision = v
            } else {
                bag.error(
                    p.location, "unknown precision", expected: "one of " + Precision.allCases.map { "'\($0.rawValue)'" }.joined(separator: ", "),
                    found: p.kindDescription, hint: closestMatch(to: p.scalar ?? "", in: Precision.allCases.map(\.rawValue)).map { "did you mean '\($0)'?" })
            }
        }
        let precisionNode = node["precision"]
        let modelNode = r.optional("model")
        let sequenceNode = r.optional("sequence")
        let layersNode = r.optional("layers")
        let sparsityNode = r.optional("sparsity")
        let continualNode = r.optional("continual")
        let collectiveNode = r.optional("collective")
        let transformerNode = r.optional("transformer")
        let parallelismNode = r.optional("parallelism")
        let faultsNode = r.optional("faults")
        let servingNode = r.optional("serving")
        r.finish(bag: &bag)
        // FP8 is the matrix products of a transformer training step on GPUs (the rest in BF16).
        if precision == .fp8, transformerNode == nil || phase != .training || node["serving"] != nil {
            bag.error(
                precisionNode?.location ?? node.location, "fp8 runs the matrix products of a transformer training step on a gpu-cluster (the rest in bf16)",
                expected: "'transformer' with phase: training, or another precision", found: "precision: fp8")
        }
        if let transformerNode, let servingNode, phase == .inference {
            let t = LLMReader.transformer(transformerNode, bag: &bag)
            let serving = ServingReader.read(servingNode, transformer: t, bag: &bag)
            for n in [modelNode, layersNode, sparsityNode, continualNode, collectiveNode, sequenceNode, parallelismNode, faultsNode].compactMap({ $0 }) {
                bag.error(n.location, "a serving workload is described by its 'transformer' and 'serving'", expected: "no layers, model, sparsity, continual, collective, parallelism or faults beside 'serving'", found: n.kindDescription)
            }
            if precision == .int8 || precision == .fp32, node["precision"] == nil { precision = .bf16 }
            try bag.throwIfErrors()
            guard let t, var serving else { throw InputError(bag.diagnostics) }
            serving.transformerLocation = transformerNode.location
            var spec = WorkloadSpec(name: name ?? "", batch: batch, phase: phase, precision: precision, model: t.name, layers: [], file: file, phaseLocation: phaseLocation)
            spec.serving = serving
            return spec
        }
        if let servingNode, transformerNode == nil || phase == .training {
            bag.error(servingNode.location, "'serving' serves a transformer's inference", expected: "'transformer: <zoo name>' and phase: inference beside 'serving'", found: transformerNode == nil ? "no 'transformer'" : "phase: training")
        }
        if let transformerNode {
            let t = LLMReader.transformer(transformerNode, bag: &bag)
            let p = parallelismNode.map { LLMReader.parallelism($0, bag: &bag) } ?? ParallelismSpec(location: transformerNode.location)
            let faults = faultsNode.map { LLMReader.faults($0, bag: &bag) } ?? []
            for n in [modelNode, layersNode, sparsityNode, continualNode, collectiveNode, sequenceNode].compactMap({ $0 }) {
                bag.error(n.location, "a transformer workload is described by its 'transformer' and 'parallelism'", expected: "no layers, model, sparsity, continual or collective beside 'transformer'", found: n.kindDescription)
            }
            if phase != .training {
                bag.error(phaseLocation, "a 'transformer' workload is one training step, or inference with a 'serving' section", expected: "phase: training, or a 'serving' section", found: "phase: \(phase.rawValue) without 'serving'")
            }
            if precision == .int8 || precision == .fp32, node["precision"] == nil {
                precision = .bf16
            }
            try bag.throwIfErrors()
            guard let t else { throw InputError(bag.diagnostics) }
            var spec = WorkloadSpec(name: name ?? "", batch: batch, phase: phase, precision: precision, model: t.name, layers: [], file: file, phaseLocation: phaseLocation)
            spec.llm = LLMTrainingSpec(transformer: t, parallelism: p, faults: faults, transformerLocation: transformerNode.location, batchLocation: node["batch"]?.location)
            return spec
        }
        for n in [parallelismNode, collectiveNode == nil ? faultsNode : nil].compactMap({ $0 }) {
            bag.error(n.location, "'parallelism' and 'faults' describe a transformer training step (faults also a collective microbenchmark)", expected: "a 'transformer' or 'collective' section", found: n.kindDescription)
        }
        var collective: CollectiveSpec?
        if let collectiveNode {
            collective = CollectiveReader.read(collectiveNode, bag: &bag)
            if let faultsNode {
                let faults = LLMReader.faults(faultsNode, bag: &bag)
                for f in faults {
                    if case .gpu = f.target {
                        bag.error(f.location, "a collective microbenchmark has no compute to slow", expected: "a fault on a link or a NIC", found: "gpu: \(f.name.dropFirst(3))")
                    } else if f.at > 0 {
                        bag.error(f.location, "a microbenchmark's faults hold from the start", expected: "no 'at' (or at: 0)", found: "at: \(formatDecimal(f.at)) s")
                    }
                }
                collective?.faults = faults
            }
            for n in [modelNode, layersNode, sparsityNode, continualNode].compactMap({ $0 }) {
                bag.error(n.location, "a collective microbenchmark has no layers, sparsity or continual schedule", expected: "only 'collective' besides the header", found: n.kindDescription)
            }
            try bag.throwIfErrors()
            var spec = WorkloadSpec(name: name ?? "", batch: batch, phase: phase, precision: precision, model: nil, layers: [], file: file)
            spec.collective = collective
            return spec
        }
        var continual: ContinualSpec?
        if let continualNode {
            continual = ContinualSpec.read(continualNode, bag: &bag)
            if phase != .training {
                bag.error(continualNode.location, "'continual' learning trains", expected: "phase: training", found: "phase: \(phase.rawValue)")
            }
        }

        var layers: [LayerSpec] = []
        var model: String?
        var importNotes: [String] = []
        switch (modelNode, layersNode) {
        case (nil, nil):
            bag.error(node.location, "the workload names no layers", expected: "'model: <zoo name>', 'model: {onnx: path}' or 'layers: [...]'", found: "neither")
        case (.some(let m), .some(let l)):
            bag.error(l.location, "'model' and 'layers' cannot both be given", expected: "one of them", found: "both", hint: "'model' is at \(m.location)")
        case (.some(let m), nil) where m.entries != nil:
            // model: {onnx: path, input_shapes: {…}}
            if let s = sequenceNode {
                bag.error(s.location, "'sequence' applies only to a zoo 'model'", expected: "the sequence in the ONNX model's input_shapes", found: "'sequence: \(s.scalar ?? "…")' with an ONNX model")
            }
            if let imported = ONNXImport.read(m, workloadFile: file, training: phase == .training, bag: &bag) {
                layers = imported.layers
                model = imported.model
                importNotes = imported.notes
            }
        case (.some(let m), nil):
            let sequence = sequenceNode.flatMap { Scalar.int($0, min: 1, what: "'sequence'", bag: &bag) }
            if let s = Scalar.string(m, what: "'model'", bag: &bag) {
                if let zoo = ModelZoo.layers(model: s, sequence: sequence, training: phase == .training) {
                    layers = zoo
                    model = s
                } else {
                    bag.error(
                        m.location, "unknown model '\(s)'", expected: "one of " + ModelZoo.names.map { "'\($0)'" }.joined(separator: ", "),
                        found: "'\(s)'", hint: closestMatch(to: s, in: ModelZoo.names).map { "did you mean '\($0)'?" })
                }
            }
        case (nil, .some(let l)):
            if let s = sequenceNode {
                bag.error(s.location, "'sequence' applies only to a zoo 'model'", expected: "no 'sequence' with 'layers'", found: "'sequence: \(s.scalar ?? "…")' with 'layers'")
            }
            layers = l["scalesim_csv"] != nil ? ScaleSimTopology.read(l, workloadFile: file, bag: &bag) : LayerReader.layers(l, bag: &bag)
        }
        for layer in layers {
            let (macs, elements) = layer.op.sizeEstimate
            let b = Double(batch)
            guard b * macs > LayerBounds.maxMACs || b * elements > LayerBounds.maxElements else { continue }
            let at = layer.location ?? modelNode?.location ?? node.location
            bag.error(
                at, "layer '\(layer.name)' is too large to simulate",
                expected: "at most 2^46 elements in a tensor and 2^52 multiply-accumulates per layer, batch included",
                found: "batch \(batch) × \(formatDecimal(macs)) MACs and \(formatDecimal(elements)) elements per sample",
                hint: node["batch"].map { "'batch' is at \($0.location)" })
            break
        }
        var sparsity: SparsitySpec?
        var layerSparsity: [LayerSparsity?]?
        if let sparsityNode, !layers.isEmpty, let (spec, perLayer) = SparsityReader.read(sparsityNode, layers: layers, bag: &bag) {
            sparsity = spec
            layerSparsity = perLayer
        }
        try bag.throwIfErrors()
        var spec = WorkloadSpec(
            name: name ?? "", batch: batch, phase: phase, precision: precision, model: model, layers: layers, file: file, sparsity: sparsity,
            layerSparsity: layerSparsity, phaseLocation: phaseLocation)
        spec.continual = continual
        spec.batchLocation = node["batch"]?.location
        spec.importNotes = importNotes
        return spec
    }
}
