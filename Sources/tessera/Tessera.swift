import ArgumentParser
import Foundation
import TesseraCore
import TesseraModel
import TesseraFamilies
import TesseraOutput
import TesseraStudy
import TesseraSim
import TesseraSpec

/// Exit statuses: 0 ok, 1 a comparison or regression failed, 2 bad input or usage, 70 internal error.
enum ExitStatus {
    static let badInput: Int32 = 2
    static let internalError: Int32 = 70
}

@main
struct Tessera: ParsableCommand {
    static let version = "0.1.0"
    static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "Cycle-level simulation of hardware accelerators described in YAML.",
        discussion: """
            Examples:
              tessera simulate --compare-dense                   # the bundled demo: SAT, ResNet-18, BDWP 2:8
              tessera simulate configs/array/scalesim-32x32-os.yaml traces/resnet50-b1.yaml -o out
              tessera ablate configs/sat/vcu1525.yaml traces/resnet50-train-b16.yaml
              tessera validate configs/array/*.yaml traces/*.yaml
              tessera kinds
            """,
        version: version,
        subcommands: [Simulate.self, Ablate.self, Validate.self, Kinds.self, Compare.self, Render.self, ReportCommand.self, Sweep.self, Plot.self, Import.self, Reference.self]
    )

    /// Runs the command line, mapping argument-parser's usage errors (its status 64) to 2, the
    /// status of bad input or usage; every other status (and help, `--version`) passes through.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            guard exitCode(for: error) == .validationFailure else { exit(withError: error) }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            exit(withError: ExitCode(ExitStatus.badInput))
        }
    }
}

/// Prints every diagnostic on standard error and exits with status 2.
func fail(_ error: InputError) -> ExitCode {
    FileHandle.standardError.write(Data((error.description + "\n").utf8))
    return ExitCode(ExitStatus.badInput)
}

func failInternal(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data(("internal error: " + message + "\n").utf8))
    return ExitCode(ExitStatus.internalError)
}

/// Runs `body`: an `InputError` becomes its diagnostics and exit status 2, an exit status passes
/// through, anything else is an internal error.
func exitingOnError<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as InputError {
        throw fail(e)
    } catch let e as ExitCode {
        throw e
    } catch {
        throw failInternal("\(error)")
    }
}

enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
    case json, csv, md, html, all
}

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a workload on a hardware description and write reports.",
        discussion: """
            With no files, simulates the bundled default (\(Defaults.hardwarePath) with \(Defaults.workloadPath)).
            Reports are named WORKLOAD--HARDWARE.{json,csv,md,html}. An existing file is replaced only when
            Tessera wrote it (listed, with its content hash, in the folder's .tessera-written) or with
            --force; every target, --trace included, is checked before the first is written.

            Examples:
              tessera simulate --compare-dense
              tessera simulate configs/array/scalesim-32x32-os.yaml traces/resnet50-b1.yaml -o out --format json
              tessera simulate configs/sat/vcu1525.yaml traces/vgg16-train-b16.yaml --no-pregeneration
            """)

    @Argument(help: "Hardware YAML file.") var hardware: String?
    @Argument(help: "Workload YAML file.") var workload: String?
    @Option(name: .shortAndLong, help: "Directory to write reports into.") var output: String = "out"
    @Option(help: "Report formats to write: json, csv, md, html (one self-contained page with the pictures; not part of all) or all (json, csv and md).")
    var format: ReportFormat = .all
    @Flag(help: "Overwrite existing files that Tessera did not write (or that changed since it wrote them).") var force = false
    @Flag(help: "Print nothing but errors.") var quiet = false
    @Flag(help: "Exit 1 when a budget the files set is missed: an edge SoC's power budget (the average over it) or a serving SLO attainment target (slo.attainment).")
    var strict = false
    @Option(help: ArgumentHelp("Also write the timeline as Chrome trace-event JSON (open it in Perfetto).", valueName: "file")) var trace: String?
    @Flag(help: "Also run every layer dense and report the speedup over it (sparse training accelerators).") var compareDense = false
    @Flag(name: .customLong("allow-large"), help: "Run even when the estimated work exceeds the budget (10⁹ array folds, 5·10⁶ messages, 4·10⁶ training-step tasks or 3·10⁶ serving events).")
    var allowLarge = false
    @OptionGroup var optimizationFlags: OptimizationFlags

    func validate() throws {
        if (hardware == nil) != (workload == nil) {
            throw ValidationError("give both a hardware file and a workload file, or neither for the bundled default")
        }
    }

    func run() throws {
        let hw: String, wl: String
        switch (hardware, workload) {
        case (nil, nil): (hw, wl) = (BundledFiles.resolve(Defaults.hardwarePath), BundledFiles.resolve(Defaults.workloadPath))
        case (.some(let h), .some(let w)): (hw, wl) = (BundledFiles.resolve(h), BundledFiles.resolve(w))
        default: throw ValidationError("give both a hardware file and a workload file, or neither for the bundled default")
        }
        let out: Pipeline.Output
        let ran: Pipeline
        var dense: Report?
        do {
            var pipeline = try Pipeline.load(hardwarePath: hw, workloadPath: wl)
            if allowLarge { pipeline.workBudget = .unlimited }
            let onTerminal = !quiet && isatty(STDERR_FILENO) != 0
            if onTerminal {
                pipeline.workBudget.notice = { FileHandle.standardError.write(Data("note: \($0)\n".utf8)) }
                TerminalProgress.start()
            }
            defer { if onTerminal { TerminalProgress.stop() } }
            try optimizationFlags.apply(to: &pipeline)
            out = try pipeline.run()
            ran = pipeline
            if compareDense { dense = try pipeline.dense.run(recordTimeline: false).report }
        } catch let e as InputError {
            throw fail(e)
        } catch {
            throw failInternal("\(error)")
        }
        var report = out.report
        if compareDense {
            guard report.training != nil else {
                throw fail(
                    InputError(
                        Diagnostic(
                            at: SourceLocation(file: hw, line: 1, column: 1), "--compare-dense needs hardware that trains with N:M weights",
                            expected: "kind \(FamilyTable.kinds(offering: .compareDense)) with a training workload", found: "kind '\(report.family)'")))
            }
            report.denseTotalCycles = dense?.totalCycles
        }
        let base = "\(safeName(report.workload))--\(safeName(report.hardware))"
        var files: [(String, Data)] = []
        if format == .json || format == .all { files.append(("\(base).json", Data(report.jsonBytes()))) }
        if format == .csv || format == .all { files.append(("\(base).csv", Data(report.csv().utf8))) }
        if format == .md || format == .all { files.append(("\(base).md", Data(report.markdown().utf8))) }
        if format == .html {
            let (pictures, notes) = RunPage.pictures(of: out, pipeline: ran)
            let page = try exitingOnError {
                try RunPage.html(json: report.json(), path: "\(base).json", pictures: pictures, notes: notes, generator: "tessera \(Tessera.version)")
            }
            files.append(("\(base).html", Data(page.utf8)))
        }
        // Every target, the trace included, is checked before the first is written.
        let paths = files.map { (output as NSString).appendingPathComponent($0.0) }
        do {
            try OutputGuard.check(paths + (trace.map { [$0] } ?? []), force: force)
        } catch {
            throw fail(error)
        }
        do {
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        } catch {
            throw fail(InputError(Diagnostic(at: nil, "cannot create output directory '\(output)': \(error.localizedDescription)")))
        }
        for (path, (_, text)) in zip(paths, files) {
            do {
                try OutputGuard.write(text, to: path)
            } catch {
                throw fail(InputError(Diagnostic(at: nil, error.description)))
            }
        }
        if !quiet {
            if let dense { print(SideBySide.text(sparse: report, dense: dense), terminator: "") }
            print(report.table(), terminator: "")
            for (name, _) in files { print("wrote \((output as NSString).appendingPathComponent(name))") }
        }
        if let trace {
            let json = try exitingOnError { try out.views.chromeTrace() }
            do {
                try OutputGuard.write(json, to: trace)
            } catch {
                throw fail(InputError(Diagnostic(at: nil, error.description)))
            }
            if !quiet { print("wrote \(trace)") }
        }
        if strict, !report.missedBudgets.isEmpty {
            for m in report.missedBudgets { FileHandle.standardError.write(Data("--strict: \(m)\n".utf8)) }
            throw ExitCode(1)
        }
    }

    private func safeName(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check hardware, workload and sweep files and report every problem.",
        discussion: """
            A file is read as hardware when it has a top-level 'kind', as a sweep when it has 'axes',
            otherwise as a workload. Given exactly a hardware file and a workload file, the pair is
            checked as 'simulate' checks it before simulating (the same code: pair rules, mapping or
            planning, size bounds), so 'ok' means simulate will run it. A sweep's points are checked
            the same way, up to \(Validate.sweepPointLimit) of them (it says how many).
            Exits with status 2 if any file has a problem.

            Examples:
              tessera validate configs/array/scalesim-32x32-os.yaml traces/resnet50-b1.yaml
              tessera validate configs/array/*.yaml traces/*.yaml
              tessera validate sweeps/array-design-space.yaml
            """)

    /// The most sweep points one `validate` checks.
    static let sweepPointLimit = 1_000

    @Argument(help: "Files to check.") var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one file to check") }
    }

    func run() throws {
        var diagnostics: [Diagnostic] = []
        var hardware: [(String, HardwareSpec)] = [], workloads: [(String, WorkloadSpec)] = []
        for given in files {
            let file = BundledFiles.resolve(given)
            do {
                let node = try SpecFile.load(path: file)
                if SpecFile.isHardware(node) {
                    hardware.append((file, try KindTable.hardwareLoader.load(path: file)))
                } else if node["axes"] != nil {
                    let sweep = try SweepObjective.loader.load(path: file)
                    let runner = SweepRunner(spec: sweep, outputDirectory: ".", jobs: ProcessInfo.processInfo.activeProcessorCount)
                    let (checked, invalid) = runner.check(limit: Self.sweepPointLimit)
                    if invalid.isEmpty {
                        print("\(file): ok (\(checked == sweep.count ? "all \(checked)" : "the first \(checked) of \(sweep.count)") points checked)")
                    } else if sweep.onInvalid == .skip {
                        print("\(file): ok (\(checked) points checked; \(invalid.count) invalid, which the sweep skips: on_invalid: skip)")
                    } else {
                        for p in invalid {
                            diagnostics += p.error.diagnostics.map { d in
                                var d = d
                                d.message = "point \(p.point) (\(p.values.joined(separator: ", "))): " + d.message
                                return d
                            }
                        }
                    }
                    continue
                } else {
                    workloads.append((file, try WorkloadLoader.load(path: file)))
                }
                if files.count != 2 { print("\(file): ok") }
            } catch {
                diagnostics += error.diagnostics
            }
        }
        // A hardware file and a workload file: the pair, as simulate checks it.
        if files.count == 2, hardware.count == 1, workloads.count == 1, diagnostics.isEmpty {
            do {
                try Pipeline(hardware: hardware[0].1, workload: workloads[0].1).check()
                print("\(hardware[0].0) + \(workloads[0].0): ok")
            } catch let e as InputError {
                diagnostics += e.diagnostics
            } catch {
                throw failInternal("\(error)")
            }
        } else if files.count == 2, diagnostics.isEmpty {
            for (file, _) in hardware { print("\(file): ok") }
            for (file, _) in workloads { print("\(file): ok") }
        }
        if !diagnostics.isEmpty { throw fail(InputError(diagnostics)) }
    }
}

struct Kinds: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every hardware and component kind with its parameters, units and defaults.",
        discussion: "Example:\n  tessera kinds")

    func run() throws {
        print(KindsListing.text(), terminator: "")
    }
}

/// A one-line progress display on standard error for long simulations: event count and simulated
/// time, rewritten in place, cleared when the run ends.
enum TerminalProgress {
    static func start() {
        SimulationProgress.setHandler { events, now in
            let text = "\rsimulating: \(formatDecimal(Double(events) / 1e6, maxDecimals: 1)) M events, \(formatDecimal(Double(now) / 1e12, maxDecimals: 6)) s simulated"
            FileHandle.standardError.write(Data(text.utf8))
        }
    }
    static func stop() {
        SimulationProgress.setHandler(nil)
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}

/// The bundled demo: the SAT preset training ResNet-18 (batch 16) with BDWP 2:8.
enum Defaults {
    static let hardwarePath = "configs/sat/vcu1525.yaml"
    static let workloadPath = "traces/resnet18-train-b16.yaml"
}
