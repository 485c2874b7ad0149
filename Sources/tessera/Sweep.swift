import ArgumentParser
import Foundation
import TesseraCore
import TesseraFamilies
import TesseraOutput
import TesseraStudy
import TesseraSpec

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `tessera sweep`: design-space sweeps run in parallel here, as shards on a batch engine, and merged.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a design-space sweep in parallel, emit it as a Slurm or Kubernetes job, or merge its shards.",
        discussion: """
            A sweep file names a base hardware file, a base workload and axes over their fields; every \
            point of the product of the axes (or of zipped axes) is validated, then simulated. Results \
            stream to OUTPUT/points and OUTPUT/reports, so an interrupted sweep resumes where it stopped; \
            OUTPUT/results.csv, results.json and pareto.csv are assembled in point order, and the plots \
            the sweep file lists are drawn to OUTPUT/plots. The sweep file's format is in docs/sweeps.md.

            Examples:
              tessera sweep sweeps/array-design-space.yaml
              tessera sweep sweeps/array-design-space.yaml -o out/ds --jobs 2
              tessera sweep sweeps/array-design-space.yaml --shard 2/8 -o out/ds/shards/2
              tessera sweep sweeps/array-design-space.yaml --emit slurm --shards 8 -o out/ds
              tessera sweep merge out/ds/shards/* -o out/ds
            """,
        subcommands: [SweepRun.self, SweepMergeCommand.self],
        defaultSubcommand: SweepRun.self)
}

