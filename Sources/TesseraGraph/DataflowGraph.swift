import TesseraCore
import TesseraModel
import TesseraSpec

/// A stable id of an operation: its index in elaboration order.
public struct OpID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var raw: Int
    public init(_ raw: Int) { self.raw = raw }
    public static func < (a: OpID, b: OpID) -> Bool { a.raw < b.raw }
    public var description: String { "op\(raw)" }
}

/// A stable id of a tensor: its index in elaboration order.
public struct TensorID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var raw: Int
    public init(_ raw: Int) { self.raw = raw }
    public static func < (a: TensorID, b: TensorID) -> Bool { a.raw < b.raw }
    public var description: String { "t\(raw)" }
}

/// A tensor of the dataflow graph with its size in bytes.
public struct Tensor: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case activation, weight
        /// A gradient (of an activation or of the weights).
        case gradient
        /// Optimizer state kept in FP32: master weights and momentum.
        case state
    }
    public var id: TensorID
    public var name: String
    public var kind: Kind
    public var bytes: UInt64
    /// The operation that writes it; `nil` for graph inputs and weights.
    public var producer: OpID?
}

/// What an operation does, as the mapper sees it.
public enum OperationKind: Sendable, Hashable {
    /// Matrix products on a compute array.
    case gemm(GemmShape)
    /// Work with no MACs (pooling, elementwise) that, without a vector unit, is pure memory
    /// traffic: it reads its inputs from and writes its output to DRAM.
    case memory
    /// Work for a vector unit: `operations` lane-operations over `elements` values.
    case vector(elements: Int, operations: Int)
    /// Pruning `weights` dense values to `pattern` on a mask generator.
    case maskgen(weights: Int, pattern: NMPattern)
    /// Work of a class of GPUs in a cluster: layer compute (`seconds` on one healthy GPU) or a
    /// collective or transfer over a group (`bytes` per GPU); `gpus` is how many GPUs run it.
    case device(DeviceWork, gpus: Int)
}

/// What a cluster operation does on its GPUs.
public enum DeviceWork: Sendable, Hashable {
    case compute(seconds: Double)
    /// A collective (or transfer) every group of its kind runs at once.
    case collective(GroupCollective)
}

/// Which pass of a training step an operation belongs to.
public enum Pass: String, Sendable, Hashable, CaseIterable {
    /// Forward: Y = X·W (and the forward of every layer without weights).
    case ff
    /// Backward-data: dX = dY·Wᵀ (and the backward of every layer without weights).
    case bp
    /// Weight gradient: dW = Xᵀ·dY (always dense: it has no weight operand).
    case wg
    /// Weight update on the vector unit (mixed precision: FP32 masters, FP16 copy).
    case update
    /// N:M mask generation (pruning W for FF, and Wᵀ for BP under BDWP).
    case maskgen
    /// Softmax cross-entropy loss and its gradient (fused).
    case loss
}

/// One operation of the graph: a layer's compute (or memory) work on its tensors.
public struct Operation: Sendable, Hashable {
    public var id: OpID
    public var name: String
    /// Index of the workload layer this operation came from.
    public var layer: Int
    /// The layer's op name (`conv2d`, `gemm`, `add`, …).
    public var op: String
    public var kind: OperationKind
    public var inputs: [TensorID]
    public var outputs: [TensorID]
    /// Operations that must finish before this one starts.
    public var dependencies: [OpID]
    /// Executed multiply-accumulates: dense MACs · N/M for a sparse pass.
    public var macs: UInt64
    public var pass: Pass = .ff
    /// The N:M pattern of the weight operand B; `nil` is dense.
    public var sparsity: NMPattern? = nil
    /// Where that pattern was chosen (for diagnostics).
    public var sparsityLocation: SourceLocation? = nil
    /// Multiply-accumulates of the same operation run dense.
    public var denseMacs: UInt64 = 0
    /// Fraction of its (N:M-executed) work the operation does after continual learning's weight or
    /// gradient sparsity (1 for none): exact FLOPs are `macs · density`, cycles are scaled by it.
    public var density: Double = 1
}

extension Operation {
    /// An operation on a GPU cluster's devices (no tensors of its own: its edges are its dependencies).
    public static func device(id: OpID, name: String, layer: Int, op: String, work: DeviceWork, gpus: Int, dependencies: [OpID]) -> Operation {
        Operation(id: id, name: name, layer: layer, op: op, kind: .device(work, gpus: gpus), inputs: [], outputs: [], dependencies: dependencies, macs: 0)
    }
}

/// The elaborated workload: operations, tensors and their dependencies, in a deterministic order.
public struct DataflowGraph: Sendable, Hashable {
    public var operations: [Operation]
    public var tensors: [Tensor]
    /// Layer names in workload order; `Operation.layer` indexes this.
    public var layers: [String]
    public var bytesPerElement: Int
    /// True for a training step (FF, BP, WG and update operations), false for inference.
    public var isTraining: Bool
    public var precision: Precision = .int8

    public init(operations: [Operation], tensors: [Tensor], layers: [String], bytesPerElement: Int, isTraining: Bool = false) {
        self.operations = operations
        self.tensors = tensors
        self.layers = layers
        self.bytesPerElement = bytesPerElement
        self.isTraining = isTraining
    }

    public func tensor(_ id: TensorID) -> Tensor { tensors[id.raw] }
    public var totalMACs: UInt64 { operations.reduce(0) { $0 + $1.macs } }
    public var totalDenseMACs: UInt64 { operations.reduce(0) { $0 + $1.denseMacs } }
}
