import TesseraCore
import TesseraModel
import Testing

@testable import TesseraSpec

/// Numbers from users are bounded where they are read (DESIGN convention 11): each extreme value a
/// hostile input can hold is a located "out of range" error that states the range, never a value
/// that reaches a trap later.
@Suite struct InputLimitsTests {
    static let extremes = ["9223372036854775808", "9223372036854775807", "18446744073709551615", "4294967297", "1e30", ".nan", ".inf", "-1"]

    private func hardware(rows: String = "32", size: String = "64 KiB", bandwidth: String = "10 GB/s", clock: String = "1 GHz", latency: String = "100 ns") -> String {
        """
        tessera: 1
        name: t
        kind: array
        clock: \(clock)
        compute:
          - {name: a, kind: systolic-array, rows: \(rows), cols: 32, dataflow: os}
        memory:
          - {name: s, kind: sram, size: \(size), read: 64 B/cycle, write: 64 B/cycle}
          - {name: d, kind: dram, bandwidth: \(bandwidth), latency: \(latency)}
        """
    }

    private func hardwareError(_ text: String) -> InputError? {
        do {
            _ = try KindTable.hardwareLoader.parse(text, file: "hw.yaml")
            return nil
        } catch { return error }
    }

    private func workloadError(_ text: String) -> InputError? {
        do {
            _ = try WorkloadLoader.parse(text, file: "wl.yaml")
            return nil
        } catch { return error }
    }

    @Test(arguments: extremes) func anExtremeIntegerIsOutOfRangeWhereItIsWritten(_ value: String) throws {
        let e = try #require(hardwareError(hardware(rows: value)))
        #expect(e.diagnostics.count == 1)
        #expect(e.diagnostics.first?.location == SourceLocation(file: "hw.yaml", line: 6, column: 43))
        let text = e.description
        #expect(text.contains("'rows'"), "\(text)")
        #expect(text.contains("out of range (expected an integer from 1 to 65536") || text.contains("must be an integer"), "\(text)")
    }

    @Test(arguments: ["9223372036854775808 MiB", "1e30 B", "2 PiB", "1e20 GB"]) func aHugeSizeIsOutOfRange(_ value: String) throws {
        let e = try #require(hardwareError(hardware(size: value)))
        #expect(e.description.contains("hw.yaml:8:"), "\(e.description)")
        #expect(e.description.contains("out of range") || e.description.contains("unknown unit"), "\(e.description)")
    }

    @Test func bandwidthsClocksAndLatenciesHaveRanges() throws {
        let slow = try #require(hardwareError(hardware(bandwidth: "1 B/s")))
        #expect(slow.description.contains("out of range (expected a bandwidth such as '19.2 GB/s'") || slow.description.contains("from 1 KB/s to 10 PB/s"))
        for clock in ["0.001 Hz", "1000000000000000 GHz"] {
            let e = try #require(hardwareError(hardware(clock: clock)))
            #expect(e.description.contains("from 1 kHz to 100 GHz"), "\(e.description)")
        }
        let late = try #require(hardwareError(hardware(latency: "9223372036854775808 ns")))
        #expect(late.description.contains("from 1 ps to 100000 s"), "\(late.description)")
        #expect(hardwareError(hardware(bandwidth: "1 KB/s", clock: "1 kHz", latency: "0 ns")) == nil)
    }

    @Test func aZooModelWithAHugeSequenceIsRefusedNotTrapped() throws {
        let e = try #require(workloadError("tessera: 1\nname: w\nmodel: bert-base\nsequence: 9223372036854775807\n"))
        #expect(e.description.contains("wl.yaml:4:11: error: 'sequence' is out of range"), "\(e.description)")
    }

    @Test func aLayerWhoseProductsOverflowIsRefusedAtTheLayer() throws {
        let wl = """
            tessera: 1
            name: w
            batch: 1048576
            layers:
              - {name: big, op: gemm, m: 1048576, n: 1048576, k: 1048576}
            """
        let e = try #require(workloadError(wl))
        #expect(e.description.contains("wl.yaml:5:5: error: layer 'big' is too large to simulate"), "\(e.description)")
        #expect(e.description.contains("'batch' is at wl.yaml:3:8"), "\(e.description)")
    }

    @Test func aConvPaddingAtTheLimitIsRefusedNotTrapped() throws {
        let wl = """
            tessera: 1
            name: w
            layers:
              - {name: c, op: conv2d, input: [8, 8, 3], kernel: [3, 3], filters: 4, padding: 9223372036854775807}
            """
        let e = try #require(workloadError(wl))
        #expect(e.description.contains("wl.yaml:4:"), "\(e.description)")
        #expect(e.description.contains("out of range"), "\(e.description)")
    }

    @Test func tensOfThousandsOfUnknownKeysAreSummarised() throws {
        let keys = (0..<20_000).map { "stray_\($0): 1" }.joined(separator: "\n")
        let e = try #require(workloadError("tessera: 1\nname: w\nlayers:\n  - {name: g, op: gemm, m: 8, n: 8, k: 8}\n" + keys + "\n"))
        #expect(e.diagnostics.count == 101)
        #expect(e.description.contains("19900 more unknown keys in a workload file (the first 100 are listed)"), "\(e.diagnostics.last?.description ?? "")")
    }

    @Test func saturatingConversionsNeverTrap() {
        #expect(Saturating.uint64(.nan) == 0)
        #expect(Saturating.uint64(-.infinity) == 0)
        #expect(Saturating.uint64(.infinity) == .max)
        #expect(Saturating.uint64(1e30) == .max)
        #expect(Saturating.uint64(2.2) == 3)
        #expect(Saturating.uint64Rounded(2.2) == 2)
        #expect(Saturating.int(1e300) == .max)
        #expect(Saturating.int(-1e300) == .min)
        #expect(Saturating.add(.max, 1) == .max)
        #expect(Saturating.multiply(1 << 40, 1 << 40) == .max)
        #expect(Duration(seconds: 1e30).picoseconds == .max)
        #expect(Frequency(hertz: 1e-30).periodPicoseconds == .max)
    }
}
