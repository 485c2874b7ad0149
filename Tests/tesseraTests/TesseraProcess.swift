import Foundation
import Testing

/// The package root, three levels above this file (Tests/tesseraTests/…).
let cliPackageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The outcome of one run of the `tessera` binary.
struct TesseraRun {
    var status: Int32
    var reason: Process.TerminationReason
    var stdout: String
    var stderr: String
}

/// The `tessera` binary: beside the test executable (the build that ran these tests), else in the
/// package's debug or release build folder.
func tesseraBinary() throws -> URL {
    var candidates: [URL] = []
    if let exe = Bundle.main.executableURL {
        candidates.append(exe.deletingLastPathComponent().appendingPathComponent("tessera"))
    }
    candidates.append(Bundle.main.bundleURL.appendingPathComponent("tessera"))
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("tessera"))
    candidates.append(cliPackageRoot.appendingPathComponent(".build/debug/tessera"))
    candidates.append(cliPackageRoot.appendingPathComponent(".build/release/tessera"))
    let found = candidates.first { url in
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && FileManager.default.isExecutableFile(atPath: url.path)
    }
    return try #require(found, "no tessera binary; looked at \(candidates.map(\.path))")
}

/// Runs `tessera` with `arguments` in `directory`; output goes through temporary files so a long
/// output cannot block the child on a full pipe.
/// `environment` adds to (or overrides) this process's environment.
func runTessera(_ arguments: [String], in directory: URL = cliPackageRoot, environment: [String: String] = [:]) throws -> TesseraRun {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let outURL = scratch.appendingPathComponent("stdout")
    let errURL = scratch.appendingPathComponent("stderr")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let out = try FileHandle(forWritingTo: outURL)
    let err = try FileHandle(forWritingTo: errURL)
    let process = Process()
    process.executableURL = try tesseraBinary()
    process.arguments = arguments
    process.currentDirectoryURL = directory
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    process.standardOutput = out
    process.standardError = err
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try out.close()
    try err.close()
    return TesseraRun(
        status: process.terminationStatus, reason: process.terminationReason,
        stdout: try String(contentsOf: outURL, encoding: .utf8), stderr: try String(contentsOf: errURL, encoding: .utf8))
}
