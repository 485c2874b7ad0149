import Testing
import TesseraCore

@testable import TesseraSpec

/// `collective.sizes` as a list or as nccl-tests' range (`-b 8 -e 8G -f 2`).
@Suite struct CollectiveSizesTests {
    static func sizes(_ text: String) throws -> [UInt64] {
        try #require(try WorkloadLoader.parse("tessera: 1\nname: c\ncollective: {op: all-reduce, algorithm: ring, sizes: \(text)}\n", file: "c.yaml").collective).sizes
    }

    @Test func aRangeDoublesFromTheFirstSizeToTheLast() throws {
        let s = try Self.sizes("{from: 8 B, to: 8 GiB, factor: 2}")
        #expect(s.count == 31 && s.first == 8 && s.last == 8 << 30)
        #expect(zip(s, s.dropFirst()).allSatisfy { $1 == 2 * $0 })
        #expect(try Self.sizes("{from: 1 MiB, to: 100 MiB, factor: 4}") == [1 << 20, 4 << 20, 16 << 20, 64 << 20])
        #expect(try Self.sizes("[1 MiB, 1 GiB]") == [1 << 20, 1 << 30])
    }

    @Test func badRangesAreLocated() throws {
        for (text, message) in [
            ("{from: 8 GiB, to: 8 B, factor: 2}", "the size range runs backwards"), ("{from: 8 B, to: 8 GiB, factor: 1}", "out of range"),
            ("{from: 1 B, to: 1 PB, factor: 1.5}", "'sizes.factor'"), ("{from: 8 B, to: 8 GiB}", "missing the key 'factor'"),
        ] {
            let e = #expect(throws: InputError.self, "\(text)") { try Self.sizes(text) }
            #expect(e?.diagnostics.contains { $0.description.contains(message) && $0.location?.line == 3 } == true, "\(text): \(e?.description ?? "")")
        }
    }
}
