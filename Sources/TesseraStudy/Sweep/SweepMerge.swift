import Foundation
import TesseraCore
import TesseraSpec
import TesseraOutput

/// Merges the output directories of a sweep's shards into one directory holding every point's
/// record and report, then assembles the results from it, exactly as a single run would.
public enum SweepMerge {
    public static func merge(_ inputs: [String], into output: String) throws(InputError) -> SweepResults.Summary {
        guard !inputs.isEmpty else { throw InputError(Diagnostic(at: nil, "no shard directories to merge", expected: "one or more directories")) }
        var bag = DiagnosticBag()
        var manifests: [(String, SweepManifest)] = []
        for dir in inputs {
            do {
                if let m = try SweepDirectory.readManifest(in: dir) {
                    manifests.append((dir, m))
                } else {
                    bag.error(
                        nil, "'\(dir)' is not a sweep output directory", expected: "a directory 'tessera sweep' wrote (it holds sweep.json)",
                        found: isDirectory(dir) ? "no sweep.json in it" : "no such directory")
                }
            } catch {
                bag.append(contentsOf: error.diagnostics)
            }
        }
        try bag.throwIfErrors()
        let (firstDir, reference) = manifests[0]
        for (dir, m) in manifests.dropFirst() where !m.sameSweep(as: reference) {
            let path = (dir as NSString).appendingPathComponent(SweepManifest.fileName)
            let what = m.digest == reference.digest ? "the same digest but other axes or objectives" : "digest \(m.digest) ('\(m.sweep)')"
            bag.error(
                SweepDirectory.location(ofKey: "digest", inManifestAt: path), "'\(dir)' holds the results of a different sweep than '\(firstDir)'",
                expected: "digest \(reference.digest) ('\(reference.sweep)'), as in \((firstDir as NSString).appendingPathComponent(SweepManifest.fileName))",
                found: what)
        }
        try bag.throwIfErrors()

        let out = SweepDirectory(path: output, points: reference.points)
        if let existing = try SweepDirectory.readManifest(in: output), !existing.sameSweep(as: reference) {
            throw InputError(
                Diagnostic(
                    at: SweepDirectory.location(ofKey: "digest", inManifestAt: out.manifest),
                    "'\(output)' holds the results of another sweep ('\(existing.sweep)')",
                    expected: "a new or empty directory, or one holding digest \(reference.digest)", found: "digest \(existing.digest)"))
        }
        try out.create()
        let outPath = canonical(output)
        let sources = manifests.map { SweepDirectory(path: $0.0, points: reference.points) }
        var missing: [Int] = []
        for k in 0..<reference.points {
            var chosen: (SweepDirectory, SweepRecord)?
            for dir in sources {
                guard let r = SweepRecord.read(dir.record(k)), r.point == k else { continue }
                if let (first, record) = chosen {
                    if record != r {
                        bag.error(
                            nil, "point \(k) has different results in '\(first.path)' and '\(dir.path)'", expected: "the same record in every directory",
                            found: "\(record.status.rawValue) and \(r.status.rawValue)")
                    }
                } else {
                    chosen = (dir, r)
                }
            }
            guard let (dir, record) = chosen else {
                missing.append(k)
                continue
            }
            guard canonical(dir.path) != outPath else { continue }
            do {
                if let report = record.report {
                    guard let data = FileManager.default.contents(atPath: dir.file(report)) else {
                        bag.error(nil, "point \(k)'s report '\(dir.file(report))' is missing", expected: "the report its record names")
                        continue
                    }
                    try PlainFile.write(data, to: out.file(report))
                }
                try PlainFile.write(record.data(), to: out.record(k))
            } catch {
                throw InputError(Diagnostic(at: nil, error.description))
            }
        }
        if !missing.isEmpty {
            let counts = Set(manifests.compactMap { $0.1.shard.split(separator: "/").last.flatMap { Int($0) } })
            var hint: String?
            if counts.count == 1, let n = counts.first, n > 1 {
                let shards = Set(missing.map { $0 % n + 1 }).sorted()
                hint = "they belong to shard" + (shards.count > 1 ? "s " : " ") + shards.prefix(10).map { "\($0)/\(n)" }.joined(separator: ", ")
            }
            bag.error(
                nil, "the directories lack the results of \(missing.count) of \(reference.points) points", expected: "a record for every point",
                found: "none for point" + (missing.count > 1 ? "s " : " ") + missing.prefix(10).map(String.init).joined(separator: ", ")
                    + (missing.count > 10 ? ", …" : ""), hint: hint)
        }
        try bag.throwIfErrors()
        var manifest = reference
        manifest.shard = SweepShard.whole.description
        do {
            try AtomicFile.write(manifest.json(), to: out.manifest)
        } catch {
            throw InputError(Diagnostic(at: nil, error.description))
        }
        return try SweepResults.assemble(manifest: manifest, in: out, jobs: ProcessInfo.processInfo.activeProcessorCount)
    }

    private static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    private static func isDirectory(_ path: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
    }
}
