// Speed benchmarks (`make bench`): the whole pipeline (load, elaborate, map, simulate, report) per
// case, timed over repeated runs; the figure is the median wall time. Kept out of `make test`.
import Foundation
import TesseraOutput

struct Case {
    var hardware: String
    var workload: String
}

let cases: [Case] = ["os", "ws", "is"].flatMap { df in
    [
        Case(hardware: "configs/array/scalesim-32x32-\(df).yaml", workload: "traces/resnet50-b1.yaml"),
        Case(hardware: "configs/array/tpu-128x128-\(df).yaml", workload: "traces/resnet50-b1.yaml"),
    ]
} + [Case(hardware: "configs/array/ideal-32x32-os.yaml", workload: "traces/gemm-512.yaml")]

let budgetMs = 50.0
let repetitions = Int(ProcessInfo.processInfo.environment["TESSERA_BENCH_REPS"] ?? "") ?? 21
var failed = false

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }

print("case                                                        median ms   min ms   cycles      events")
for c in cases {
    var samples: [Double] = []
    var cycles: UInt64 = 0
    var events: UInt64 = 0
    for _ in 0..<repetitions {
        let t0 = now()
        do {
            let out = try Pipeline.load(hardwarePath: c.hardware, workloadPath: c.workload).run(recordTimeline: true)
            _ = out.report.json()
            cycles = out.report.totalCycles
            events = out.result.events
        } catch {
            print("\(c.hardware) \(c.workload): \(error)")
            exit(2)
        }
        samples.append(now() - t0)
    }
    samples.sort()
    let median = samples[samples.count / 2]
    let name = "\(c.workload.split(separator: "/").last ?? "") on \(c.hardware.split(separator: "/").last ?? "")"
    let status = median < budgetMs ? "" : "  OVER \(budgetMs) ms"
    if median >= budgetMs { failed = true }
    print(
        name.padding(toLength: 60, withPad: " ", startingAt: 0) + String(format: "%9.2f %8.2f   %-10llu  %llu", median, samples[0], cycles, events) + status)
}
if !sweepBenchmark() { failed = true }
exit(failed ? 1 : 0)
