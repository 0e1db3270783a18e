import XCTest
import GatewayHTTP

/// Named hostile inputs and the refusal each must get. Every refusal is checked fed
/// whole and one byte at a time (a refusal must not depend on how bytes arrive).
final class HTTPRequestParserRefusalTests: XCTestCase {
    private let bad400 = 400

    private func assertRefused(_ name: String, _ s: String, status: Int,
                               limits: HTTPParserLimits = HTTPParserLimits(),
                               file: StaticString = #filePath, line: UInt = #line) {
        let whole = runWhole(s, limits: limits)
        XCTAssertEqual(whole.error?.status, status, "\(name): fed whole", file: file, line: line)
        let bytewise = runBytewise(s, limits: limits)
        XCTAssertEqual(bytewise.error?.status, status, "\(name): byte at a time", file: file, line: line)
        // The reason never echoes client bytes: it is one of the parser's fixed texts.
        if let reason = whole.error?.reason {
            XCTAssertFalse(reason.contains("evil"), "\(name): reason echoes input", file: file, line: line)
        }
    }

    private func get(_ fields: String, version: String = "HTTP/1.1") -> String {
        "GET / \(version)\r\nHost: a\r\n\(fields)\r\n"
    }

    private func post(_ fields: String, body: String = "", version: String = "HTTP/1.1") -> String {
        "POST / \(version)\r\nHost: a\r\n\(fields)\r\n\(body)"
    }

    // MARK: Request smuggling classics

    func testContentLengthAndTransferEncoding() {
        assertRefused("CL.TE", post("Content-Length: 6\r\nTransfer-Encoding: chunked\r\n", body: "0\r\n\r\nX"), status: 400)
        assertRefused("TE.CL", post("Transfer-Encoding: chunked\r\nContent-Length: 6\r\n", body: "0\r\n\r\nX"), status: 400)
        assertRefused("CL 0 + TE", post("Content-Length: 0\r\nTransfer-Encoding: chunked\r\n"), status: 400)
    }

    func testTransferEncodingVariants() {
        let hostile = [
            "Transfer-Encoding : chunked\r\n",         // space before colon
            "Transfer-Encoding\t: chunked\r\n",        // tab before colon
            " Transfer-Encoding: chunked\r\n",         // obs-fold of the previous line
            "Transfer-Encoding: xchunked\r\n",
            "Transfer-Encoding: chunkedx\r\n",
            "Transfer-Encoding: chunked, identity\r\n",
            "Transfer-Encoding: identity\r\n",
            "Transfer-Encoding: gzip, chunked\r\n",
            "Transfer-Encoding: chunked, gzip\r\n",
            "Transfer-Encoding: chunked, chunked\r\n",
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
            "Transfer-Encoding: \"chunked\"\r\n",
            "Transfer-Encoding:\r\n",
            "Transfer-Encoding: chunked\r\n folded\r\n",
            "Transfer-Encoding: \u{0B}chunked\r\n",      // vertical tab
            "Transfer-Encoding: chunked\u{00}\r\n",
        ]
        for fields in hostile {
            assertRefused("TE \(fields.debugDescription)", post(fields, body: "0\r\n\r\n"), status: 400)
        }
    }

    func testTransferEncodingOnHTTP10() {
        assertRefused("TE on 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", status: 400)
    }

    func testContentLengthVariants() {
        let hostile = [
            "Content-Length: 5\r\nContent-Length: 6\r\n",
            "Content-Length: 5\r\nContent-Length: 5\r\n",   // strict: one field only
            "Content-Length: 5, 5\r\n",
            "Content-Length: 5, 6\r\n",
            "Content-Length: +5\r\n",
            "Content-Length: -1\r\n",
            "Content-Length: 0x5\r\n",
            "Content-Length: 5 5\r\n",
            "Content-Length: 5.0\r\n",
            "Content-Length:\r\n",
            "Content-Length: 18446744073709551616\r\n",     // 2^64
            "Content-Length: 99999999999999999999999\r\n",
            "Content-Length : 5\r\n",
        ]
        for fields in hostile {
            assertRefused("CL \(fields.debugDescription)", post(fields, body: "hello"), status: 400)
        }
        // The largest value that fits is accepted as framing.
        XCTAssertEqual(head(post("Content-Length: 18446744073709551615\r\n"))?.framing,
                       .contentLength(UInt64.max))
    }

