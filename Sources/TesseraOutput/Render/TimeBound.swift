import TesseraCore
import TesseraSpec

/// One end of a schedule window (`render schedule --from/--to`): a time with a unit, which means
/// the same on every family, or a count of clock cycles of clocked hardware.
///
/// Written `2ms`, `2 ms`, `3.1s`, `150 us`, `1500000ps` (any unit of a time in a spec), or
/// `150000cycles` / `150000 cycles`; a bare number is cycles (what it always meant on an
/// accelerator). Hardware with no single clock (a GPU cluster) takes times only.
public enum TimeBound: Sendable, Equatable {
    case cycles(UInt64)
    case seconds(Double)

    /// Parses `text`; `option` ("--from") names it in errors.
    public static func parse(_ text: String, option: String) throws(InputError) -> TimeBound {
        let t = text.trimmingCharacters(in: .whitespaces)
        var digits = t
        for suffix in ["cycles", "cycle"] where digits.hasSuffix(suffix) {
            digits = String(digits.dropLast(suffix.count)).trimmingCharacters(in: .whitespaces)
            break
        }
        if let n = UInt64(digits.replacingOccurrences(of: "_", with: "")) { return .cycles(n) }
        switch QuantityParser.parse(t, as: .time) {
        case .success(let s) where s >= 0 && s <= 1e5: return .seconds(s)
        case .success: break
        case .failure: break
        }
        throw InputError(Diagnostic(
            at: nil, "cannot read \(option) '\(text)'",
            expected: "a time from 0 to 10^5 s with its unit (2ms, 3.1 s, 150 us, 1500000 ps) or a count of cycles (150000, 150000cycles)", found: "'\(text)'"))
    }

    /// This bound in cycles of a clock of `hertz`: a time rounded down to the cycle it falls in.
    public func cycles(clockHz hertz: Double) -> UInt64 {
        switch self {
        case .cycles(let n): return n
        case .seconds(let s): return Saturating.uint64((s * hertz).rounded(.down))
        }
    }

    /// This bound in nanoseconds, for hardware without one clock; cycles are refused.
    public func nanoseconds(option: String, file: String) throws(InputError) -> UInt64 {
        switch self {
        case .seconds(let s): return Saturating.uint64((s * 1e9).rounded(.down))
        case .cycles(let n):
            throw InputError(Diagnostic(
                at: SourceLocation(file: file, line: 1, column: 1), "\(option) \(n) counts cycles, and this hardware has no single clock",
                expected: "a time with its unit, such as \(option) 3s or \(option) 150ms", found: "\(option) \(n)"))
        }
    }
}
