import XCTest
import GatewayHTTP

/// The one-pass head scan: values read a word at a time must give exactly the bytes and
/// refusals a byte-by-byte reading gives, wherever a special byte falls in a word, and
/// however the head arrives.
final class HTTPHeadScanTests: XCTestCase {
    private func request(value: String) -> String {
        "GET / HTTP/1.1\r\nHost: a\r\nX-V: \(value)\r\nAccept: */*\r\n\r\n"
    }

    func testValuesWithSpacesAndTabsAtEveryOffsetAreTrimmedExactly() throws {
        for length in 1...20 {
            for position in 0..<length {
                var chars = Array(repeating: Character("v"), count: length)
                chars[position] = position % 2 == 0 ? " " : "\t"
                let inner = String(chars)
                let trimmed = String(inner.drop(while: { $0 == " " || $0 == "\t" }).reversed()
                    .drop(while: { $0 == " " || $0 == "\t" }).reversed())
                for padding in ["", " ", "  \t ", "         "] {
                    let s = request(value: inner + padding)
                    let h = try XCTUnwrap(head(s), "\(length)/\(position)")
                    XCTAssertEqual(h.values("x-v"), [trimmed], "length \(length), special at \(position), pad \(padding.count)")
                    XCTAssertEqual(h.values("accept"), ["*/*"])
                    XCTAssertEqual(runBytewise(s), runWhole(s))
                }
            }
        }
    }

    func testEveryControlByteAndDELIsRefusedAtEveryOffset() {
        for bad: UInt8 in [0x00, 0x01, 0x0B, 0x0C, 0x1B, 0x1F, 0x7F] {
            for position in 0..<17 {
                var value = Array(repeating: UInt8(ascii: "v"), count: 17)
                value[position] = bad
                let raw = Array("GET / HTTP/1.1\r\nHost: a\r\nX-V: ".utf8) + value + Array("\r\n\r\n".utf8)
                XCTAssertEqual(runPieces([raw]).error, .badRequest("invalid character in field value"),
                               "byte \(bad) at \(position)")
                XCTAssertEqual(runPieces(raw.map { [$0] }).error, .badRequest("invalid character in field value"))
            }
        }
    }

    /// Values long enough for every word width the scan reads (32, 16, 8 bytes, then single
    /// bytes): a refused byte, an inner space or tab, and trailing spaces at every offset.
    func testLongValuesAreReadExactlyWhereverASpecialByteFalls() throws {
        let length = 75
        for position in 0..<length {
            for bad: UInt8 in [0x00, 0x1F, 0x7F] {
                var value = Array(repeating: UInt8(ascii: "v"), count: length)
                value[position] = bad
                let raw = Array("GET / HTTP/1.1\r\nHost: a\r\nX-V: ".utf8) + value + Array("\r\n\r\n".utf8)
                XCTAssertEqual(runPieces([raw]).error, .badRequest("invalid character in field value"),
                               "byte \(bad) at \(position)")
            }
            for special in [" ", "\t"] {
                var chars = Array(repeating: Character("w"), count: length)
                chars[position] = Character(special)
                let inner = String(chars)
                let trimmed = String(inner.drop(while: { $0 == " " || $0 == "\t" }).reversed()
                    .drop(while: { $0 == " " || $0 == "\t" }).reversed())
                for padding in ["", " ", String(repeating: " ", count: 33)] {
                    let h = try XCTUnwrap(head(request(value: inner + padding)), "\(position)")
                    XCTAssertEqual(h.values("x-v"), [trimmed], "special at \(position), pad \(padding.count)")
                }
            }
        }
    }

    func testObsTextMustBeUTF8WhereverItFalls() throws {
        for position in 0..<17 {
            let prefix = String(repeating: "x", count: position)
            XCTAssertEqual(try XCTUnwrap(head(request(value: prefix + "Zoë€" + prefix))).values("x-v"), [prefix + "Zoë€" + prefix])
            let raw = Array("GET / HTTP/1.1\r\nHost: a\r\nX-V: \(prefix)".utf8) + [0xC3, 0x28] + Array("abcdefgh\r\n\r\n".utf8)
            XCTAssertEqual(runPieces([raw]).error, .badRequest("field value is not valid UTF-8"), "at \(position)")
        }
    }

