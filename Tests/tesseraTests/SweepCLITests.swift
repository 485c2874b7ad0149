import Foundation
import Testing

// `tessera sweep`, `tessera sweep merge` and `tessera plot` as a user runs them, including a real
// Slurm array job when TESSERA_SLURM=1 (set by .ci/run after scripts/slurm-local.sh starts a
// one-node cluster).

/// Runs `tessera` in `directory` with extra environment variables.
private func tessera(_ arguments: [String], in directory: URL, environment: [String: String] = [:]) throws -> TesseraRun {
    try runTessera(arguments, in: directory, environment: environment)
}

private func scratchDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-sweep-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Writes `s.yaml` into `dir`: small-cnn on the 32×32 array over rows × DRAM bandwidth (8 points).
/// Lines 1–6 are the header; the axes start on line 8.
@discardableResult
private func writeSweep(in dir: URL, axes: String? = nil, extra: String = "", name: String = "s") throws -> String {
    let text = """
        tessera: 1
        name: cli-sweep
        hardware: \(cliPackageRoot.appendingPathComponent("configs/array/scalesim-32x32-os.yaml").path)
        workload: \(cliPackageRoot.appendingPathComponent("traces/small-cnn.yaml").path)
        objectives: [total_cycles, seconds, utilization, pe_count]
        pareto: [total_cycles, pe_count]
        axes:
        \(axes ?? "  compute.array.rows: [8, 16, 32, 64]\n  memory.dram.bandwidth: {from: 12.8 GB/s, to: 25.6 GB/s, steps: 2}")
        \(extra)
        """
    let file = "\(name).yaml"
    try text.write(to: dir.appendingPathComponent(file), atomically: true, encoding: .utf8)
    return file
}

private func contents(_ dir: URL, _ path: String) -> Data { FileManager.default.contents(atPath: dir.appendingPathComponent(path).path) ?? Data() }

private let slurmRequested = ProcessInfo.processInfo.environment["TESSERA_SLURM"] == "1"

@Suite struct SweepCLITests {
    @Test func aSweepRunsResumesAndDrawsItsPlots() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSweep(
            in: dir,
            extra:
                "plots:\n  - {name: cycles, x: rows, y: total_cycles, color: bandwidth, formats: [svg, png]}\n  - {name: front, kind: scatter, x: pe_count, y: total_cycles, pareto: true}\n"
        )
        let r = try tessera(["sweep", "s.yaml", "-o", "out", "--jobs", "2"], in: dir)
        #expect(r.status == 0, "stderr:\n\(r.stderr)")
        #expect(r.stdout.contains("sweep 'cli-sweep': 8 points = 4 × 2"))
        #expect(r.stdout.contains("8 points: 8 ok;"))
        #expect(r.stdout.contains("Pareto front:"))
        #expect(r.stderr.contains("[8/8] point "), "plain progress lines when not a terminal:\n\(r.stderr)")
        for f in ["results.csv", "results.json", "pareto.csv", "sweep.json", "plots/cycles.svg", "plots/cycles.png", "plots/front.svg", "reports/0007.json"] {
            #expect(!contents(dir, "out/\(f)").isEmpty, "no out/\(f)")
        }
        let csv = contents(dir, "out/results.csv")
        let again = try tessera(["sweep", "s.yaml", "-o", "out"], in: dir)
        #expect(again.status == 0)
        #expect(again.stderr.contains("resuming: 8 of 8 points already done"))
        #expect(contents(dir, "out/results.csv") == csv)

