import Foundation
import TesseraCore
import Yams

/// A YAML value with the place it was written: the tree every reader in TesseraSpec walks.
public struct SpecNode: Sendable, Hashable {
    public enum Value: Sendable, Hashable {
        /// A scalar; `quoted` is true when written in quotes (so `"1"` is a string, not a number).
        case scalar(String, quoted: Bool)
        case sequence([SpecNode])
        case mapping([Entry])
    }
    public struct Entry: Sendable, Hashable {
        public var key: String
        public var keyLocation: SourceLocation
        public var value: SpecNode
        public init(key: String, keyLocation: SourceLocation, value: SpecNode) {
            self.key = key
            self.keyLocation = keyLocation
            self.value = value
        }
    }

    public var value: Value
    public var location: SourceLocation

    public init(_ value: Value, at location: SourceLocation) {
        self.value = value
        self.location = location
    }

    /// What kind of YAML value this is, for "expected …, found …" messages.
    public var kindDescription: String {
        switch value {
        case .scalar(let s, _): s.isEmpty ? "an empty value" : "'\(s)'"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }

    public var scalar: String? {
        if case .scalar(let s, _) = value { return s }
        return nil
    }
    public var entries: [Entry]? {
        if case .mapping(let e) = value { return e }
        return nil
    }
    public var items: [SpecNode]? {
        if case .sequence(let i) = value { return i }
        return nil
    }
    /// The value under `key` in a mapping, if present.
    public subscript(key: String) -> SpecNode? {
        entries?.first { $0.key == key }?.value
    }
}

/// Reads YAML text into `SpecNode`s, turning every parser error into a located diagnostic.
public enum YAMLReader {
    /// Parses one YAML document. Duplicate keys, syntax errors and non-scalar keys are errors with
    /// `file:line:column`.
    public static func parse(_ text: String, file: String) throws(InputError) -> SpecNode {
        let node: Node?
        // The parser is kept alive while the tree is converted: it owns the anchors the nodes
        // refer to (weakly), which is how an alias is told apart from the value it repeats.
        let parser: Parser
        do {
            parser = try Parser(yaml: text)
            node = try parser.singleRoot()
        } catch let error as YamlError {
            throw InputError(diagnostic(for: error, file: file, text: text))
        } catch {
            throw InputError(Diagnostic(at: SourceLocation(file: file, line: 1, column: 1), "cannot parse YAML: \(error)"))
        }
        guard let node else {
            throw InputError(
                Diagnostic(
                    at: SourceLocation(file: file, line: 1, column: 1), "the file is empty",
                    expected: "a YAML mapping starting with 'tessera: 1'", found: "no YAML content"))
        }
        var bag = DiagnosticBag()
        var aliases = AliasTracker(text: text)
        let result = withExtendedLifetime(parser) { convert(node, file: file, aliases: &aliases, bag: &bag) }
        try bag.throwIfErrors()
        return result
    }

    /// Reads and parses a file; a missing or unreadable file is a located error at `referencedFrom`
    /// (or at the file itself).
    public static func load(path: String, referencedFrom: SourceLocation? = nil) throws(InputError) -> SpecNode {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw InputError(
                Diagnostic(
                    at: referencedFrom ?? SourceLocation(file: path, line: 1, column: 1),
                    "cannot read file '\(path)'", expected: "an existing, readable UTF-8 YAML file",
                    found: isDirectory(path) ? "a directory" : fileExists(path) ? "a file that cannot be read as UTF-8 text" : "no such file"))
        }
        return try parse(text, file: path)
    }

