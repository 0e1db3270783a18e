import GatewayHTTP
import XCTest

/// RFC 9112 §3.2 request-target forms, `Expect` (RFC 9110 §10.1.1) and CONNECT, as the
/// parser decides them. Every case is fed whole and one byte at a time.
final class RequestTargetFormTests: XCTestCase {
    private func status(_ s: String, file: StaticString = #filePath, line: UInt = #line) -> Int? {
        let whole = runWhole(s).error?.status
        XCTAssertEqual(runBytewise(s).error?.status, whole, "byte at a time differs", file: file, line: line)
        return whole
    }

    func testRequestTargetForms() {
        // (request, refusal status or nil when accepted)
        let cases: [(String, Int?)] = [
            ("GET /a HTTP/1.1\r\nHost: a\r\n\r\n", nil),
            ("GET http://a/x?q HTTP/1.1\r\nHost: a\r\n\r\n", nil),
            ("GET HTTP://A:8080/x HTTP/1.1\r\nHost: a:8080\r\n\r\n", nil),         // case-insensitive
            ("GET https://a HTTP/1.1\r\nHost: a\r\n\r\n", nil),                    // empty path is "/"
            ("GET http://a/x HTTP/1.0\r\n\r\n", nil),                              // 1.0: no Host needed
            ("GET http://evil/x HTTP/1.1\r\nHost: a\r\n\r\n", 400),                // authority ≠ Host
            ("GET http://a:81/x HTTP/1.1\r\nHost: a\r\n\r\n", 400),                // port differs
            ("GET http://u@a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400),                 // userinfo
            ("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400),                    // empty authority
            ("GET ftp://a/x HTTP/1.1\r\nHost: a\r\n\r\n", 400),                    // scheme
            ("GET http://a/x HTTP/1.0\r\nHost: b\r\n\r\n", 400),                   // 1.0 with a Host: must match
            ("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", nil),
            ("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),                            // asterisk only for OPTIONS
            ("GET a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400),                        // authority-form
            ("GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", 400),                          // none of the forms
            ("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 405),
            ("CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n", 405),
            ("connect /x HTTP/1.1\r\nHost: a\r\n\r\n", nil),                       // methods are case-sensitive
            ("GET /a HTTP/2.0\r\nHost: a\r\n\r\n", 505),
            ("GET /a HTTP/1.2\r\nHost: a\r\n\r\n", 505),
            ("GET /a HTTP/0.9\r\nHost: a\r\n\r\n", 505),
            ("GET /a http/1.1\r\nHost: a\r\n\r\n", 400),
            ("G{T /a HTTP/1.1\r\nHost: a\r\n\r\n", 400),                           // method not a token
            ("GET /a HTTP/1.1\r\n\r\n", 400),                                      // no Host
            ("GET /a HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400),                // repeated Host
            ("POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ]
        for (request, expected) in cases {
            XCTAssertEqual(status(request), expected, request.debugDescription)
        }
    }

    func testAbsoluteFormGivesItsOriginForm() throws {
        XCTAssertEqual(try HTTPRequestTarget.form("http://a:8080/x/y?q=1"),
                       .absolute(scheme: "http", authority: "a:8080", originForm: "/x/y?q=1"))
        XCTAssertEqual(try HTTPRequestTarget.form("HTTPS://A?q"),
                       .absolute(scheme: "https", authority: "A", originForm: "/?q"))
        XCTAssertEqual(try HTTPRequestTarget.form("/x"), .origin)
        XCTAssertEqual(try HTTPRequestTarget.form("*"), .asterisk)
        XCTAssertEqual(try HTTPRequestTarget.form("a:443"), .authority)
        XCTAssertThrowsError(try HTTPRequestTarget.form("javascript://a/"))
    }

    func testExpectations() {
        let body = "Content-Length: 1\r\n\r\nx"
        XCTAssertNil(status("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\(body)"))
        XCTAssertNil(status("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\(body)"))
        XCTAssertEqual(status("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\(body)"), 417)
        XCTAssertEqual(status("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\n\(body)"), 417)
        XCTAssertEqual(status("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nExpect: y\r\n\(body)"), 417)
        XCTAssertEqual(status("GET / HTTP/1.0\r\nExpect: x\r\n\r\n"), 417)
        XCTAssertEqual(head("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\(body)")?.expectsContinue, true)
        // RFC 9110 §10.1.1: a 100-continue from an HTTP/1.0 client is ignored.
        XCTAssertEqual(head("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\(body)")?.expectsContinue, false)
    }
}
