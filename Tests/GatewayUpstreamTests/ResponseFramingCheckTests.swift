@testable import GatewayUpstream
import XCTest

/// The framing fields of a response head, checked from byte ranges (RFC 9112 §6.1, §6.3;
/// RFC 9110 §8.6) without sockets.
final class ResponseFramingCheckTests: XCTestCase {
    /// Inspects `fields` in order, then finishes; the first refusal, or nil.
    private func check(_ fields: [(String, String)]) -> UpstreamError? {
        var framing = ResponseFramingCheck()
        do {
            for (name, value) in fields {
                let n = Array(name.utf8), v = Array(value.utf8)
                try n.withUnsafeBytes { nb in
                    try v.withUnsafeBytes { vb in try framing.inspect(name: nb, value: vb) }
                }
            }
            try framing.finish()
            return nil
        } catch {
            return error as? UpstreamError
        }
    }

    private func assertRefused(_ fields: [(String, String)], _ message: String, line: UInt = #line) {
        XCTAssertEqual(check(fields), .invalidResponse(message), line: line)
    }

    func testValidFraming() {
        XCTAssertNil(check([]))
        XCTAssertNil(check([("Content-Length", "0")]))
        XCTAssertNil(check([("content-length", "1234567890123456789")]))
        XCTAssertNil(check([("Transfer-Encoding", "chunked")]))
        XCTAssertNil(check([("transfer-encoding", "CHUNKED")]))
        // Other names are not framing, whatever their value.
        XCTAssertNil(check([("Content-Lengthy", "x"), ("X-Transfer-Encoding", "gzip"), ("Content-Type", "1, 2")]))
    }

    func testInvalidContentLength() {
        for value in ["", "-1", "+5", "5x", "0x10", "5,", ",5", "5,,5", "5 5", "12345678901234567890", "½",
                      "5, 5", "5 ,\t5", "5, 6"] {
            assertRefused([("Content-Length", value)], "invalid Content-Length in response")
        }
    }

    func testSeveralContentLengthFieldsAreRefusedEvenWhenEqual() {
        // A strict client may read two fields (or a list) differently from a lenient one: the
        // gateway passes on neither, whatever the values.
        let message = "several Content-Length fields in response"
        assertRefused([("Content-Length", "5"), ("Content-Length", "6")], message)
        assertRefused([("Content-Length", "5"), ("Content-Length", "05")], message)
        assertRefused([("Content-Length", "5"), ("content-length", "5")], message)
        assertRefused([("Content-Length", "5"), ("CONTENT-LENGTH", "5, 5")], "several Content-Length fields in response")
    }

    func testTransferEncodingOtherThanOneChunkedIsRefused() {
        for value in ["gzip", "gzip, chunked", "chunked, chunked", "chunked;x=1", "identity", ""] {
            assertRefused([("Transfer-Encoding", value)], "unsupported Transfer-Encoding in response")
        }
        assertRefused([("Transfer-Encoding", "chunked"), ("transfer-encoding", "chunked")],
                      "unsupported Transfer-Encoding in response")
        // ASCII case only: the Kelvin sign lowercases to "k" in Unicode, not in HTTP.
        assertRefused([("Transfer-Encoding", "chun\u{212A}ed")], "unsupported Transfer-Encoding in response")
        XCTAssertNil(check([("Transfer-Encodin\u{212A}", "gzip")]))
    }

    func testBothFramingFieldsAreRefusedInEitherOrder() {
        let message = "response has both Content-Length and Transfer-Encoding"
        assertRefused([("Content-Length", "5"), ("Transfer-Encoding", "chunked")], message)
        assertRefused([("Transfer-Encoding", "chunked"), ("Content-Length", "5")], message)
    }
}
