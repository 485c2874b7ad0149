import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes output files so that a reader sees either the old file or the whole new one, never a
/// half-written file: the text goes to a temporary file in the same directory, which is then
/// renamed over the destination (`rename(2)` is atomic within one file system).
public enum AtomicFile {
    /// Why a file could not be written; `description` names the file.
    public struct WriteError: Error, Sendable, CustomStringConvertible {
        public var path: String
        public var reason: String
        public var description: String { "cannot write '\(path)': \(reason)" }
    }

    /// Writes `text` (UTF-8) to `path` atomically. On failure the destination is untouched and no
    /// temporary file is left behind.
    public static func write(_ text: String, to path: String) throws(WriteError) {
        try write(Data(text.utf8), to: path)
    }

    /// Writes `data` to `path` atomically; see `write(_:to:)`.
    public static func write(_ data: Data, to path: String) throws(WriteError) {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw WriteError(path: path, reason: "directory '\(directory)' does not exist")
        }
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))")
            .path
        guard FileManager.default.createFile(atPath: temporary, contents: data) else {
            try? FileManager.default.removeItem(atPath: temporary)
            throw WriteError(path: path, reason: "cannot create a temporary file in '\(directory)'")
        }
        if rename(temporary, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw WriteError(path: path, reason: reason)
        }
    }
}
