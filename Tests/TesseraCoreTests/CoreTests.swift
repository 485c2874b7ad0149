import Testing

@testable import TesseraCore

@Test func diagnosticRendersFileLineColumnExpectedFoundAndHint() {
    let d = Diagnostic(at: SourceLocation(file: "a.yaml", line: 3, column: 7), "bad rows", expected: "an integer ≥ 1", found: "0", hint: "did you mean 'rows'?")
    #expect(d.description == "a.yaml:3:7: error: bad rows (expected an integer ≥ 1, found 0); did you mean 'rows'?")
}

@Test func diagnosticsAreSortedByPlaceInTheFile() throws {
    var bag = DiagnosticBag()
    bag.error(SourceLocation(file: "f", line: 9, column: 1), "late")
    bag.error(SourceLocation(file: "f", line: 2, column: 5), "early")
    bag.error(SourceLocation(file: "f", line: 2, column: 1), "earliest")
    #expect(bag.sorted.map(\.message) == ["earliest", "early", "late"])
    #expect(throws: InputError.self) { try bag.throwIfErrors() }
}

@Test func editDistanceAndClosestMatch() {
    #expect(editDistance("kitten", "sitting") == 3)
    #expect(editDistance("", "abc") == 3)
    #expect(closestMatch(to: "colz", in: ["rows", "cols", "dataflow"]) == "cols")
    #expect(closestMatch(to: "zzzzzz", in: ["rows", "cols"]) == nil)
}

@Test func ceilDivAndFormatting() {
    #expect(ceilDiv(7, 2) == 4)
    #expect(ceilDiv(8, 2) == 4)
    #expect(ceilDiv(UInt64(1), UInt64(1000)) == 1)
    #expect(formatDecimal(1.5) == "1.5")
    #expect(formatDecimal(2.0) == "2")
    #expect(formatDecimal(0.12345) == "0.123")
    #expect(formatBytes(1536) == "1.5 KiB")
    #expect(Frequency(hertz: 1e9).periodPicoseconds == 1000)
    #expect(Frequency(hertz: 200e6).periodPicoseconds == 5000)
    #expect(Duration(seconds: 100e-9).picoseconds == 100_000)
}
