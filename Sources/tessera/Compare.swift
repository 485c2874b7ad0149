import ArgumentParser
import Foundation
import TesseraCore
import TesseraFamilies
import TesseraOutput
import TesseraStudy

/// `tessera compare BASELINE CURRENT`: the CI gate. Prints a Markdown table; exits 0 when every
/// figure is within tolerance, 1 on a regression (or a changed layer set, or an improvement under
/// --strict), 2 on bad input.
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compare a JSON report against a baseline and fail when a figure regressed.",
        discussion: """
            Compares every figure both reports have, by name: total_cycles, seconds, utilization, \
            stall_cycles, compute_cycles, dram_read_bytes, dram_write_bytes, energy_j, average_power_w, \
            peak_power_w; a training step's mfu, tokens_per_second, compute_s, exposed_comm_s and idle_s; a serving \
            run's ttft_p50_s, ttft_p90_s, ttft_p99_s, tpot_p50_s, tpot_p90_s, tpot_p99_s, slo_attainment \
            and goodput_rps; and each layer's total_cycles, compute_cycles and stall_cycles (layers matched \
            by name; a cluster's collective sizes, pipeline stages and serving instances count as layers). \
            Cycles, time, stalls, bytes, energy, power and latencies regress when they grow; utilization, \
            MFU, throughput, SLO attainment and goodput when they shrink. A change counts when it is larger \
            than the tolerance, relative to the baseline. With --designs the two reports may come from \
            different hardware (an A/B of two candidate designs on one workload): it prints the deltas and \
            exits 0, unless --gate makes it fail like a comparison against a baseline.

            Exit status: 0 every figure within tolerance (improvements are reported), or an A/B of designs \
            without --gate; 1 a regression, layers \
            added or removed (a different workload shape), or with --strict an improvement beyond tolerance; \
            2 bad input (a file missing, not JSON or not a Tessera report; reports of different workloads or \
            schema versions, or of different hardware without --designs; a bad --tolerance).

            Examples:
              tessera compare reports/small-cnn--scalesim-32x32-os.json \\
                              out/small-cnn--scalesim-32x32-os.json
              tessera compare a.json b.json --tolerance 2% --tolerance total_cycles=0.5%
              tessera compare a.json b.json --tolerance 0% --strict --junit compare.xml
              tessera compare out/resnet50-b1--tpu-128x128-os.json out/resnet50-b1--tpu-128x128-ws.json --designs
              tessera compare a-design.json b-design.json --designs --gate --tolerance energy_j=5%
            """)

    @Argument(help: "The baseline JSON report (e.g. one under reports/).") var baseline: String
    @Argument(help: "The current JSON report to check against it.") var current: String
    @Option(
        help: ArgumentHelp(
            "Allowed relative change: PERCENT for every metric (default 1%), or METRIC=PERCENT for one (repeatable).",
            valueName: "tolerance")) var tolerance: [String] = []
    @Flag(help: "Fail on improvements beyond tolerance too (the baseline should be re-recorded).") var strict = false
    @Flag(help: "Allow reports of different hardware: an A/B of two candidate designs on one workload; prints the deltas and exits 0 unless --gate.")
    var designs = false
    @Flag(help: "With --designs: exit 1 when the current design is worse beyond tolerance, as against a baseline.") var gate = false
    @Option(help: ArgumentHelp("Also write the result as JUnit XML to this file.", valueName: "file")) var junit: String?
    @Flag(help: "Overwrite the JUnit file even if Tessera did not write it.") var force = false

    func run() throws {
        if gate, !designs { throw fail(InputError(Diagnostic(at: nil, "--gate applies to an A/B of designs", expected: "--designs with --gate", found: "--gate alone (a comparison with a baseline always gates)"))) }
        if let junit {
            do { try OutputGuard.check([junit], force: force) } catch { throw fail(error) }
        }
        var result: CompareReport
        do {
            let tolerances = try CompareTolerance.parse(tolerance)
            result = try ReportComparison.compare(baselinePath: baseline, currentPath: current, tolerance: tolerances, strict: strict, designs: designs)
            result.gates = !designs || gate
        } catch {
            throw fail(error)
        }
        print(result.markdown(), terminator: "")
        if let junit {
            do {
                try OutputGuard.write(result.junit(), to: junit)
            } catch {
                throw fail(InputError(Diagnostic(at: nil, error.description)))
            }
        }
        if result.gates, !result.passed { throw ExitCode(1) }
    }
}
