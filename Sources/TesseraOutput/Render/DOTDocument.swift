/// A Graphviz graph as DOT text, with the layout engine it is meant for and notes for the reader
/// (what was collapsed or merged to keep the picture readable).
public struct DOTDocument: Sendable {
    public var text: String
    /// `dot` for ranked graphs, `nop` (`neato -n`) for pictures whose nodes carry pinned positions.
    public var engine: String
    public var notes: [String]

    public init(text: String, engine: String, notes: [String] = []) {
        self.text = text
        self.engine = engine
        self.notes = notes
    }

    /// Renders through libgvc; `dot` returns the DOT text as built (render it with `engine`).
    public func render(format: String) throws(GraphvizError) -> [UInt8] {
        if format == "dot" { return Array(text.utf8) }
        return try Graphviz.render(dot: text, format: format, engine: engine)
    }
}
