import Foundation
import SwiftProtobuf
import TesseraCore

/// `model: {onnx: path, input_shapes: {name: [1, …]}}` in a workload: an ONNX model (relative to
/// the workload's folder) imported as layers that keep its graph (`ONNXImporter`).
public enum ONNXImport {
    /// The ONNX operators the importer understands.
    public static var supportedOperators: [String] { ONNXImporter.supported }

    /// The largest `.onnx` file read: protobuf's own limit for one message.
    public static let maxFileBytes = 2 << 30

    /// The imported layers and the notes that say what the import did.
    public struct Imported: Sendable {
        public var layers: [LayerSpec]
        public var notes: [String]
        /// The file's name, as the workload's model.
        public var model: String
    }

    static func read(_ node: SpecNode, workloadFile: String, training: Bool, bag: inout DiagnosticBag) -> Imported? {
        guard var r = MappingReader(node, what: "'model'", bag: &bag) else { return nil }
        let pathNode = r.required("onnx", expected: "the path of an ONNX model", bag: &bag)
        let shapesNode = r.optional("input_shapes")
        r.finish(bag: &bag)
        var pins: [String: (shape: [Int], location: SourceLocation)] = [:]
        if let shapesNode {
            if let entries = shapesNode.entries {
                for entry in entries {
                    let key = entry.key, value = entry.value
                    guard let items = value.items, !items.isEmpty else {
                        bag.error(value.location, "'input_shapes' gives '\(key)' no shape", expected: "a list of dimensions, the batch axis first: [1, …]", found: value.kindDescription)
                        continue
                    }
                    let dims = items.compactMap { Scalar.int($0, min: 1, max: 1 << 40, what: "a dimension of '\(key)'", bag: &bag) }
                    if dims.count == items.count { pins[key] = (dims, value.location) }
                }
            } else {
                bag.error(shapesNode.location, "'input_shapes' must be a mapping", expected: "{input name: [1, dims…]}", found: shapesNode.kindDescription)
            }
        }
        guard let pathNode, let path = Scalar.string(pathNode, what: "'onnx'", bag: &bag), !bag.hasErrors else { return nil }
        do {
            return try load(path: path, relativeTo: workloadFile, at: pathNode.location, inputShapes: pins, training: training)
        } catch {
            bag.append(contentsOf: error.diagnostics)
            return nil
        }
    }

    /// Reads and imports an ONNX file; errors point at `at` (the `onnx:` key) and name the node.
    public static func load(
        path: String, relativeTo workloadFile: String, at: SourceLocation, inputShapes: [String: (shape: [Int], location: SourceLocation)] = [:], training: Bool
    ) throws(InputError) -> Imported {
        let base = URL(fileURLWithPath: workloadFile).deletingLastPathComponent()
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : base.appendingPathComponent(path)
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue, let size else {
            throw InputError(Diagnostic(at: at, "cannot read the ONNX model '\(path)'", expected: "a readable .onnx file", found: "nothing at '\(url.path)'"))
        }
        guard size <= maxFileBytes else {
            throw InputError(
                Diagnostic(
                    at: at, "the ONNX model '\(path)' is too large to read", expected: "at most 2 GiB (protobuf's limit for one message)", found: formatBytes(UInt64(size)),
                    hint: "export the weights as external data (onnx.save_model(..., save_as_external_data=True)): Tessera needs only the shapes"))
        }
        guard let data = try? Data(contentsOf: url) else {
            throw InputError(Diagnostic(at: at, "cannot read the ONNX model '\(path)'", expected: "a readable .onnx file", found: "an unreadable file at '\(url.path)'"))
        }
        return try parse(data, name: url.lastPathComponent, at: at, inputShapes: inputShapes, training: training)
    }

    /// Imports the bytes of an ONNX file named `name` (for messages).
    public static func parse(
        _ data: Data, name path: String, at: SourceLocation, inputShapes: [String: (shape: [Int], location: SourceLocation)] = [:], training: Bool
    ) throws(InputError) -> Imported {
        let model: Tessera_Onnx_ModelProto
        do {
            var options = BinaryDecodingOptions()
            options.messageDepthLimit = 64
            model = try Tessera_Onnx_ModelProto(serializedBytes: data, options: options)
        } catch {
            throw InputError(
                Diagnostic(
                    at: at, "'\(path)' is not an ONNX model", expected: "a binary ONNX ModelProto (.onnx)", found: notONNX(data),
                    hint: "export with torch.onnx.export or onnx.save_model; a text or JSON dump cannot be read"))
        }
        guard model.irVersion > 0, model.hasGraph else {
            throw InputError(
                Diagnostic(at: at, "'\(path)' is not an ONNX model", expected: "a ModelProto with an IR version and a graph", found: model.hasGraph ? "no IR version" : "no graph"))
        }
        let result = try ONNXImporter.importModel(model, file: path, at: at, inputShapes: inputShapes, training: training)
        return Imported(layers: result.layers, notes: result.notes, model: path)
    }

    /// What a file that failed to parse looks like, for the message.
    private static func notONNX(_ data: Data) -> String {
        if data.isEmpty { return "an empty file" }
        let head = data.prefix(64)
        if head.allSatisfy({ $0 == 9 || $0 == 10 || $0 == 13 || ($0 >= 32 && $0 < 127) }) {
            return "text starting '\(String(decoding: head.prefix(24), as: UTF8.self).replacingOccurrences(of: "\n", with: "\\n"))'"
        }
        return "\(data.count) bytes that do not parse as a ModelProto"
    }
}
