import Foundation
import TesseraOutput

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file written piece by piece into a temporary file beside it and renamed over the destination
/// when complete (like `AtomicFile`, for output too large to build in memory first).
final class StreamedFile {
    let path: String
    private let temporary: String
    private let handle: FileHandle
    private var buffer = ""

    init(path: String) throws(AtomicFile.WriteError) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        temporary =
            url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))").path
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let h = FileHandle(forWritingAtPath: temporary) else {
            throw AtomicFile.WriteError(path: path, reason: "cannot create a temporary file in '\(url.deletingLastPathComponent().path)'")
        }
        handle = h
    }

    func write(_ text: String) throws(AtomicFile.WriteError) {
        buffer += text
        if buffer.utf8.count >= 1 << 16 { try flush() }
    }

    private func flush() throws(AtomicFile.WriteError) {
        do {
            try handle.write(contentsOf: Data(buffer.utf8))
        } catch {
            discard()
            throw AtomicFile.WriteError(path: path, reason: error.localizedDescription)
        }
        buffer = ""
    }

    /// Writes what is buffered and renames the file into place.
    func commit() throws(AtomicFile.WriteError) {
        try flush()
        try? handle.close()
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw AtomicFile.WriteError(path: path, reason: reason)
        }
    }

    func discard() {
        try? handle.close()
        try? FileManager.default.removeItem(atPath: temporary)
    }
}

/// CSV as RFC 4180 writes it: a field with a comma, a quote or a line break is quoted, and quotes
/// inside are doubled.
public enum CSV {
    public static func field(_ s: String) -> String {
        guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public static func row(_ fields: [String]) -> String { fields.map(field).joined(separator: ",") + "\n" }

    /// Splits CSV text into rows of fields (quoted fields may hold commas, quotes and line breaks).
    public static func parse(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var chars = text.makeIterator()
        var pending: Character? = nil
        func nextChar() -> Character? {
            if let p = pending {
                pending = nil
                return p
            }
            return chars.next()
        }
        var any = false
        while let c = nextChar() {
            any = true
            if quoted {
                if c == "\"" {
                    if let n = nextChar() {
                        if n == "\"" {
                            field.append("\"")
                        } else {
                            quoted = false
                            pending = n
                        }
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(c)
                }
                continue
            }
            switch c {
            case "\"" where field.isEmpty: quoted = true
            case ",":
                row.append(field)
                field = ""
            case "\n", "\r\n":
                row.append(field)
                rows.append(row)
                row = []
                field = ""
                any = false
            case "\r": break
            default: field.append(c)
            }
        }
        if any || !field.isEmpty || !row.isEmpty {
            row.append(field)
            rows.append(row)
        }
        return rows
    }
}