    /// A long token, as in `Authorization`, split at every offset.
    func testLongValueSplitAnywhereGivesTheSameHead() throws {
        let token = String((0..<617).map { i in Character(UnicodeScalar(UInt8(0x41 + i % 26))) })
        let s = "GET /api HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAuthorization: Bearer \(token)\r\n\r\n"
        let whole = runWhole(s)
        XCTAssertNil(whole.error)
        guard case .head(let h)? = whole.events.first else { return XCTFail("no head") }
        XCTAssertEqual(h.values("authorization"), ["Bearer " + token])
        for offset in stride(from: 0, through: s.utf8.count, by: 7) {
            XCTAssertEqual(runSplit(s, at: offset), whole, "split at \(offset)")
        }
    }

    /// Errors keep their old precedence: the request-line's before a field line's, field
    /// lines in order, and the size limits over any line's syntax.
    func testRefusalPrecedence() {
        XCTAssertEqual(refusal("GE(T / HTTP/1.1\r\nBad Name: x\r\n\r\n"), .badRequest("invalid method"))
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nBad Name: x\r\nHost: a\r\nHost: b\r\n\r\n"),
                       .badRequest("whitespace before colon"))
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nBad Name: x\r\n\r\n"),
                       .badRequest("several Host fields"))
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\nExpect: x\r\nX: \u{01}\r\n\r\n"), .expectationFailed)
        XCTAssertEqual(refusal("GET / HTTP/9.9\r\nX: \u{01}\r\n\r\n"), .versionNotSupported)
        let limits = HTTPParserLimits(maxHeaderBytes: 64, maxRequestLineBytes: 32)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nBad Name: x\r\nX-Pad: " + String(repeating: "p", count: 64) + "\r\n\r\n",
                               limits: limits), .headerTooLarge)
        XCTAssertEqual(refusal("GE(T /" + String(repeating: "a", count: 40) + " HTTP/1.1\r\n\r\n", limits: limits), .uriTooLong)
        XCTAssertEqual(refusal("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"), .badRequest("bare CR"))
    }

    /// Heads parsed one after another on one connection: each keeps its own bytes whether
    /// the heads before it are still held or already dropped, and a head too large to keep
    /// for reuse is read the same way.
    func testEachHeadKeepsItsBytesWhileLaterHeadsAreParsed() throws {
        var driver = ParserDriver()
        let values = ["first-value", "2nd", String(repeating: "L", count: 3000), "after-the-large-one", "z"]
        for v in values {
            XCTAssertNil(driver.feed(bytes("GET /\(v.count) HTTP/1.1\r\nHost: a\r\nX-V: \(v)\r\n\r\n")))
        }
        let heads = driver.events.compactMap { e -> HTTPRequestHead? in if case .head(let h) = e { h } else { nil } }
        XCTAssertEqual(heads.count, values.count)
        for (h, v) in zip(heads, values) {
            XCTAssertEqual(h.values("x-v"), [v])
            XCTAssertEqual(h.values("host"), ["a"])
            XCTAssertEqual(h.target, "/\(v.count)")
        }
        // Earlier heads dropped before the next arrives: the next one is still read exactly.
        var single = ParserDriver()
        for v in values.reversed() {
            XCTAssertNil(single.feed(bytes("POST /p HTTP/1.1\r\nHost: b\r\nX-W: \(v)\r\n\r\n")))
            guard case .head(let h)? = single.events.first else { return XCTFail("no head for \(v)") }
            XCTAssertEqual(h.values("x-w"), [v])
            XCTAssertEqual(h.method, "POST")
            single.events.removeAll()
        }
    }

    func testCONNECTAndAbsoluteFormStillChecked() {
        XCTAssertEqual(refusal("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"), .methodNotAllowed)
        XCTAssertEqual(refusal("GET http://b/x HTTP/1.1\r\nHost: a\r\n\r\n"), .badRequest("request target authority differs from Host"))
        XCTAssertEqual(head("GET http://A.example/x HTTP/1.1\r\nHost: a.EXAMPLE\r\n\r\n")?.target, "http://A.example/x")
        XCTAssertEqual(refusal("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), .badRequest("asterisk-form request target without OPTIONS"))
    }
}
