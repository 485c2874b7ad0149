import Foundation
import TesseraCore

/// Expands an axis written as a range, `{from: 12.8 GB/s, to: 76.8 GB/s, steps: 6, scale: linear}`,
/// into its values.
///
/// Linear: vᵢ = a + (b − a)·i/(n − 1); log: vᵢ = a·(b/a)^(i/(n − 1)) (both ends > 0). The ends keep
/// their exact text. Ends written with a unit are expressed in the unit of `from` (`to` may use
/// another unit of the same dimension: 512 KiB to 4 MiB). When both ends are integers, every value is
/// rounded to an integer, and a range that repeats a value after rounding is an error.
enum SweepRange {
    static let keys = ["from", "to", "steps", "scale"]

    static func values(_ node: SpecNode, axis: String, bag: inout DiagnosticBag) -> [SpecNode] {
        guard var r = MappingReader(node, what: "the range of axis '\(axis)'", bag: &bag) else { return [] }
        let fromNode = r.required("from", expected: "the first value, such as 16 or '12.8 GB/s'", bag: &bag)
        let toNode = r.required("to", expected: "the last value, such as 128 or '76.8 GB/s'", bag: &bag)
        let stepsNode = r.required("steps", expected: "the number of values, at least 2", bag: &bag)
        let scaleNode = r.optional("scale")
        r.finish(bag: &bag)

        var steps: Int?
        if let stepsNode {
            if case .scalar(let s, false) = stepsNode.value, let n = Int(s) {
                if n >= 2 {
                    steps = n
                } else {
                    bag.error(
                        stepsNode.location, "the range of axis '\(axis)' has too few steps", expected: "steps ≥ 2 (for one value, write a list: [v])",
                        found: "steps: \(n)")
                }
            } else {
                bag.error(stepsNode.location, "'steps' must be an integer", expected: "an integer ≥ 2", found: stepsNode.kindDescription)
            }
        }
        if let n = steps, n > SweepSpec.maxPoints {
            bag.error(stepsNode?.location, "the range of axis '\(axis)' has too many steps", expected: "at most \(SweepSpec.maxPoints)", found: "\(n)")
            steps = nil
        }
        var log = false
        if let scaleNode {
            switch scaleNode.scalar {
            case "linear": log = false
            case "log": log = true
            default: bag.error(scaleNode.location, "unknown range scale", expected: "'linear' or 'log'", found: scaleNode.kindDescription)
            }
        }
        guard let fromNode, let toNode, let from = end(fromNode, "from", bag: &bag), let to = end(toNode, "to", bag: &bag), let n = steps else { return [] }

        // Both ends in the unit of `from`.
        var b = to.number
        if from.unit != to.unit {
            if from.unit.isEmpty || to.unit.isEmpty {
                bag.error(
                    toNode.location, "the ends of the range of axis '\(axis)' differ in having a unit",
                    expected: from.unit.isEmpty ? "a plain number like 'from'" : "a value with a unit like 'from' ('\(from.unit)')", found: "'\(to.text)'")
                return []
            }
            guard let d = QuantityDimension.allCases.first(where: { d in d.units.contains { $0.0 == from.unit } && d.units.contains { $0.0 == to.unit } }),
                let ff = d.units.first(where: { $0.0 == from.unit })?.1, let ft = d.units.first(where: { $0.0 == to.unit })?.1
            else {
                bag.error(
                    toNode.location, "the ends of the range of axis '\(axis)' have units of different kinds",
                    expected: "a unit of the same dimension as '\(from.unit)'", found: "'\(to.unit)'")
                return []
            }
            b = to.number * ft / ff
        }
        let a = from.number
        if log, a <= 0 || b <= 0 {
            bag.error(node.location, "a log range needs ends above zero", expected: "from > 0 and to > 0", found: "from \(from.text), to \(to.text)")
            return []
        }
        let integral = from.isInteger && to.isInteger && from.unit == to.unit
        var texts: [String] = []
        for i in 0..<n {
            let t = Double(i) / Double(n - 1)
            var v = log ? a * pow(b / a, t) : a + (b - a) * t
            if i == 0 { v = a } else if i == n - 1 { v = b }
            let numberText: String
            if i == 0 {
                numberText = from.numberText
            } else if i == n - 1, from.unit == to.unit {
                numberText = to.numberText
            } else if integral {
                numberText = String(Int64(v.rounded()))
            } else {
                numberText = formatDecimal(v, maxDecimals: 6)
            }
            texts.append(from.unit.isEmpty ? numberText : numberText + " " + from.unit)
        }
        if Set(texts).count != texts.count {
            bag.error(
                stepsNode?.location ?? node.location, "the range of axis '\(axis)' repeats values",
                expected: "fewer steps, or ends further apart", found: texts.joined(separator: ", "))
            return []
        }
        return texts.map { SpecNode(.scalar($0, quoted: false), at: node.location) }
    }

