import ArgumentParser
import Foundation
import TesseraCore
import TesseraFamilies
import TesseraOutput
import TesseraStudy

/// `tessera ablate HW WL`: the run with each dataflow optimization removed in turn.
struct Ablate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a sparse training run with each dataflow optimization removed in turn.",
        discussion: """
            Runs the workload with all of interleave mapping, pre-generation and offline scheduling on, \
            with each turned off in turn, with all off, and dense with all on, and prints a Markdown table \
            of total cycles and the cost of each removal. Needs a 'sparse-training-array' hardware.

            Example:
              tessera ablate configs/sat/vcu1525.yaml traces/resnet18-train-b16.yaml
            """)

    @Argument(help: "Hardware YAML file (kind: sparse-training-array).") var hardware: String
    @Argument(help: "Workload YAML file.") var workload: String
    @Option(name: .shortAndLong, help: ArgumentHelp("Also write the table to this file.", valueName: "file")) var output: String?
    @Flag(help: "Overwrite the file even if Tessera did not write it.") var force = false

    func run() throws {
        if let output {
            do { try OutputGuard.check([output], force: force) } catch { throw fail(error) }
        }
        let table: String
        do {
            let pipeline = try Pipeline.load(hardwarePath: BundledFiles.resolve(hardware), workloadPath: BundledFiles.resolve(workload))
            guard try pipeline.family().capabilities.contains(.ablate) else {
                let kinds = FamilyTable.kinds(offering: .ablate)
                throw InputError(
                    Diagnostic(
                        at: SourceLocation(file: hardware, line: 1, column: 1), "ablate needs \(kinds) hardware",
                        expected: "kind: \(kinds.replacingOccurrences(of: "'", with: ""))", found: "kind '\(pipeline.hardware.kind)'"))
            }
            table = try Ablation.run(pipeline).markdown()
        } catch let e as InputError {
            throw fail(e)
        } catch {
            throw failInternal("\(error)")
        }
        print(table, terminator: "")
        if let output {
            do { try OutputGuard.write(table, to: output) } catch { throw fail(InputError(Diagnostic(at: nil, error.description))) }
        }
    }
}
