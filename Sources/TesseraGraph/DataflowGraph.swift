import TesseraCore
import TesseraModel

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
    public enum Kind: String, Sendable, Hashable { case activation, weight }
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
    public var macs: UInt64
}

/// The elaborated workload: operations, tensors and their dependencies, in a deterministic order.
public struct DataflowGraph: Sendable, Hashable {
    public var operations: [Operation]
    public var tensors: [Tensor]
    /// Layer names in workload order; `Operation.layer` indexes this.
    public var layers: [String]
    public var bytesPerElement: Int

    public init(operations: [Operation], tensors: [Tensor], layers: [String], bytesPerElement: Int) {
        self.operations = operations
        self.tensors = tensors
        self.layers = layers
        self.bytesPerElement = bytesPerElement
    }

    public func tensor(_ id: TensorID) -> Tensor { tensors[id.raw] }
    public var totalMACs: UInt64 { operations.reduce(0) { $0 + $1.macs } }
}