struct SweepRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a sweep (all points, or one shard), or write the batch job that runs it.",
        discussion: """
            Exit status: 0 every point ran (invalid points skipped when the sweep file says on_invalid: skip); \
            2 bad input (the sweep file, an invalid point under on_invalid: fail, a malformed --shard); \
            70 some point failed or crashed (the others' results are kept).
            """)

    @Argument(help: "Sweep file (sweeps/*.yaml).") var spec: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Output directory (default: out/sweeps/NAME).", valueName: "dir")) var output: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Points simulated at once (default: all cores).", valueName: "n")) var jobs: Int?
    @Option(help: ArgumentHelp("Run only shard i of n (1 ≤ i ≤ n): the points whose number modulo n is i - 1.", valueName: "i/n")) var shard: String?
    @Option(help: ArgumentHelp("Write a batch job instead of running: 'slurm' (an sbatch array job) or 'k8s' (an indexed Job).", valueName: "engine"))
    var emit: String?
    @Option(parsing: .unconditional, help: ArgumentHelp("Shards of the emitted job (default: 8, or fewer when there are fewer points).", valueName: "n")) var shards: Int?
    @Option(name: .customLong("cpus-per-task"), parsing: .unconditional, help: ArgumentHelp("Cores per shard in the emitted job (each shard's --jobs).", valueName: "n"))
    var cpusPerTask: Int = 1
    @Option(help: ArgumentHelp("Slurm partition for the emitted job.", valueName: "name")) var partition: String?
    @Option(help: ArgumentHelp("Slurm time limit for each task, e.g. 01:00:00.", valueName: "limit")) var time: String?
    @Option(help: ArgumentHelp("Container image for the Kubernetes job (tessera on its PATH).", valueName: "image")) var image: String = "tessera:latest"
    @Option(name: .customLong("volume-claim"), help: ArgumentHelp("PersistentVolumeClaim holding the sweep files and results (Kubernetes).", valueName: "name"))
    var volumeClaim: String = "tessera-sweeps"
    @Flag(help: "Delete the output directory's earlier results first instead of resuming.") var fresh = false
    @Flag(name: .customLong("no-plots"), help: "Do not draw the sweep file's plots.") var noPlots = false
    @Flag(help: "Print nothing but errors.") var quiet = false
    @Option(name: .customLong("only-point"), help: .hidden) var onlyPoint: Int?
    @Flag(name: .customLong("allow-large"), help: "Run a sweep of more than 100000 points.") var allowLarge = false

    /// The most points a sweep runs without --allow-large.
    static let standardPoints = 100_000

    func run() throws {
        if onlyPoint == nil, emit == nil, ProcessInfo.processInfo.environment[Supervisor.childVariable] == nil {
            return try Supervisor.run(arguments: Array(CommandLine.arguments.dropFirst()), quiet: quiet)
        }
        let sweep: SweepSpec
        do {
            sweep = try SweepObjective.loader.load(path: spec)
        } catch {
            throw fail(error)
        }
        // Work bound (DESIGN convention 12): a sweep that large is asked for, not started by a typo.
        if sweep.count > Self.standardPoints, !allowLarge {
            throw fail(InputError(Diagnostic(
                at: sweep.axes.first?.location ?? SourceLocation(file: spec, line: 1, column: 1),
                "the sweep has \(sweep.count) points, more than the work budget of \(Self.standardPoints)",
                expected: "fewer axis values", found: "\(sweep.count) points",
                hint: "pass --allow-large to run it anyway (or split it with --shard or --emit)")))
        }
        let part: SweepShard
        do {
            part = try shard.map { s throws(InputError) in try SweepShard(parsing: s) } ?? .whole
        } catch {
            throw fail(
                InputError(
                    error.diagnostics.map { d in
                        var d = d
                        d.message = "--shard: " + d.message
                        return d
                    }))
        }
        if let jobs, jobs < 1 { throw fail(InputError(Diagnostic(at: nil, "--jobs must be at least 1, found \(jobs)"))) }
        let out = output ?? "out/sweeps/" + safeFileName(sweep.name)
        let runner = SweepRunner(spec: sweep, outputDirectory: out, shard: part, jobs: jobs ?? ProcessInfo.processInfo.activeProcessorCount)

        if let k = onlyPoint { return try runOnly(k, runner) }
        if let emit { return try write(emit: emit, sweep, runner) }

        do {
            if let m = try runner.prepare(fresh: fresh) {
                say(
                    "the axes changed: kept \(m.kept) finished point\(m.kept == 1 ? "" : "s") of the earlier run (renumbered)"
                        + (m.dropped > 0 ? ", dropped \(m.dropped) whose values are no longer on the axes" : ""))
            }
        } catch {
            throw fail(error)
        }
        let invalid = runner.validate()
        say(describe(sweep, part))
        if !invalid.isEmpty {
            if sweep.onInvalid == .fail {
                report(invalid: invalid, axes: sweep.axes.map(\.path), to: .standardError, limit: 50)
                throw fail(
                    InputError(
                        Diagnostic(
                            at: nil, "\(invalid.count) point\(invalid.count == 1 ? " is" : "s are") invalid; nothing was run",
                            hint: "fix the axis values, or write 'on_invalid: skip' in \(spec) to skip such points")))
            }
            if !quiet { report(invalid: invalid, axes: sweep.axes.map(\.path), to: .standardError, limit: 10) }
            do {
                try runner.record(invalid: invalid)
            } catch {
                throw fail(InputError(Diagnostic(at: nil, error.description)))
            }
        }

        let progress = SweepProgress(quiet: quiet, axes: sweep.axes.map(\.path), objectives: sweep.objectives.map(\.name))
        let summary: SweepRunner.Summary
        do {
            summary = try runner.run(isolate: isolation(out), willRun: FaultInjection.hook(), onEvent: progress.handle)
        } catch {
            progress.finish()
            throw fail(InputError(Diagnostic(at: nil, error.description)))
        }
        progress.finish()

        if sweep.onInvalid == .fail, summary.invalid > 0 {
            var lines: [String] = []
            for k in part.points(of: sweep.count) {
                if let r = SweepRecord.read(runner.directory.record(k)), r.status == .invalid {
                    lines.append("point \(k) (\(valuesText(sweep.axes.map(\.path), r.values))):")
                    lines += r.errors.map { "  " + $0 }
                }
            }
            FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
            throw fail(
                InputError(
                    Diagnostic(
                        at: nil, "\(summary.invalid) points could not be mapped onto their hardware",
                        hint: "write 'on_invalid: skip' in \(spec) to skip such points")))
        }
        let broken = summary.failed + summary.crashed
        let brokenText = summary.brokenPoints.isEmpty ? "" : describePoints(summary.brokenPoints)
        if part.count > 1 {
            say(
                "shard \(part): \(summary.points) points (\(summary.resumed) done before, \(summary.ok) ok, \(summary.invalid) invalid, \(broken) failed) in \(out)\n"
                    + "merge every shard's directory: tessera sweep merge DIR... -o OUTPUT")
            if !summary.brokenPoints.isEmpty {
                FileHandle.standardError.write(Data("error: \(brokenText) failed or crashed\n".utf8))
                throw ExitCode(ExitStatus.internalError)
            }
            return
        }
        let results: SweepResults.Summary
        do {
            results = try SweepResults.assemble(manifest: runner.manifest, in: runner.directory, jobs: runner.jobs)
        } catch {
            throw fail(error)
        }
        say(resultsSummary(results, directory: runner.directory, manifest: runner.manifest))
        if !noPlots, !sweep.plots.isEmpty {
            do {
                for path in try Chart.write(sweep.plots, results: runner.directory.resultsCSV, into: runner.directory.plotsDirectory) { say("wrote \(path)") }
            } catch {
                throw fail(error)
            }
        }
        if !summary.brokenPoints.isEmpty {
            FileHandle.standardError.write(
                Data("error: \(brokenText) failed or crashed; see the 'error' column of \(runner.directory.resultsCSV)\n".utf8))
            throw ExitCode(ExitStatus.internalError)
        }
    }

    /// "point 5" or "3 points (2, 5, 9)", the first 20 named.
    private func describePoints(_ points: [Int]) -> String {
        if points.count == 1 { return "point \(points[0])" }
        let named = points.prefix(20).map(String.init).joined(separator: ", ")
        return "\(points.count) points (\(named)\(points.count > 20 ? ", …" : ""))"
    }

    private func say(_ s: String) {
        if !quiet {
            print(s)
            fflush(nil)
        }
    }

    /// `--only-point K`: one point in this process (how a resumed sweep runs a point that crashed a run).
    private func runOnly(_ k: Int, _ runner: SweepRunner) throws {
        guard k >= 0, k < runner.spec.count else {
            throw fail(InputError(Diagnostic(at: nil, "no point \(k)", expected: "0 to \(runner.spec.count - 1)", found: "\(k)")))
        }
        do {
            guard let m = try SweepDirectory.readManifest(in: runner.directory.path), m.sameSweep(as: runner.manifest) else {
                throw InputError(Diagnostic(at: nil, "'\(runner.directory.path)' holds no results of this sweep"))
            }
            FaultInjection.hook()?(k)
            try runner.directory.create()
            _ = try runner.runPoint(k)
        } catch let e as InputError {
            throw fail(e)
        } catch {
            throw fail(InputError(Diagnostic(at: nil, "\(error)")))
        }
    }

    /// Runs one point in a child process; says what happened when it left no result.
    private func isolation(_ out: String) -> @Sendable (Int) -> String {
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        let spec = self.spec
        return { k in
            let p = Process()
            p.executableURL = executable
            p.arguments = ["sweep", "run", spec, "-o", out, "--only-point", String(k), "--quiet"]
            p.standardInput = FileHandle.nullDevice
            p.standardOutput = FileHandle.nullDevice
            do {
                try p.run()
            } catch {
                return "could not start '\(executable.path)' to rerun this point alone: \(error)"
            }
            p.waitUntilExit()
            if p.terminationReason == .uncaughtSignal {
                return "the simulator died (signal \(p.terminationStatus)) running this point; it was run alone after a sweep run stopped while on it"
            }
            return "rerunning this point alone ended with status \(p.terminationStatus) and no result"
        }
    }

    private func write(emit: String, _ sweep: SweepSpec, _ runner: SweepRunner) throws {
        guard emit == "slurm" || emit == "k8s" || emit == "kubernetes" else {
            throw fail(InputError(Diagnostic(at: nil, "unknown batch engine for --emit", expected: "'slurm' or 'k8s'", found: "'\(emit)'")))
        }
        if let shards, shards < 1 { throw fail(InputError(Diagnostic(at: nil, "--shards must be at least 1, found \(shards)"))) }
        if cpusPerTask < 1 {
            throw fail(InputError(Diagnostic(at: nil, "--cpus-per-task must be at least 1, found \(cpusPerTask)")))
        }
        if shard != nil {
            throw fail(
                InputError(Diagnostic(at: nil, "--emit writes a job for every shard", expected: "--shards N, not --shard", found: "--shard \(shard ?? "")")))
        }
        let invalid = SweepRunner(spec: sweep, outputDirectory: runner.directory.path, jobs: 1).validate()
        if !invalid.isEmpty, sweep.onInvalid == .fail {
            report(invalid: invalid, axes: sweep.axes.map(\.path), to: .standardError, limit: 50)
            throw fail(
                InputError(
                    Diagnostic(at: nil, "\(invalid.count) points are invalid; no job was written", hint: "write 'on_invalid: skip' in \(spec) to skip them")))
        }
        let n = min(shards ?? 8, max(1, sweep.count))
        let cwd = FileManager.default.currentDirectoryPath
        let binary = (Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])).standardizedFileURL.resolvingSymlinksInPath().path
        let job = SweepBatchJob(
            sweep: sweep.name, points: sweep.count, spec: spec, output: runner.directory.path, workingDirectory: cwd, tessera: binary, shards: n,
            cpusPerTask: cpusPerTask)
        let isSlurm = emit == "slurm"
        let file = runner.directory.file(isSlurm ? SweepBatchJob.slurmFile : SweepBatchJob.kubernetesFile)
        do {
            try FileManager.default.createDirectory(atPath: isSlurm ? job.logsDirectory : runner.directory.path, withIntermediateDirectories: true)
            try AtomicFile.write(isSlurm ? job.slurm(partition: partition, time: time) : job.kubernetes(image: image, claim: volumeClaim), to: file)
            if isSlurm { try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file) }
        } catch {
            throw fail(InputError(Diagnostic(at: nil, "cannot write '\(file)': \(error)")))
        }
        say("sweep '\(sweep.name)': \(sweep.count) points in \(n) shards\(invalid.isEmpty ? "" : " (\(invalid.count) invalid, to be skipped)")")
        say("wrote \(file)")
        if isSlurm {
            say("submit: sbatch \(file)\nmerge:  tessera sweep merge \(job.shardsDirectory)/* -o \(runner.directory.path)")
        } else {
            say("apply:  kubectl apply -f \(file)\nmerge:  tessera sweep merge \(job.shardsDirectory)/* -o \(runner.directory.path)   (on the volume)")
        }
    }

    private func describe(_ s: SweepSpec, _ part: SweepShard) -> String {
        let sizes = s.dimensions.map { d in
            d.count == 1 ? "\(s.axes[d[0]].values.count)" : "\(s.axes[d[0]].values.count) (zip: " + d.map { s.axes[$0].path }.joined(separator: " + ") + ")"
        }
        var text = "sweep '\(s.name)': \(s.count) points = " + sizes.joined(separator: " × ")
        if part.count > 1 { text += "; shard \(part): \(Array(part.points(of: s.count)).count) points" }
        return text
    }

    private func report(invalid: [SweepRunner.InvalidPoint], axes: [String], to handle: FileHandle, limit: Int) {
        var lines: [String] = []
        for p in invalid.prefix(limit) {
            lines.append("point \(p.point) (\(valuesText(axes, p.values))) is invalid:")
            lines += p.error.diagnostics.map { "  " + $0.description }
        }
        if invalid.count > limit { lines.append("… and \(invalid.count - limit) more invalid points") }
        handle.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    private func resultsSummary(_ r: SweepResults.Summary, directory: SweepDirectory, manifest: SweepManifest) -> String {
        var s = "\(r.points) points: \(r.ok) ok"
        if r.invalid > 0 { s += ", \(r.invalid) invalid" }
        if r.failed > 0 { s += ", \(r.failed) failed" }
        if r.crashed > 0 { s += ", \(r.crashed) crashed" }
        s += "; \(r.front.count) on the Pareto front of " + manifest.pareto.joined(separator: ", ") + "\n"
        s += "wrote \(directory.resultsCSV), \(directory.resultsJSON), \(directory.paretoCSV)\n"
        // The front, as a table.
        let head = ["point"] + manifest.axes.map(\.path) + manifest.objectives.map(\.name)
        var rows = [head]
        for k in r.front.prefix(20) {
            guard let rec = SweepRecord.read(directory.record(k)) else { continue }
            rows.append([String(k)] + rec.values + rec.objectives.map { $0.map { formatDecimal($0, maxDecimals: 6) } ?? "" })
        }
        let widths = head.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        s += "Pareto front:\n"
        for row in rows {
            s += "  " + row.enumerated().map { i, v in String(repeating: " ", count: widths[i] - v.count) + v }.joined(separator: "  ") + "\n"
        }
        if r.front.count > 20 { s += "  … \(r.front.count - 20) more in \(directory.paretoCSV)\n" }
        s.removeLast()
        return s
    }
}

