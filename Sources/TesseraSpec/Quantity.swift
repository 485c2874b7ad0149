import Foundation
import TesseraCore

/// The physical dimension of a quantity written in a spec, with the units it accepts.
public enum QuantityDimension: String, Sendable, Hashable, CaseIterable {
    case size, bandwidth, frequency, time, energy, power, bytesPerCycle, voltage

    /// Units accepted for this dimension and their factor to the base unit (bytes, bytes/s, Hz,
    /// seconds, joules, watts, bytes/cycle). Decimal prefixes are powers of 1000, binary ones
    /// (`KiB`, `MiB`) powers of 1024; `B` is bytes and `b` is bits.
    public var units: [(String, Double)] {
        switch self {
        case .size:
            [("B", 1), ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("PB", 1e15),
             ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776), ("PiB", 1_125_899_906_842_624),
             ("b", 0.125), ("Kb", 125), ("Mb", 125e3), ("Gb", 125e6)]
        case .bandwidth:
            [("B/s", 1), ("KB/s", 1e3), ("MB/s", 1e6), ("GB/s", 1e9), ("TB/s", 1e12), ("PB/s", 1e15),
             ("KiB/s", 1024), ("MiB/s", 1_048_576), ("GiB/s", 1_073_741_824),
             ("b/s", 0.125), ("Kb/s", 125), ("Mb/s", 125e3), ("Gb/s", 125e6), ("Tb/s", 125e9)]
        case .frequency:
            [("Hz", 1), ("kHz", 1e3), ("KHz", 1e3), ("MHz", 1e6), ("GHz", 1e9)]
        case .time:
            [("s", 1), ("ms", 1e-3), ("us", 1e-6), ("µs", 1e-6), ("ns", 1e-9), ("ps", 1e-12)]
        case .energy:
            [("J", 1), ("mJ", 1e-3), ("uJ", 1e-6), ("nJ", 1e-9), ("pJ", 1e-12), ("fJ", 1e-15)]
        case .power:
            [("W", 1), ("mW", 1e-3), ("uW", 1e-6), ("kW", 1e3)]
        case .bytesPerCycle:
            [("B/cycle", 1), ("b/cycle", 0.125), ("KiB/cycle", 1024)]
        case .voltage:
            [("V", 1), ("mV", 1e-3)]
        }
    }

    /// An example for error messages.
    public var example: String {
        switch self {
        case .size: "a size such as '512 KiB'"
        case .bandwidth: "a bandwidth such as '19.2 GB/s'"
        case .frequency: "a frequency such as '200 MHz'"
        case .time: "a time such as '100 ns'"
        case .energy: "an energy such as '0.9 pJ'"
        case .power: "a power such as '4.5 W'"
        case .bytesPerCycle: "a rate such as '64 B/cycle'"
        case .voltage: "a voltage such as '0.8 V'"
        }
    }
}

/// Parses `"<number> <unit>"` into the dimension's base unit.
public enum QuantityParser {
    public enum Failure: Error, Equatable {
        case notANumber
        case unknownUnit(String, otherDimension: QuantityDimension?)
        case missingUnit
    }

    public static func parse(_ text: String, as dimension: QuantityDimension) -> Result<Double, Failure> {
        let t = text.trimmingCharacters(in: .whitespaces)
        var numberEnd = t.startIndex
        for i in t.indices {
            let c = t[i]
            if c.isNumber || c == "." || c == "e" || c == "E" || c == "_"
                || ((c == "-" || c == "+") && (i == t.startIndex || "eE".contains(t[t.index(before: i)])))
            {
                // A trailing 'e'/'E' may be the start of a unit such as 'EB'; handled by Double parse below.
                numberEnd = t.index(after: i)
            } else {
                break
            }
        }
        var numberText = String(t[..<numberEnd]).replacingOccurrences(of: "_", with: "")
        var unit = String(t[numberEnd...]).trimmingCharacters(in: .whitespaces)
        // Give back a trailing exponent marker that had no digits after it.
        while let last = numberText.last, last == "e" || last == "E" {
            numberText.removeLast()
            unit = String(last) + unit
        }
        guard let number = Double(numberText), number.isFinite else { return .failure(.notANumber) }
        if unit.isEmpty { return .failure(.missingUnit) }
        if let factor = dimension.units.first(where: { $0.0 == unit })?.1 { return .success(number * factor) }
        let other = QuantityDimension.allCases.first { d in d != dimension && d.units.contains { $0.0 == unit } }
        return .failure(.unknownUnit(unit, otherDimension: other))
    }
}


/// The ranges numbers read from specs must lie in (DESIGN convention 11): chosen so that the
/// products the models form of them stay inside `UInt64` picoseconds, bytes and cycles, and inside
/// `Double`'s exact integers where they are counted in floating point.
///
/// - Counts and shape dimensions (`InputLimits.count` = 2²⁰): any four such factors multiply to
///   at most 2⁸⁰, far inside `Double`'s range. Products of more factors (a convolution's MACs) are
///   not bounded by the ranges alone: `LayerBounds` refuses a layer above 2⁴⁶ elements or 2⁵² MACs
///   before any integer product is formed, and engine times go through `Saturating`.
/// - Quantities (`QuantityDimension.range`): times up to 10⁵ s (10¹⁷ ps, about 1/180 of what
///   `UInt64` picoseconds hold), sizes up to 1 PiB, bandwidths from 1 KB/s to 10 PB/s, clocks from
///   1 kHz to 100 GHz, energies up to 1 kJ per action and powers up to 10 MW.
public enum InputLimits {
    /// The default upper bound of an integer in a spec.
    public static let count = 1 << 20
    /// The bound of a seed (any non-negative 64-bit integer).
    public static let seed = Int.max

    /// "an integer from 1 to 1048576", for messages and `tessera kinds`.
    public static func describe(min: Int, max: Int) -> String {
        max == Int.max ? "an integer ≥ \(min)" : "an integer from \(min) to \(max)"
    }
}

extension QuantityDimension {
    /// The values (in base units) a quantity of this dimension may take when positive; zero is
    /// allowed separately where a key says so.
    public var range: ClosedRange<Double> {
        switch self {
        case .size: 1...1_125_899_906_842_624  // 1 B to 1 PiB
        case .bandwidth: 1e3...1e16  // 1 KB/s to 10 PB/s
        case .frequency: 1e3...1e11  // 1 kHz to 100 GHz
        case .time: 1e-12...1e5  // 1 ps to 100 000 s
        case .energy: 1e-18...1e3  // 1 aJ to 1 kJ
        case .power: 1e-9...1e7  // 1 nW to 10 MW
        case .bytesPerCycle: 0.125...1_073_741_824  // 1 bit to 1 GiB per cycle
        case .voltage: 1e-3...1e3
        }
    }

    /// The range in words, in the units people write.
    public func rangeDescription(allowZero: Bool) -> String {
        let text: String
        switch self {
        case .size: text = "from 1 B to 1 PiB"
        case .bandwidth: text = "from 1 KB/s to 10 PB/s"
        case .frequency: text = "from 1 kHz to 100 GHz"
        case .time: text = "from 1 ps to 100000 s"
        case .energy: text = "up to 1 kJ"
        case .power: text = "from 1 nW to 10 MW"
        case .bytesPerCycle: text = "from 1 b/cycle to 1 GiB/cycle"
        case .voltage: text = "from 1 mV to 1000 V"
        }
        return (allowZero ? "zero or " : "") + text
    }
}
