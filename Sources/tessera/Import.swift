import ArgumentParser
import Foundation
import TesseraCore
import TesseraModel
import TesseraSpec

/// `tessera import`: other tools' files as Tessera's.
struct Import: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Turn another tool's files into Tessera's.",
        discussion: """
            A SCALE-Sim topology CSV needs no import: name it in a workload as \
            'layers: {scalesim_csv: net.csv}'.
            """,
        subcommands: [ImportScaleSimConfig.self])
}

struct ImportScaleSimConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scalesim-config",
        abstract: "Write an 'array' hardware file from a SCALE-Sim .cfg (the same array and dataflow: the same compute cycles).")

    @Argument(help: "The SCALE-Sim config (.cfg).") var config: String
    @Option(name: .shortAndLong, help: "The hardware file to write (.yaml).") var output: String
    @Flag(help: "Overwrite the file even if Tessera did not write it.") var force = false

    func run() throws {
        let yaml = try exitingOnError { () throws -> String in
            guard let data = FileManager.default.contents(atPath: config), let text = String(data: data, encoding: .utf8) else {
                throw InputError(Diagnostic(at: nil, "cannot read '\(config)'", expected: "a readable SCALE-Sim .cfg file"))
            }
            let yaml = try ScaleSimConfig.hardwareYAML(text, file: config)
            // What is written must load: checked with the hardware loader before it is.
            _ = try KindTable.hardwareLoader.parse(yaml, file: output)
            return yaml
        }
        try writeOutputFile(Array(yaml.utf8), to: output, force: force)
        print("wrote \(output)")
    }
}
