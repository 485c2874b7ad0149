import TesseraCore
import TesseraSpec

/// A SIMD vector unit for the work that is not a matrix product: activations, normalisation,
/// pooling, the loss and the weight update.
///
///     cycles = ⌈elements · ops per element / lanes⌉ (+ pipeline_depth once per operation)
///
/// Ops per element are this model's assumptions (`VectorWork.opsPerElement`), counted as one
/// lane-operation per arithmetic step: ReLU 1/1 (forward/backward), add 1/1, mul 1/2, GELU 8/10,
/// softmax 5/4, layer norm 8/10, batch norm 6/10, pooling R·S per output / 1 per input, softmax
/// cross-entropy loss 6 per logit (forward and backward fused), and the mixed-precision SGD
/// momentum update 5 per weight (m ← βm + g, w ← w − ηm on FP32 masters, then the FP16 copy).
public struct VectorUnit: ComponentModel {
    public static let schema = ComponentSchema(
        kind: "vector-unit", role: .compute, summary: "SIMD vector unit for elementwise, normalisation, pooling, loss and weight update",
        parameters: [
            ParameterDecl("lanes", .int(min: 1), "lane-operations per cycle"),
            ParameterDecl("precision", .choice(Precision.allCases.map(\.rawValue), aliases: [:]), default: .string("fp32"), "arithmetic precision (the update keeps FP32 master weights)"),
            ParameterDecl("pipeline_depth", .int(min: 0), default: .int(4), "cycles from the first input to the first result, once per operation"),
        ])

    public var name: String
    public var lanes: Int
    public var precision: Precision
    public var pipelineDepth: Int

    public init(spec: ComponentSpec) {
        name = spec.name
        lanes = max(1, spec.int("lanes"))
        precision = Precision(rawValue: spec.string("precision")) ?? .fp32
        pipelineDepth = spec.int("pipeline_depth")
    }

    public init(name: String = "vpu", lanes: Int, pipelineDepth: Int = 4) {
        self.name = name
        self.lanes = max(1, lanes)
        self.precision = .fp32
        self.pipelineDepth = pipelineDepth
    }

    /// Cycles for `operations` lane-operations, without the pipeline depth: ⌈operations / lanes⌉.
    public func cycles(operations: Int) -> Int { ceilDiv(operations, lanes) }
}

/// Lane-operations per element of the work a vector unit runs (the table in `VectorUnit`'s notes).
public enum VectorCost {
    /// Forward ops per output element of an elementwise or normalisation layer.
    public static func forward(_ kind: Elementwise.Kind) -> Int {
        switch kind {
        case .add, .mul, .relu: 1
        case .gelu: 8
        case .softmax: 5
        case .layernorm: 8
        case .batchnorm: 6
        }
    }
    /// Backward ops per element (gradient in → gradient out).
    public static func backward(_ kind: Elementwise.Kind) -> Int {
        switch kind {
        case .add, .relu: 1
        case .mul: 2
        case .gelu, .layernorm, .batchnorm: 10
        case .softmax: 4
        }
    }
    /// Softmax cross-entropy, forward and gradient fused, per logit.
    public static let loss = 6
    /// Mixed-precision SGD with momentum, per weight.
    public static let update = 5
}