    private static func location(_ mark: Mark?, _ file: String) -> SourceLocation {
        SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    private static func convert(_ node: Node, file: String, aliases: inout AliasTracker, bag: inout DiagnosticBag) -> SpecNode {
        let loc = location(node.mark, file)
        // Yams replaces an alias by the node it names, so an alias shows up as a second visit of an
        // anchored node.
        if let anchor = node.anchor?.rawValue, let use = aliases.visit(anchor: anchor, at: loc) {
            bag.error(
                use.file.isEmpty ? loc : SourceLocation(file: file, line: use.line, column: use.column),
                "YAML aliases are not supported ('*\(anchor)')", expected: "a written-out value",
                found: "an alias of the value anchored at \(loc)")
            return SpecNode(.scalar("", quoted: false), at: loc)
        }
        switch node {
        case .scalar(let s):
            let quoted = s.style == .singleQuoted || s.style == .doubleQuoted
            return SpecNode(.scalar(s.string, quoted: quoted), at: loc)
        case .sequence(let seq):
            return SpecNode(.sequence(seq.map { convert($0, file: file, aliases: &aliases, bag: &bag) }), at: loc)
        case .mapping(let map):
            var entries: [SpecNode.Entry] = []
            var seen: [String: SourceLocation] = [:]
            for (k, v) in map {
                let kloc = location(k.mark, file)
                guard case .scalar(let ks) = k else {
                    bag.error(kloc, "a mapping key must be a plain name", expected: "a name", found: "a structured key")
                    continue
                }
                if let first = seen[ks.string] {
                    bag.error(
                        kloc, "duplicate key '\(ks.string)'", expected: "each key once per mapping",
                        found: "'\(ks.string)' a second time", hint: "first given at \(first)")
                    continue
                }
                seen[ks.string] = kloc
                entries.append(SpecNode.Entry(key: ks.string, keyLocation: kloc, value: convert(v, file: file, aliases: &aliases, bag: &bag)))
            }
            return SpecNode(.mapping(entries), at: loc)
        case .alias(let a):
            bag.error(loc, "YAML aliases are not supported ('*\(a.anchor.rawValue)')", expected: "a written-out value")
            return SpecNode(.scalar("", quoted: false), at: loc)
        }
    }

    static func diagnostic(for error: YamlError, file: String, text: String) -> Diagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            return syntaxDiagnostic("YAML syntax error", problem, context, mark, file: file, text: text)
        case .composer(let context, let problem, let mark, _):
            return syntaxDiagnostic("YAML error", problem, context, mark, file: file, text: text)
        case .duplicatedKeysInMapping(let duplicates, let context):
            // `context.text` is the whole document and `context.mark` the first occurrence.
            let first = location(context.mark, file)
            let names = duplicates.map { "'\($0)'" }.joined(separator: ", ")
            return Diagnostic(
                at: duplicateKeyLocation(duplicates.first ?? "", after: context.mark, in: text, file: file) ?? first,
                "duplicate key\(duplicates.count > 1 ? "s" : "") \(names)",
                expected: "each key once per mapping", found: "\(names) a second time", hint: "first given at \(first)")
        case .reader(let problem, let offset, let value, _):
            return Diagnostic(
                at: SourceLocation(file: file, line: 1, column: 1),
                "cannot read YAML: \(problem) at byte \(offset ?? 0) (value \(value))")
        default:
            return Diagnostic(at: SourceLocation(file: file, line: 1, column: 1), "cannot parse YAML: \(error)")
        }
    }
}

extension YAMLReader {
    /// A libyaml error with what was found at its place and, when libyaml names it, what was expected;
    /// the construct being read when it failed (an unclosed quote or bracket) goes in the hint.
    static func syntaxDiagnostic(
        _ title: String, _ problem: String, _ context: YamlError.Context?, _ mark: Mark, file: String, text: String
    ) -> Diagnostic {
        let found = describeCharacter(at: mark, in: text)
        let expected = syntaxExpectation(problem, context: context?.text ?? "", found: found)
        var hints: [String] = []
        if let context, !context.text.isEmpty, context.mark.line != mark.line || context.mark.column != mark.column {
            hints.append("\(context.text) that starts at \(location(context.mark, file))")
        }
        if found == "a tab character" { hints.append("indent with spaces: YAML does not allow tabs") }
        return Diagnostic(
            at: location(mark, file), "\(title): \(problem)", expected: expected, found: found,
            hint: hints.isEmpty ? nil : hints.joined(separator: "; "))
    }

