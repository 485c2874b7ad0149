/// Physical quantities used across Tessera, each a distinct type so that a bandwidth can never be
/// added to a size by mistake.
///
/// Engine time is integer picoseconds (`Picoseconds`); cycle counts are integers in the clock of
/// the component that counts them (`Cycles`). Rates (bandwidth, frequency) are `Double` because
/// they come from user-written decimal quantities; conversions to integer time round up, so a
/// transfer never finishes early.

/// A count of clock cycles in some component's clock.
public typealias Cycles = UInt64

/// Engine time: an integer number of picoseconds.
public typealias Picoseconds = UInt64

/// A size in bytes.
public struct Bytes: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var value: UInt64
    public init(_ value: UInt64) { self.value = value }
    public static func < (a: Bytes, b: Bytes) -> Bool { a.value < b.value }
    public static func + (a: Bytes, b: Bytes) -> Bytes { Bytes(a.value + b.value) }
    public static let zero = Bytes(0)
    public var description: String { formatBytes(value) }
}

/// A data rate in bytes per second; `nil` rates mean "unlimited" where a spec allows it.
public struct Bandwidth: Sendable, Hashable, Codable, CustomStringConvertible {
    public var bytesPerSecond: Double
    public init(bytesPerSecond: Double) { self.bytesPerSecond = bytesPerSecond }
    public var description: String { "\(formatDecimal(bytesPerSecond / 1e9)) GB/s" }
}

/// A clock frequency in hertz.
public struct Frequency: Sendable, Hashable, Codable, CustomStringConvertible {
    public var hertz: Double
    public init(hertz: Double) { self.hertz = hertz }
    /// The clock period, in picoseconds, rounded to the nearest picosecond (at least 1).
    public var periodPicoseconds: Picoseconds { max(1, Saturating.uint64Rounded(1e12 / hertz)) }
    public var description: String { "\(formatDecimal(hertz / 1e6)) MHz" }
}

/// A span of wall time in seconds (used for latencies written in specs).
public struct Duration: Sendable, Hashable, Codable {
    public var seconds: Double
    public init(seconds: Double) { self.seconds = seconds }
    /// The span in picoseconds, rounded to the nearest picosecond (specs are decimal: 100 ns must be
    /// exactly 100 000 ps, not one more from binary rounding).
    public var picoseconds: Picoseconds { Saturating.uint64Rounded(seconds * 1e12) }
}

/// An amount of energy in joules.
public struct Energy: Sendable, Hashable, Codable {
    public var joules: Double
    public init(joules: Double) { self.joules = joules }
}

/// A power in watts.
public struct Power: Sendable, Hashable, Codable {
    public var watts: Double
    public init(watts: Double) { self.watts = watts }
}

/// Rounds a non-negative picosecond amount up to a whole picosecond, ignoring binary-rounding
/// noise below one part in 10¹² (so 128 B at 1 GB/s is exactly 128 000 ps).
@inlinable public func picosecondsRoundedUp(_ x: Double) -> Picoseconds {
    Saturating.uint64(x * (1 - 1e-12))
}

/// Integer ceiling division for non-negative operands; `b` must be positive.
@inlinable public func ceilDiv(_ a: Int, _ b: Int) -> Int { b <= 0 ? 0 : (a + b - 1) / b }

/// Integer ceiling division for unsigned operands; `b` must be positive.
@inlinable public func ceilDiv(_ a: UInt64, _ b: UInt64) -> UInt64 { b == 0 ? 0 : (a + b - 1) / b }

/// Formats a byte count with a binary prefix, for people.
public func formatBytes(_ v: UInt64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var x = Double(v)
    var i = 0
    while x >= 1024, i < units.count - 1 { x /= 1024; i += 1 }
    return i == 0 ? "\(v) B" : "\(formatDecimal(x)) \(units[i])"
}

/// Formats a number with up to three decimals and no trailing zeros, the same on every platform.
public func formatDecimal(_ x: Double, maxDecimals: Int = 3) -> String {
    guard x.isFinite else { return x.isNaN ? "nan" : (x > 0 ? "inf" : "-inf") }
    var scale = 1.0
    for _ in 0..<maxDecimals { scale *= 10 }
    let r = (x * scale).rounded() / scale
    if r == r.rounded(), abs(r) < 1e15 { return String(Int64(r)) }
    var s = String(r)
    if s.contains("e") { return s }
    while s.hasSuffix("0") { s.removeLast() }
    if s.hasSuffix(".") { s.removeLast() }
    return s
}

/// The one place floating-point amounts become integers, and where integer sizes derived from
/// input are combined: none of these traps. A value that does not fit becomes `UInt64.max` (or 0
/// for NaN and negatives), which every consumer treats as "past the horizon": the event engine
/// refuses to schedule it with a typed error (`SimError.pastHorizon`), so a user sees a message,
/// never a crash.
public enum Saturating {
    /// `x` rounded up to an integer, clamped to `0...UInt64.max` (NaN is 0; +∞ is the maximum).
    @inlinable public static func uint64(_ x: Double) -> UInt64 {
        guard x > 0 else { return 0 }
        guard x < 18_446_744_073_709_549_568 else { return .max }  // the largest Double below 2⁶⁴
        return UInt64(x.rounded(.up))
    }
    /// `x` rounded to the nearest integer, clamped to `0...UInt64.max`.
    @inlinable public static func uint64Rounded(_ x: Double) -> UInt64 { uint64(x.rounded()) }
    /// `x` truncated toward zero, clamped to `Int.min...Int.max` (NaN is 0).
    @inlinable public static func int(_ x: Double) -> Int {
        guard !x.isNaN else { return 0 }
        guard x < 9_223_372_036_854_774_784 else { return .max }
        guard x > -9_223_372_036_854_774_784 else { return .min }
        return Int(x)
    }
    /// `a + b`, or `UInt64.max` when it overflows.
    @inlinable public static func add(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (r, o) = a.addingReportingOverflow(b)
        return o ? .max : r
    }
    /// `a × b`, or `UInt64.max` when it overflows.
    @inlinable public static func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (r, o) = a.multipliedReportingOverflow(by: b)
        return o ? .max : r
    }
}
