import ArgumentParser
import TesseraOutput

/// `tessera reference cli|schema` (not listed in help): the generated references under
/// `docs/reference/`, printed as Markdown from the code itself — every command's help as the
/// argument parser writes it at a fixed width, and the `tessera kinds` listing. `make docs`
/// writes them; a test fails when the files differ.
struct Reference: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a generated reference (cli or schema) as Markdown.", shouldDisplay: false)

    @Argument(help: "cli or schema.") var which: String

    func validate() throws {
        guard ["cli", "schema"].contains(which) else { throw ValidationError("expected 'cli' or 'schema', found '\(which)'") }
    }

    func run() throws {
        print(which == "cli" ? Self.cli() : KindsListing.markdown(), terminator: "")
    }

    /// Every command reachable from `tessera`, depth first in the order help lists them.
    static func commands(_ command: ParsableCommand.Type = Tessera.self, path: [String] = []) -> [(path: [String], type: ParsableCommand.Type)] {
        let config = command.configuration
        guard config.shouldDisplay else { return [] }
        let name = config.commandName ?? String(describing: command).lowercased()
        let here = path + [name]
        return [(here, command)] + config.subcommands.flatMap { commands($0, path: here) }
    }

    static func cli() -> String {
        let all = commands()
        var s = "# CLI reference\n\nGenerated from the code by `make docs` (`tessera reference cli`): each command's `--help`, as "
        s += "`tessera` prints it. A test fails when this file is stale.\n\n"
        for (path, _) in all { s += "- [`\(path.joined(separator: " "))`](#\(path.joined(separator: "-")))\n" }
        for (path, type) in all {
            s += "\n## \(path.joined(separator: " "))\n\n```\n"
            var help = Tessera.helpMessage(for: type, columns: 100)
            while help.hasSuffix("\n") { help.removeLast() }
            s += help + "\n```\n"
        }
        return s
    }
}
