import TesseraCore

/// How far a figure may move, as a fraction of its baseline value, before `tessera compare` calls
/// it a regression or an improvement: one default (1%) and optional per-metric overrides.
///
/// A change counts when |current − baseline| / |baseline| > tolerance (a tolerance of 0 demands an
/// exact match). An override names a top-level metric and applies to the layer figure of the same
/// name too.
public struct CompareTolerance: Sendable, Equatable {
    public static let defaultFraction = 0.01

    /// The tolerance for every metric without an override, as a fraction (0.01 is 1%).
    public var fraction: Double
    public var overrides: [CompareMetric: Double]

    public init(_ fraction: Double = CompareTolerance.defaultFraction, overrides: [CompareMetric: Double] = [:]) {
        self.fraction = fraction
        self.overrides = overrides
    }

    public func fraction(for metric: CompareMetric) -> Double { overrides[metric] ?? fraction }

    /// Parses the values of repeated `--tolerance` options: `1%`, `0.5%` (the default for every
    /// metric) or `total_cycles=0.5%` (one metric). Every bad value is reported at once.
    public static func parse(_ arguments: [String]) throws(InputError) -> CompareTolerance {
        var bag = DiagnosticBag()
        var result = CompareTolerance()
        var sawDefault = false
        let expected = "a percentage such as 1% or 0.5%, or METRIC=PERCENT"
        for argument in arguments {
            if let eq = argument.firstIndex(of: "=") {
                let name = String(argument[..<eq]).trimmingSpaces
                let value = String(argument[argument.index(after: eq)...])
                guard let metric = CompareMetric(rawValue: name) else {
                    let names = CompareMetric.allCases.map(\.rawValue)
                    let hint = closestMatch(to: name, in: names).map { "did you mean '\($0)'?" } ?? "metrics: " + names.joined(separator: ", ")
                    bag.error(
                        nil, "--tolerance names an unknown metric '\(name)'", expected: "one of " + names.joined(separator: ", "), found: "'\(argument)'",
                        hint: hint)
                    continue
                }
                guard let fraction = parsePercent(value) else {
                    bag.error(nil, "invalid --tolerance value for \(metric.rawValue)", expected: "a percentage such as 0.5%", found: "'\(value)'")
                    continue
                }
                if result.overrides[metric] != nil {
                    bag.error(nil, "--tolerance for \(metric.rawValue) is given more than once", found: "'\(argument)'")
                }
                result.overrides[metric] = fraction
            } else {
                guard let fraction = parsePercent(argument) else {
                    bag.error(nil, "invalid --tolerance value", expected: expected, found: "'\(argument)'")
                    continue
                }
                if sawDefault {
                    bag.error(
                        nil, "the default --tolerance is given more than once", found: "'\(argument)'",
                        hint: "name a metric to override one figure, e.g. total_cycles=0.5%")
                }
                sawDefault = true
                result.fraction = fraction
            }
        }
        try bag.throwIfErrors()
        return result
    }

    /// `"1%"` → 0.01. Needs the `%` sign (a bare `1` would be ambiguous between 1% and 100%);
    /// refuses negative, non-finite and malformed values.
    public static func parsePercent(_ text: String) -> Double? {
        let t = text.trimmingSpaces
        guard t.hasSuffix("%") else { return nil }
        let number = t.dropLast().trimmingSpaces
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            let value = Double(number), value.isFinite, value >= 0
        else { return nil }
        return value / 100
    }

    /// `1%`, `0.5%`: the fraction as a percentage for people.
    public static func percentText(_ fraction: Double) -> String { formatDecimal(fraction * 100, maxDecimals: 6) + "%" }

    /// "1%" or "1% (total_cycles 0.5%)": the default and any overrides.
    public var summary: String {
        var s = CompareTolerance.percentText(fraction)
        let named = overrides.sorted { $0.key < $1.key }.map { "\($0.key.rawValue) \(CompareTolerance.percentText($0.value))" }
        if !named.isEmpty { s += " (" + named.joined(separator: ", ") + ")" }
        return s
    }
}

extension StringProtocol {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
