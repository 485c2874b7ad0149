import Testing
import TesseraCore
@testable import TesseraOutput

@Suite struct JSONParserTests {
    private func parse(_ s: String) throws(InputError) -> JSONValue { try JSONParser.parse(Array(s.utf8), path: "r.json") }

    @Test func keepsKeyOrderAndExactIntegers() throws {
        let v = try parse(#"{"z": 1, "a": [true, null, -2.5e3], "m": {"k": "x\u00e9\n"}, "big": 18446744073709551615, "neg": -9223372036854775808}"#)
        #expect(v.asObject?.map(\.0) == ["z", "a", "m", "big", "neg"])
        #expect(v["z"] == .int(1))
        #expect(v["a"] == .array([.bool(true), .null, .double(-2500)]))
        #expect(v["m"]?["k"]?.asString == "xé\n")
        #expect(v["big"] == .uint(UInt64.max))
        #expect(v["neg"] == .int(Int64.min))
    }

    @Test func readsWhatTheWriterWrites() throws {
        let original = JSONValue.object([
            ("s", .string("quote \" backslash \\ tab \t ∑ 😀")), ("d", .double(0.1 + 0.2)), ("tiny", .double(5e-324)), ("u", .uint(12)),
            ("list", .array([.int(-1), .object([]), .array([])])),
        ])
        let text = original.render()
        #expect(try parse(text) == original)
    }

    @Test func surrogatePairs() throws {
        #expect(try parse(#""\ud83d\ude00""#).asString == "😀")
        #expect(try parse(#""\ud83dx""#).asString == "\u{FFFD}x")
    }

    @Test func errorsAreLocated() {
        for (text, line, column, message) in [
            ("{\n  \"a\": 1,\n  \"b\" 2}", 3, 7, "':'"),
            ("[1, 2", 1, 6, "not closed"),
            ("{\"a\": tru}", 1, 7, "unexpected word"),
            ("1 2", 1, 3, "after the JSON value"),
            ("\"\\x\"", 1, 3, "unknown escape"),
            ("-", 1, 2, "digits"),
            ("1e999", 1, 1, "too large"),
        ] as [(String, Int, Int, String)] {
            do {
                _ = try parse(text)
                Issue.record("accepted \(text)")
            } catch {
                let d = error.diagnostics[0]
                #expect(d.location?.line == line && d.location?.column == column, "\(text): \(error)")
                #expect(error.description.contains(message), "\(text): \(error)")
            }
        }
    }

    @Test func deepNestingIsRefusedNotRecursed() {
        let deep = String(repeating: "[", count: 100_000)
        #expect(throws: InputError.self) { _ = try parse(deep) }
        let ok = String(repeating: "[", count: JSONParser.maxDepth - 1) + String(repeating: "]", count: JSONParser.maxDepth - 1)
        #expect(throws: Never.self) { _ = try parse(ok) }
    }
}
