import Foundation
import TesseraCore
import TesseraSpec
import Testing

@testable import TesseraOutput
@testable import TesseraStudy
import TesseraFamilies

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Every element of an SVG with its classes and text, read with a real XML parser.
private final class ChartSVGSummary: NSObject, XMLParserDelegate {
    struct Element {
        var name: String
        var classes: [String]
        var attributes: [String: String]
        /// The classes of the enclosing groups, innermost last.
        var within: [String]
        var text = ""
    }
    var elements: [Element] = []
    private var stack: [Int] = []

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        let within = stack.flatMap { elements[$0].classes }
        elements.append(
            Element(name: name, classes: (attributes["class"] ?? "").split(separator: " ").map(String.init), attributes: attributes, within: within))
        stack.append(elements.count - 1)
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { if let i = stack.last { elements[i].text += string } }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { stack.removeLast() }

    static func parse(_ svg: String) throws -> ChartSVGSummary {
        let s = ChartSVGSummary()
        let p = XMLParser(data: Data(svg.utf8))
        p.delegate = s
        let ok = p.parse()
        try #require(ok, "not well-formed XML: \(String(describing: p.parserError))")
        return s
    }

    func all(_ name: String, class c: String? = nil, within w: String? = nil) -> [Element] {
        elements.filter { $0.name == name && (c == nil || $0.classes.contains(c ?? "")) && (w == nil || $0.within.contains(w ?? "")) }
    }
    func texts(within w: String) -> [String] { all("text", within: w).map(\.text) }
}

/// Results as `tessera sweep` writes them: two axes, an invalid row, three objectives.
private let results = """
    point,compute.array.rows,memory.dram.bandwidth,status,total_cycles,seconds,utilization,pareto,report,error
    0,8,12.8 GB/s,ok,4000,0.004,0.9,true,reports/0000.json,
    1,8,25.6 GB/s,ok,3500,0.0035,0.95,true,reports/0001.json,
    2,16,12.8 GB/s,ok,2500,0.0025,0.7,true,reports/0002.json,
    3,16,25.6 GB/s,ok,2000,0.002,0.8,true,reports/0003.json,
    4,32,12.8 GB/s,ok,2600,0.0026,0.35,false,reports/0004.json,
    5,32,25.6 GB/s,ok,1200,0.0012,0.6,true,reports/0005.json,
    6,0,12.8 GB/s,invalid,,,,,,"s.yaml:7:24: error: 'rows' is out of range (expected an integer ≥ 1, found 0)"

    """

private func table() throws -> ResultsTable { try ResultsTable.parse(results, path: "results.csv") }

@Suite struct ChartTests {
    @Test func aLineChartHasAxesTicksUnitsSeriesAndALegend() throws {
        let chart = try Chart.build(table(), PlotRequest(name: "c", x: "rows", y: "seconds", color: "bandwidth", kind: .line))
        #expect(chart.notes == ["1 rows that are not ok left out"])
        let svg = chart.svg()
        let s = try ChartSVGSummary.parse(svg)
        #expect(s.all("title").first?.text == "seconds against compute.array.rows by memory.dram.bandwidth")
        #expect(s.all("text", class: "title").first?.text == "seconds against compute.array.rows by memory.dram.bandwidth")
        // Axes: a domain line, ticks, and a label with the unit (seconds shown in ms).
        #expect(s.all("line", class: "domain", within: "x").count == 1 && s.all("line", class: "domain", within: "y").count == 1)
        #expect(s.all("g", class: "tick", within: "x").count == 3)
        #expect(s.texts(within: "x").prefix(3) == ["8", "16", "32"])
        #expect(s.all("g", class: "tick", within: "y").count >= 3)
        #expect(s.all("text", class: "label", within: "y").first?.text == "seconds (ms)")
        #expect(s.all("text", class: "label", within: "x").first?.text == "compute.array.rows")
        // One series per bandwidth, one point per ok row, a line each.
        #expect(s.all("g", class: "series").map { $0.attributes["data-series"] ?? "" } == ["12.8 GB/s", "25.6 GB/s"])
        #expect(s.all("circle", class: "point").count == 6)
        #expect(s.all("polyline", class: "line").count == 2)
        #expect(s.all("title", within: "series").contains { $0.text.contains("point 5") && $0.text.contains("seconds=0.0012") })
        #expect(s.all("g", class: "entry", within: "legend").count == 2)
        #expect(s.all("text", class: "legend-title").first?.text == "memory.dram.bandwidth")
        #expect(s.all("g", class: "pareto").isEmpty)
        // The same chart gives the same bytes.
        #expect(try Chart.build(table(), PlotRequest(name: "c", x: "rows", y: "seconds", color: "bandwidth")).svg() == svg)
    }

