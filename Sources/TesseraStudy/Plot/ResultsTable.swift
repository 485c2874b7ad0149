import Foundation
import TesseraCore
import TesseraSpec
import TesseraOutput

/// A CSV file read for plotting: a header and rows of text cells.
public struct ResultsTable: Sendable {
    public var path: String
    public var columns: [String]
    public var rows: [[String]]

    public init(path: String, columns: [String], rows: [[String]]) {
        self.path = path
        self.columns = columns
        self.rows = rows
    }

    /// Reads a CSV file with a header line; a row with another number of fields is an error at its line.
    public static func load(path: String) throws(InputError) -> ResultsTable {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw InputError(Diagnostic(at: nil, "cannot read '\(path)'", expected: "a results CSV written by tessera sweep", found: "no such file"))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw InputError(Diagnostic(at: SourceLocation(file: path, line: 1, column: 1), "'\(path)' is not UTF-8 text", expected: "a CSV file"))
        }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String) throws(InputError) -> ResultsTable {
        let all = CSV.parse(text)
        guard let header = all.first, !header.allSatisfy(\.isEmpty) else {
            throw InputError(Diagnostic(at: SourceLocation(file: path, line: 1, column: 1), "'\(path)' is empty", expected: "a header line and rows"))
        }
        var bag = DiagnosticBag()
        var rows: [[String]] = []
        // Quoted cells may span lines, so count lines as the rows go.
        var line = 1 + lineBreaks(in: header)
        for row in all.dropFirst() {
            line += 1
            if row.count != header.count {
                if !(row.count == 1 && row[0].isEmpty) {
                    bag.error(
                        SourceLocation(file: path, line: line, column: 1), "row has \(row.count) fields", expected: "\(header.count) fields, as in the header",
                        found: "\(row.count)")
                }
            } else {
                rows.append(row)
            }
            line += lineBreaks(in: row)
        }
        try bag.throwIfErrors()
        return ResultsTable(path: path, columns: header, rows: rows)
    }

    private static func lineBreaks(in row: [String]) -> Int { row.reduce(0) { $0 + $1.filter { $0 == "\n" }.count } }

    /// The column a short name means (`rows` for `compute.array.rows`), or a diagnostic.
    public func column(_ name: String, what: String) throws(InputError) -> Int {
        switch ColumnMatch.resolve(name, in: columns) {
        case .success(let c): return columns.firstIndex(of: c) ?? 0
        case .failure(let f):
            throw InputError(ColumnMatch.diagnostic(f, name: name, what: what, columns: columns, at: nil))
        }
    }
}
