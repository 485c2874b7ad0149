import CGraphviz
import Foundation

/// A failure inside libgvc: an unknown format or engine, DOT that does not parse, or a layout or
/// rendering error. `messages` holds what Graphviz reported through `agerr`.
public struct GraphvizError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var messages: [String]
    public init(_ message: String, messages: [String] = []) {
        self.message = message
        self.messages = messages
    }
    public var description: String {
        messages.isEmpty ? message : message + ": " + messages.joined(separator: "; ")
    }
}

extension Graphviz {
    /// Output formats `render` accepts: the same names as `dot -T`.
    public static let formats = ["svg", "png", "pdf", "dot"]
    /// Layout engines `render` accepts. `nop` is `neato -n`: every node keeps its `pos` (in points).
    public static let engines = ["dot", "neato", "fdp", "nop", "nop2"]

    /// Lays out DOT text and renders it in-process through libgvc (no `dot` process).
    ///
    /// agmemread → gvLayout → gvRenderData, then everything is freed (gvFreeRenderData,
    /// gvFreeLayout, agclose, gvFreeContext). Graphviz keeps global state and is not thread-safe,
    /// so calls are serialised. Messages Graphviz sends through `agerr` are captured (not printed),
    /// and any error-level message becomes a thrown `GraphvizError`.
    /// - Returns: the file's bytes (SVG/DOT text, PNG or PDF).
    public static func render(dot: String, format: String, engine: String = "dot") throws(GraphvizError) -> [UInt8] {
        guard formats.contains(format) else {
            throw GraphvizError("unknown output format '\(format)' (expected one of \(formats.joined(separator: ", ")))")
        }
        guard engines.contains(engine) else {
            throw GraphvizError("unknown layout engine '\(engine)' (expected one of \(engines.joined(separator: ", ")))")
        }
        GraphvizLock.lock.lock()
        defer { GraphvizLock.lock.unlock() }
        return try renderLocked(dot: dot, format: format, engine: engine)
    }

    private static func renderLocked(dot: String, format: String, engine: String) throws(GraphvizError) -> [UInt8] {
        GraphvizLock.captured = ""
        let previousHandler = agseterrf(graphvizErrorHandler)
        let previousLevel = agseterr(AGWARN)
        _ = agreseterrors()
        defer {
            _ = agseterrf(previousHandler)
            _ = agseterr(previousLevel)
        }
        func failure(_ what: String) -> GraphvizError {
            let lines = GraphvizLock.captured.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return GraphvizError(what, messages: lines)
        }
        func hadError() -> Bool { agerrors() >= Int32(AGERR.rawValue) }

        guard let gvc = gvContext() else { throw GraphvizError("cannot create a Graphviz context") }
        defer { _ = gvFreeContext(gvc) }
        guard let graph = dot.withCString({ agmemread($0) }) else { throw failure("Graphviz cannot read the DOT text") }
        defer { _ = agclose(graph) }
        if hadError() { throw failure("Graphviz cannot read the DOT text") }
        guard gvLayout(gvc, graph, engine) == 0, !hadError() else {
            _ = gvFreeLayout(gvc, graph)
            throw failure("Graphviz layout '\(engine)' failed")
        }
        defer { _ = gvFreeLayout(gvc, graph) }
        var data: UnsafeMutablePointer<CChar>?
        var length: UInt32 = 0
        let status = gvRenderData(gvc, graph, format, &data, &length)
        defer { if let data { gvFreeRenderData(data) } }
        guard status == 0, let data, !hadError() else { throw failure("Graphviz cannot render '\(format)'") }
        return data.withMemoryRebound(to: UInt8.self, capacity: Int(length)) { Array(UnsafeBufferPointer(start: $0, count: Int(length))) }
    }
}

/// Serialises every use of libgvc and holds the text its error handler receives (guarded by `lock`).
enum GraphvizLock {
    static let lock = NSLock()
    nonisolated(unsafe) static var captured = ""
}

/// Receives Graphviz's `agerr` output in pieces ("Error", ": ", the message) while `GraphvizLock.lock` is held.
private func graphvizErrorHandler(_ text: UnsafeMutablePointer<CChar>?) -> Int32 {
    if let text { GraphvizLock.captured += String(cString: text) }
    return 0
}
