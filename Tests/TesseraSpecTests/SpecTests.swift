import Foundation
import Testing

@testable import TesseraSpec

@Test(arguments: [
    ("200 MHz", QuantityDimension.frequency, 200e6), ("1 GHz", .frequency, 1e9), ("512 KiB", .size, 524_288), ("1 MiB", .size, 1_048_576),
    ("2 MB", .size, 2e6), ("19.2 GB/s", .bandwidth, 19.2e9), ("400 Gb/s", .bandwidth, 50e9), ("100 ns", .time, 100e-9),
    ("5 us", .time, 5e-6), ("0.9 pJ", .energy, 0.9e-12), ("4.5 W", .power, 4.5), ("64 B/cycle", .bytesPerCycle, 64),
    ("1e3 B", .size, 1000),
])
func quantitiesParseIntoBaseUnits(text: String, dimension: QuantityDimension, expected: Double) throws {
    let v = try QuantityParser.parse(text, as: dimension).get()
    #expect(abs(v - expected) <= 1e-12 * expected)
}

@Test func quantityFailuresSayWhy() {
    #expect(QuantityParser.parse("12", as: .size) == .failure(.missingUnit))
    #expect(QuantityParser.parse("abc", as: .size) == .failure(.notANumber))
    #expect(QuantityParser.parse("3 GHz", as: .bandwidth) == .failure(.unknownUnit("GHz", otherDimension: .frequency)))
    #expect(QuantityParser.parse("3 parsecs", as: .size) == .failure(.unknownUnit("parsecs", otherDimension: nil)))
}

@Test func workloadWithLayersParses() throws {
    let w = try WorkloadLoader.parse(
        """
        tessera: 1
        name: t
        batch: 4
        precision: fp16
        layers:
          - {name: c, op: conv2d, input: [8, 8, 3], kernel: [3, 3], filters: 4, padding: 1}
          - {name: g, op: gemm, m: 2, n: 3, k: 5}
          - {name: p, op: maxpool, input: [8, 8, 4], kernel: [2, 2], stride: 2}
          - {name: a, op: add, elements: 64}
        """, file: "t.yaml")
    #expect(w.batch == 4)
    #expect(w.precision == .fp16)
    #expect(w.layers.map(\.name) == ["c", "g", "p", "a"])
    guard case .conv2d(let c) = w.layers[0].op else { Issue.record("not a conv"); return }
    #expect(c.outputH == 8 && c.outputW == 8 && c.macs == 8 * 8 * 4 * 27)
    #expect(w.layers[1].location?.line == 7)
}

@Test func zooModelLoadsByName() throws {
    let w = try WorkloadLoader.parse("tessera: 1\nname: r\nmodel: resnet50\nbatch: 2\n", file: "r.yaml")
    #expect(w.model == "resnet50")
    #expect(w.layers.count > 50)
}

@Test func extendsMergesMappingsAndNamedLists() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tessera-extends-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try """
    tessera: 1
    name: base
    kind: array
    clock: 1 GHz
    compute:
      - {name: pe, kind: systolic-array, rows: 8, cols: 8}
    memory:
      - {name: dram, kind: dram, bandwidth: 10 GB/s}
    """.write(to: dir.appendingPathComponent("base.yaml"), atomically: true, encoding: .utf8)
    try """
    tessera: 1
    extends: base.yaml
    name: child
    compute:
      - {name: pe, cols: 16}
    """.write(to: dir.appendingPathComponent("child.yaml"), atomically: true, encoding: .utf8)
    let node = try SpecFile.load(path: dir.appendingPathComponent("child.yaml").path)
    #expect(node["name"]?.scalar == "child")
    #expect(node["clock"]?.scalar == "1 GHz")
    let pe = node["compute"]?.items?.first
    #expect(pe?["rows"]?.scalar == "8")
    #expect(pe?["cols"]?.scalar == "16")
    #expect(pe?["cols"]?.location.file.hasSuffix("child.yaml") == true)
    #expect(pe?["rows"]?.location.file.hasSuffix("base.yaml") == true)
}
