import GatewayHTTP
import XCTest

/// Chunk extensions follow the RFC 9112 §7.1.1 grammar, and a chunk size past the body limit
/// is refused as soon as it is read. Each case is fed whole and one byte at a time.
final class ChunkHardeningTests: XCTestCase {
    private func chunked(_ body: String) -> String {
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body
    }

    private func outcomes(_ s: String, limits: HTTPParserLimits = HTTPParserLimits()) -> [Outcome] {
        [runWhole(s, limits: limits), runBytewise(s, limits: limits)]
    }

    func testMalformedExtensionsAreRefused() {
        for ext in [
            #";ext="a"#, #";ext="a\"#, ";=x", ";a=", ";a= ", ";", "; ", ";a;", ";a b", ";a=b c", #";a="x"y"#,
            ";a=\"x\u{7F}\"", ";a=@", ";a=\"\u{01}\"", ";a==b", ";a=b;=c", " ;", #";a="\"#,
        ] {
            for o in outcomes(chunked("0\(ext)\r\n\r\n")) {
                XCTAssertEqual(o.error?.status, 400, "0\(ext)")
                XCTAssertFalse(o.events.contains(.end), "0\(ext) must not complete the body")
            }
        }
    }

    func testValidExtensionsAreAcceptedAndIgnored() {
        for ext in [
            ";a", ";a=b", "; a = b", " ; a", "\t;a\t=\tb", ";a;b=c;d", #";a="""#, #";a="x y;z=\"q\" \\ é""#,
            ";name=\"\u{80}\"", ";!#$%&'*+-.^_`|~=1",
        ] {
            for o in outcomes(chunked("5\(ext)\r\nhello\r\n0\(ext)\r\n\r\n")) {
                XCTAssertNil(o.error, "5\(ext): \(String(describing: o.error))")
                XCTAssertEqual(o.events.last, .end, "5\(ext)")
            }
        }
    }

    func testChunkSizePastTheBodyLimitIs413BeforeItsData() {
        let limits = HTTPParserLimits(maxBodyBytes: 1024)
        // The size alone is over the limit: refused before any data (none is sent here).
        for o in outcomes(chunked("401\r\n"), limits: limits) {
            XCTAssertEqual(o.error, .contentTooLarge)
            XCTAssertEqual(o.error?.status, 413)
            XCTAssertFalse(o.events.contains { if case .body = $0 { true } else { false } })
        }
        for o in outcomes(chunked("FFFFFFFFFFFFFFFF;a=b"), limits: limits) { XCTAssertEqual(o.error, .contentTooLarge) }
        // A size over 16 hex digits stays the overflow 400, whatever the limit.
        for o in outcomes(chunked("10000000000000001\r\n"), limits: limits) { XCTAssertEqual(o.error?.status, 400) }
        // Announced sizes add up.
        let twoChunks = chunked("200\r\n" + String(repeating: "a", count: 512) + "\r\n201\r\n")
        for o in outcomes(twoChunks, limits: limits) { XCTAssertEqual(o.error, .contentTooLarge) }
        // At the limit: fine.
        let exact = chunked("400\r\n" + String(repeating: "a", count: 1024) + "\r\n0\r\n\r\n")
        for o in outcomes(exact, limits: limits) {
            XCTAssertNil(o.error)
            XCTAssertEqual(o.events.last, .end)
        }
        // The count starts again with each request on the connection.
        for o in outcomes(exact + "GET / HTTP/1.1\r\nHost: a\r\n\r\n" + exact, limits: limits) {
            XCTAssertNil(o.error)
            XCTAssertEqual(o.events.filter { $0 == .end }.count, 3)
        }
        // Without a limit the parser leaves the count to its caller.
        XCTAssertNil(runWhole(chunked("FFFFFF\r\n")).error)
    }
}
