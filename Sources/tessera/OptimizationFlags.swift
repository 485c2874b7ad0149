import ArgumentParser
import TesseraCore
import TesseraFamilies
import TesseraOutput
import TesseraStudy
import TesseraSpec

/// The flags that turn off a sparse training accelerator's dataflow optimizations.
struct OptimizationFlags: ParsableArguments {
    @Flag(help: "Turn interleave mapping off (sparse training accelerators).") var noInterleave = false
    @Flag(help: "Turn pre-generation of N:M weights off: masks are generated on demand.") var noPregeneration = false
    @Flag(help: "Turn offline scheduling off: online greedy in-order dispatch.") var noOfflineSchedule = false

    var any: Bool { noInterleave || noPregeneration || noOfflineSchedule }

    /// Applies the flags; they are an input error on hardware without these optimizations.
    func apply(to pipeline: inout Pipeline) throws(InputError) {
        guard any else { return }
        guard try pipeline.family().capabilities.contains(.optimizationFlags) else {
            throw InputError(
                Diagnostic(
                    at: SourceLocation(file: pipeline.hardware.file, line: 1, column: 1),
                    "--no-interleave, --no-pregeneration and --no-offline-schedule apply only to \(FamilyTable.kinds(offering: .optimizationFlags))",
                    found: "kind '\(pipeline.hardware.kind)'"))
        }
        if noInterleave { pipeline.hardware.optimizations.interleave = false }
        if noPregeneration { pipeline.hardware.optimizations.pregeneration = false }
        if noOfflineSchedule { pipeline.hardware.optimizations.offlineSchedule = false }
    }
}