struct SweepMergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the output directories of a sweep's shards into the results a single run gives.",
        discussion: """
            Every directory must hold results of the same sweep (the same digest in its sweep.json), and \
            together they must cover every point. The merged directory gets every record and report and \
            the same results.csv, results.json and pareto.csv, byte for byte, as 'tessera sweep' run on \
            one machine. To draw the sweep file's plots, run 'tessera sweep SPEC -o OUTPUT' afterwards \
            (every point is done, so it only assembles and draws), or use 'tessera plot'.

            Example:
              tessera sweep merge out/ds/shards/* -o out/ds
            """)

    @Argument(help: "Shard output directories.") var directories: [String]
    @Option(name: .shortAndLong, help: ArgumentHelp("Directory to merge into.", valueName: "dir")) var output: String
    @Flag(help: "Print nothing but errors.") var quiet = false

    func validate() throws {
        if directories.isEmpty { throw ValidationError("give the shard directories to merge") }
    }

    func run() throws {
        let summary: SweepResults.Summary
        do {
            summary = try SweepMerge.merge(directories, into: output)
        } catch {
            throw fail(error)
        }
        if !quiet {
            print(
                "merged \(directories.count) director\(directories.count == 1 ? "y" : "ies"): \(summary.points) points, \(summary.ok) ok, \(summary.front.count) on the Pareto front"
            )
            print("wrote \(output)/results.csv, \(output)/results.json, \(output)/pareto.csv")
        }
        if summary.failed + summary.crashed > 0 { throw ExitCode(ExitStatus.internalError) }
    }
}

