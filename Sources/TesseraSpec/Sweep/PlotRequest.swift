import TesseraCore

/// What to draw from a sweep's results: one chart of column `y` against column `x`, one series
/// per value of `color`. Written under `plots:` in a sweep file or given to `tessera plot`.
public struct PlotRequest: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable { case line, scatter, bar }
    /// How rows that fall on the same x in one series are combined (line and bar charts).
    public enum Aggregate: String, Sendable, Hashable, CaseIterable { case min, max, mean }
    /// Keeps the rows whose `column` holds `value` (as written in the results).
    public struct Filter: Sendable, Hashable {
        public var column: String
        public var value: String
        public init(column: String, value: String) {
            self.column = column
            self.value = value
        }
    }

    /// The file name without extension (a sweep's plots go to `plots/NAME.svg`).
    public var name: String
    public var x: String
    public var y: String
    public var color: String?
    public var kind: Kind
    /// Draws the Pareto front of the plotted points (both columns minimised unless in `maximize`).
    public var pareto: Bool
    public var maximize: [String]
    public var filters: [Filter]
    public var aggregate: Aggregate?
    public var logX: Bool
    public var logY: Bool
    public var title: String?
    /// `svg`, `png` or both.
    public var formats: [String]
    public var location: SourceLocation?

    public init(
        name: String, x: String, y: String, color: String? = nil, kind: Kind = .line, pareto: Bool = false, maximize: [String] = [],
        filters: [Filter] = [], aggregate: Aggregate? = nil, logX: Bool = false, logY: Bool = false, title: String? = nil,
        formats: [String] = ["svg"], location: SourceLocation? = nil
    ) {
        self.name = name
        self.x = x
        self.y = y
        self.color = color
        self.kind = kind
        self.pareto = pareto
        self.maximize = maximize
        self.filters = filters
        self.aggregate = aggregate
        self.logX = logX
        self.logY = logY
        self.title = title
        self.formats = formats
        self.location = location
    }

    public static let formatsAllowed = ["svg", "png", "pdf"]
}

/// Finds a results column from a short name: the exact column, else the one column whose last
/// dot-separated segments are the name (`rows` for `compute.array.rows`).
public enum ColumnMatch {
    public enum Failure: Error, Sendable, Hashable {
        case unknown(suggestion: String?)
        case ambiguous([String])
    }

    public static func resolve(_ name: String, in columns: [String]) -> Result<String, Failure> {
        if columns.contains(name) { return .success(name) }
        let wanted = name.split(separator: ".").map(String.init)
        let hits = columns.filter { c in
            let segments = c.split(separator: ".").map(String.init)
            return !wanted.isEmpty && segments.count > wanted.count && Array(segments.suffix(wanted.count)) == wanted
        }
        if hits.count == 1 { return .success(hits[0]) }
        if hits.count > 1 { return .failure(.ambiguous(hits)) }
        let lastSegments = columns.compactMap { $0.split(separator: ".").last.map(String.init) }
        let suggestion = closestMatch(to: name, in: columns) ?? closestMatch(to: name, in: lastSegments)
        return .failure(.unknown(suggestion: suggestion))
    }

    /// A located diagnostic for a failed match of `name` (what: "--x", "plot 'p' 'x'").
    public static func diagnostic(_ failure: Failure, name: String, what: String, columns: [String], at location: SourceLocation?) -> Diagnostic {
        switch failure {
        case .unknown(let suggestion):
            return Diagnostic(
                at: location, "\(what) names no column '\(name)'", expected: "one of " + columns.map { "'\($0)'" }.joined(separator: ", "),
                found: "'\(name)'", hint: suggestion.map { "did you mean '\($0)'?" })
        case .ambiguous(let hits):
            return Diagnostic(
                at: location, "\(what) '\(name)' matches several columns",
                expected: "one of them written out: " + hits.map { "'\($0)'" }.joined(separator: ", "),
                found: "'\(name)'")
        }
    }
}