    /// What libyaml wanted at the place of an error, from its problem text.
    static func syntaxExpectation(_ problem: String, context: String, found: String) -> String? {
        for lead in ["did not find expected ", "could not find expected "] {
            if let r = problem.range(of: lead) { return String(problem[r.upperBound...]) }
        }
        if problem.hasPrefix("expected ") { return String(problem.dropFirst("expected ".count)) }
        if problem.contains("end of stream") {
            if context.contains("quoted scalar") { return "the closing quote" }
            if context.contains("flow sequence") { return "the closing ']'" }
            if context.contains("flow mapping") { return "the closing '}'" }
            return "the rest of the value"
        }
        if problem.contains("mapping values are not allowed") {
            return "each key at the indentation of the keys beside it, or quotes around a value that holds ': '"
        }
        if problem.contains("block sequence entries are not allowed") { return "'- ' items on their own lines under their key" }
        if problem.contains("cannot start any token") {
            return found == "a tab character" ? "spaces for indentation" : "a value (quote one that starts with '@' or '`')"
        }
        if problem.contains("undefined alias") { return "an alias to an anchor defined above it" }
        return nil
    }

    /// What stands at a 1-based line and column (libyaml counts Unicode scalars), in words.
    static func describeCharacter(at mark: Mark, in text: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard mark.line >= 1, mark.line <= lines.count else { return "the end of the file" }
        let line = Array(lines[mark.line - 1].unicodeScalars)
        guard mark.column >= 1, mark.column <= line.count else {
            return mark.line == lines.count ? "the end of the file" : "the end of line \(mark.line)"
        }
        switch line[mark.column - 1] {
        case "\t": return "a tab character"
        case " ": return "a space"
        case "\r": return "a carriage return"
        case let c where c.properties.isAlphabetic || c.properties.numericType != nil:
            // A whole word reads better than its first letter.
            let word = line[(mark.column - 1)...].prefix { $0.properties.isAlphabetic || $0.properties.numericType != nil || "-_.".unicodeScalars.contains($0) }
            return "'" + String(String.UnicodeScalarView(word)) + "'"
        case let c: return "'\(Character(c))'"
        }
    }

    /// Finds the second `key:` at the same indentation at or after `mark`: the duplicate's place.
    static func duplicateKeyLocation(_ key: String, after mark: Mark, in text: String, file: String) -> SourceLocation? {
        guard !key.isEmpty else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var hits: [SourceLocation] = []
        for (i, raw) in lines.enumerated() where i + 1 >= mark.line {
            var line = Substring(raw)
            var col = 1
            while let f = line.first, f == " " || f == "-" || f == "{" || f == "," {
                line = line.dropFirst()
                col += 1
            }
            for candidate in [key + ":", "\"" + key + "\":", "'" + key + "':"] where line.hasPrefix(candidate) {
                hits.append(SourceLocation(file: file, line: i + 1, column: col))
            }
            if hits.count >= 2 { return hits[1] }
        }
        return nil
    }
}

func fileExists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }
func isDirectory(_ path: String) -> Bool {
    var directory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
}

/// Counts the visits of anchored YAML nodes and finds where each repeat (an alias) was written.
struct AliasTracker {
    let text: String
    private var seen: [String: SourceLocation] = [:]
    private var uses: [String: Int] = [:]

    init(text: String) { self.text = text }

    /// `nil` the first time an anchored node is seen (its definition); afterwards, the place of the
    /// alias that repeated it (the next `*anchor` in the text), or a place with an empty file when
    /// none is found.
    mutating func visit(anchor: String, at location: SourceLocation) -> SourceLocation? {
        guard let first = seen[anchor], first == location else {
            seen[anchor] = location
            return nil
        }
        let n = uses[anchor, default: 0]
        uses[anchor] = n + 1
        let places = aliasPlaces(anchor)
        return n < places.count ? places[n] : SourceLocation(file: "", line: 0, column: 0)
    }

    /// The line and column of every `*anchor` token in the text, in order.
    private func aliasPlaces(_ anchor: String) -> [SourceLocation] {
        var out: [SourceLocation] = []
        let token = Array(("*" + anchor).unicodeScalars)
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = Array(raw.unicodeScalars)
            var j = 0
            while j + token.count <= line.count {
                let end = j + token.count
                if Array(line[j..<end]) == token, end == line.count || !Anchor.permittedCharacters.contains(line[end]) {
                    out.append(SourceLocation(file: "*", line: i + 1, column: j + 1))
                    j = end
                } else {
                    j += 1
                }
            }
        }
        return out
    }
}
