import Foundation
import TesseraCore
import TesseraSpec
import TesseraOutput

extension Chart {
    /// The bytes of a chart in `format` (`svg`, `png` or `pdf`).
    public func render(format: String, width: Double = 760, height: Double = 480) throws(GraphvizError) -> [UInt8] {
        let text = svg(width: width, height: height)
        switch format {
        case "svg": return Array(text.utf8)
        case "png": return try Chart.png(fromSVG: text, width: width, height: height)
        case "pdf": return try Chart.pdf(fromSVG: text, width: width, height: height)
        default: throw GraphvizError("unknown chart format '\(format)' (expected svg, png or pdf)")
        }
    }

    /// Draws each of `requests` from the results CSV at `results` into `directory` as
    /// `NAME.svg` / `NAME.png` / `NAME.pdf`; returns the files written.
    public static func write(_ requests: [PlotRequest], results: String, into directory: String) throws(InputError) -> [String] {
        guard !requests.isEmpty else { return [] }
        let table = try ResultsTable.load(path: results)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw InputError(Diagnostic(at: nil, "cannot create directory '\(directory)'", found: error.localizedDescription))
        }
        var written: [String] = []
        for r in requests {
            let chart = try Chart.build(table, r)
            for format in r.formats {
                let path = (directory as NSString).appendingPathComponent("\(r.name).\(format)")
                do {
                    try AtomicFile.write(Data(try chart.render(format: format)), to: path)
                } catch let e as GraphvizError {
                    throw InputError(Diagnostic(at: r.location, "cannot draw plot '\(r.name)' as \(format): \(e)"))
                } catch {
                    throw InputError(Diagnostic(at: nil, "\(error)"))
                }
                written.append(path)
            }
        }
        return written
    }
}
