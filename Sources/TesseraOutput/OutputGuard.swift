import Foundation
import TesseraCore

/// Decides which existing files Tessera may replace (DESIGN convention 13): only those it wrote
/// itself, as recorded in a manifest it keeps beside them, and only while they still hold what it
/// wrote; anything else needs `--force`. What a file looks like never decides.
///
/// The manifest is `.tessera-written` in each directory Tessera writes into: one line per file,
/// `<FNV-1a 64-bit hash of the content, 16 hex digits> <file name>`, sorted by name. A file a
/// user edited after Tessera wrote it no longer matches its hash and is protected again.
public enum OutputGuard {
    public static let manifestName = ".tessera-written"

    /// Refuses the first target that exists and is not Tessera's own, before anything is written:
    /// call it with every path a command will write.
    public static func check(_ paths: [String], force: Bool) throws(InputError) {
        guard !force else { return }
        for path in paths where FileManager.default.fileExists(atPath: path) {
            if isDirectory(path) {
                throw InputError(Diagnostic(at: nil, "cannot write '\(path)': it is a directory", expected: "a file path", found: "a directory"))
            }
            guard isOwn(path) else {
                throw InputError(Diagnostic(
                    at: nil, "refusing to overwrite '\(path)': Tessera did not write it (or it changed since)",
                    hint: "pass --force to overwrite it, or choose another output path"))
            }
        }
    }

    /// Writes `data` to `path` atomically and records it in its directory's manifest.
    public static func write(_ data: Data, to path: String) throws(AtomicFile.WriteError) {
        try AtomicFile.write(data, to: path)
        let (directory, name) = split(path)
        var entries = manifest(in: directory)
        entries[name] = hash(data)
        let text = entries.keys.sorted().map { "\(hex(entries[$0] ?? 0)) \($0)\n" }.joined()
        try AtomicFile.write(Data(text.utf8), to: (directory as NSString).appendingPathComponent(manifestName))
    }

    /// Writes `text` (UTF-8); see `write(_:to:)`.
    public static func write(_ text: String, to path: String) throws(AtomicFile.WriteError) { try write(Data(text.utf8), to: path) }

    /// True when the manifest beside `path` lists it with the hash of its current content.
    public static func isOwn(_ path: String) -> Bool {
        let (directory, name) = split(path)
        guard let recorded = manifest(in: directory)[name], let data = FileManager.default.contents(atPath: path) else { return false }
        return recorded == hash(data)
    }

    /// FNV-1a, 64 bits: a content fingerprint (not a security measure).
    static func hash(_ data: Data) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        data.withUnsafeBytes { buffer in
            for byte in buffer {
                h ^= UInt64(byte)
                h = h &* 0x0000_0100_0000_01b3
            }
        }
        return h
    }

    private static func hex(_ v: UInt64) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: max(0, 16 - s.count)) + s
    }

    private static func split(_ path: String) -> (directory: String, name: String) {
        let directory = (path as NSString).deletingLastPathComponent
        return (directory.isEmpty ? "." : directory, (path as NSString).lastPathComponent)
    }

    private static func manifest(in directory: String) -> [String: UInt64] {
        guard let text = try? String(contentsOfFile: (directory as NSString).appendingPathComponent(manifestName), encoding: .utf8) else { return [:] }
        var out: [String: UInt64] = [:]
        for line in text.split(separator: "\n") {
            guard let space = line.firstIndex(of: " "), let h = UInt64(line[..<space], radix: 16) else { continue }
            out[String(line[line.index(after: space)...])] = h
        }
        return out
    }

    private static func isDirectory(_ path: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
    }
}
