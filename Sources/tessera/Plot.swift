import ArgumentParser
import Foundation
import TesseraCore
import TesseraFamilies
import TesseraOutput
import TesseraStudy
import TesseraSpec

/// `tessera plot`: line, scatter and bar charts of a sweep's results, with Pareto fronts.
struct Plot: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Draw a chart of a results CSV (from tessera sweep) as SVG, PNG or PDF.",
        discussion: """
            Columns may be named in full (compute.array.rows) or by their last part (rows) when that is \
            unambiguous. Rows whose status is not ok are left out. In line and bar charts, rows that fall on \
            the same x in one series (because other axes vary) are combined with --aggregate (min unless \
            given); narrow them with --where. --pareto draws the Pareto front of the plotted points as a \
            step line (both axes minimised, except utilization and the columns given to --maximize). PNG \
            and PDF go through libgvc, like the other pictures.

            Examples:
              tessera plot out/sweeps/ds/results.csv --x rows --y total_cycles --color bandwidth -o cycles.svg
              tessera plot results.csv --x pe_count --y seconds --color dataflow --kind scatter --pareto --log-x -o front.png
              tessera plot results.csv --x dataflow --y utilization --color rows --kind bar --where bandwidth='25.6 GB/s' -o util.svg
            """)

    @Argument(help: "Results CSV.") var results: String
    @Option(help: ArgumentHelp("Column on the x axis.", valueName: "column")) var x: String
    @Option(help: ArgumentHelp("Column on the y axis (numeric).", valueName: "column")) var y: String
    @Option(help: ArgumentHelp("Column whose values make the series (one colour each).", valueName: "column")) var color: String?
    @Option(help: ArgumentHelp("line, scatter or bar (default: line).", valueName: "kind")) var kind: String = "line"
    @Flag(help: "Draw the Pareto front of the plotted points.") var pareto = false
    @Option(help: ArgumentHelp("A column the Pareto front maximises (repeatable).", valueName: "column")) var maximize: [String] = []
    @Option(name: .customLong("where"), help: ArgumentHelp("Keep rows whose column holds this value (repeatable).", valueName: "column=value"))
    var filters: [String] = []
    @Option(help: ArgumentHelp("min, max or mean: combines rows on the same x in a line or bar series.", valueName: "how")) var aggregate: String?
    @Flag(name: .customLong("log-x"), help: "Logarithmic x axis.") var logX = false
    @Flag(name: .customLong("log-y"), help: "Logarithmic y axis.") var logY = false
    @Option(help: ArgumentHelp("Chart title (default: Y against X by COLOR).", valueName: "text")) var title: String?
    @Option(name: .shortAndLong, help: ArgumentHelp("File to write: .svg, .png or .pdf.", valueName: "file")) var output: String
    @Flag(help: "Overwrite the file even if Tessera did not write it.") var force = false
    @Flag(help: "Print nothing but errors.") var quiet = false

    func run() throws {
        let format = (output as NSString).pathExtension.lowercased()
        guard PlotRequest.formatsAllowed.contains(format) else {
            throw fail(
                InputError(
                    Diagnostic(at: nil, "cannot tell which picture format to write", expected: "an output file ending in .svg, .png or .pdf", found: "'\(output)'")))
        }
        guard let chartKind = PlotRequest.Kind(rawValue: kind) else {
            throw fail(InputError(Diagnostic(at: nil, "unknown --kind", expected: "line, scatter or bar", found: "'\(kind)'")))
        }
        var how: PlotRequest.Aggregate?
        if let aggregate {
            guard let a = PlotRequest.Aggregate(rawValue: aggregate) else {
                throw fail(InputError(Diagnostic(at: nil, "unknown --aggregate", expected: "min, max or mean", found: "'\(aggregate)'")))
            }
            how = a
        }
        var parsedFilters: [PlotRequest.Filter] = []
        for f in filters {
            guard let eq = f.firstIndex(of: "="), eq != f.startIndex else {
                throw fail(InputError(Diagnostic(at: nil, "malformed --where", expected: "column=value, such as rows=32", found: "'\(f)'")))
            }
            parsedFilters.append(.init(column: String(f[..<eq]), value: String(f[f.index(after: eq)...])))
        }
        let bytes: [UInt8]
        do {
            let table = try ResultsTable.load(path: results)
            let maximized = try maximize.map { m throws(InputError) in table.columns[try table.column(m, what: "--maximize")] }
            let request = PlotRequest(
                name: (output as NSString).lastPathComponent, x: x, y: y, color: color, kind: chartKind, pareto: pareto, maximize: maximized,
                filters: parsedFilters, aggregate: how, logX: logX, logY: logY, title: title, formats: [format])
            let chart = try Chart.build(table, request)
            bytes = try chart.render(format: format)
            if !quiet { for note in chart.notes { print("note: \(note)") } }
        } catch let e as InputError {
            throw fail(e)
        } catch {
            throw failInternal("\(error)")
        }
        try writeOutputFile(bytes, to: output, force: force)
        if !quiet { print("wrote \(output)") }
    }
}
