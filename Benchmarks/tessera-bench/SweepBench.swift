// The sweep benchmark: a 200-point sweep of the dense pipeline (ResNet-18 inference on square
// arrays of 8–128 PEs a side × 8 DRAM bandwidths × OS/WS... see `sweepSpec`), run in-process with
// --jobs 1 and with every core, alternately, each into a fresh directory; medians of the whole run
// (validate, simulate, stream every report and record to disk, assemble the CSV and JSON) and their
// ratio (median of back-to-back pairs). Then peak memory before and after a 1,000-point sweep, which should not grow: results
// stream to disk.
import Foundation
import TesseraCore
import TesseraFamilies
import TesseraOutput
import TesseraStudy
import TesseraSpec

#if canImport(Glibc)
    import Glibc
#endif

private func sweepSpec(root: String, points: Int) -> String {
    // 5 × 5 × 8 = 200 points; the larger sweep multiplies the bandwidths.
    let steps = points / 25
    return """
        tessera: 1
        name: bench-\(points)
        hardware: \(root)/configs/array/scalesim-32x32-os.yaml
        workload: \(root)/traces/resnet18-b1.yaml
        axes:
          compute.array.rows: [8, 16, 32, 64, 128]
          compute.array.cols: [8, 16, 32, 64, 128]
          memory.dram.bandwidth: {from: 6.4 GB/s, to: 51.2 GB/s, steps: \(steps)}
        objectives: [total_cycles, seconds, utilization, pe_count]
        on_invalid: skip

        """
}

private func peakRSSMiB() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
}

/// Runs one whole sweep into a fresh directory; returns milliseconds.
private func timeSweep(_ spec: SweepSpec, jobs: Int, scratch: URL) throws -> Double {
    let dir = scratch.appendingPathComponent("run-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let t0 = DispatchTime.now().uptimeNanoseconds
    let runner = SweepRunner(spec: spec, outputDirectory: dir, jobs: jobs)
    try runner.prepare(fresh: false)
    try runner.record(invalid: runner.validate())
    let s = try runner.run()
    _ = try SweepResults.assemble(manifest: runner.manifest, in: runner.directory, jobs: jobs)
    let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
    guard s.ok == spec.count else { throw InputError(Diagnostic(at: nil, "only \(s.ok) of \(spec.count) points ran")) }
    return ms
}

/// Prints the sweep figures; false when the parallel run is not fast enough.
func sweepBenchmark() -> Bool {
    let root = FileManager.default.currentDirectoryPath
    let cores = ProcessInfo.processInfo.activeProcessorCount
    let reps = Int(ProcessInfo.processInfo.environment["TESSERA_BENCH_SWEEP_REPS"] ?? "") ?? 11
    do {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-bench-sweep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        func load(_ points: Int) throws -> SweepSpec {
            let file = scratch.appendingPathComponent("bench-\(points).yaml").path
            try sweepSpec(root: root, points: points).write(toFile: file, atomically: true, encoding: .utf8)
            return try SweepObjective.loader.load(path: file)
        }
        let spec = try load(200)
        _ = try timeSweep(spec, jobs: cores, scratch: scratch)  // warm-up
        var serial: [Double] = []
        var parallel: [Double] = []
        var ratios: [Double] = []
        for _ in 0..<reps {
            let one = try timeSweep(spec, jobs: 1, scratch: scratch)
            let all = try timeSweep(spec, jobs: cores, scratch: scratch)
            serial.append(one)
            parallel.append(all)
            ratios.append(all / one)
        }
        serial.sort()
        parallel.sort()
        ratios.sort()
        let (m1, mN) = (serial[reps / 2], parallel[reps / 2])
        // Each all-cores run is timed right after a --jobs 1 run, and the ratio is taken per pair, so
        // that the load of the machine, which drifts, cancels out.
        let ratio = ratios[reps / 2]
        print("")
        print("sweep: 200 points (ResNet-18 b1, 5 × 5 arrays × 8 bandwidths), \(reps) runs each, median ms (min)")
        print(String(format: "  --jobs 1          %9.1f  (%.1f)   %.2f ms/point", m1, serial[0], m1 / 200))
        print(String(format: "  --jobs %-2d (cores) %9.1f  (%.1f)   %.2f ms/point", cores, mN, parallel[0], mN / 200))
        let limit = 0.6
        let over = cores >= 2 && ratio > limit
        print(
            String(
                format: "  ratio jobs=%d / jobs=1, median of %d back-to-back pairs: %.2f (%.2f–%.2f)%@", cores, reps, ratio, ratios[0], ratios[reps - 1],
                over ? "  OVER \(limit)" : ""))

        let before = peakRSSMiB()
        let big = try load(1000)
        let t = try timeSweep(big, jobs: cores, scratch: scratch)
        let after = peakRSSMiB()
        print(String(format: "  memory: peak RSS %.1f MiB after the 200-point runs, %.1f MiB after a 1000-point run (%.1f s)", before, after, t / 1000))
        return !over
    } catch {
        print("sweep benchmark: \(error)")
        return false
    }
}
