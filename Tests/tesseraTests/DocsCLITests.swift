import Foundation
import Testing

// The generated references under docs/reference/ are what the code prints now, and the schema
// reference names every top-level key of every bundled file.

@Suite struct DocsCLITests {
    @Test(arguments: ["cli", "schema"]) func generatedReferenceIsCurrent(which: String) throws {
        let r = try runTessera(["reference", which])
        #expect(r.status == 0, "\(r.stderr)")
        let file = cliPackageRoot.appendingPathComponent("docs/reference/\(which).md")
        let committed = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        #expect(committed == r.stdout, "docs/reference/\(which).md is stale: run `make docs` and commit it")
    }

    @Test func schemaNamesEveryTopLevelKeyOfTheBundledFiles() throws {
        let listing = try runTessera(["kinds"]).stdout
        var missing: [String] = []
        for folder in ["configs/array", "configs/sat", "configs/edge", "configs/gpu", "traces"] {
            let dir = cliPackageRoot.appendingPathComponent(folder)
            for name in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where name.hasSuffix(".yaml") {
                let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    guard let first = line.first, first.isLetter, let colon = line.firstIndex(of: ":") else { continue }
                    let key = String(line[..<colon])
                    if !listing.contains("\(key):") && !listing.contains(" \(key) ") && !listing.contains(" \(key),") && !listing.contains(" \(key)\n") {
                        missing.append("\(folder)/\(name): \(key)")
                    }
                }
            }
        }
        #expect(missing.isEmpty, "keys not in `tessera kinds`: \(missing)")
    }

    @Test func theHiddenCommandRefusesAnythingElse() throws {
        let r = try runTessera(["reference", "yaml"])
        #expect(r.status == 2 && r.stderr.contains("expected 'cli' or 'schema'"), "\(r.stderr)")
    }
}