        // tessera plot on the results.
        let plot = try tessera(
            ["plot", "out/results.csv", "--x", "rows", "--y", "utilization", "--color", "bandwidth", "--kind", "bar", "-o", "u.svg"], in: dir)
        #expect(plot.status == 0, "stderr:\n\(plot.stderr)")
        #expect(String(decoding: contents(dir, "u.svg"), as: UTF8.self).contains("<g class=\"axis x\""))
        let png = try tessera(["plot", "out/results.csv", "--x", "pe_count", "--y", "seconds", "--pareto", "--log-x", "-o", "f.png"], in: dir)
        #expect(png.status == 0, "stderr:\n\(png.stderr)")
        #expect(contents(dir, "f.png").prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
        let bad = try tessera(["plot", "out/results.csv", "--x", "rowz", "--y", "seconds", "-o", "x.svg"], in: dir)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("error: --x names no column 'rowz'") && bad.stderr.contains("did you mean 'rows'?"), "\(bad.stderr)")
    }

    @Test func badInputIsLocatedAndExitsTwo() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(axes: String, expected: String)] = [
            ("  compute.array.rowz: [8]", "s.yaml:8:3: error: unknown field path 'compute.array.rowz'"),
            ("  compute.array.rows: []", "s.yaml:8:23: error: axis 'compute.array.rows' is empty"),
            ("  compute.array.rows: {from: 8, to: 64, steps: 1}", "s.yaml:8:48: error: the range of axis 'compute.array.rows' has too few steps"),
        ]
        for c in cases {
            try writeSweep(in: dir, axes: c.axes)
            let r = try tessera(["sweep", "s.yaml", "-o", "out"], in: dir)
            #expect(r.status == 2 && r.reason == .exit, "\(c.axes): status \(r.status)")
            #expect(r.stderr.contains(c.expected) && r.stderr.contains("(expected "), "\(c.axes):\n\(r.stderr)")
        }
        try writeSweep(in: dir)
        for (arguments, expected) in [
            (["--shard", "3/2"], "error: --shard: shard '3/2' does not exist (expected i/n with 1 ≤ i ≤ n, such as 2/8, found shard 3 of 2)"),
            (["--shard", "two"], "error: --shard: malformed shard 'two'"),
            (["--jobs", "0"], "error: --jobs must be at least 1, found 0"),
            (["--jobs", "-3"], "error: --jobs must be at least 1, found -3"),
            (["--emit", "pbs"], "error: unknown batch engine for --emit"),
        ] {
            let r = try tessera(["sweep", "s.yaml", "-o", "out"] + arguments, in: dir)
            #expect(r.status == 2, "\(arguments)")
            #expect(r.stderr.contains(expected), "\(arguments):\n\(r.stderr)")
        }
        let missing = try tessera(["sweep", "nope.yaml"], in: dir)
        #expect(missing.status == 2 && missing.stderr.contains("nope.yaml:1:1: error: cannot read file"))

        // Shards of two different sweeps do not merge; the error points at the digest.
        try writeSweep(in: dir, name: "a")
        try writeSweep(in: dir, axes: "  compute.array.rows: [8, 16]", name: "b")
        #expect(try tessera(["sweep", "a.yaml", "--shard", "1/2", "-o", "a1", "--quiet"], in: dir).status == 0)
        #expect(try tessera(["sweep", "b.yaml", "--shard", "2/2", "-o", "b2", "--quiet"], in: dir).status == 0)
        let merge = try tessera(["sweep", "merge", "a1", "b2", "-o", "m"], in: dir)
        #expect(merge.status == 2)
        #expect(merge.stderr.contains("b2/sweep.json:5:13: error: 'b2' holds the results of a different sweep than 'a1'"), "\(merge.stderr)")
    }

    @Test func invalidPointsFailOrAreSkippedAsTheFileSays() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSweep(in: dir, axes: "  compute.array.rows: [0, 8, 16]")
        let fail = try tessera(["sweep", "s.yaml", "-o", "out"], in: dir)
        #expect(fail.status == 2)
        #expect(fail.stderr.contains("point 0 (compute.array.rows=0) is invalid:\n  s.yaml:8:24: error:"), "\(fail.stderr)")
        #expect(fail.stderr.contains("1 point is invalid; nothing was run"))
        #expect(contents(dir, "out/points/0001.json").isEmpty)

        try writeSweep(in: dir, axes: "  compute.array.rows: [0, 8, 16]", extra: "on_invalid: skip")
        let skip = try tessera(["sweep", "s.yaml", "-o", "out2"], in: dir)
        #expect(skip.status == 0, "\(skip.stderr)")
        #expect(skip.stdout.contains("3 points: 2 ok, 1 invalid"))
        let csv = String(decoding: contents(dir, "out2/results.csv"), as: UTF8.self)
        #expect(csv.contains("\n0,0,invalid,,,,,,,"), "\(csv)")
    }

    /// Points that kill the simulator cost only themselves, in the same run: the sweep restarts
    /// its child, isolates the points it was running, and every later run still fails and names them.
    @Test func aPointThatCrashesTheSimulatorCostsOnlyItself() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSweep(in: dir)
        let fault = ["TESSERA_SWEEP_FAULT": "crash:2,5"]
        let first = try tessera(["sweep", "s.yaml", "-o", "out", "--jobs", "2"], in: dir, environment: fault)
        #expect(first.status == 70, "\(first.status)\n\(first.stderr)")
        #expect(first.stderr.contains("the simulator died (signal 6) during a point; resuming"), "\(first.stderr)")
        #expect(first.stderr.contains("error: 2 points (2, 5) failed or crashed"), "\(first.stderr)")
        let rows = String(decoding: contents(dir, "out/results.csv"), as: UTF8.self).split(separator: "\n")
        #expect(rows[6].hasPrefix("5,32,25.6 GB/s,crashed,") && rows[6].contains("signal 6"), "\(rows[6])")
        #expect(rows.filter { $0.contains(",ok,") }.count == 6)

        // A resumed run with nothing left to do still fails, and says which points.
        let again = try tessera(["sweep", "s.yaml", "-o", "out"], in: dir)
        #expect(again.status == 70, "\(again.stderr)")
        #expect(again.stderr.contains("error: 2 points (2, 5) failed or crashed"), "\(again.stderr)")
    }

    @Test func batchJobsAreWrittenForSlurmAndKubernetes() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSweep(in: dir)
        let slurm = try tessera(["sweep", "s.yaml", "--emit", "slurm", "--shards", "3", "--cpus-per-task", "2", "-o", "job"], in: dir)
        #expect(slurm.status == 0, "\(slurm.stderr)")
        let script = String(decoding: contents(dir, "job/sweep.sbatch"), as: UTF8.self)
        #expect(script.contains("#SBATCH --array=1-3\n") && script.contains("--shard \"${shard}/3\"") && script.contains(" sweep s.yaml "), "\(script)")
        #expect(
            script.contains("#SBATCH --chdir=\(dir.standardizedFileURL.resolvingSymlinksInPath().path)\n") || script.contains("#SBATCH --chdir=\(dir.path)\n"))
        #expect(FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("job/sweep.sbatch").path))
        let k8s = try tessera(["sweep", "s.yaml", "--emit", "k8s", "--shards", "4", "--image", "registry/tessera:1", "-o", "job"], in: dir)
        #expect(k8s.status == 0, "\(k8s.stderr)")
        let manifest = String(decoding: contents(dir, "job/sweep-job.yaml"), as: UTF8.self)
        #expect(manifest.contains("completionMode: Indexed\n") && manifest.contains("completions: 4\n") && manifest.contains("image: registry/tessera:1\n"))
        // The directory a job was written into can take the results too.
        let run = try tessera(["sweep", "s.yaml", "-o", "job", "--quiet"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
    }

    /// Submits the emitted array job to Slurm, waits, merges, and compares with a single run byte for byte.
    @Test(.enabled(if: slurmRequested, "Slurm test skipped: set TESSERA_SLURM=1 with a running cluster (scripts/slurm-local.sh; .ci/run does both)"))
    func aSlurmArrayJobMergesToTheSingleRunResults() throws {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeSweep(in: dir, axes: "  compute.array.rows: [8, 16, 32]\n  memory.dram.bandwidth: [12.8 GB/s, 25.6 GB/s]\n  compute.array.dataflow: [os, ws]")
        let single = try tessera(["sweep", "s.yaml", "-o", "single", "--jobs", "1", "--quiet"], in: dir)
        try #require(single.status == 0, "\(single.stderr)")
        let emit = try tessera(["sweep", "s.yaml", "--emit", "slurm", "--shards", "3", "-o", "batch"], in: dir)
        try #require(emit.status == 0, "\(emit.stderr)")

        let sbatch = Process()
        sbatch.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        sbatch.arguments = ["sbatch", "--wait", "--parsable", "batch/sweep.sbatch"]
        sbatch.currentDirectoryURL = dir
        let log = dir.appendingPathComponent("sbatch.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        sbatch.standardOutput = handle
        sbatch.standardError = handle
        try sbatch.run()
        let deadline = Date().addingTimeInterval(300)
        while sbatch.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.5) }
        let timedOut = sbatch.isRunning
        if timedOut { sbatch.terminate() }
        sbatch.waitUntilExit()
        try handle.close()
        let logs = (1...3).map { i in String(decoding: contents(dir, "batch/logs/shard-\(i).log"), as: UTF8.self) }.joined(separator: "\n---\n")
        let sbatchLog = String(decoding: contents(dir, "sbatch.log"), as: UTF8.self)
        try #require(
            !timedOut && sbatch.terminationStatus == 0,
            "sbatch --wait failed (status \(sbatch.terminationStatus), timed out: \(timedOut)):\n\(sbatchLog)\ntask logs:\n\(logs)")
        #expect(logs.contains("[4/4] point"), "task logs:\n\(logs)")

        let merge = try tessera(["sweep", "merge", "batch/shards/1", "batch/shards/2", "batch/shards/3", "-o", "batch"], in: dir)
        try #require(merge.status == 0, "\(merge.stderr)")
        for f in ["results.csv", "results.json", "pareto.csv"] {
            #expect(!contents(dir, "single/\(f)").isEmpty)
            #expect(contents(dir, "single/\(f)") == contents(dir, "batch/\(f)"), "\(f) from Slurm differs from the single run")
        }
    }
}
