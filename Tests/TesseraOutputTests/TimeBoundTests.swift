import Testing
import TesseraCore

@testable import TesseraOutput

/// `render schedule --from/--to`: times with units mean the same on every family; bare numbers and
/// `cycles` count clock cycles, which hardware without one clock refuses.
@Suite struct TimeBoundTests {
    @Test(arguments: [
        ("150000", TimeBound.cycles(150_000)), ("150000cycles", .cycles(150_000)), ("150000 cycles", .cycles(150_000)), ("1_000", .cycles(1000)),
        ("2ms", .seconds(2e-3)), ("2 ms", .seconds(2e-3)), ("3.1s", .seconds(3.1)), ("150 us", .seconds(150e-6)), ("0s", .seconds(0)),
    ])
    func parses(text: String, expected: TimeBound) throws {
        let b = try TimeBound.parse(text, option: "--from")
        switch (b, expected) {
        case (.cycles(let a), .cycles(let e)): #expect(a == e)
        case (.seconds(let a), .seconds(let e)): #expect(abs(a - e) <= 1e-15 * max(1, e))
        default: Issue.record("\(text) read as \(b)")
        }
    }

    @Test(arguments: ["", "abc", "2 parsecs", "-1 ms", "1e6 s", "nan s", "3 GHz", "-5", "5 cycles s"])
    func refuses(text: String) {
        #expect(throws: InputError.self) { try TimeBound.parse(text, option: "--to") }
    }

    @Test func convertsToCyclesAndNanoseconds() throws {
        #expect(TimeBound.seconds(20e-6).cycles(clockHz: 1e9) == 20_000)
        #expect(TimeBound.seconds(1.5e-9).cycles(clockHz: 1e9) == 1)  // the cycle the time falls in
        #expect(TimeBound.cycles(7).cycles(clockHz: 1e9) == 7)
        #expect(try TimeBound.seconds(3.1).nanoseconds(option: "--from", file: "c.yaml") == 3_100_000_000)
        #expect(throws: InputError.self) { try TimeBound.cycles(5).nanoseconds(option: "--from", file: "c.yaml") }
        #expect(TimeBound.seconds(1e5).cycles(clockHz: 1e11) == 10_000_000_000_000_000)
    }
}
