import Foundation
import Testing
import TesseraCore
import TesseraModel
import TesseraSpec

@testable import TesseraOutput
import TesseraStudy
import TesseraFamilies
import TesseraTestSupport

private func soc(points: String, start: String? = nil, extra: String = "", dram: String = "unlimited", power: String = "") -> String {
    """
    tessera: 1
    name: soc
    kind: edge-soc
    clock: 500 MHz
    operating_points:
    \(points)
    \(start.map { "operating_point: \($0)" } ?? "")
    \(power)
    compute:
      - {name: npu, kind: systolic-array, rows: 16, cols: 16, dataflow: ws}
      - {name: vec, kind: vector-unit, lanes: 16}
    \(extra)
    memory:
      - {name: s, kind: sram, size: 1 MiB, role: shared}
      - {name: dram, kind: dram, bandwidth: \(dram)}
    """
}

private let oneGemm = """
    tessera: 1
    name: g
    precision: int8
    layers:
      - {name: fc, op: gemm, m: 256, n: 256, k: 256}
    """

private func run(_ hw: String, _ wl: String) throws -> Pipeline.Output {
    let hardware = try KindTable.hardwareLoader.parse(hw, file: "soc.yaml")
    let workload = try WorkloadLoader.parse(wl, file: "w.yaml")
    return try Pipeline(hardware: hardware, workload: workload).run()
}

private func pipeline(_ hw: String, _ wl: String) throws -> Pipeline {
    try Pipeline.load(hardwarePath: packageRoot.appendingPathComponent(hw).path, workloadPath: packageRoot.appendingPathComponent(wl).path)
}

@Suite struct EdgeSoCTests {
    /// Halving the clock at constant voltage doubles the compute time and leaves the dynamic energy
    /// unchanged.
    @Test func halvingTheFrequencyAtConstantVoltageDoublesTimeNotEnergy() throws {
        let points = "  - {frequency: 500 MHz, voltage: 0.8 V}\n  - {frequency: 250 MHz, voltage: 0.8 V}"
        let fast = try run(soc(points: points), oneGemm).report
        let slow = try run(soc(points: points, start: "250 MHz"), oneGemm).report
        #expect(slow.seconds == 2 * fast.seconds)
        #expect(abs(slow.energy.dynamicJoules - fast.energy.dynamicJoules) < 1e-15)
        #expect(slow.totalCycles == 2 * fast.totalCycles)  // counted at the first point's clock
    }

    /// Lowering the voltage scales the unit-side dynamic energy by (V/V₀)²; DRAM energy is unchanged.
    @Test func loweringTheVoltageScalesDynamicEnergyByVSquared() throws {
        let points = "  - {frequency: 500 MHz, voltage: 1.0 V}\n  - {frequency: 250 MHz, voltage: 0.5 V}"
        let full = try run(soc(points: points, dram: "8 GB/s"), oneGemm).report
        let low = try run(soc(points: points, start: "250 MHz", dram: "8 GB/s"), oneGemm).report
        func joules(_ r: Report, _ c: String) -> Double { r.energy.byComponent.first { $0.name == c }?.joules ?? 0 }
        #expect(abs(joules(low, "npu") - 0.25 * joules(full, "npu")) < 1e-12 * joules(full, "npu"))
        #expect(abs(joules(low, "dram") - joules(full, "dram")) < 1e-18)
    }

    /// Coral's published MobileNet v2 (224×224) time on the Edge TPU is 2.6 ms (Dev Board and USB
    /// Accelerator, https://coral.ai/docs/edgetpu/benchmarks); the Edge-TPU-class preset lands within 30%.
    @Test func edgeTPUPresetMatchesCoralsMobileNetV2Latency() throws {
        let r = try pipeline("configs/edge/edge-tpu.yaml", "traces/mobilenetv2-b1.yaml").run().report
        let ms = r.seconds * 1e3
        #expect(abs(ms - 2.6) / 2.6 < 0.30, "\(ms) ms")
    }

    /// A tight budget makes the governor step down: visible in the report, the schedule and the trace.
    @Test func aTightBudgetThrottles() throws {
        let p = try pipeline("configs/edge/phone-soc.yaml", "traces/resnet18-b1.yaml")
        let out = try p.run()
        #expect(out.report.operatingPoints.count > 1)
        #expect(out.report.json().contains("\"throttled\": true"))
        var free = p
        free.hardware.edge?.budget = nil
        let unthrottled = try free.run().report
        #expect(unthrottled.operatingPoints.count == 1)
        #expect(unthrottled.seconds < out.report.seconds)
        let dot = try out.views.schedule(from: nil, to: nil)
        #expect(dot.text.contains("500 MHz") && dot.text.contains("1000 MHz"))
        let trace = try out.views.chromeTrace()
        #expect(trace.contains("\"name\": \"clock\""))
        // The verdict on the budget: the average within 3 W, the windows above it counted.
        let v = try #require(out.report.budgetVerdict)
        #expect(v.budget == 3 && v.averageWithin == (out.report.energy.averageWatts <= 3))
        #expect(v.windowsOver == out.report.energy.windowWatts.filter { $0 > 3 }.count)
        #expect(out.report.json().contains("\"power_budget\""))
        #expect(out.report.table().contains("power budget 3 W: average"))
        // A budget the run cannot meet even throttled says so.
        var tight = p
        tight.hardware.edge?.budget = 0.5
        let over = try tight.run().report
        #expect(over.budgetVerdict?.averageWithin == false)
        #expect(over.table().contains("OVER BUDGET"))
        #expect(unthrottled.budgetVerdict == nil)
    }