    @Test func aScatterWithTheParetoFrontDrawsItAsASteppedLine() throws {
        let chart = try Chart.build(table(), PlotRequest(name: "p", x: "total_cycles", y: "utilization", kind: .scatter, pareto: true))
        // cycles minimised, utilization maximised: (1200, 0.6), (2000, 0.8), (3500, 0.95).
        #expect(chart.front.map(\.x) == [1200, 2000, 3500])
        #expect(chart.frontMaximizes == (false, true))
        let s = try ChartSVGSummary.parse(chart.svg())
        let path = try #require(s.all("path", class: "front", within: "pareto").first?.attributes["d"])
        #expect(path.hasPrefix("M") && path.components(separatedBy: " H").count == 3 && path.components(separatedBy: " V").count == 3, "\(path)")
        #expect(s.all("circle", class: "front-point").count == 3)
        #expect(s.all("circle", class: "point").count == 6)
        #expect(s.texts(within: "legend").contains("Pareto front"))
        #expect(s.all("text", class: "label", within: "x").first?.text == "total_cycles (cycles)")
        // --maximize adds a goal.
        let flipped = try Chart.build(
            table(), PlotRequest(name: "p", x: "total_cycles", y: "utilization", kind: .scatter, pareto: true, maximize: ["total_cycles"]))
        #expect(flipped.front.map(\.x) == [3500, 4000])
    }

    @Test func aBarChartGroupsBarsByColourAndFilters() throws {
        let chart = try Chart.build(
            table(),
            PlotRequest(
                name: "b", x: "rows", y: "utilization", color: "bandwidth", kind: .bar,
                filters: [.init(column: "rows", value: "8"), .init(column: "memory.dram.bandwidth", value: "12800 MB/s")]))
        #expect(chart.subtitle == "where compute.array.rows = 8, memory.dram.bandwidth = 12800 MB/s")
        let s = try ChartSVGSummary.parse(chart.svg())
        #expect(s.all("rect", class: "bar").count == 1)
        #expect(chart.y.lower == 0)
        let all = try Chart.build(table(), PlotRequest(name: "b", x: "rows", y: "utilization", color: "bandwidth", kind: .bar))
        #expect(try ChartSVGSummary.parse(all.svg()).all("rect", class: "bar").count == 6)
        #expect(all.x.categories == ["8", "16", "32"])
    }

    @Test func rowsOnTheSameXAreCombined() throws {
        let chart = try Chart.build(table(), PlotRequest(name: "l", x: "rows", y: "total_cycles", kind: .line))
        #expect(chart.series.count == 1)
        #expect(chart.series[0].points.map(\.y) == [3500, 2000, 1200])
        #expect(chart.subtitle == "min over the other axes")
        let mean = try Chart.build(table(), PlotRequest(name: "l", x: "rows", y: "total_cycles", kind: .line, aggregate: .mean))
        #expect(mean.series[0].points.map(\.y) == [3750, 2250, 1900])
    }

