/// A JSON value with ordered keys, written the same way on every run and platform.
/// Not `indirect`: objects and arrays recurse through their arrays' storage, so no value is boxed
/// on its own (a cluster report holds millions of them).
public enum JSONValue: Sendable, Equatable {
    case object([(String, JSONValue)])
    case array([JSONValue])
    case string(String)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case bool(Bool)
    case null

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.render() == b.render() }

    /// Pretty-printed JSON with two-space indentation and a trailing newline at top level.
    /// Written as UTF-8 bytes and decoded once (a 500,000-unit cluster report is 80 MB).
    public func render(indent: Int = 0, trailingNewline: Bool = false) -> String {
        String(decoding: bytes(indent: indent, trailingNewline: trailingNewline), as: UTF8.self)
    }

    /// The same text as UTF-8 bytes, for writing to a file without building (and validating) a
    /// `String` of it; `reserve` is a guess of the size, so that a large report grows its buffer
    /// once instead of doubling through copies.
    public func bytes(indent: Int = 0, trailingNewline: Bool = false, reserve: Int = 4096) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(max(4096, reserve))
        write(into: &out, indent: indent)
        // The newline goes in with the bytes: appending it to an 80 MB string would copy it again.
        if trailingNewline { out.append(0x0A) }
        return out
    }

    private func write(into out: inout [UInt8], indent: Int) {
        func pad(_ n: Int) { out.append(contentsOf: repeatElement(0x20, count: 2 * n)) }
        switch self {
        case .object(let pairs):
            if pairs.isEmpty { out += "{}".utf8; return }
            out += "{\n".utf8
            for (i, (k, v)) in pairs.enumerated() {
                pad(indent + 1)
                JSONValue.quote(k, into: &out)
                out += ": ".utf8
                v.write(into: &out, indent: indent + 1)
                out += (i == pairs.count - 1 ? "\n" : ",\n").utf8
            }
            pad(indent)
            out.append(UInt8(ascii: "}"))
        case .array(let items):
            if items.isEmpty { out += "[]".utf8; return }
            out += "[\n".utf8
            for (i, v) in items.enumerated() {
                pad(indent + 1)
                v.write(into: &out, indent: indent + 1)
                out += (i == items.count - 1 ? "\n" : ",\n").utf8
            }
            pad(indent)
            out.append(UInt8(ascii: "]"))
        case .string(let s): JSONValue.quote(s, into: &out)
        case .int(let i):
            if i < 0 { out.append(UInt8(ascii: "-")) }
            JSONValue.digits(i.magnitude, into: &out)
        case .uint(let u): JSONValue.digits(u, into: &out)
        case .double(let d):
            // Integral values as integers (no ".0"), the rest in Swift's shortest round-trip form.
            if !d.isFinite {
                out += "null".utf8
            } else if d == d.rounded(), abs(d) < 1e15 {
                let i = Int64(d)
                if i < 0 { out.append(UInt8(ascii: "-")) }
                JSONValue.digits(i.magnitude, into: &out)
            } else {
                out += d.description.utf8
            }
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .null: out += "null".utf8
        }
    }

    /// Shortest round-trip decimal form of a double; integers keep a ".0"-free form; non-finite is null.
    public static func number(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return d.description
    }

    static func quote(_ s: String) -> String {
        var out: [UInt8] = []
        quote(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The decimal digits of `v`, written straight into `out` (no intermediate string).
    static func digits(_ v: UInt64, into out: inout [UInt8]) {
        if v < 10 {
            out.append(0x30 + UInt8(v))
            return
        }
        var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for UInt64.max's 20 digits
        var n = v, count = 0
        withUnsafeMutableBytes(of: &buffer) { raw in
            while n > 0 {
                raw[23 - count] = 0x30 + UInt8(n % 10)
                n /= 10
                count += 1
            }
            out.append(contentsOf: raw[(24 - count)...])
        }
    }

    /// `s` as a JSON string literal: quote, backslash and control characters escaped, everything
    /// else (multi-byte UTF-8 included) as it is.
    static func quote(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        // Most strings need no escape: copy their bytes whole (one copy from native storage).
        let copied: Bool? = s.utf8.withContiguousStorageIfAvailable { bytes in
            for b in bytes where b < 0x20 || b == 0x22 || b == 0x5C { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied == true {
            out.append(0x22)
            return
        }
        if copied == nil, !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out.append(contentsOf: s.utf8)
            out.append(0x22)
            return
        }
        for b in s.utf8 {
            switch b {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: out.append(b)
            }
        }
        out.append(0x22)
    }
}
