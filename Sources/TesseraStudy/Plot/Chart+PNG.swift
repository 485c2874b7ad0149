import Foundation
import TesseraOutput

extension Chart {
    /// Rasterises chart SVG to PNG through libgvc, the path every other picture takes: a one-node
    /// graph whose node is the SVG as an image (loaded by Graphviz's rsvg plugin, from
    /// libgvc6-plugins-gtk, which libgraphviz-dev depends on), rendered with cairo at `scale` × 72 dpi.
    ///
    /// Graphviz reads an image from a file, so the SVG goes to a temporary file first. When the
    /// plugin is missing Graphviz draws an empty node instead (a warning, not an error); that is
    /// caught by checking the PNG's size.
    public static func png(fromSVG svg: String, width: Double, height: Double, scale: Double = 2) throws(GraphvizError) -> [UInt8] {
        let bytes = try throughGraphviz(svg, width: width, height: height, scale: scale, format: "png")
        // The IHDR chunk holds the width at bytes 16–19 (big-endian).
        let pixels = bytes.count >= 24 ? bytes[16..<20].reduce(0) { $0 << 8 | Int($1) } : 0
        guard pixels >= Int(width * scale * 0.9) else {
            throw GraphvizError(
                "Graphviz could not draw the chart as PNG (\(pixels) pixels wide): its SVG image loader (the rsvg plugin in libgvc6-plugins-gtk) seems to be missing; write .svg instead"
            )
        }
        return bytes
    }

    /// The chart as PDF, the same way (cairo's PDF surface keeps it vector). Without the rsvg
    /// plugin Graphviz draws an empty page: such a PDF is refused by its size (an empty page is
    /// under 2 KB; the smallest chart is several times that).
    public static func pdf(fromSVG svg: String, width: Double, height: Double) throws(GraphvizError) -> [UInt8] {
        let bytes = try throughGraphviz(svg, width: width, height: height, scale: 1, format: "pdf")
        guard bytes.count > 2048, bytes.starts(with: Array("%PDF".utf8)) else {
            throw GraphvizError(
                "Graphviz could not draw the chart as PDF (\(bytes.count) bytes): its SVG image loader (the rsvg plugin in libgvc6-plugins-gtk) seems to be missing; write .svg instead")
        }
        return bytes
    }

    private static func throughGraphviz(_ svg: String, width: Double, height: Double, scale: Double, format: String) throws(GraphvizError) -> [UInt8] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "tessera-chart-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString).svg")
        guard FileManager.default.createFile(atPath: file.path, contents: Data(svg.utf8)) else {
            throw GraphvizError("cannot write a temporary file for the chart in '\(FileManager.default.temporaryDirectory.path)'")
        }
        defer { try? FileManager.default.removeItem(at: file) }
        let inches = (width / 72, height / 72)
        let dot = """
            digraph chart {
              graph [pad="0", margin="0", bgcolor="white", dpi="\(Int(72 * scale))"];
              node [shape=plaintext, label="", margin="0", fixedsize=true, width="\(inches.0)", height="\(inches.1)", imagescale=true];
              chart [image="\(file.path.replacingOccurrences(of: "\"", with: "\\\""))"];
            }
            """
        return try Graphviz.render(dot: dot, format: format, engine: "dot")
    }
}
