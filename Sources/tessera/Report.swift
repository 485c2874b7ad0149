import ArgumentParser
import Foundation
import TesseraCore
import TesseraModel
import TesseraSpec
import TesseraOutput
import TesseraStudy

/// `tessera report`: one self-contained HTML page from a JSON report, with the schedule and
/// hardware pictures when the files of the run are given.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a self-contained HTML page for a JSON report (summary, pictures, power, energy, tables, latency).",
        discussion: """
            The page loads nothing from anywhere: styles, the table-sorting script and the pictures are \
            inside it. Everything but the pictures comes from the JSON report. The pictures need the run: \
            give --hardware for the hardware picture, and --hardware with --workload to simulate the run \
            again for its schedule (refused when the files give a different run than the report). \
            `tessera simulate --format html` writes the same page, pictures included, in one step.

            Examples:
              tessera report out/resnet50-b1--scalesim-32x32-os.json -o resnet50.html
              tessera report out/llama3-8b-tp2-dp4--dgx-h100-x1.json -o step.html \\
                             --hardware configs/gpu/dgx-h100-x1.yaml --workload traces/llama3-8b-train-8.yaml
            """)

    @Argument(help: "A JSON report written by tessera simulate.") var json: String
    @Option(name: .shortAndLong, help: ArgumentHelp("The HTML file to write.", valueName: "file")) var output: String
    @Option(help: ArgumentHelp("The run's hardware file: adds the hardware picture.", valueName: "file")) var hardware: String?
    @Option(help: ArgumentHelp("The run's workload file (with --hardware): simulates again for the schedule picture.", valueName: "file"))
    var workload: String?
    @Flag(help: "Overwrite the file even if Tessera did not write it.") var force = false
    @Flag(help: "Print nothing but errors.") var quiet = false

    func validate() throws {
        if workload != nil, hardware == nil { throw ValidationError("--workload needs --hardware (the schedule is simulated from both files)") }
    }

    func run() throws {
        // The figures compare reads, with its located checks (a file that is not a Tessera report,
        // a newer schema), then the whole report in its own order for the page.
        let figures = try exitingOnError { try ReportFigures.load(path: json, role: "JSON") }
        guard let data = FileManager.default.contents(atPath: json) else {
            throw fail(InputError(Diagnostic(at: nil, "cannot read report '\(json)'")))
        }
        var pictures: [HTMLReport.Picture] = []
        var notes: [String] = []
        if let hardware {
            let hw = BundledFiles.resolve(hardware)
            if let workload {
                let wl = BundledFiles.resolve(workload)
                let (pipeline, out) = try exitingOnError { () throws -> (Pipeline, Pipeline.Output) in
                    let p = try Pipeline.load(hardwarePath: hw, workloadPath: wl)
                    return (p, try p.run())
                }
                let again = out.report
                guard again.hardware == figures.hardware, again.workload == figures.workload,
                    figures.figures[.seconds].map({ $0 == again.seconds }) ?? true
                else {
                    throw fail(
                        InputError(
                            Diagnostic(
                                at: SourceLocation(file: wl, line: 1, column: 1), "these files give a different run than the report",
                                expected: "'\(figures.workload)' on '\(figures.hardware)' taking \(figures.figures[.seconds].map { "\($0) s" } ?? "the report's time")",
                                found: "'\(again.workload)' on '\(again.hardware)' taking \(again.seconds) s",
                                hint: "give the files the report was simulated from, or leave out --workload")))
                }
                (pictures, notes) = RunPage.pictures(of: out, pipeline: pipeline)
            } else {
                let pipelineHardware: HardwareSpec
                do {
                    pipelineHardware = try KindTable.hardwareLoader.load(path: hw)
                } catch {
                    throw fail(InputError(error.diagnostics))
                }
                if let p = RunPage.hardwarePicture(pipelineHardware) { pictures.append(p) }
                notes.append("the schedule needs the run: pass --workload with --hardware, or use tessera simulate --format html")
            }
        } else {
            notes.append("pictures need the run's files: tessera report \(json) -o \(output) --hardware HW.yaml --workload WL.yaml")
        }
        let page = try exitingOnError {
            try RunPage.html(json: String(decoding: data, as: UTF8.self), path: json, pictures: pictures, notes: notes, generator: "tessera \(Tessera.version)")
        }
        try writeOutputFile(Array(page.utf8), to: output, force: force)
        if !quiet { print("wrote \(output)") }
    }
}
