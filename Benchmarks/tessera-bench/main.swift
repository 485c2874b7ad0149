// Speed benchmarks (`make bench`): the whole pipeline (load, elaborate, map, simulate, report) per
// case, timed over repeated runs; the figure is the median wall time. Kept out of `make test`.
import Foundation
import TesseraFamilies
import TesseraGraph
import TesseraOutput
import TesseraSpec
import TesseraStudy

struct Case {
    var hardware: String
    var workload: String
    /// The median must stay under this many milliseconds.
    var budgetMs: Double = 50
    /// Runs to time (the default, or fewer for cases that take seconds).
    var repetitions: Int? = nil
    /// Lift the work budget (what `--allow-large` does), for cases larger than it on purpose.
    var allowLarge = false
}

let cases: [Case] = ["os", "ws", "is"].flatMap { df in
    [
        Case(hardware: "configs/array/scalesim-32x32-\(df).yaml", workload: "traces/resnet50-b1.yaml"),
        Case(hardware: "configs/array/tpu-128x128-\(df).yaml", workload: "traces/resnet50-b1.yaml"),
    ]
} + [Case(hardware: "configs/array/ideal-32x32-os.yaml", workload: "traces/gemm-512.yaml")]
    // MobileNetV2 inference on the phone preset: the budget is 20 ms.
    + [Case(hardware: "configs/edge/phone-soc.yaml", workload: "traces/mobilenetv2-b1.yaml", budgetMs: 20)]
    // A full training step on the SAT preset, every optimization on: the issue's budget is 0.5 s.
    + ["resnet18", "resnet50", "vgg16", "deit-small"].map {
        Case(hardware: "configs/sat/vcu1525.yaml", workload: "traces/\($0)-train-b16.yaml", budgetMs: 500)
    }
    // A 4096-rank ring all-reduce of 1 GiB on the link simulator: the issue's budget is 2 s.
    + [Case(hardware: "Benchmarks/cluster/ring-4096.yaml", workload: "Benchmarks/cluster/ar-1gib.yaml", budgetMs: 2000)]
    // A GPT-3 175B training step on 1,024 GPUs (tp 8 × pp 8 × dp 16): the issue's budget is 10 s;
    // and the same layout from 64 to 4,096 GPUs (weak scaling: 96 microbatches per replica).
    + [Case(hardware: "configs/gpu/dgx-h100-x128.yaml", workload: "traces/gpt3-175b-train-1024.yaml", budgetMs: 10_000, repetitions: 5)]
    + [(8, 1), (32, 4), (512, 64)].map { nodes, dp in
        Case(hardware: "Benchmarks/cluster/dgx-h100-x\(nodes).yaml", workload: "Benchmarks/cluster/gpt3-dp\(dp).yaml", budgetMs: 10_000, repetitions: 5)
    }

let repetitions = Int(ProcessInfo.processInfo.environment["TESSERA_BENCH_REPS"] ?? "") ?? 21
var failed = false

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }

/// The largest cluster the schema takes, 131,072 GPUs (tp 8 × pp 8 × dp 2048): budget 3 s. It runs
/// after the sweep benchmark, whose peak-RSS figure would otherwise be this case's.
/// And a million serving requests (Llama 3 8B, two colocated tp-2 instances, 128 output tokens
/// each): budget 5 s; over the default work budget, so run as with --allow-large.
let lastCases = [
    Case(hardware: "Benchmarks/cluster/dgx-h100-x16384.yaml", workload: "Benchmarks/cluster/gpt3-dp2048.yaml", budgetMs: 3_000, repetitions: 3),
    Case(hardware: "configs/gpu/dgx-h100-x1.yaml", workload: "Benchmarks/cluster/serving-1m.yaml", budgetMs: 5_000, repetitions: 3, allowLarge: true),
]

print("case                                                        median ms   min ms   cycles      events")
/// `TESSERA_BENCH_FILTER=text` runs only the cases whose workload or hardware path contains it
/// (and skips the sweep benchmark), for profiling one case.
let filter = ProcessInfo.processInfo.environment["TESSERA_BENCH_FILTER"].flatMap { $0.isEmpty ? nil : $0 }
/// Times `body` `runs` times; prints the median and minimum against `budgetMs` with `detail`
/// (what the last run returned), and marks the run failed when the median is over budget.
@MainActor func timed(_ name: String, runs: Int, budgetMs: Double, _ body: () throws -> String) {
    var samples: [Double] = []
    var detail = ""
    for _ in 0..<runs {
        let t0 = now()
        do {
            detail = try body()
        } catch {
            print("\(name): \(error)")
            exit(2)
        }
        samples.append(now() - t0)
    }
    samples.sort()
    let median = samples[samples.count / 2]
    if median >= budgetMs { failed = true }
    print(
        name.padding(toLength: 60, withPad: " ", startingAt: 0) + String(format: "%9.2f %8.2f   ", median, samples[0]) + detail
            + (median < budgetMs ? "" : "  OVER \(budgetMs) ms"))
}

@MainActor func runCases(_ cases: [Case]) {
    for c in cases where filter.map({ c.workload.contains($0) || c.hardware.contains($0) }) ?? true {
        let name = "\(c.workload.split(separator: "/").last ?? "") on \(c.hardware.split(separator: "/").last ?? "")"
        timed(name, runs: min(repetitions, c.repetitions ?? repetitions), budgetMs: c.budgetMs) {
            var pipeline = try Pipeline.load(hardwarePath: c.hardware, workloadPath: c.workload)
            if c.allowLarge { pipeline.workBudget = .unlimited }
            let out = try pipeline.run(recordTimeline: true)
            _ = out.report.jsonBytes()  // what `tessera simulate` writes
            return String(format: "%-10llu  %llu", out.report.totalCycles, out.report.events)
        }
    }
}

/// Importing and elaborating a 552-node ONNX graph (load, parse, shape inference, layers, the
/// dataflow graph): budget 50 ms.
@MainActor func onnxImportBenchmark() {
    let path = "Benchmarks/onnx/bert-encoder-s128.yaml"
    guard filter.map({ path.contains($0) }) ?? true else { return }
    timed("import bert-encoder.onnx (552 nodes) + elaborate", runs: repetitions, budgetMs: 50) {
        "\(Elaborator.elaborate(try WorkloadLoader.load(path: path)).operations.count) operations"
    }
}

runCases(cases)
onnxImportBenchmark()
if filter == nil, !sweepBenchmark() { failed = true }
runCases(lastCases)
exit(failed ? 1 : 0)
