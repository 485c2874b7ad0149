import TesseraCore

/// Small pieces of DOT syntax: quoted ids and attribute lists.
public enum DOTText {
    /// A double-quoted DOT string; `\n`, `\l` and `\r` written by the caller stay line breaks.
    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s {
            switch c {
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return out + "\""
    }

    /// Escapes text meant literally (a name with a backslash keeps it).
    static func literal(_ s: String) -> String {
        var out = ""
        for c in s { if c == "\\" { out += "\\\\" } else { out.append(c) } }
        return out
    }

    /// `[a="1", b="2"]` from ordered pairs; a value made by `html(_:)` (`<…>`) is written as is.
    static func attributes(_ pairs: [(String, String)]) -> String {
        "[" + pairs.map { "\($0.0)=\(isHTML($0.1) ? $0.1 : quote($0.1))" }.joined(separator: ", ") + "]"
    }

    /// An HTML-like label: `<` + markup + `>`. Escape text inside it with `escape(_:)`.
    static func html(_ markup: String) -> String { "<" + markup + ">" }

    static func isHTML(_ s: String) -> Bool { s.hasPrefix("<") && s.hasSuffix(">") }

    /// Text for inside an HTML-like label.
    public static func escape(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }

    /// A bold first line and smaller detail lines, as an HTML-like label.
    static func titled(_ title: String, _ lines: [String], size: Int = 10) -> String {
        var m = "<b>" + escape(title) + "</b>"
        for l in lines { m += "<br/><font point-size=\"\(size)\">" + escape(l) + "</font>" }
        return html(m)
    }

    /// A clock frequency for people: 1e9 → "1 GHz", 9.4e8 → "940 MHz".
    public static func frequency(_ hz: Double) -> String {
        if hz >= 1e9 { return formatDecimal(hz / 1e9) + " GHz" }
        if hz >= 1e6 { return formatDecimal(hz / 1e6) + " MHz" }
        if hz >= 1e3 { return formatDecimal(hz / 1e3) + " kHz" }
        return formatDecimal(hz) + " Hz"
    }

    /// A number in points or inches with at most three decimals.
    public static func number(_ x: Double) -> String { formatDecimal(x, maxDecimals: 3) }

    /// 1234567 → "1,234,567".
    public static func grouped(_ v: UInt64) -> String {
        let s = String(v)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0, (s.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return out
    }

    /// A count with an SI suffix for people: 4089184256 → "4.09 G".
    static func si(_ v: UInt64) -> String {
        let x = Double(v)
        if x >= 1e12 { return formatDecimal(x / 1e12, maxDecimals: 2) + " T" }
        if x >= 1e9 { return formatDecimal(x / 1e9, maxDecimals: 2) + " G" }
        if x >= 1e6 { return formatDecimal(x / 1e6, maxDecimals: 2) + " M" }
        if x >= 1e3 { return formatDecimal(x / 1e3, maxDecimals: 2) + " k" }
        return String(v)
    }

    /// Seconds with a fitting unit: 0.0073 → "7.3 ms".
    public static func seconds(_ s: Double, maxDecimals d: Int = 3) -> String {
        if s == 0 { return "0 s" }
        if s >= 1 { return formatDecimal(s, maxDecimals: d) + " s" }
        if s >= 1e-3 { return formatDecimal(s * 1e3, maxDecimals: d) + " ms" }
        if s >= 1e-6 { return formatDecimal(s * 1e6, maxDecimals: d) + " µs" }
        return formatDecimal(s * 1e9, maxDecimals: d) + " ns"
    }
}