    struct End {
        var text: String
        var number: Double
        var numberText: String
        var unit: String
        var isInteger: Bool
    }

    /// Splits `12.8 GB/s` into its number and unit.
    static func end(_ node: SpecNode, _ key: String, bag: inout DiagnosticBag) -> End? {
        guard let text = node.scalar?.trimmingCharacters(in: .whitespaces), !text.isEmpty, let split = split(text) else {
            bag.error(node.location, "'\(key)' must be a number or a quantity", expected: "a value such as 16 or '12.8 GB/s'", found: node.kindDescription)
            return nil
        }
        return split
    }

    static func split(_ text: String) -> End? {
        let chars = Array(text)
        var i = 0
        if i < chars.count, chars[i] == "-" || chars[i] == "+" { i += 1 }
        let digitsStart = i
        while i < chars.count, chars[i].isASCII, chars[i].isNumber || chars[i] == "." || chars[i] == "_" { i += 1 }
        guard i > digitsStart else { return nil }
        // An exponent, when digits follow it (so '1 EB' keeps its unit).
        if i + 1 < chars.count, chars[i] == "e" || chars[i] == "E" {
            var j = i + 1
            if j < chars.count, chars[j] == "-" || chars[j] == "+" { j += 1 }
            if j < chars.count, chars[j].isASCII, chars[j].isNumber {
                while j < chars.count, chars[j].isASCII, chars[j].isNumber { j += 1 }
                i = j
            }
        }
        let numberText = String(chars[..<i])
        guard let number = Double(numberText.replacingOccurrences(of: "_", with: "")), number.isFinite else { return nil }
        let unit = String(chars[i...]).trimmingCharacters(in: .whitespaces)
        // A unit is a word such as GB/s, KiB or B/cycle: "2:4" is not a number with a unit.
        if let first = unit.first, !(first.isLetter || first == "%") || unit.contains(" ") { return nil }
        let isInteger = !numberText.contains(where: { ".eE".contains($0) })
        return End(text: text, number: number, numberText: numberText, unit: unit, isInteger: isInteger)
    }
}

/// Numbers with units as written in sweep results (`25.6 GB/s`, `512 KiB`, `16`).
public enum QuantityText {
    /// The number and the unit ("" for none), or `nil` when the text is not a number.
    public static func split(_ text: String) -> (number: Double, unit: String)? {
        SweepRange.split(text.trimmingCharacters(in: .whitespaces)).map { ($0.number, $0.unit) }
    }

    /// `value` in `unit` expressed in `target`, when both are units of one dimension.
    public static func convert(_ value: Double, from unit: String, to target: String) -> Double? {
        if unit == target { return value }
        for d in QuantityDimension.allCases {
            if let f = d.units.first(where: { $0.0 == unit })?.1, let t = d.units.first(where: { $0.0 == target })?.1 { return value * f / t }
        }
        return nil
    }
}
