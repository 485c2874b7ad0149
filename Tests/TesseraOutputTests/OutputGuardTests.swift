import Foundation
import TesseraCore
import Testing

@testable import TesseraOutput

/// What Tessera may overwrite is decided by its manifest, never by a file's look.
@Suite struct OutputGuardTests {
    private func scratch() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-guard-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func onlyFilesItWroteAndThatAreUnchangedMayBeReplaced() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let own = dir + "/r.json", user = dir + "/notes.md", fresh = dir + "/new.csv"
        try OutputGuard.write("{\"tessera\": 1}\n", to: own)
        // A user's file that looks exactly like a report is still the user's.
        try "{\n  \"tessera\": 1\n}\n## Model\n".write(toFile: user, atomically: true, encoding: .utf8)
        #expect(OutputGuard.isOwn(own))
        #expect(!OutputGuard.isOwn(user))
        #expect(throws: Never.self) { try OutputGuard.check([own, fresh], force: false) }
        #expect(throws: InputError.self) { try OutputGuard.check([own, user], force: false) }
        #expect(throws: Never.self) { try OutputGuard.check([user], force: true) }
        // Edited after Tessera wrote it: protected again.
        try "edited by hand\n".write(toFile: own, atomically: true, encoding: .utf8)
        #expect(!OutputGuard.isOwn(own))
        let manifest = try String(contentsOfFile: dir + "/" + OutputGuard.manifestName, encoding: .utf8)
        #expect(manifest.hasSuffix(" r.json\n") && manifest.count == 16 + 1 + 6 + 1, "\(manifest)")
    }

    @Test func aTemporaryFileOfADeadRunIsRemovedByTheNextWrite() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // No process has PID 2^31 − 2 on Linux (pid_max is at most 2^22).
        let stale = dir + "/\(AtomicFile.temporaryPrefix)2147483646-7-report.json"
        let live = dir + "/\(AtomicFile.temporaryPrefix)\(getpid())-7-report.json"
        FileManager.default.createFile(atPath: stale, contents: Data("half".utf8))
        FileManager.default.createFile(atPath: live, contents: Data("half".utf8))
        try AtomicFile.write("whole\n", to: dir + "/report.json")
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: live), "a running process's temporary file is left alone")
    }
}
