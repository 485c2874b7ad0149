/// A place in a user's input file: 1-based line and column.
public struct SourceLocation: Sendable, Hashable, Codable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }
    /// `file:line:column`, the form editors and CI logs link on.
    public var description: String { "\(file):\(line):\(column)" }
}

/// One problem found in user input, with where it is and what was expected.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning, note }
    public var severity: Severity
    public var location: SourceLocation?
    public var message: String
    /// What the input should have held at this place, when that can be said.
    public var expected: String?
    /// What the input actually held.
    public var found: String?
    /// A hint such as "did you mean 'rows'?".
    public var hint: String?

    public init(
        _ severity: Severity = .error, at location: SourceLocation?, _ message: String,
        expected: String? = nil, found: String? = nil, hint: String? = nil
    ) {
        self.severity = severity
        self.location = location
        self.message = message
        self.expected = expected
        self.found = found
        self.hint = hint
    }

    /// The one rendering of a diagnostic: `file:line:column: error: message (expected …, found …); hint`.
    public var description: String {
        var s = ""
        if let location { s += "\(location): " }
        s += "\(severity.rawValue): \(message)"
        var parts: [String] = []
        if let expected { parts.append("expected \(expected)") }
        if let found { parts.append("found \(found)") }
        if !parts.isEmpty { s += " (" + parts.joined(separator: ", ") + ")" }
        if let hint { s += "; \(hint)" }
        return s
    }
}

/// An error made of one or more diagnostics: every problem found in the input, reported at once.
public struct InputError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public init(_ diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public init(_ diagnostic: Diagnostic) { self.diagnostics = [diagnostic] }
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// Collects diagnostics while a stage validates its input, so that all problems are reported together.
public struct DiagnosticBag: Sendable {
    public private(set) var diagnostics: [Diagnostic] = []
    public init() {}
    public mutating func error(
        _ location: SourceLocation?, _ message: String, expected: String? = nil, found: String? = nil,
        hint: String? = nil
    ) {
        diagnostics.append(Diagnostic(.error, at: location, message, expected: expected, found: found, hint: hint))
    }
    public mutating func append(contentsOf other: [Diagnostic]) { diagnostics.append(contentsOf: other) }
    /// Diagnostics in file order (by line, then column); unlocated ones first.
    public var sorted: [Diagnostic] {
        diagnostics.enumerated().sorted { a, b in
            let la = a.element.location, lb = b.element.location
            let ka = (la?.file ?? "", la?.line ?? 0, la?.column ?? 0), kb = (lb?.file ?? "", lb?.line ?? 0, lb?.column ?? 0)
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
    }
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    /// Throws an `InputError` holding every diagnostic when any of them is an error.
    public func throwIfErrors() throws(InputError) {
        if hasErrors { throw InputError(sorted) }
    }
}

/// Edit distance between two strings (Levenshtein), used for "did you mean" hints.
public func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.lowercased()), y = Array(b.lowercased())
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count)
    var cur = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        cur[0] = i
        for j in 1...y.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[y.count]
}

/// The closest candidate to `word` within a small edit distance, for a "did you mean" hint.
public func closestMatch(to word: String, in candidates: [String]) -> String? {
    let limit = max(2, word.count / 3)
    var best: (String, Int)?
    for c in candidates {
        let d = editDistance(word, c)
        if d <= limit, d < (best?.1 ?? Int.max) { best = (c, d) }
    }
    return best?.0
}
