import Foundation
import TesseraCore

/// A value of an imported ONNX graph while its shapes are inferred: its shape (per sample: the
/// batch axis is 1), the layers whose outputs hold it, and whether it is a constant.
struct ONNXValue {
    var shape: [Int]
    /// The layers whose outputs make the value: one for a layer's output and the views of it
    /// (Reshape, Transpose, …), several after a Concat, none for a graph input or a constant.
    var producers: [Int] = []
    /// A weight, an initializer, or a value computed from constants alone (shape arithmetic).
    var isConstant = false
    /// The contents of a small integer constant (a shape, axes, indices), when known.
    var ints: [Int]? = nil

    static func constant(_ shape: [Int], ints: [Int]? = nil) -> ONNXValue { ONNXValue(shape: shape, isConstant: true, ints: ints) }
}

/// Why a node cannot be imported; `ONNXImporter` turns it into a located diagnostic that names the node.
struct ONNXNodeError: Error {
    var message: String
    var expected: String
    var found: String
    var hint: String? = nil
}

/// Shape arithmetic with overflow and size checks (a hostile file can declare any dimension).
enum ONNXShape {
    /// The most elements one imported tensor may hold (per sample), as `LayerBounds`.
    static let maxElements = 1 << 46
    /// The largest single dimension accepted.
    static let maxDimension = 1 << 40

    static func elements(_ shape: [Int]) throws(ONNXNodeError) -> Int {
        var n = 1
        for d in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, p <= maxElements else {
                throw ONNXNodeError(message: "a tensor is too large to simulate", expected: "at most 2^46 elements per sample", found: "shape \(describe(shape))")
            }
            n = p
        }
        return n
    }

    static func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

    /// NumPy-style broadcasting of two shapes.
    static func broadcast(_ a: [Int], _ b: [Int]) throws(ONNXNodeError) -> [Int] {
        let rank = max(a.count, b.count)
        var out: [Int] = []
        for i in 0..<rank {
            let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard x == y || x == 1 || y == 1 else {
                throw ONNXNodeError(message: "the operands' shapes do not broadcast", expected: "equal dimensions or 1 in each axis (NumPy rules)", found: "\(describe(a)) and \(describe(b))")
            }
            out.append(x == 1 ? y : x)
        }
        return out
    }

    /// An axis attribute (negative counts from the end) checked against a rank.
    static func axis(_ a: Int, rank: Int, what: String = "axis") throws(ONNXNodeError) -> Int {
        let r = a < 0 ? a + rank : a
        guard r >= 0, r < rank else {
            throw ONNXNodeError(message: "'\(what)' is outside the tensor", expected: "an axis in [-\(rank), \(rank - 1)]", found: "\(a)")
        }
        return r
    }

    /// A dimension read from the file: positive and not absurd.
    static func dimension(_ d: Int, what: String) throws(ONNXNodeError) -> Int {
        guard d >= 1, d <= maxDimension else {
            throw ONNXNodeError(message: "\(what) is not a usable size", expected: "a dimension from 1 to 2^40", found: "\(d)")
        }
        return d
    }
}

/// The attributes of one node, by name.
struct ONNXAttributes {
    var byName: [String: Tessera_Onnx_AttributeProto] = [:]

    init(_ node: Tessera_Onnx_NodeProto) {
        for a in node.attribute { byName[a.name] = a }
    }

    func int(_ key: String) -> Int? {
        guard let a = byName[key], a.hasI || a.type == .int else { return nil }
        return Int(a.i)
    }

    func ints(_ key: String) -> [Int]? {
        guard let a = byName[key], !a.ints.isEmpty || a.type == .ints else { return nil }
        return a.ints.map { Int($0) }
    }

    func string(_ key: String) -> String? {
        guard let a = byName[key], a.hasS || a.type == .string else { return nil }
        return String(decoding: a.s, as: UTF8.self)
    }

    func tensor(_ key: String) -> Tessera_Onnx_TensorProto? {
        guard let a = byName[key], a.hasT else { return nil }
        return a.t
    }
}

extension Tessera_Onnx_TensorProto {
    /// ONNX's element types for 32- and 64-bit integers.
    static let int32Type: Int32 = 6
    static let int64Type: Int32 = 7

    /// The shape, each dimension checked (a zero-sized axis is allowed: an empty constant).
    func checkedShape() throws(ONNXNodeError) -> [Int] {
        try dims.map { (d: Int64) throws(ONNXNodeError) -> Int in
            guard d >= 0, d <= Int64(ONNXShape.maxDimension) else {
                throw ONNXNodeError(message: "the constant '\(name)' has an unusable dimension", expected: "dimensions from 0 to 2^40", found: "\(d)")
            }
            return Int(d)
        }
    }

    /// The contents of a small integer tensor (at most 4,096 values, stored in the file), or nil.
    func smallInts() -> [Int]? {
        guard dataType == Self.int64Type || dataType == Self.int32Type, dataLocation != .external else { return nil }
        if !int64Data.isEmpty { return int64Data.count <= 4096 ? int64Data.map { Int($0) } : nil }
        if !int32Data.isEmpty { return int32Data.count <= 4096 ? int32Data.map { Int($0) } : nil }
        let width = dataType == Self.int64Type ? 8 : 4
        guard rawData.count % width == 0, rawData.count / width <= 4096 else { return nil }
        var out: [Int] = []
        out.reserveCapacity(rawData.count / width)
        let bytes = [UInt8](rawData)
        var i = 0
        while i < bytes.count {
            var v: UInt64 = 0
            for b in 0..<width { v |= UInt64(bytes[i + b]) << (8 * UInt64(b)) }
            out.append(width == 8 ? Int(Int64(bitPattern: v)) : Int(Int32(truncatingIfNeeded: v)))
            i += width
        }
        // A scalar or a tensor whose raw data is absent holds no values.
        return out.isEmpty && !(dims.contains(0)) ? nil : out
    }
}