    // MARK: Line endings and folding

    func testLineEndings() {
        assertRefused("LF-only lines", "GET / HTTP/1.1\nHost: a\n\n", status: 400)
        assertRefused("LF-only request line", "GET / HTTP/1.1\nHost: a\r\n\r\n", status: 400)
        assertRefused("LF-only field line", "GET / HTTP/1.1\r\nHost: a\n\r\n", status: 400)
        assertRefused("LF-only final line", "GET / HTTP/1.1\r\nHost: a\r\n\n", status: 400)
        assertRefused("bare CR in field value", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", status: 400)
        assertRefused("bare CR in request line", "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("CR CR LF", "GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("leading bare LF", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400)
    }

    func testObsFold() {
        assertRefused("obs-fold SP", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", status: 400)
        assertRefused("obs-fold HTAB", "GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n", status: 400)
        assertRefused("whitespace line after request line", "GET / HTTP/1.1\r\n Host: a\r\n\r\n", status: 400)
    }

    // MARK: Field syntax

    func testFieldNameSyntax() {
        assertRefused("space before colon", get("X-A : b\r\n"), status: 400)
        assertRefused("tab before colon", get("X-A\t: b\r\n"), status: 400)
        assertRefused("space inside name", get("Bad Name: evil\r\n"), status: 400)
        assertRefused("empty name", get(": value\r\n"), status: 400)
        assertRefused("no colon", get("JustAName\r\n"), status: 400)
        assertRefused("separator in name", get("X(A): b\r\n"), status: 400)
        assertRefused("slash in name", get("X/A: b\r\n"), status: 400)
        assertRefused("non-ASCII in name", get("X-Ä: b\r\n"), status: 400)
        assertRefused("NUL in name", get("X-\u{00}A: b\r\n"), status: 400)
    }

    func testFieldValueSyntax() {
        assertRefused("NUL in value", get("X-A: a\u{00}b\r\n"), status: 400)
        assertRefused("DEL in value", get("X-A: a\u{7F}b\r\n"), status: 400)
        assertRefused("ESC in value", get("X-A: a\u{1B}b\r\n"), status: 400)
        assertRefused("VT in value", get("X-A: a\u{0B}b\r\n"), status: 400)
        // obs-text that is not UTF-8 cannot be forwarded unchanged as a String.
        var raw = bytes("GET / HTTP/1.1\r\nHost: a\r\nX-A: ")
        raw += [0xFF, 0xFE]
        raw += bytes("\r\n\r\n")
        XCTAssertEqual(runPieces([raw]).error?.status, 400)
    }

    // MARK: Host

    func testHost() {
        assertRefused("missing Host on 1.1", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", status: 400)
        assertRefused("two Host fields", get("Host: b\r\n"), status: 400)
        assertRefused("two Host fields, different case", get("HOST: a\r\n"), status: 400)
        assertRefused("two Host fields on 1.0", "GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", status: 400)
        XCTAssertNotNil(head("GET / HTTP/1.0\r\n\r\n"), "Host is optional on HTTP/1.0")
    }

    /// RFC 9112 §3.2: an invalid Host value gets 400, so a route's host match and an
    /// upstream reading X-Forwarded-Host cannot see different hosts.
    func testInvalidHostValues() {
        for bad in ["admin.example.com, x", "x, admin.example.com", "admin.example.com:1:2", "admin.example.com..",
                    "admin.example.com/", "admin.example.com%2e", "a b", "<script>", "x@evil.com", "x:abc",
                    ".admin.example.com", ".", "[::1", "[]", "[zz]", "a:", "a:123456", "a:65536", "a;b", "a\\b"] {
            assertRefused("Host: \(bad)", "GET / HTTP/1.1\r\nHost: \(bad)\r\n\r\n", status: 400)
        }
        for good in ["admin.example.com", "ADMIN.example.com.", "127.0.0.1:8080", "[::1]:443", "[2001:db8::1]",
                     "my_host-1.internal:1", "a:65535", ""] {
            XCTAssertNotNil(head("GET / HTTP/1.1\r\nHost: \(good)\r\n\r\n"), "Host: \(good)")
        }
        assertRefused("absolute-form authority on 1.0 without Host", "GET http://a,b/x HTTP/1.0\r\n\r\n", status: 400)
        XCTAssertNotNil(head("GET http://api.test:8080/x HTTP/1.0\r\n\r\n"))
    }

    // MARK: Request line

    func testRequestLine() {
        assertRefused("two spaces after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("two spaces before version", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("tab separator", "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", status: 400)
        assertRefused("leading space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("no version (HTTP/0.9 style)", "GET /\r\n\r\n", status: 400)
        assertRefused("method not a token", "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("method with non-ASCII", "GÉT / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("space in target", "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("non-ASCII in target", "GET /é HTTP/1.1\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("control char in target", "GET /\u{01} HTTP/1.1\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("DEL in target", "GET /\u{7F} HTTP/1.1\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("version 1.10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("version without minor", "GET / HTTP/1\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("version with letters", "GET / HTTP/x.y\r\nHost: a\r\n\r\n", status: 400)
        assertRefused("too many leading empty lines",
                      String(repeating: "\r\n", count: 5) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n", status: 400)
    }

    func testUnsupportedVersions() {
        assertRefused("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", status: 505)
        assertRefused("HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", status: 505)
        assertRefused("HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", status: 505)
        assertRefused("HTTP/3.0", "GET / HTTP/3.0\r\nHost: a\r\n\r\n", status: 505)
    }

    // MARK: Chunked framing

    private func chunked(_ body: String) -> String {
        post("Transfer-Encoding: chunked\r\n", body: body)
    }

    func testChunkSyntax() {
        assertRefused("chunk size not hex", chunked("g\r\nx\r\n0\r\n\r\n"), status: 400)
        assertRefused("empty chunk size", chunked("\r\nx\r\n0\r\n\r\n"), status: 400)
        assertRefused("negative chunk size", chunked("-1\r\nx\r\n0\r\n\r\n"), status: 400)
        assertRefused("0x prefix", chunked("0x5\r\nhello\r\n0\r\n\r\n"), status: 400)
        assertRefused("chunk size overflow (17 digits)", chunked("10000000000000000\r\nx\r\n0\r\n\r\n"), status: 400)
        assertRefused("chunk size 17 zero digits", chunked("00000000000000001\r\nx\r\n0\r\n\r\n"), status: 400)
        assertRefused("chunk data longer than size", chunked("3\r\nhello\r\n0\r\n\r\n"), status: 400)
        assertRefused("chunk data not followed by CRLF", chunked("5\r\nhelloX\r\n0\r\n\r\n"), status: 400)
        assertRefused("chunk data followed by LF only", chunked("5\r\nhello\n0\r\n\r\n"), status: 400)
        assertRefused("chunk size line LF only", chunked("5\nhello\r\n0\r\n\r\n"), status: 400)
        assertRefused("chunk size line bare CR", chunked("5\rhello\r\n0\r\n\r\n"), status: 400)
        assertRefused("chunk extension with LF", chunked("5;a\nhello\r\n0\r\n\r\n"), status: 400)
        assertRefused("chunk extension with NUL", chunked("5;a\u{00}\r\nhello\r\n0\r\n\r\n"), status: 400)
        assertRefused("chunk extension too long",
                      chunked("5;" + String(repeating: "a", count: 5000) + "\r\nhello\r\n0\r\n\r\n"), status: 400)
        assertRefused("garbage after chunk size", chunked("5x\r\nhello\r\n0\r\n\r\n"), status: 400)
        assertRefused("space then garbage after chunk size", chunked("5 x\r\nhello\r\n0\r\n\r\n"), status: 400)
        assertRefused("trailing space after chunk size", chunked("5 \r\nhello\r\n0\r\n\r\n"), status: 400)
        assertRefused("space inside chunk size", chunked("1 0\r\nhello\r\n0\r\n\r\n"), status: 400)
    }

    func testTrailerSyntax() {
        assertRefused("trailer obs-fold", chunked("0\r\nX-T: a\r\n b\r\n\r\n"), status: 400)
        assertRefused("trailer space before colon", chunked("0\r\nX-T : a\r\n\r\n"), status: 400)
        assertRefused("trailer bare LF", chunked("0\r\nX-T: a\n\r\n"), status: 400)
        assertRefused("trailer last line bare LF", chunked("0\r\n\n"), status: 400)
        assertRefused("trailer NUL", chunked("0\r\nX-T: a\u{00}\r\n\r\n"), status: 400)
        assertRefused("trailer without colon", chunked("0\r\nX-T\r\n\r\n"), status: 400)
    }

    // MARK: Limits

    func testRequestLineTooLong() {
        let limits = HTTPParserLimits(maxHeaderBytes: 4096, maxRequestLineBytes: 100)
        let long = "GET /" + String(repeating: "a", count: 200) + " HTTP/1.1\r\nHost: a\r\n\r\n"
        assertRefused("414", long, status: 414, limits: limits)
        // Refused before the line ends: the caller never buffers more than the limit.
        let partial = "GET /" + String(repeating: "a", count: 200)
        XCTAssertEqual(runBytewise(partial, limits: limits).error, .uriTooLong)
        // Exactly at the limit is accepted.
        let exact = "GET /" + String(repeating: "a", count: 100 - 14) + " HTTP/1.1"
        XCTAssertEqual(exact.utf8.count, 100)
        XCTAssertNil(runWhole(exact + "\r\nHost: a\r\n\r\n", limits: limits).error)
        XCTAssertEqual(runWhole(exact + "a\r\nHost: a\r\n\r\n", limits: limits).error, .uriTooLong)
    }

    func testHeadTooLarge() {
        let limits = HTTPParserLimits(maxHeaderBytes: 256, maxRequestLineBytes: 100)
        let big = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 300) + "\r\n\r\n"
        assertRefused("431 one big field", big, status: 431, limits: limits)
        let many = "GET / HTTP/1.1\r\nHost: a\r\n" + String(repeating: "X-A: b\r\n", count: 40) + "\r\n"
        assertRefused("431 many fields", many, status: 431, limits: limits)
        // Refused before the head ends.
        let partial = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + String(repeating: "b", count: 300)
        XCTAssertEqual(runBytewise(partial, limits: limits).error, .headerTooLarge)
        // Exactly at the limit (final CRLF included) is accepted; one more byte is not.
        let prefix = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: "
        let fill = String(repeating: "p", count: 256 - prefix.utf8.count - 4)
        XCTAssertEqual((prefix + fill + "\r\n\r\n").utf8.count, 256)
        XCTAssertNil(runWhole(prefix + fill + "\r\n\r\n", limits: limits).error)
        XCTAssertEqual(runWhole(prefix + fill + "p\r\n\r\n", limits: limits).error, .headerTooLarge)
    }

    func testTrailersCountAgainstTheHeaderLimit() {
        let limits = HTTPParserLimits(maxHeaderBytes: 256, maxRequestLineBytes: 100)
        let trailers = String(repeating: "X-T: abcdefghij\r\n", count: 20)
        assertRefused("431 trailers", chunked("0\r\n" + trailers + "\r\n"), status: 431, limits: limits)
        let endless = chunked("0\r\nX-T: " + String(repeating: "t", count: 1000))
        XCTAssertEqual(runBytewise(endless, limits: limits).error, .headerTooLarge)
    }

    func testErrorStatusesAndReasons() {
        XCTAssertEqual(HTTPParseError.badRequest("x").status, 400)
        XCTAssertEqual(HTTPParseError.headerTooLarge.status, 431)
        XCTAssertEqual(HTTPParseError.uriTooLong.status, 414)
        XCTAssertEqual(HTTPParseError.versionNotSupported.status, 505)
        XCTAssertEqual(HTTPParseError.notImplemented("x").status, 501)
        XCTAssertEqual(HTTPParseError.headerTooLarge.reason, "request header too large")
    }
}
