import Foundation
import TesseraCore
import TesseraSpec
import TesseraOutput

/// A chart ready to draw: axes with their ticks and units, series of points in plot units, and
/// optionally a Pareto front. Built from a results table and a `PlotRequest`; drawn by `svg()`.
public struct Chart: Sendable {
    public enum Scale: Sendable, Hashable { case linear, log }

    public struct Tick: Sendable, Hashable {
        public var value: Double
        public var label: String
    }

    public struct Axis: Sendable {
        /// The column name, with the unit in brackets when there is one.
        public var label: String
        public var scale: Scale
        public var lower: Double
        public var upper: Double
        public var ticks: [Tick]
        /// For a categorical axis, the category at each position 0, 1, ….
        public var categories: [String]?
    }

    public struct Point: Sendable, Hashable {
        public var x: Double
        public var y: Double
        public var tooltip: String
    }

    public struct Series: Sendable {
        public var name: String
        public var color: String
        public var points: [Point]
    }

    public var kind: PlotRequest.Kind
    public var title: String
    public var subtitle: String?
    public var x: Axis
    public var y: Axis
    public var series: [Series]
    public var legendTitle: String?
    /// The Pareto front of the plotted points, by x; empty when not asked for.
    public var front: [Point]
    /// Whether x and y are maximised on the front (the direction of its steps).
    public var frontMaximizes: (x: Bool, y: Bool)
    /// What was left out or combined, for the reader.
    public var notes: [String]

    /// Colour-blind-safe series colours for names (Okabe & Ito, 2008, without its pale yellow), then a few more.
    public static let palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#999999", "#7F3C8D", "#11A579", "#3969AC", "#E73F74"]

    /// A colour for numbers in order: viridis (van der Walt & Smith, matplotlib) from 0 to 0.9 of its
    /// range (the last tenth is too pale on white), linear between its tenths.
    static func viridis(_ t: Double) -> String {
        let stops: [(Double, Double, Double)] = [
            (0x44, 0x01, 0x54), (0x48, 0x24, 0x75), (0x41, 0x44, 0x87), (0x35, 0x5F, 0x8D), (0x2A, 0x78, 0x8E),
            (0x21, 0x91, 0x8C), (0x22, 0xA8, 0x84), (0x44, 0xBF, 0x70), (0x7A, 0xD1, 0x51), (0xBD, 0xDF, 0x26),
        ]
        let u = min(1, max(0, t.isFinite ? t : 0)) * Double(stops.count - 1)
        let i = min(stops.count - 2, Int(u))
        let f = u - Double(i)
        let (a, b) = (stops[i], stops[i + 1])
        func hex(_ x: Double, _ y: Double) -> String {
            let v = Int((x + (y - x) * f).rounded())
            let s = String(v, radix: 16, uppercase: true)
            return s.count == 1 ? "0" + s : s
        }
        return "#" + hex(a.0, b.0) + hex(a.1, b.1) + hex(a.2, b.2)
    }
}

