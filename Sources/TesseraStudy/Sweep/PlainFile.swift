import Foundation
import TesseraOutput

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a file in place with one open, write and close: for a sweep's per-point files, where a
/// torn write is harmless (a record is JSON, so a cut one does not parse and the point runs again;
/// a report is written before its record) and every system call counts.
enum PlainFile {
    static func write(_ data: Data, to path: String) throws(AtomicFile.WriteError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicFile.WriteError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        try writeAll(fd, data, path: path)
    }

    static func writeAll(_ fd: Int32, _ data: Data, path: String) throws(AtomicFile.WriteError) {
        let failure: Int32? = data.withUnsafeBytes { raw -> Int32? in
            guard var p = raw.baseAddress else { return nil }
            var left = raw.count
            while left > 0 {
                let n = systemWrite(fd, p, left)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                p += n
                left -= n
            }
            return nil
        }
        if let failure { throw AtomicFile.WriteError(path: path, reason: String(cString: strerror(failure))) }
    }
}

/// An append-only log of lines shared by worker threads (one `write` per line, under a lock).
final class Journal: @unchecked Sendable {
    private let fd: Int32
    private let path: String
    private let lock = NSLock()

    /// Starts the log afresh.
    init(path: String) throws(AtomicFile.WriteError) {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw AtomicFile.WriteError(path: path, reason: String(cString: strerror(errno))) }
    }

    deinit { close(fd) }

    func append(_ line: String) throws(AtomicFile.WriteError) {
        lock.lock()
        defer { lock.unlock() }
        try PlainFile.writeAll(fd, Data((line + "\n").utf8), path: path)
    }

    /// The lines of a log, if there is one.
    static func lines(_ path: String) -> [Substring] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return String(decoding: data, as: UTF8.self).split(separator: "\n")
    }
}

private func systemWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
    #if canImport(Glibc)
        return Glibc.write(fd, p, n)
    #elseif canImport(Musl)
        return Musl.write(fd, p, n)
    #else
        return Darwin.write(fd, p, n)
    #endif
}
