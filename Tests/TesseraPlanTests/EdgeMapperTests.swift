import Testing
import TesseraCore
import TesseraGraph
import TesseraModel
import TesseraSpec

@testable import TesseraPlan

/// The edge-SoC mapper on its own: placement by rule and by override, the CPU as the fallback,
/// an offline schedule that lists every operation once in dependency order, the power plan, and
/// located errors for a placement that names nothing.
@Suite struct EdgeMapperTests {
    static func soc(npu: Bool = true, extra: String = "") -> String {
        """
        tessera: 1
        name: soc
        kind: edge-soc
        clock: 500 MHz
        operating_points:
          - {frequency: 500 MHz, voltage: 0.8 V}
          - {frequency: 250 MHz, voltage: 0.6 V}
        power: {static: 0.1 W, budget: 2 W}
        compute:
        \(npu ? "  - {name: npu, kind: systolic-array, rows: 16, cols: 16, dataflow: ws}" : "")
          - {name: vec, kind: vector-unit, lanes: 16}
          - {name: cpu, kind: cpu-cluster, cores: 2, lanes: 4, clock: 1 GHz}
        memory:
          - {name: s, kind: sram, size: 1 MiB, role: shared}
          - {name: dram, kind: dram, bandwidth: 8 GB/s}
        \(extra)
        """
    }

    static let mlp = """
        tessera: 1
        name: w
        layers:
          - {name: fc1, op: gemm, m: 16, n: 64, k: 64}
          - {name: act, op: relu, elements: 1024}
          - {name: fc2, op: gemm, m: 16, n: 64, k: 64}
        """

    static func plan(_ hw: String, _ wl: String = mlp) throws -> Plan {
        let h = HardwareModel(try KindTable.hardwareLoader.parse(hw, file: "soc.yaml"))
        let w = try WorkloadLoader.parse(wl, file: "w.yaml")
        return try EdgeMapper.plan(graph: TrainingElaborator.elaborate(w), hardware: h, workload: w)
    }

    @Test func productsGoToTheNPUAndTheRestToTheVectorUnit() throws {
        let p = try Self.plan(Self.soc())
        #expect(p.ops.map(\.unit) == ["npu", "vec", "npu"])
        let placed = try Self.plan(Self.soc(extra: "placement: {relu: cpu, fc2: cpu}"))
        #expect(placed.ops.map(\.unit) == ["npu", "cpu", "cpu"])
    }

    @Test func withoutAnNPUProductsFallBackToTheCPU() throws {
        let p = try Self.plan(Self.soc(npu: false))
        #expect(p.ops.map(\.unit) == ["cpu", "vec", "cpu"])
    }

    /// The offline schedule lists every operation exactly once, on the stream of its unit, and no
    /// operation is estimated to start before the ones it depends on (the chain fc1 → act → fc2).
    @Test func theScheduleListsEveryOperationOnceInOrder() throws {
        let p = try Self.plan(Self.soc())
        let schedule = try #require(p.schedule)
        let listed = schedule.streams.flatMap(\.ops).sorted()
        #expect(listed == Array(p.ops.indices))
        for stream in schedule.streams { #expect(stream.ops.allSatisfy { p.ops[$0].unit == stream.unit }) }
        #expect(schedule.estimatedStart.count == p.ops.count)
        #expect(zip(schedule.estimatedStart, schedule.estimatedStart.dropFirst()).allSatisfy { $0 <= $1 })
        let power = try #require(schedule.power)
        #expect(power.points.count == 2 && power.budgetWatts == 2)
    }

    @Test func aPlacementThatNamesNothingIsALocatedError() throws {
        #expect {
            _ = try Self.plan(Self.soc(extra: "placement: {rleu: cpu}"))
        } throws: { error in
            let text = (error as? InputError)?.description ?? ""
            return text.contains("soc.yaml:") && text.contains("did you mean 'relu'")
        }
    }

    /// With a host link, weights stay on chip in layer order while they fit the on-chip memory's
    /// size; the rest stream over the link (int8: fc1 and fc2 hold 4 KiB each).
    @Test func weightsBeyondTheOnChipSizeStreamOverTheHostLink() throws {
        func hw(size: String) -> String {
            Self.soc().replacingOccurrences(of: "{name: dram, kind: dram, bandwidth: 8 GB/s}", with: "{name: dram, kind: dram, bandwidth: 8 GB/s\(size)}\n  - {name: usb, kind: host-link, bandwidth: 400 MB/s}")
        }
        let three = Self.mlp + "\n  - {name: fc3, op: gemm, m: 16, n: 64, k: 64}\n"
        let p = try Self.plan(hw(size: ", size: 10 KiB"), three)
        #expect(p.ops.filter(\.weightsFromHost).map(\.name) == ["fc3"])
        let h = try #require(p.hostLink)
        #expect(h.residentBytes == 8192 && h.streamedBytes == 4096 && h.residentOps == 2 && h.streamedOps == 1 && h.capacityBytes == 10240)
        // A streamed operation reads its weights from the link, its activations from on-chip memory.
        let fc3 = try #require(p.ops.first { $0.name == "fc3" })
        #expect(fc3.memoryRead == fc3.dramReadA && fc3.dramReadB == 4096)
        // Without a size everything stays on chip; without a host link there is no placement.
        #expect(try Self.plan(hw(size: ""), three).ops.allSatisfy { !$0.weightsFromHost })
        #expect(try Self.plan(Self.soc(), three).hostLink == nil)
    }

    /// A host link is an edge SoC's, and one of them: elsewhere, or a second one, is a located error.
    @Test func aHostLinkBelongsToAnEdgeSoCAndThereIsOne() throws {
        let two = Self.soc().replacingOccurrences(
            of: "{name: dram, kind: dram, bandwidth: 8 GB/s}", with: "{name: dram, kind: dram, bandwidth: 8 GB/s}\n  - {name: usb, kind: host-link, bandwidth: 400 MB/s}\n  - {name: pcie, kind: host-link, bandwidth: 500 MB/s}")
        let e = #expect(throws: InputError.self) { try KindTable.hardwareLoader.parse(two, file: "soc.yaml") }
        #expect(e?.diagnostics.map(\.message) == ["an edge SoC has one host link"])
        let array = """
            tessera: 1
            name: a
            kind: array
            clock: 1 GHz
            compute:
              - {name: pe, kind: systolic-array, rows: 8, cols: 8, dataflow: os}
            memory:
              - {name: s, kind: sram, size: 64 KiB, role: shared}
              - {name: usb, kind: host-link, bandwidth: 400 MB/s}
            """
        let f = #expect(throws: InputError.self) { try KindTable.hardwareLoader.parse(array, file: "a.yaml") }
        #expect(f?.diagnostics.first?.message == "a 'host-link' streams weights on an 'edge-soc' only" && f?.diagnostics.first?.location?.line == 9)
    }
}