extension Chart {
    /// Builds the chart `request` asks for from `table`. Rows whose `status` is not `ok`, and rows
    /// with an empty y, are left out (and counted in `notes`).
    public static func build(_ table: ResultsTable, _ request: PlotRequest) throws(InputError) -> Chart {
        let xc = try table.column(request.x, what: "--x")
        let yc = try table.column(request.y, what: "--y")
        let cc = try request.color.map { c throws(InputError) in try table.column(c, what: "--color") }
        let xName = table.columns[xc]
        let yName = table.columns[yc]
        var notes: [String] = []

        // Rows: ok ones, through the filters.
        var rows = table.rows
        if let sc = table.columns.firstIndex(of: "status") {
            let before = rows.count
            rows = rows.filter { $0[sc] == "ok" }
            if rows.count < before { notes.append("\(before - rows.count) rows that are not ok left out") }
        }
        var filterText: [String] = []
        for f in request.filters {
            let c = try table.column(f.column, what: "--where")
            let kept = rows.filter { sameValue($0[c], f.value) }
            if kept.isEmpty {
                let values = orderedDistinct(rows.map { $0[c] })
                throw InputError(
                    Diagnostic(
                        at: request.location, "no row has \(table.columns[c]) = \(f.value)",
                        expected: "one of " + values.prefix(12).map { "'\($0)'" }.joined(separator: ", "), found: "'\(f.value)'"))
            }
            rows = kept
            filterText.append("\(table.columns[c]) = \(f.value)")
        }
        let before = rows.count
        rows = rows.filter { !$0[yc].isEmpty && !$0[xc].isEmpty }
        if rows.count < before { notes.append("\(before - rows.count) rows without a value left out") }
        guard !rows.isEmpty else {
            throw InputError(Diagnostic(at: request.location, "nothing to plot", expected: "rows with values in '\(xName)' and '\(yName)'", found: "none"))
        }

        // Values and units.
        guard let yColumn = NumericColumn(rows.map { $0[yc] }, name: yName) else {
            throw InputError(
                Diagnostic(
                    at: request.location, "column '\(yName)' is not numeric", expected: "numbers (with one unit) to plot on y",
                    found: "'\(rows.first { QuantityText.split($0[yc]) == nil }?[yc] ?? "")'"))
        }
        let xNumeric = request.kind == .bar ? nil : NumericColumn(rows.map { $0[xc] }, name: xName)
        if request.pareto, xNumeric == nil {
            throw InputError(
                Diagnostic(
                    at: request.location, "a Pareto front needs numbers on both axes", expected: "a numeric x column and a line or scatter chart",
                    found: "'\(xName)'"))
        }
        if request.logX, xNumeric == nil || (xNumeric?.values.contains { $0 <= 0 } ?? true) {
            throw InputError(
                Diagnostic(
                    at: request.location, "a log x axis needs numbers above zero", expected: "positive values in '\(xName)'",
                    found: request.kind == .bar ? "a bar chart" : "other values"))
        }
        if request.logY, yColumn.values.contains(where: { $0 <= 0 }) {
            throw InputError(
                Diagnostic(at: request.location, "a log y axis needs numbers above zero", expected: "positive values in '\(yName)'", found: "zero or less"))
        }
        let xCategories = xNumeric == nil ? orderedDistinct(rows.map { $0[xc] }, numericOrder: true) : nil
        let xs: [Double] = xNumeric?.values ?? rows.map { r in Double(xCategories?.firstIndex(of: r[xc]) ?? 0) }
        let ys = yColumn.values
        let groups = cc.map { c in orderedDistinct(rows.map { $0[c] }, numericOrder: true) } ?? [yName]
        // Numbers get an ordered (sequential) palette, names a qualitative one.
        let sequential = cc != nil && groups.count > 2 && NumericColumn(groups, name: "") != nil
        func colour(_ i: Int) -> String { sequential ? viridis(Double(i) / Double(groups.count - 1)) : palette[i % palette.count] }
        let pointColumn = table.columns.firstIndex(of: "point")

        // Series, combining rows on the same x when a line or bar asks for one value per x.
        var series: [Series] = []
        var combined = 0
        for (gi, g) in groups.enumerated() {
            let members = rows.indices.filter { cc == nil || rows[$0][cc ?? 0] == g }
            var points: [Point] = []
            if request.kind == .scatter && request.aggregate == nil {
                points = members.map { i in Point(x: xs[i], y: ys[i], tooltip: tooltip(rows[i], pointColumn, xName, yName, table)) }
            } else {
                var byX: [Double: [Int]] = [:]
                for i in members { byX[xs[i], default: []].append(i) }
                for (x, idx) in byX.sorted(by: { $0.key < $1.key }) {
                    let vals = idx.map { ys[$0] }
                    let how = request.aggregate ?? .min
                    let y: Double
                    switch how {
                    case .min: y = vals.min() ?? 0
                    case .max: y = vals.max() ?? 0
                    case .mean: y = vals.reduce(0, +) / Double(vals.count)
                    }
                    if idx.count > 1 { combined = max(combined, idx.count) }
                    let tip =
                        idx.count == 1
                        ? tooltip(rows[idx[0]], pointColumn, xName, yName, table)
                        : "\(xName)=\(label(x, xNumeric, xCategories)): \(how.rawValue) \(yName) of \(idx.count) rows = \(formatDecimal(y, maxDecimals: 6))"
                    points.append(Point(x: x, y: y, tooltip: tip))
                }
            }
            points.sort { $0.x != $1.x ? $0.x < $1.x : $0.y < $1.y }
            series.append(Series(name: g, color: colour(gi), points: points))
        }
        if combined > 1 {
            notes.append("\((request.aggregate ?? .min).rawValue) of up to \(combined) rows per point (the other axes vary; narrow with where)")
        }

        // The front over every plotted point.
        var front: [Point] = []
        let maxX = request.maximize.contains(xName) || SweepObjective.named(xName)?.goal == .max
        let maxY = request.maximize.contains(yName) || SweepObjective.named(yName)?.goal == .max
        if request.pareto {
            let all = series.flatMap(\.points)
            let vectors = all.map { [maxX ? -$0.x : $0.x, maxY ? -$0.y : $0.y] }
            front = ParetoFront.indices(vectors).map { all[$0] }.sorted { $0.x != $1.x ? $0.x < $1.x : $0.y < $1.y }
        }

        // Axes, in display units.
        let xScale: Scale = request.logX ? .log : .linear
        let yScale: Scale = request.logY ? .log : .linear
        let (xFactor, xUnit) = xNumeric.map { displayUnit($0.unit, values: $0.values) } ?? (1, "")
        let (yFactor, yUnit) = displayUnit(yColumn.unit, values: ys)
        func scaled(_ p: Point) -> Point { Point(x: xNumeric == nil ? p.x : p.x * xFactor, y: p.y * yFactor, tooltip: p.tooltip) }
        series = series.map { Series(name: $0.name, color: $0.color, points: $0.points.map(scaled)) }
        front = front.map(scaled)
        let xAxis: Axis
        if let xCategories {
            xAxis = Axis(
                label: xName, scale: .linear, lower: -0.5, upper: Double(xCategories.count) - 0.5,
                ticks: xCategories.enumerated().map { Tick(value: Double($0.offset), label: $0.element) }, categories: xCategories)
        } else {
            let values = series.flatMap { $0.points.map(\.x) }
            let distinct = Set(values)
            xAxis = ChartScale.axis(
                label: axisLabel(xName, xUnit), values: values, scale: xScale, includeZero: false,
                ticksAtValues: distinct.count <= (isObjective(xName) ? 8 : 12))
        }
        let yValues = series.flatMap { $0.points.map(\.y) }
        let yAxis = ChartScale.axis(
            label: axisLabel(yName, yUnit), values: yValues, scale: yScale, includeZero: request.kind == .bar && yScale == .linear, ticksAtValues: false)

        var subtitle = filterText.isEmpty ? nil : "where " + filterText.joined(separator: ", ")
        if combined > 1 {
            let s = "\((request.aggregate ?? .min).rawValue) over the other axes"
            subtitle = subtitle.map { $0 + "; " + s } ?? s
        }
        let title = request.title ?? "\(yName) against \(xName)" + (cc.map { " by \(table.columns[$0])" } ?? "")
        var chart = Chart(
            kind: request.kind, title: title, subtitle: subtitle, x: xAxis, y: yAxis, series: series, legendTitle: cc.map { table.columns[$0] },
            front: front, frontMaximizes: (maxX, maxY), notes: notes)
        if request.kind != .bar {
            for (i, j) in chart.coincidences().enumerated() {
                if let j { chart.notes.append("series '\(series[i].name)' coincides with '\(series[j].name)' (drawn dashed)") }
            }
        }
        return chart
    }

