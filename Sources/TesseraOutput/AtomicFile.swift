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
        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
    }

    /// Temporary files are `.tessera-tmp-PID-RANDOM-NAME`: a run killed while writing leaves one,
    /// and the next write into the same directory removes those whose process is gone.
    public static let temporaryPrefix = ".tessera-tmp-"

    /// Directories this process has already cleaned (once each is enough).
    private static let cleanedDirectories = LockedSet()

    /// Removes `.tessera-tmp-PID-…` files in `directory` whose process no longer runs.
    public static func removeStaleTemporaries(in directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(temporaryPrefix) {
            let rest = name.dropFirst(temporaryPrefix.count)
            guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0 else { continue }
            // kill(pid, 0) fails with ESRCH when no such process exists.
            if kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(name))
            }
        }
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
        if cleanedDirectories.insert(directory) { removeStaleTemporaries(in: directory) }
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent("\(temporaryPrefix)\(getpid())-\(UInt32.random(in: 0...UInt32.max))-\(url.lastPathComponent)")
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

/// A set of strings shared between threads.
final class LockedSet: @unchecked Sendable {
    private let lock = NSLock()
    private var values = Set<String>()
    /// Inserts `value`; true when it was not there yet.
    func insert(_ value: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return values.insert(value).inserted
    }
}
