import XCTest
import GatewayJOSE

final class JSONTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue { try JSONReader.parse(Array(text.utf8)) }
    private func refused(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(tokenError { _ = try self.parse(text) }?.reasonCode, "malformed", text, file: file, line: line)
    }

    func testValues() throws {
        XCTAssertEqual(try parse(#" {"a" : [1, -2.5, 3e2, 0, -0, true, false, null, "x"], "b":{}} "#),
                       .object([("a", .array([.number(1), .number(-2.5), .number(300), .number(0), .number(0), .bool(true),
                                             .bool(false), .null, .string("x")])), ("b", .object([]))]))
        XCTAssertEqual(try parse("4102444800"), .number(4_102_444_800))
        XCTAssertEqual(try parse("4102444800.5"), .number(4_102_444_800.5))
        // Exact beyond 2^53: the digits as sent, not the nearest Double.
        XCTAssertEqual(try parse("12345678901234567890"), .number(JSONNumber("12345678901234567890")!))
        XCTAssertNotEqual(try parse("12345678901234567890"), .number(1.2345678901234567e19))
        XCTAssertEqual(try parse("1E-2"), .number(0.01))
        XCTAssertEqual(try parse("[]"), .array([]))
        XCTAssertEqual(try parse(#""""#), .string(""))
    }

    func testMembersKeepDocumentOrder() throws {
        let v = try parse(#"{"z":1,"a":2,"m":3}"#)
        guard case .object(let members) = v else { return XCTFail() }
        XCTAssertEqual(members.map(\.0), ["z", "a", "m"])
        XCTAssertEqual(v[member: "a"], .number(2))
        XCTAssertNil(v[member: "q"])
    }

    func testEscapes() throws {
        XCTAssertEqual(try parse(#""a\"b\\c\/d\b\f\n\r\t""#), .string("a\"b\\c/d\u{8}\u{c}\n\r\t"))
        XCTAssertEqual(try parse(#""\u00e9\u20AC""#), .string("é€"))
        XCTAssertEqual(try parse(#""\ud83d\ude00""#), .string("😀"))
        XCTAssertEqual(try parse("\"😀 é\""), .string("😀 é"))
        XCTAssertEqual(try parse(#""\u0000""#), .string("\u{0}"))
    }

    func testRefusals() {
        for bad in [
            "", " ", "{", "}", "[1,]", "{\"a\":1,}", "[1 2]", "{\"a\" 1}", "{a:1}", "{'a':1}", "01", "-", "+1", ".5", "1.",
            "1e", "1e+", "0x1", "NaN", "Infinity", "-Infinity", "1e400", "-1e400", "tru", "nul", "True",
            "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\uZZZZ\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"",
            "\"a\tb\"", "\"a\nb\"", "[1] [2]", "{} x", "1 // c", "/* c */ 1", "\u{FEFF}{}",
            #"{"a":1,"a":2}"#, #"{"a":1,"\u0061":2}"#, #"{"x":{"a":1,"a":1}}"#,
        ] {
            refused(bad)
        }
        // Invalid UTF-8 inside a string, and an overlong encoding.
        XCTAssertNotNil(tokenError { _ = try JSONReader.parse([0x22, 0xFF, 0x22]) })
        XCTAssertNotNil(tokenError { _ = try JSONReader.parse([0x22, 0xC0, 0xAF, 0x22]) })
        XCTAssertNotNil(tokenError { _ = try JSONReader.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }) // UTF-8 surrogate
    }

    func testDepthLimit() throws {
        let ok = String(repeating: "[", count: JSONReader.maxDepth) + String(repeating: "]", count: JSONReader.maxDepth)
        XCTAssertNoThrow(try parse(ok))
        let deep = String(repeating: "[", count: JSONReader.maxDepth + 1) + String(repeating: "]", count: JSONReader.maxDepth + 1)
        refused(deep)
        refused(String(repeating: "{\"a\":", count: 10_000) + "1" + String(repeating: "}", count: 10_000))
    }

    func testWriterIsCompactAndRoundTrips() throws {
        let value: JSONValue = .object([
            ("s", .string("q\"b\\n\n\u{1}é😀")), ("i", .number(4_102_444_800)), ("f", .number(0.5)), ("neg", .number(-3)),
            ("a", .array([.bool(true), .null, .object([])])),
        ])
        let text = JSONWriter.serialize(value)
        XCTAssertEqual(text, #"{"s":"q\"b\\n\n\u0001é😀","i":4102444800,"f":0.5,"neg":-3,"a":[true,null,{}]}"#)
        XCTAssertEqual(try parse(text), value)
        XCTAssertEqual(JSONWriter.serialize(.number(.nan)), "null")
        XCTAssertEqual(JSONWriter.serialize(.number(1e300)), "1e+300")
    }
}
