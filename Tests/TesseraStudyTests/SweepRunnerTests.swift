import Foundation
import TesseraCore
import TesseraSpec
import Testing

@testable import TesseraOutput
@testable import TesseraStudy
import TesseraFamilies
import TesseraTestSupport

// Running sweeps: results independent of --jobs and of sharding, resume, invalid and runtime-invalid
// points, Pareto fronts, merging, and the batch jobs.

/// A fresh directory under the temporary directory, removed by `cleanup`.
func sweepScratch(_ tag: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-sweep-\(tag)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes a sweep file over small-cnn on the 32×32 array into `dir` and loads it.
func smallSweep(
    in dir: URL, axes: String = "  compute.array.rows: [8, 16, 32]\n  memory.dram.bandwidth: {from: 6.4 GB/s, to: 25.6 GB/s, steps: 4}\n",
    extra: String = "", name: String = "small", workload: String = "traces/small-cnn.yaml"
) throws -> SweepSpec {
    let text = """
        tessera: 1
        name: \(name)
        hardware: \(packageRoot.appendingPathComponent("configs/array/scalesim-32x32-os.yaml").path)
        workload: \(packageRoot.appendingPathComponent(workload).path)
        objectives: [total_cycles, seconds, utilization, pe_count]
        pareto: [total_cycles, pe_count]
        axes:
        \(axes)\(extra)
        """
    let file = dir.appendingPathComponent("\(name).yaml").path
    try text.write(toFile: file, atomically: true, encoding: .utf8)
    return try SweepObjective.loader.load(path: file)
}

private func runAll(_ spec: SweepSpec, into dir: String, jobs: Int, shard: SweepShard = .whole) throws -> SweepRunner.Summary {
    let runner = SweepRunner(spec: spec, outputDirectory: dir, shard: shard, jobs: jobs)
    try runner.prepare(fresh: false)
    try runner.record(invalid: runner.validate())
    return try runner.run()
}

private func bytes(_ path: String) -> Data { FileManager.default.contents(atPath: path) ?? Data() }

private let resultFiles = ["results.csv", "results.json", "pareto.csv"]

@Suite struct SweepRunnerTests {
    @Test func resultsDoNotDependOnJobsOrShards() throws {
        let dir = try sweepScratch("jobs")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = try smallSweep(in: dir)
        #expect(spec.count == 12)
        let one = dir.appendingPathComponent("one").path
        let two = dir.appendingPathComponent("two").path
        let s1 = try runAll(spec, into: one, jobs: 1)
        #expect(s1.ok == 12 && s1.points == 12)
        _ = try runAll(spec, into: two, jobs: 4)
        let m = SweepManifest(spec: spec, shard: .whole)
        let r1 = try SweepResults.assemble(manifest: m, in: SweepDirectory(path: one, points: 12))
        _ = try SweepResults.assemble(manifest: m, in: SweepDirectory(path: two, points: 12))
        for f in resultFiles { #expect(bytes("\(one)/\(f)") == bytes("\(two)/\(f)"), "\(f) differs between --jobs 1 and 4") }
        for k in 0..<12 { #expect(bytes("\(one)/reports/\(String(format: "%04d", k)).json") == bytes("\(two)/reports/\(String(format: "%04d", k)).json")) }

        // Three shards, merged, give the same bytes.
        var shardDirs: [String] = []
        for i in 1...3 {
            let d = dir.appendingPathComponent("shard\(i)").path
            let s = try runAll(spec, into: d, jobs: 2, shard: try SweepShard(parsing: "\(i)/3"))
            #expect(s.points == 4)
            shardDirs.append(d)
        }
        let merged = dir.appendingPathComponent("merged").path
        let r2 = try SweepMerge.merge(shardDirs, into: merged)
        #expect(r2 == r1)
        for f in resultFiles { #expect(bytes("\(one)/\(f)") == bytes("\(merged)/\(f)"), "\(f) differs between a single run and merged shards") }

        // What the CSV holds.
        let table = try ResultsTable.load(path: "\(one)/results.csv")
        #expect(
            table.columns == [
                "point", "compute.array.rows", "memory.dram.bandwidth", "status", "total_cycles", "seconds", "utilization", "pe_count", "pareto", "report",
                "error",
            ])
        #expect(table.rows.count == 12)
        #expect(table.rows[5][1] == "16" && table.rows[5][2] == "12.8 GB/s" && table.rows[5][3] == "ok")
        #expect(table.rows.allSatisfy { $0[9].hasPrefix("reports/") })
        #expect(table.rows.filter { $0[8] == "true" }.map { Int($0[0]) ?? -1 } == r1.front)
    }

    @Test func theFrontIsMarkedInCSVAndJSON() throws {
        let dir = try sweepScratch("front")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = try smallSweep(in: dir)
        let out = dir.appendingPathComponent("out").path
        _ = try runAll(spec, into: out, jobs: 2)
        let summary = try SweepResults.assemble(manifest: SweepManifest(spec: spec, shard: .whole), in: SweepDirectory(path: out, points: spec.count))
        let table = try ResultsTable.load(path: "\(out)/results.csv")
        // Brute force over (total_cycles, pe_count), both minimised.
        let v = table.rows.map { [Double($0[4]) ?? .nan, Double($0[7]) ?? .nan] }
        let brute = v.indices.filter { i in !v.indices.contains { j in ParetoFront.dominates(v[j], v[i]) } }
        #expect(summary.front == brute)
        #expect(!summary.front.isEmpty && summary.front.count < 12)
        let pareto = try ResultsTable.load(path: "\(out)/pareto.csv")
        #expect(pareto.rows.map { Int($0[0]) ?? -1 } == brute)

        let json = try #require(try JSONSerialization.jsonObject(with: bytes("\(out)/results.json")) as? [String: Any])
        #expect(json["tessera"] as? Int == Report.schemaVersion)
        #expect(json["sweep"] as? String == "small")
        #expect(json["digest"] as? String == spec.digest)
        let results = try #require(json["results"] as? [[String: Any]])
        #expect(results.count == 12)
        let first = results[0]
        #expect((first["values"] as? [String: Any])?["compute.array.rows"] as? Int == 8)
        #expect((first["values"] as? [String: Any])?["memory.dram.bandwidth"] as? String == "6.4 GB/s")
        #expect((first["objectives"] as? [String: Any])?["pe_count"] as? Int == 256)
        #expect(results.filter { $0["pareto"] as? Bool == true }.compactMap { $0["point"] as? Int } == brute)
        let objectives = try #require(json["objectives"] as? [[String: Any]])
        #expect(objectives.map { $0["goal"] as? String } == ["min", "min", "max", "min"])
    }

    @Test func anInterruptedSweepResumesAndSkipsWhatIsDone() throws {
        let dir = try sweepScratch("resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = try smallSweep(in: dir)
        let out = dir.appendingPathComponent("out").path
        let reference = dir.appendingPathComponent("ref").path
        _ = try runAll(spec, into: reference, jobs: 1)
        _ = try runAll(spec, into: out, jobs: 2)
        // As if the run had died: some records gone, one point left running.
        let d = SweepDirectory(path: out, points: spec.count)
        for k in [2, 7, 11] { try FileManager.default.removeItem(atPath: d.record(k)) }
        try "3\n7\n".write(toFile: d.journal(.whole), atomically: true, encoding: .utf8)
        let runner = SweepRunner(spec: spec, outputDirectory: out, jobs: 2)
        try runner.prepare(fresh: false)
        let ran = Counter()
        let isolated = Counter()
        let summary = try runner.run(
            isolate: { k in
                isolated.add(k)
                _ = try? runner.runPoint(k)
                return "unused"
            }, willRun: { ran.add($0) })
        #expect(summary.resumed == 9)
        #expect(summary.ok == 3)
        #expect(isolated.values == [7])
        #expect(ran.values.sorted() == [2, 11])
        #expect(try String(contentsOfFile: d.journal(.whole), encoding: .utf8).split(separator: "\n").sorted() == ["11", "2"])
        let m = SweepManifest(spec: spec, shard: .whole)
        _ = try SweepResults.assemble(manifest: m, in: d)
        _ = try SweepResults.assemble(manifest: m, in: SweepDirectory(path: reference, points: spec.count))
        for f in resultFiles { #expect(bytes("\(out)/\(f)") == bytes("\(reference)/\(f)")) }

        // A point whose isolated rerun leaves nothing is recorded as crashed; the rest stay.
        try FileManager.default.removeItem(atPath: d.record(4))
        try "4\n".write(toFile: d.journal(.whole), atomically: true, encoding: .utf8)
        let again = try runner.run(isolate: { _ in "the simulator died (signal 6)" })
        #expect(again.crashed == 1 && again.resumed == 11)
        let r = try SweepResults.assemble(manifest: m, in: d)
        #expect(r.crashed == 1 && r.ok == 11)
        let table = try ResultsTable.load(path: d.resultsCSV)
        #expect(table.rows[4][3] == "crashed" && table.rows[4][10].contains("signal 6") && table.rows[4][8] == "")
        #expect(!r.front.contains(4))
    }

    @Test func invalidPointsAreRecordedWithTheirValuesAndLocations() throws {
        let dir = try sweepScratch("invalid")
        defer { try? FileManager.default.removeItem(at: dir) }
        // rows 0 fails validation; a 2-byte ifmap buffer passes it, but the mapper cannot tile a
        // 512³ GEMM into it.
        let spec = try smallSweep(
            in: dir, axes: "  compute.array.rows: [0, 8]\n  memory.ifmap_sram.size: [2 B, 1 MiB]\n", extra: "on_invalid: skip\n",
            workload: "traces/gemm-512.yaml")
        let runner = SweepRunner(spec: spec, outputDirectory: dir.appendingPathComponent("out").path, jobs: 2)
        try runner.prepare(fresh: false)
        let invalid = runner.validate()
        #expect(invalid.map(\.point) == [0, 1])
        #expect(invalid[0].values == ["0", "2 B"])
        #expect(invalid[0].error.description.contains("small.yaml:8:24: error:"), "\(invalid[0].error)")
        try runner.record(invalid: invalid)
        let summary = try runner.run()
        #expect(summary.resumed == 2 && summary.ok == 1 && summary.invalid == 1)
        let r = try SweepResults.assemble(manifest: runner.manifest, in: runner.directory)
        #expect(r.invalid == 3 && r.ok == 1 && r.front == [3])
        let table = try ResultsTable.load(path: runner.directory.resultsCSV)
        #expect(table.rows.map { $0[3] } == ["invalid", "invalid", "invalid", "ok"])
        #expect(table.rows[2][10].contains("the SRAM buffers are too small for layer 'gemm'"), "\(table.rows[2][10])")
        #expect(table.rows[2][9] == "" && table.rows[0][4] == "")
    }

    /// The bundled sweep over Llama-3 8B layouts: layouts that do not fit are invalid points with
    /// the memory breakdown; the others report MFU and peak memory, and ZeRO 3 holds the least.
    @Test func clusterLayoutSweepsReportMFUAndRefuseWhatDoesNotFit() throws {
        let dir = try sweepScratch("layouts")
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = try SweepObjective.loader.load(path: packageRoot.appendingPathComponent("sweeps/llama3-8b-layouts.yaml").path)
        let runner = SweepRunner(spec: spec, outputDirectory: dir.path, jobs: 2)
        try runner.prepare(fresh: false)
        try runner.record(invalid: runner.validate())
        _ = try runner.run()
        _ = try SweepResults.assemble(manifest: runner.manifest, in: runner.directory)
        let table = try ResultsTable.load(path: runner.directory.resultsCSV)
        let header = table.columns
        let status = try #require(header.firstIndex(of: "status")), mfu = try #require(header.firstIndex(of: "mfu"))
        let memory = try #require(header.firstIndex(of: "peak_memory_bytes")), error = try #require(header.firstIndex(of: "error"))
        #expect(table.rows.map { $0[status] } == ["invalid", "invalid", "ok", "invalid"] + Array(repeating: "ok", count: 8))
        #expect(table.rows[0][error].contains("does not fit in GPU memory") && table.rows[0][error].contains("optimizer"))
        for row in table.rows where row[status] == "ok" {
            let m = try #require(Double(row[mfu]))
            #expect(m > 0.2 && m < 0.6)
        }
        #expect(Double(table.rows[5][memory]) ?? 0 < Double(table.rows[4][memory]) ?? 0)  // tp 2: ZeRO 3 below ZeRO 1
    }

    @Test func aDirectoryOfAnotherSweepIsRefusedUnlessFresh() throws {
        let dir = try sweepScratch("refuse")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try smallSweep(in: dir, axes: "  compute.array.rows: [8, 16]\n", name: "a")
        let b = try smallSweep(in: dir, axes: "  compute.array.rows: [8, 32]\n", name: "b")
        let out = dir.appendingPathComponent("out").path
        _ = try runAll(a, into: out, jobs: 1)
        let runner = SweepRunner(spec: b, outputDirectory: out, jobs: 1)
        #expect {
            try runner.prepare(fresh: false)
        } throws: { e in
            let d = (e as? InputError)?.diagnostics.first
            return d?.location?.file == "\(out)/sweep.json" && d?.location?.line == 5 && d?.message.contains("holds the results of another sweep") == true
        }
        try runner.prepare(fresh: true)
        #expect(try runner.run().ok == 2)
        let junk = dir.appendingPathComponent("junk")
        try FileManager.default.createDirectory(at: junk, withIntermediateDirectories: true)
        try "x".write(to: junk.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        #expect(throws: InputError.self) { try SweepRunner(spec: a, outputDirectory: junk.path, jobs: 1).prepare(fresh: false) }
    }

    /// Adding a value to an axis (and taking one away) keeps the finished points: they are
    /// renumbered, only the new points run, and the results equal a fresh run's.
    @Test func changingAnAxisKeepsTheFinishedPoints() throws {
        let dir = try sweepScratch("grow")
        defer { try? FileManager.default.removeItem(at: dir) }
        let axes = "  compute.array.rows: [8, 16]\n  memory.dram.bandwidth: [6.4 GB/s, 25.6 GB/s]\n"
        let small = try smallSweep(in: dir, axes: axes, name: "grow")
        let out = dir.appendingPathComponent("out").path
        #expect(try runAll(small, into: out, jobs: 1).ok == 4)
        let grown = try smallSweep(in: dir, axes: "  compute.array.rows: [8, 12, 16]\n  memory.dram.bandwidth: [6.4 GB/s, 25.6 GB/s]\n", name: "grow")
        #expect(grown.frameDigest == small.frameDigest && grown.digest != small.digest)
        let runner = SweepRunner(spec: grown, outputDirectory: out, jobs: 1)
        #expect(try runner.prepare(fresh: false) == SweepRunner.Migration(kept: 4, dropped: 0))
        #expect(runner.pendingPoints() == [2, 3])  // rows 12, with both bandwidths
        try runner.record(invalid: runner.validate())
        let summary = try runner.run()
        #expect(summary.resumed == 4 && summary.ok == 2)
        let fresh = dir.appendingPathComponent("fresh").path
        _ = try runAll(grown, into: fresh, jobs: 1)
        for f in resultFiles { #expect(bytes("\(out)/\(f)") == bytes("\(fresh)/\(f)"), "\(f)") }
        // Taking a value away drops its points and keeps the rest.
        let shrunk = try smallSweep(in: dir, axes: "  compute.array.rows: [12, 16]\n  memory.dram.bandwidth: [6.4 GB/s, 25.6 GB/s]\n", name: "grow")
        #expect(try SweepRunner(spec: shrunk, outputDirectory: out, jobs: 1).prepare(fresh: false) == SweepRunner.Migration(kept: 4, dropped: 2))
        #expect(SweepRunner(spec: shrunk, outputDirectory: out, jobs: 1).pendingPoints().isEmpty)
    }

    @Test func mergingChecksTheSweepsAndTheCoverage() throws {
        let dir = try sweepScratch("merge")
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = try smallSweep(in: dir, axes: "  compute.array.rows: [8, 16, 32]\n", name: "a")
        let b = try smallSweep(in: dir, axes: "  compute.array.rows: [8, 16, 64]\n", name: "b")
        let a1 = dir.appendingPathComponent("a1").path
        let a2 = dir.appendingPathComponent("a2").path
        let b2 = dir.appendingPathComponent("b2").path
        _ = try runAll(a, into: a1, jobs: 1, shard: try SweepShard(parsing: "1/2"))
        _ = try runAll(a, into: a2, jobs: 1, shard: try SweepShard(parsing: "2/2"))
        _ = try runAll(b, into: b2, jobs: 1, shard: try SweepShard(parsing: "2/2"))
        let out = dir.appendingPathComponent("out").path
        #expect {
            try SweepMerge.merge([a1, b2], into: out)
        } throws: { e in
            let d = (e as? InputError)?.diagnostics.first
            return d?.location == SourceLocation(file: "\(b2)/sweep.json", line: 5, column: 13) && d?.message.contains("different sweep") == true
                && d?.expected?.contains(a.digest) == true
        }
        #expect {
            try SweepMerge.merge([a1], into: out)
        } throws: { e in
            let d = (e as? InputError)?.diagnostics.first
            return d?.message.contains("lack the results of 1 of 3 points") == true && d?.hint == "they belong to shard 2/2"
        }
        #expect(try SweepMerge.merge([a1, a2], into: out).ok == 3)
        #expect(throws: InputError.self) { try SweepMerge.merge([dir.appendingPathComponent("nowhere").path], into: out) }
    }

    @Test func batchJobsRunOneShardPerTask() throws {
        let job = SweepBatchJob(
            sweep: "Array Design Space", points: 120, spec: "sweeps/array-design-space.yaml", output: "out/sweeps/ds", workingDirectory: "/repo",
            tessera: "/repo/.build/release/tessera", shards: 6, cpusPerTask: 2)
        #expect(job.jobName == "tessera-sweep-array-design-space")
        let slurm = job.slurm(partition: "batch", time: "01:00:00")
        #expect(slurm.hasPrefix("#!/bin/bash\n"))
        for line in [
            "#SBATCH --array=1-6", "#SBATCH --cpus-per-task=2", "#SBATCH --chdir=/repo", "#SBATCH --output=out/sweeps/ds/logs/shard-%a.log",
            "#SBATCH --partition=batch", "#SBATCH --time=01:00:00",
            "exec /repo/.build/release/tessera sweep sweeps/array-design-space.yaml --shard \"${shard}/6\" -o out/sweeps/ds/shards/\"${shard}\" --jobs \"${SLURM_CPUS_PER_TASK:-2}\"",
        ] {
            #expect(slurm.contains(line + "\n"), "no '\(line)' in\n\(slurm)")
        }
        // The manifest is YAML a Kubernetes indexed Job accepts: read it back.
        let k8s = try YAMLReader.parse(job.kubernetes(image: "ghcr.io/x/tessera:1", claim: "sweeps"), file: "job.yaml")
        #expect(k8s["kind"]?.scalar == "Job")
        let spec = try #require(k8s["spec"])
        #expect(spec["completionMode"]?.scalar == "Indexed")
        #expect(spec["completions"]?.scalar == "6" && spec["parallelism"]?.scalar == "6")
        let container = try #require(spec["template"]?["spec"]?["containers"]?.items?.first)
        #expect(container["image"]?.scalar == "ghcr.io/x/tessera:1")
        let script = container["args"]?.items?.first?.scalar ?? ""
        #expect(script.contains("shard=$((JOB_COMPLETION_INDEX + 1))"))
        #expect(script.contains("--shard \"${shard}/6\" -o out/sweeps/ds/shards/\"${shard}\" --jobs 2"))
        #expect(spec["template"]?["spec"]?["volumes"]?.items?.first?["persistentVolumeClaim"]?["claimName"]?.scalar == "sweeps")
        #expect(shellQuote("it's here") == "'it'\\''s here'")
    }

    @Test func paretoFrontsMatchBruteForce() {
        #expect(ParetoFront.indices([[1, 5], [2, 2], [3, 1], [3, 3], [1, 5], [.nan, 0]]) == [0, 1, 2, 4])
        #expect(ParetoFront.indices([]) == [])
        #expect(ParetoFront.dominates([1, 1], [1, 2]) && !ParetoFront.dominates([1, 2], [1, 2]) && !ParetoFront.dominates([0, 3], [1, 2]))
        var state: UInt64 = 12345
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 40 % 16)
        }
        for n in [1, 2, 5, 40, 200] {
            for d in 1...4 {
                let v = (0..<n).map { _ in (0..<d).map { _ in next() } }
                let brute = v.indices.filter { i in !v.indices.contains { ParetoFront.dominates(v[$0], v[i]) } }
                #expect(ParetoFront.indices(v) == brute, "n \(n), d \(d)")
            }
        }
    }
}

/// Values collected from worker threads.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Int] = []
    func add(_ v: Int) {
        lock.lock()
        items.append(v)
        lock.unlock()
    }
    var values: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}