private func valuesText(_ axes: [String], _ values: [String]) -> String {
    zip(axes, values).map { "\($0)=\($1)" }.joined(separator: ", ")
}

func safeFileName(_ s: String) -> String {
    String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
}

/// Progress of a running sweep on standard error: a bar redrawn in place on a terminal, one line per
/// finished point otherwise (batch logs).
final class SweepProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let quiet: Bool
    private let terminal: Bool
    private let axes: [String]
    private let objectives: [String]
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var todo = 0
    private var ran = 0
    private var bad = 0
    private var drawn = false

    init(quiet: Bool, axes: [String], objectives: [String]) {
        self.quiet = quiet
        self.terminal = isatty(STDERR_FILENO) != 0
        self.axes = axes
        self.objectives = objectives
    }

    func handle(_ event: SweepRunner.Event) {
        guard !quiet else { return }
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .started(let todo, let done, let total):
            self.todo = todo
            if done > 0 { emit("resuming: \(done) of \(total) points already done\n") }
            if todo == 0 { emit("every point is done\n") }
        case .finished(let r, let done, let total):
            ran += 1
            if r.status != .ok { bad += 1 }
            if terminal {
                let now = Date()
                if now.timeIntervalSince(lastDraw) >= 0.1 || ran == todo {
                    lastDraw = now
                    drawBar(done: done, total: total)
                }
            } else {
                let width = String(total).count
                let d = String(done)
                var line =
                    "[\(String(repeating: " ", count: width - d.count))\(d)/\(total)] point \(r.point) \(r.status.rawValue): \(valuesText(axes, r.values))"
                if r.status == .ok, let first = objectives.first, let v = r.objectives.first ?? nil {
                    line += " → \(first) \(formatDecimal(v, maxDecimals: 6))"
                }
                if let e = r.errors.first { line += " — " + e }
                emit(line + "\n")
            }
        }
    }

    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if terminal, drawn { emit("\n") }
    }

    private func drawBar(done: Int, total: Int) {
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let elapsed = Date().timeIntervalSince(start)
        var eta = ""
        if ran > 0, todo > ran {
            let left = elapsed / Double(ran) * Double(todo - ran)
            eta = ", about \(formatDecimal(left, maxDecimals: 0)) s left"
        }
        let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
        emit("\r[\(bar)] \(done)/\(total)\(bad > 0 ? " (\(bad) not ok)" : "")  \(formatDecimal(elapsed, maxDecimals: 1)) s\(eta)\u{1B}[K")
        drawn = true
    }

    private func emit(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}

