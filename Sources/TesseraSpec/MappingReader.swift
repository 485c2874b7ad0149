import Foundation
import TesseraCore

/// Reads the keys of one YAML mapping, recording every problem in a shared bag and remembering
/// which keys were used so that the rest can be reported as unknown (with a "did you mean").
struct MappingReader {
    let node: SpecNode
    let what: String
    private(set) var used: Set<String> = []

    /// `nil` (with a diagnostic) when `node` is not a mapping.
    init?(_ node: SpecNode, what: String, bag: inout DiagnosticBag) {
        guard node.entries != nil else {
            bag.error(node.location, "\(what) must be a mapping", expected: "'key: value' lines", found: node.kindDescription)
            return nil
        }
        self.node = node
        self.what = what
    }

    var location: SourceLocation { node.location }

    /// The value under `key`; records it as used.
    mutating func optional(_ key: String) -> SpecNode? {
        used.insert(key)
        return node[key]
    }

    /// The value under `key`, or a "missing key" diagnostic.
    mutating func required(_ key: String, expected: String, bag: inout DiagnosticBag) -> SpecNode? {
        used.insert(key)
        if let v = node[key] { return v }
        bag.error(node.location, "\(what) is missing the key '\(key)'", expected: "'\(key)': \(expected)", found: "no '\(key)'")
        return nil
    }

    /// Reports every key that was not read, with the closest known key as a hint.
    func finish(allowed extra: [String] = [], bag: inout DiagnosticBag) {
        let known = Array(used) + extra
        let unknown = (node.entries ?? []).filter { !used.contains($0.key) && !extra.contains($0.key) }
        // Past the first 100, one line says how many more (a file of 100 000 stray keys is
        // reported in milliseconds, not seconds).
        if unknown.count > 100 {
            bag.error(
                unknown[100].keyLocation, "\(unknown.count - 100) more unknown keys in \(what) (the first 100 are listed)",
                expected: "one of " + known.sorted().map { "'\($0)'" }.joined(separator: ", "), found: "\(unknown.count) unknown keys")
        }
        for e in unknown.prefix(100) {
            let hint = closestMatch(to: e.key, in: known.sorted()).map { "did you mean '\($0)'?" }
            bag.error(
                e.keyLocation, "unknown key '\(e.key)' in \(what)",
                expected: "one of " + known.sorted().map { "'\($0)'" }.joined(separator: ", "), found: "'\(e.key)'", hint: hint)
        }
    }
}

/// Scalar decoding with located diagnostics.
enum Scalar {
    /// `true` or `false`; anything else is a located error naming `what`.
    static func bool(_ n: SpecNode, what: String, bag: inout DiagnosticBag) -> Bool? {
        switch n.scalar {
        case "true"?: return true
        case "false"?: return false
        default:
            bag.error(n.location, "\(what) must be true or false", expected: "true or false", found: n.kindDescription)
            return nil
        }
    }