    private static func isObjective(_ name: String) -> Bool { SweepObjective.named(name) != nil }

    private static func axisLabel(_ name: String, _ unit: String) -> String { unit.isEmpty ? name : "\(name) (\(unit))" }

    private static func label(_ x: Double, _ numeric: NumericColumn?, _ categories: [String]?) -> String {
        if let categories, let i = Int(exactly: x), i >= 0, i < categories.count { return categories[i] }
        return formatDecimal(x, maxDecimals: 6) + (numeric.map { $0.unit.isEmpty ? "" : " " + $0.unit } ?? "")
    }

    private static func tooltip(_ row: [String], _ pointColumn: Int?, _ x: String, _ y: String, _ table: ResultsTable) -> String {
        var parts: [String] = []
        if let p = pointColumn { parts.append("point \(row[p])") }
        let stop = table.columns.firstIndex(of: "status") ?? table.columns.count
        let axes = (0..<stop).filter { $0 != pointColumn }.map { "\(table.columns[$0])=\(row[$0])" }
        parts.append(axes.joined(separator: ", "))
        if let yi = table.columns.firstIndex(of: y), !axes.contains(where: { $0.hasPrefix(y + "=") }) { parts.append("\(y)=\(row[yi])") }
        if let xi = table.columns.firstIndex(of: x), !axes.contains(where: { $0.hasPrefix(x + "=") }) { parts.append("\(x)=\(row[xi])") }
        return parts.joined(separator: "; ")
    }

    /// Seconds are shown in s, ms, µs or ns by their size; other units as they are.
    private static func displayUnit(_ unit: String, values: [Double]) -> (Double, String) {
        guard unit == "s" else { return (1, unit) }
        let m = values.map(abs).max() ?? 0
        if m >= 1 || m == 0 { return (1, "s") }
        if m >= 1e-3 { return (1e3, "ms") }
        if m >= 1e-6 { return (1e6, "µs") }
        return (1e9, "ns")
    }

    private static func sameValue(_ cell: String, _ wanted: String) -> Bool {
        if cell == wanted { return true }
        guard let a = QuantityText.split(cell), let b = QuantityText.split(wanted) else { return false }
        guard let bv = QuantityText.convert(b.number, from: b.unit, to: a.unit) else { return false }
        return abs(a.number - bv) <= 1e-9 * max(abs(a.number), abs(bv))
    }

    /// Distinct values in order of appearance; numbers in ascending order when all are numbers.
    static func orderedDistinct(_ values: [String], numericOrder: Bool = false) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for v in values where seen.insert(v).inserted { out.append(v) }
        if numericOrder, let column = NumericColumn(out, name: "") {
            return zip(out, column.values).sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.map(\.0)
        }
        return out
    }
}

/// A column of numbers with one unit: `25.6 GB/s` cells, `16` cells, or an objective (whose unit
/// comes from the objective table). Cells in other units of the same dimension are converted to
/// the first cell's unit.
struct NumericColumn {
    var values: [Double]
    var unit: String

    init?(_ cells: [String], name: String) {
        var unit: String?
        var values: [Double] = []
        for c in cells {
            guard let (n, u) = QuantityText.split(c), n.isFinite else { return nil }
            if let unit {
                guard let v = QuantityText.convert(n, from: u, to: unit) else { return nil }
                values.append(v)
            } else {
                unit = u
                values.append(n)
            }
        }
        let written = unit ?? ""
        self.values = values
        self.unit = written.isEmpty ? (SweepObjective.named(name)?.unit ?? "") : written
    }
}
