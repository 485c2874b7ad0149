import TesseraCore

/// The type of one component parameter, which drives decoding, validation and `tessera kinds`.
public enum ParamType: Sendable, Hashable {
    /// An integer in `min...max`.
    case int(min: Int, max: Int)
    /// A number with no unit, in `min...max`.
    case number(min: Double, max: Double)
    /// A quantity with a unit of `dimension`; must be positive.
    case quantity(QuantityDimension)
    /// A quantity with a unit of `dimension` that may be zero (a latency, say).
    case quantityOrZero(QuantityDimension)
    /// A quantity, or the word `unlimited` (an ideal resource).
    case quantityOrUnlimited(QuantityDimension)
    /// One of a fixed set of words; `aliases` maps short forms to the canonical word.
    case choice([String], aliases: [String: String])
    /// A list of words from a fixed set.
    case choiceList([String])
    /// A non-empty list of N:M sparsity patterns (`"2:8"`), each with 1 ≤ N ≤ M.
    case patternList
    case bool

    /// How the type reads in `tessera kinds` and in "expected …" messages.
    public var summary: String {
        switch self {
        case .int(let min, let max): InputLimits.describe(min: min, max: max)
        case .number(let min, let max): "a number from \(formatDecimal(min)) to \(formatDecimal(max))"
        case .quantity(let d): d.example + ", " + d.rangeDescription(allowZero: false)
        case .quantityOrZero(let d): d.example + ", " + d.rangeDescription(allowZero: true)
        case .quantityOrUnlimited(let d): "\(d.example), or 'unlimited'"
        case .choice(let words, let aliases):
            "one of " + words.map { "'\($0)'" }.joined(separator: ", ")
                + (aliases.isEmpty ? "" : " (or " + aliases.keys.sorted().map { "'\($0)'" }.joined(separator: ", ") + ")")
        case .choiceList(let words): "a list of " + words.map { "'\($0)'" }.joined(separator: ", ")
        case .patternList: "a list of N:M patterns, such as [\"2:4\", \"2:8\"]"
        case .bool: "true or false"
        }
    }
}

extension ParamType {
    /// An integer no smaller than `min`, up to the default bound on counts (`InputLimits.count`).
    public static func int(min: Int) -> ParamType { .int(min: min, max: InputLimits.count) }
    /// A number no smaller than `min`, up to 10⁶.
    public static func number(min: Double) -> ParamType { .number(min: min, max: 1e6) }
}

/// A decoded parameter value, in the base unit of its dimension for quantities.
public enum ParamValue: Sendable, Hashable, CustomStringConvertible {
    case int(Int)
    case number(Double)
    case string(String)
    case strings([String])
    case bool(Bool)
    case unlimited

    public var description: String {
        switch self {
        case .int(let i): "\(i)"
        case .number(let d): formatDecimal(d)
        case .string(let s): s
        case .strings(let s): "[" + s.joined(separator: ", ") + "]"
        case .bool(let b): "\(b)"
        case .unlimited: "unlimited"
        }
    }
}

/// One parameter of a component kind, declared once: name, type, unit, default and description.
public struct ParameterDecl: Sendable, Hashable {
    public var name: String
    public var type: ParamType
    /// `nil` means the parameter is required.
    public var defaultValue: ParamValue?
    /// Written as the user would write it, for `tessera kinds` (e.g. "64 B/cycle").
    public var defaultText: String?
    public var description: String

    public init(_ name: String, _ type: ParamType, default defaultValue: ParamValue? = nil, defaultText: String? = nil, _ description: String) {
        self.name = name
        self.type = type
        self.defaultValue = defaultValue
        self.defaultText = defaultText ?? defaultValue?.description
        self.description = description
    }
}

/// Which list of a hardware file a component kind belongs in.
public enum ComponentRole: String, Sendable, Hashable { case compute, memory }

/// The declaration of one component kind: its YAML `kind`, role, summary and parameters.
public struct ComponentSchema: Sendable, Hashable {
    public var kind: String
    public var role: ComponentRole
    public var summary: String
    public var parameters: [ParameterDecl]
    public init(kind: String, role: ComponentRole, summary: String, parameters: [ParameterDecl]) {
        self.kind = kind
        self.role = role
        self.summary = summary
        self.parameters = parameters
    }
}

/// A validated component: its name, kind and every parameter (defaults filled in).
public struct ComponentSpec: Sendable, Hashable {
    public var name: String
    public var kind: String
    public var role: ComponentRole
    public var params: [String: ParamValue]
    public var location: SourceLocation

    public init(name: String, kind: String, role: ComponentRole, params: [String: ParamValue], location: SourceLocation) {
        self.name = name
        self.kind = kind
        self.role = role
        self.params = params
        self.location = location
    }

    /// An integer parameter (validation guarantees presence and type; 0 otherwise).
    public func int(_ key: String) -> Int {
        if case .int(let v) = params[key] { return v }
        return 0
    }
    /// A numeric parameter in base units; `nil` when it is `unlimited`.
    public func number(_ key: String) -> Double? {
        switch params[key] {
        case .number(let v): v
        case .int(let v): Double(v)
        default: nil
        }
    }
    public func string(_ key: String) -> String {
        if case .string(let v) = params[key] { return v }
        return ""
    }
    public func strings(_ key: String) -> [String] {
        if case .strings(let v) = params[key] { return v }
        return []
    }
    public func bool(_ key: String) -> Bool {
        if case .bool(let v) = params[key] { return v }
        return false
    }
}