    /// An integer in `min...max`; the default upper bound (`InputLimits.count`) keeps the products
    /// the models form of a few such counts inside 64 bits, and each wider field names its own.
    static func int(_ n: SpecNode, min: Int, max: Int = InputLimits.count, what: String, bag: inout DiagnosticBag) -> Int? {
        let range = InputLimits.describe(min: min, max: max)
        guard case .scalar(let raw, let quoted) = n.value, !quoted else {
            bag.error(n.location, "\(what) must be an integer", expected: range, found: n.kindDescription)
            return nil
        }
        let s = raw.replacingOccurrences(of: "_", with: "")
        guard let v = Int(s) else {
            // A number too large for 64 bits is out of range, not "not an integer".
            let digits = s.hasPrefix("-") || s.hasPrefix("+") ? s.dropFirst() : Substring(s)
            if !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) {
                bag.error(n.location, "\(what) is out of range", expected: range, found: raw)
            } else {
                bag.error(n.location, "\(what) must be an integer", expected: range, found: n.kindDescription)
            }
            return nil
        }
        guard v >= min, v <= max else {
            bag.error(n.location, "\(what) is out of range", expected: range, found: "\(v)")
            return nil
        }
        return v
    }

    /// A finite number in `min...max`.
    static func number(_ n: SpecNode, min: Double, max: Double, what: String, bag: inout DiagnosticBag) -> Double? {
        let range = "a number from \(formatDecimal(min)) to \(formatDecimal(max))"
        guard case .scalar(let s, false) = n.value, let v = Double(s.replacingOccurrences(of: "_", with: "")), v.isFinite else {
            bag.error(n.location, "\(what) must be a number", expected: range, found: n.kindDescription)
            return nil
        }
        guard v >= min, v <= max else {
            bag.error(n.location, "\(what) is out of range", expected: range, found: s)
            return nil
        }
        return v
    }

    /// The longest `name:` in UTF-8 bytes: two names, `--` and an extension make a report's file
    /// name, which must fit the 255 bytes most file systems allow.
    public static let maxNameBytes = 120

    /// A file's `name:`, which becomes part of report file names: at most `maxNameBytes` bytes,
    /// with no control characters and not '.' or '..'.
    static func fileName(_ n: SpecNode, what: String, bag: inout DiagnosticBag) -> String? {
        guard let s = string(n, what: what, bag: &bag) else { return nil }
        let expected = "a name of at most \(maxNameBytes) bytes without control characters (it names the report files)"
        if s.utf8.count > maxNameBytes {
            bag.error(n.location, "\(what) is too long to name a file", expected: expected, found: "\(s.utf8.count) bytes")
            return nil
        }
        if s.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) || s == "." || s == ".." {
            bag.error(n.location, "\(what) cannot name a file", expected: expected, found: n.kindDescription)
            return nil
        }
        return s
    }

    static func string(_ n: SpecNode, what: String, bag: inout DiagnosticBag) -> String? {
        guard case .scalar(let s, _) = n.value, !s.isEmpty else {
            bag.error(n.location, "\(what) must be a name", expected: "a string", found: n.kindDescription)
            return nil
        }
        return s
    }

    static func quantity(_ n: SpecNode, _ d: QuantityDimension, what: String, allowUnlimited: Bool = false, allowZero: Bool = false, bag: inout DiagnosticBag) -> ParamValue? {
        guard case .scalar(let s, _) = n.value else {
            bag.error(n.location, "\(what) must be a quantity", expected: d.example, found: n.kindDescription)
            return nil
        }
        if allowUnlimited, s == "unlimited" { return .unlimited }
        let expected = allowUnlimited ? "\(d.example), or 'unlimited'" : allowZero ? "\(d.example), or zero" : d.example
        switch QuantityParser.parse(s, as: d) {
        case .success(let v):
            guard v > 0 || (allowZero && v == 0) else {
                bag.error(n.location, "\(what) must be \(allowZero ? "zero or positive" : "positive")", expected: expected, found: "'\(s)'")
                return nil
            }
            let range = d.range
            guard (allowZero && v == 0) || range.contains(v) else {
                bag.error(n.location, "\(what) is out of range", expected: d.rangeDescription(allowZero: allowZero), found: "'\(s)'")
                return nil
            }
            return .number(v)
        case .failure(.missingUnit):
            bag.error(n.location, "\(what) has no unit", expected: expected, found: "'\(s)'")
        case .failure(.notANumber):
            bag.error(n.location, "\(what) is not a quantity", expected: expected, found: "'\(s)'")
        case .failure(.unknownUnit(let u, let other)):
            if let other {
                bag.error(n.location, "\(what) has a unit of the wrong dimension: '\(u)' is a \(other.rawValue) unit", expected: expected, found: "'\(s)'")
            } else {
                bag.error(n.location, "\(what) has an unknown unit '\(u)'", expected: expected, found: "'\(s)'")
            }
        }
        return nil
    }

    /// Decodes one parameter of a component per its declared type.
    static func param(_ n: SpecNode, _ decl: ParameterDecl, what: String, bag: inout DiagnosticBag) -> ParamValue? {
        let label = "\(what) '\(decl.name)'"
        switch decl.type {
        case .int(let min, let max):
            return int(n, min: min, max: max, what: label, bag: &bag).map(ParamValue.int)
        case .number(let min, let max):
            return number(n, min: min, max: max, what: label, bag: &bag).map(ParamValue.number)
        case .quantity(let d):
            return quantity(n, d, what: label, bag: &bag)
        case .quantityOrZero(let d):
            return quantity(n, d, what: label, allowZero: true, bag: &bag)
        case .quantityOrUnlimited(let d):
            return quantity(n, d, what: label, allowUnlimited: true, bag: &bag)
        case .choice(let words, let aliases):
            guard case .scalar(let s, _) = n.value else {
                bag.error(n.location, "\(label) must be a word", expected: decl.type.summary, found: n.kindDescription)
                return nil
            }
            if words.contains(s) { return .string(s) }
            if let canonical = aliases[s] { return .string(canonical) }
            bag.error(
                n.location, "\(label) has an unknown value '\(s)'", expected: decl.type.summary, found: "'\(s)'",
                hint: closestMatch(to: s, in: words + aliases.keys.sorted()).map { "did you mean '\($0)'?" })
            return nil
        case .choiceList(let words):
            guard let items = n.items else {
                bag.error(n.location, "\(label) must be a list", expected: decl.type.summary, found: n.kindDescription)
                return nil
            }
            var out: [String] = []
            for item in items {
                guard let s = item.scalar, words.contains(s) else {
                    bag.error(item.location, "\(label) has an unknown entry", expected: "one of " + words.map { "'\($0)'" }.joined(separator: ", "), found: item.kindDescription)
                    continue
                }
                out.append(s)
            }
            return .strings(out)
        case .patternList:
            guard let items = n.items, !items.isEmpty else {
                bag.error(n.location, "\(label) must be a non-empty list", expected: decl.type.summary, found: n.kindDescription)
                return nil
            }
            var out: [String] = []
            for item in items {
                if let p = NMPattern.read(item, what: "an entry of \(label)", bag: &bag) { out.append(p.description) }
            }
            return out.count == items.count ? .strings(out) : nil
        case .bool:
            return Scalar.bool(n, what: label, bag: &bag).map(ParamValue.bool)
        }
    }
}