    @Test func placementFollowsUnitsAndOverrides() throws {
        let points = "  - {frequency: 500 MHz, voltage: 0.8 V}"
        let cpu = "  - {name: cpu, kind: cpu-cluster, cores: 2, lanes: 4, clock: 1 GHz}"
        let wl = """
            tessera: 1
            name: w
            layers:
              - {name: fc1, op: gemm, m: 16, n: 64, k: 64}
              - {name: act, op: relu, elements: 1024}
              - {name: fc2, op: gemm, m: 16, n: 64, k: 64}
            """
        let auto = try run(soc(points: points, extra: cpu), wl).report.placement.map(\.unit)
        #expect(auto == ["npu", "vec", "npu"])
        let placed = try run(soc(points: points, extra: cpu + "\nplacement: {relu: cpu, fc2: cpu}"), wl).report.placement.map(\.unit)
        #expect(placed == ["npu", "cpu", "cpu"])
    }

    @Test func anOpNoUnitRunsIsALocatedError() throws {
        let hw = """
            tessera: 1
            name: soc
            kind: edge-soc
            clock: 500 MHz
            compute:
              - {name: npu, kind: systolic-array, rows: 16, cols: 16}
            memory:
              - {name: s, kind: sram, size: 1 MiB}
            """
        let wl = "tessera: 1\nname: w\nlayers:\n  - {name: fc, op: gemm, m: 4, n: 4, k: 4}\n  - {name: act, op: relu, elements: 16}\n"
        #expect {
            _ = try run(hw, wl)
        } throws: { error in
            guard let d = (error as? InputError)?.diagnostics.first else { return false }
            return d.message.contains("no unit of 'soc' runs 'relu'") && d.location?.file == "w.yaml" && d.location?.line == 5
        }
    }

    /// Energy is conserved on an edge run: components and actions each sum to the total.
    @Test func energyIsConservedOnThePresets() throws {
        for hw in ["edge-tpu", "phone-soc", "mcu-npu"] {
            let r = try pipeline("configs/edge/\(hw).yaml", "traces/kws-dscnn-b1.yaml").run().report
            let e = r.energy
            #expect(abs(e.byComponent.reduce(0) { $0 + $1.joules } - e.totalJoules) < 1e-12 * e.totalJoules, "\(hw)")
            #expect(abs(e.byAction.reduce(0) { $0 + $1.joules } - e.totalJoules) < 1e-12 * e.totalJoules, "\(hw)")
            #expect(e.staticJoules > 0 && e.peakWatts >= e.averageWatts)
        }
    }
}

/// An edge SoC whose NPU is an N:M sparse array runs pruned weights in sparse mode.
@Test func edgeSoCWithASparseNPURunsNMInference() throws {
    let hw = """
        tessera: 1
        name: soc
        kind: edge-soc
        clock: 500 MHz
        compute:
          - {name: npu, kind: nm-sparse-array, rows: 16, cols: 16, patterns: ["2:4"]}
          - {name: vec, kind: vector-unit, lanes: 16}
        memory:
          - {name: s, kind: sram, size: 1 MiB, role: shared}
          - {name: dram, kind: dram, bandwidth: unlimited}
        """
    let layers = "layers:\n  - {name: a, op: gemm, m: 64, n: 64, k: 64}\n  - {name: b, op: gemm, m: 64, n: 64, k: 64}\n  - {name: c, op: gemm, m: 64, n: 64, k: 64}\n"
    let dense = try Pipeline(
        hardware: try KindTable.hardwareLoader.parse(hw, file: "soc.yaml"), workload: try WorkloadLoader.parse("tessera: 1\nname: w\n" + layers, file: "w.yaml")
    ).run().report
    let sparse = try Pipeline(
        hardware: try KindTable.hardwareLoader.parse(hw, file: "soc.yaml"),
        workload: try WorkloadLoader.parse("tessera: 1\nname: w\n" + layers + "sparsity: {pattern: \"2:4\", dense_first_last: false}\n", file: "w.yaml")
    ).run().report
    #expect(sparse.macs * 2 == dense.macs)
    #expect(sparse.totalCycles < dense.totalCycles)
}

/// N:M training on an SoC without a mask generator: the vector unit prunes, N compares per weight.
@Test func edgeSoCGeneratesMasksOnTheVectorUnit() throws {
    let hw = """
        tessera: 1
        name: soc
        kind: edge-soc
        clock: 500 MHz
        compute:
          - {name: npu, kind: nm-sparse-array, rows: 16, cols: 16, patterns: ["2:8"]}
          - {name: vec, kind: vector-unit, lanes: 16, pipeline_depth: 0}
        memory:
          - {name: s, kind: sram, size: 1 MiB, role: shared}
          - {name: dram, kind: dram, bandwidth: unlimited}
        """
    let wl = """
        tessera: 1
        name: w
        phase: training
        precision: fp16
        layers:
          - {name: a, op: gemm, m: 8, n: 64, k: 64}
          - {name: b, op: gemm, m: 8, n: 64, k: 64}
        sparsity: {pattern: "2:8", dense_first_last: false}
        """
    let out = try Pipeline(hardware: try KindTable.hardwareLoader.parse(hw, file: "soc.yaml"), workload: try WorkloadLoader.parse(wl, file: "w.yaml")).run()
    let masks = out.plan!.ops.filter { $0.pass == .maskgen }
    #expect(!masks.isEmpty)
    for m in masks {
        #expect(m.unit == "vec")
        // 64·64 weights × N = 2 compares, on 16 lanes.
        #expect(m.computeCycles == UInt64(64 * 64 * 2 / 16))
    }
}