    @Test func logAxesTickOnPowersOfTen() throws {
        let chart = try Chart.build(table(), PlotRequest(name: "l", x: "seconds", y: "total_cycles", kind: .scatter, logX: true, logY: true))
        #expect(chart.y.scale == .log)
        // Less than a decade: plain steps, inside the axis.
        #expect(chart.y.ticks.count >= 2 && chart.y.ticks.allSatisfy { $0.value >= chart.y.lower && $0.value <= chart.y.upper })
        #expect(ChartScale.logTicks(1, 1000) == [1, 10, 100, 1000])
        #expect(ChartScale.logTicks(3, 40) == [5, 10, 20])
        #expect(ChartScale.linearTicks(0, 1) == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        #expect(
            ChartScale.tickLabel(16384, step: 1) == "16384" && ChartScale.tickLabel(2_500_000, step: 1) == "2.5M"
                && ChartScale.tickLabel(0.125, step: 0.1) == "0.125")
    }

    @Test func badRequestsSayWhatIsWrong() throws {
        func message(_ r: PlotRequest) -> String {
            do {
                _ = try Chart.build(try table(), r)
                return ""
            } catch {
                return "\(error)"
            }
        }
        #expect(message(PlotRequest(name: "x", x: "rowz", y: "seconds")).contains("--x names no column 'rowz'"))
        #expect(message(PlotRequest(name: "x", x: "rowz", y: "seconds")).contains("did you mean 'rows'?"))
        #expect(message(PlotRequest(name: "x", x: "rows", y: "status")).contains("column 'status' is not numeric"))
        #expect(
            message(PlotRequest(name: "x", x: "rows", y: "seconds", filters: [.init(column: "rows", value: "64")])).contains(
                "no row has compute.array.rows = 64"))
        #expect(message(PlotRequest(name: "x", x: "bandwidth", y: "seconds", kind: .bar, pareto: true)).contains("a Pareto front needs numbers on both axes"))
        let ambiguous = try ResultsTable.parse("a.rows,b.rows,y\n1,2,3\n", path: "t.csv")
        #expect(throws: InputError.self) { try ambiguous.column("rows", what: "--x") }
        #expect(throws: InputError.self) { try ResultsTable.parse("a,b\n1,2,3\n", path: "t.csv") }
    }

    @Test func patternsAreNamesNotNumbers() throws {
        let t = try ResultsTable.parse("pattern,seconds\n2:4,1\n2:8,2\n1:8,3\n", path: "t.csv")
        let chart = try Chart.build(t, PlotRequest(name: "p", x: "pattern", y: "seconds", kind: .line))
        #expect(chart.x.categories == ["2:4", "2:8", "1:8"])
        #expect(QuantityText.split("2:4") == nil && QuantityText.split("25.6 GB/s")?.unit == "GB/s" && QuantityText.split("16")?.number == 16)
    }

    @Test func csvRoundTripsQuotesCommasAndLineBreaks() {
        let fields = ["plain", "a,b", "say \"hi\"", "two\nlines", ""]
        let text = CSV.row(fields) + CSV.row(["x", "y", "z", "w", "v"])
        #expect(CSV.parse(text) == [fields, ["x", "y", "z", "w", "v"]])
        #expect(CSV.parse("a,b\r\n1,2\r\n") == [["a", "b"], ["1", "2"]])
    }

    /// Series that coincide stay visible: the later one dashed, its points as rings around the
    /// earlier one's, and the legend and the notes say which coincide.
    @Test func coincidingSeriesStayVisible() throws {
        let csv = "point,rows,mode,status,total_cycles\n0,8,a,ok,100\n1,8,b,ok,100\n2,16,a,ok,80\n3,16,b,ok,80\n4,8,c,ok,90\n5,16,c,ok,80\n"
        let chart = try Chart.build(ResultsTable.parse(csv, path: "r.csv"), PlotRequest(name: "c", x: "rows", y: "total_cycles", color: "mode"))
        #expect(chart.notes.contains("series 'b' coincides with 'a' (drawn dashed)"))
        let s = try ChartSVGSummary.parse(chart.svg())
        let lines = s.all("polyline", class: "line")
        #expect(lines.count == 3 && lines.map { $0.attributes["stroke-dasharray"] } == [nil, "6 4", nil])
        #expect(s.all("circle", class: "point-ring").count == 3)  // b's two points and c's point at (16, 80)
        #expect(s.texts(within: "legend").contains("b (= a)"))
    }

    @Test func pdfGoesThroughLibgvc() throws {
        let chart = try Chart.build(table(), PlotRequest(name: "c", x: "rows", y: "seconds", color: "bandwidth"))
        let pdf = try chart.render(format: "pdf")
        #expect(pdf.starts(with: Array("%PDF".utf8)) && pdf.count > 2048)
    }

    @Test func pngGoesThroughLibgvc() throws {
        let chart = try Chart.build(table(), PlotRequest(name: "c", x: "rows", y: "seconds", color: "bandwidth"))
        let png = try chart.render(format: "png")
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 1520)
    }
}
