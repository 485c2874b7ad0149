import Foundation

/// The bundled configs, traces, models and sweeps: a relative path that names nothing from the
/// current directory is looked up in the installed share directory (`<prefix>/share/tessera`,
/// beside the binary's `bin/`, where `make install` puts them), so the demo and the README's
/// examples run from any directory. A path that exists, or an absolute one, is taken as it is.
enum BundledFiles {
    static let shareDirectory: String? = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments.first ?? ""
        let dir = URL(fileURLWithPath: exe).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/tessera")
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDirectory) && isDirectory.boolValue ? dir.path : nil
    }()

    static func resolve(_ path: String) -> String {
        guard !path.hasPrefix("/"), !FileManager.default.fileExists(atPath: path), let share = shareDirectory else { return path }
        let candidate = share + "/" + path
        return FileManager.default.fileExists(atPath: candidate) ? candidate : path
    }
}