/// A test aid: `TESSERA_SWEEP_FAULT=crash:3,7` makes the process abort when it is about to run
/// point 3 or 7, to exercise what a resumed sweep does with a point that kills the simulator.
enum FaultInjection {
    static func hook() -> (@Sendable (Int) -> Void)? {
        guard let spec = ProcessInfo.processInfo.environment["TESSERA_SWEEP_FAULT"], spec.hasPrefix("crash:") else { return nil }
        let points = Set(spec.dropFirst("crash:".count).split(separator: ",").compactMap { Int($0) })
        return { k in if points.contains(k) { abort() } }
    }
}

/// Runs a sweep in a child process and starts it again when a point kills it, so that a point
/// that traps costs only itself: the resumed child runs the points the dead one had started alone
/// (each in its own process, `--only-point`) and records them as crashed, then goes on with the
/// rest. The child's exit status is the sweep's.
enum Supervisor {
    static let childVariable = "TESSERA_SWEEP_CHILD"

    static func run(arguments: [String], quiet: Bool) throws {
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        var args = arguments
        var environment = ProcessInfo.processInfo.environment
        environment[childVariable] = "1"
        // Each restart finishes at least the points the dead run had started, so the loop ends; the
        // bound only guards against a child that dies before it starts any point.
        for attempt in 0..<1_000 {
            let p = Process()
            p.executableURL = executable
            p.arguments = args
            p.environment = environment
            do {
                try p.run()
            } catch {
                throw failInternal("could not start '\(executable.path)' to run the sweep: \(error)")
            }
            p.waitUntilExit()
            guard p.terminationReason == .uncaughtSignal else { throw ExitCode(p.terminationStatus) }
            if attempt > 0, attempt % 50 == 0, !quiet {
                FileHandle.standardError.write(Data("sweep: \(attempt) restarts so far\n".utf8))
            }
            if !quiet {
                FileHandle.standardError.write(
                    Data("sweep: the simulator died (signal \(p.terminationStatus)) during a point; resuming, with the points it was running isolated\n".utf8))
            }
            // Resuming must keep what the dead run wrote.
            args.removeAll { $0 == "--fresh" }
        }
        throw failInternal("the sweep kept dying before it ran any point")
    }
}
