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
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw InputError(diagnostic(for: error, file: file, text: text))
        } catch {
            throw InputError(Diagnostic(at: SourceLocation(file: file, line: 1, column: 1), "cannot parse YAML: \(error)"))
        }
        guard let node else {
            throw InputError(
                Diagnostic(
                    at: SourceLocation(file: file, line: 1, column: 1), "the file is empty",
                    expected: "a YAML mapping starting with 'tessera: 1'"))
        }
        var bag = DiagnosticBag()
        let result = convert(node, file: file, bag: &bag)
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
                    found: fileExists(path) ? "a file that cannot be read as UTF-8 text" : "no such file"))
        }
        return try parse(text, file: path)
    }

    private static func location(_ mark: Mark?, _ file: String) -> SourceLocation {
        SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    private static func convert(_ node: Node, file: String, bag: inout DiagnosticBag) -> SpecNode {
        let loc = location(node.mark, file)
        switch node {
        case .scalar(let s):
            let quoted = s.style == .singleQuoted || s.style == .doubleQuoted
            return SpecNode(.scalar(s.string, quoted: quoted), at: loc)
        case .sequence(let seq):
            return SpecNode(.sequence(seq.map { convert($0, file: file, bag: &bag) }), at: loc)
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
                    bag.error(kloc, "duplicate key '\(ks.string)'", hint: "first given at \(first)")
                    continue
                }
                seen[ks.string] = kloc
                entries.append(SpecNode.Entry(key: ks.string, keyLocation: kloc, value: convert(v, file: file, bag: &bag)))
            }
            return SpecNode(.mapping(entries), at: loc)
        case .alias(let a):
            bag.error(loc, "YAML aliases are not supported ('*\(a.anchor.rawValue)')", expected: "a written-out value")
            return SpecNode(.scalar("", quoted: false), at: loc)
        }
    }

    static func diagnostic(for error: YamlError, file: String, text: String) -> Diagnostic {
        switch error {
        case .scanner(let context, let problem, let mark, _):
            return Diagnostic(
                at: location(mark, file), "YAML syntax error: \(problem)" + (context.map { " \($0.text)" } ?? ""))
        case .parser(let context, let problem, let mark, _):
            return Diagnostic(
                at: location(mark, file), "YAML syntax error: \(problem)" + (context.map { " \($0.text)" } ?? ""))
        case .composer(let context, let problem, let mark, _):
            return Diagnostic(
                at: location(mark, file), "YAML error: \(problem)" + (context.map { " \($0.text)" } ?? ""))
        case .duplicatedKeysInMapping(let duplicates, let context):
            return Diagnostic(
                at: duplicateKeyLocation(duplicates.first ?? "", after: context.mark, in: text, file: file)
                    ?? location(context.mark, file),
                "duplicate key\(duplicates.count > 1 ? "s" : "") \(duplicates.map { "'\($0)'" }.joined(separator: ", ")) \(context.text)",
                expected: "each key once per mapping")
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
