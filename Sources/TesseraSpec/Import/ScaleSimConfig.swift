import Foundation
import TesseraCore

/// A SCALE-Sim `.cfg` (its INI format: `[general] run_name`, `[architecture_presets]` with
/// `ArrayHeight`, `ArrayWidth`, `IfmapSramSzkB`, `FilterSramSzkB`, `OfmapSramSzkB`, `Dataflow`,
/// `Bandwidth`, and `[run_presets] InterfaceBandwidth`) as the text of an `array` hardware file,
/// for `tessera import scalesim-config`.
///
/// What carries over, and what is assumed (written as comments into the file):
/// - the array's rows × columns and dataflow (os / ws / is): these set the compute cycles, which
///   then equal SCALE-Sim's layer by layer;
/// - the three SRAMs, sized in KiB as `…SramSzkB` gives (SCALE-Sim counts one-byte words);
/// - DRAM: `InterfaceBandwidth: CALC` (SCALE-Sim sizes the interface so that nothing stalls)
///   becomes `unlimited`; `USER` becomes `Bandwidth` words per cycle at the 1 GHz clock assumed
///   here (SCALE-Sim counts cycles and has no clock), one byte a word;
/// - SRAM ports are sized to never limit (2 × max(rows, cols) bytes a cycle): SCALE-Sim does not
///   model them. Offsets, memory banks and the other run presets have no counterpart and are
///   listed as ignored.
public enum ScaleSimConfig {
    /// The hardware YAML for `text`, read from `file`; located errors for a missing or bad key.
    public static func hardwareYAML(_ text: String, file: String) throws(InputError) -> String {
        var bag = DiagnosticBag()
        var sections: [String: [String: (value: String, line: Int)]] = [:]
        var section = ""
        for (k, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                section = line.dropFirst().dropLast().trimmingCharacters(in: .whitespaces).lowercased()
                continue
            }
            guard let sep = line.firstIndex(where: { $0 == ":" || $0 == "=" }) else {
                bag.error(SourceLocation(file: file, line: k + 1, column: 1), "not a SCALE-Sim config line", expected: "'Key: value' or 'key = value' under a [section]", found: "'\(line.prefix(60))'")
                continue
            }
            let key = line[..<sep].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: sep)...].trimmingCharacters(in: .whitespaces)
            sections[section, default: [:]][key] = (value, k + 1)
        }
        let arch = sections["architecture_presets"] ?? [:]
        if sections["architecture_presets"] == nil {
            bag.error(SourceLocation(file: file, line: 1, column: 1), "no [architecture_presets] section", expected: "a SCALE-Sim .cfg with [architecture_presets]", found: "sections \(sections.keys.sorted().map { "[\($0)]" }.joined(separator: ", "))")
            throw InputError(bag.diagnostics)
        }
        func int(_ key: String, max: Int = InputLimits.count) -> Int? {
            guard let (value, line) = arch[key.lowercased()] else {
                bag.error(SourceLocation(file: file, line: 1, column: 1), "[architecture_presets] has no '\(key)'", expected: "'\(key): <integer>'", found: "no '\(key)'")
                return nil
            }
            guard let v = Int(value), v >= 1, v <= max else {
                bag.error(SourceLocation(file: file, line: line, column: 1), "'\(key)' must be a whole number from 1 to \(max)", expected: "an integer", found: "'\(value)'")
                return nil
            }
            return v
        }
        let rows = int("ArrayHeight", max: 65536), cols = int("ArrayWidth", max: 65536)
        let ifmap = int("IfmapSramSzkB"), filter = int("FilterSramSzkB"), ofmap = int("OfmapSramSzkB")
        var dataflow: String?
        if let (value, line) = arch["dataflow"] {
            switch value.lowercased() {
            case "os": dataflow = "output-stationary"
            case "ws": dataflow = "weight-stationary"
            case "is": dataflow = "input-stationary"
            default:
                bag.error(SourceLocation(file: file, line: line, column: 1), "unknown 'Dataflow'", expected: "os, ws or is", found: "'\(value)'")
            }
        } else {
            bag.error(SourceLocation(file: file, line: 1, column: 1), "[architecture_presets] has no 'Dataflow'", expected: "'Dataflow: os', 'ws' or 'is'", found: "no 'Dataflow'")
        }
        let mode = (sections["run_presets"]?["interfacebandwidth"]?.value ?? "CALC").uppercased()
        var dram = "unlimited"
        var dramNote = "InterfaceBandwidth: CALC (SCALE-Sim sizes the interface so that nothing stalls)"
        if mode == "USER" {
            if let words = int("Bandwidth", max: 1 << 30) {
                dram = "\(words) GB/s"
                dramNote = "InterfaceBandwidth: USER, Bandwidth: \(words) words/cycle = \(words) GB/s at the assumed 1 GHz, one byte a word"
            }
        } else if mode != "CALC" {
            bag.error(
                SourceLocation(file: file, line: sections["run_presets"]?["interfacebandwidth"]?.line ?? 1, column: 1), "unknown 'InterfaceBandwidth'",
                expected: "CALC or USER", found: "'\(mode)'")
        }
        try bag.throwIfErrors()
        guard let rows, let cols, let ifmap, let filter, let ofmap, let dataflow else { throw InputError(bag.diagnostics) }
        let rawName = sections["general"]?["run_name"]?.value ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let name = String(rawName.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "-" }.prefix(120))
        let port = 2 * max(rows, cols)
        let known: Set<String> = ["arrayheight", "arraywidth", "ifmapsramszkb", "filtersramszkb", "ofmapsramszkb", "dataflow", "bandwidth"]
        let ignored = arch.keys.filter { !known.contains($0) }.sorted() + (sections["run_presets"] ?? [:]).keys.filter { $0 != "interfacebandwidth" }.sorted()
        var y = "# Imported from the SCALE-Sim config \(URL(fileURLWithPath: file).lastPathComponent) by `tessera import scalesim-config`.\n"
        y += "# Compute cycles equal SCALE-Sim's layer by layer (same array, same dataflow). Assumed here:\n"
        y += "# a 1 GHz clock (SCALE-Sim counts cycles only), one-byte words, SRAM ports that never limit.\n"
        y += "# DRAM: \(dramNote).\n"
        if !ignored.isEmpty { y += "# Ignored (no counterpart): \(ignored.joined(separator: ", ")).\n" }
        y += "tessera: 1\nname: \(name.isEmpty ? "scalesim" : name)\nkind: array\nclock: 1 GHz\ncompute:\n"
        y += "  - {name: array, kind: systolic-array, rows: \(rows), cols: \(cols), dataflow: \(dataflow)}\nmemory:\n"
        y += "  - {name: ifmap_sram, kind: sram, size: \(ifmap) KiB, read: \(port) B/cycle, write: \(port) B/cycle, role: ifmap}\n"
        y += "  - {name: filter_sram, kind: sram, size: \(filter) KiB, read: \(port) B/cycle, write: \(port) B/cycle, role: filter}\n"
        y += "  - {name: ofmap_sram, kind: sram, size: \(ofmap) KiB, read: \(port) B/cycle, write: \(port) B/cycle, role: ofmap}\n"
        y += "  - {name: dram, kind: dram, bandwidth: \(dram)}\n"
        return y
    }
}
