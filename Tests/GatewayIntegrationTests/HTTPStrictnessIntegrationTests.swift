import Foundation
import GatewayHTTP
import GatewayTestSupport
import XCTest

/// Strict HTTP/1.1 at the socket (docs/request-handling.md): every smuggling
/// refusal closes the connection and reaches no upstream; pipelining; 100-continue both
/// ways; bodiless responses; response framing; request-target forms and normalisation.
final class HTTPStrictnessIntegrationTests: XCTestCase {
    var g: HardenedGateway!

    override func setUpWithError() throws { g = try HardenedGateway() }
    override func tearDown() { g?.stop() }

    func testEverySmugglingRefusalClosesTheConnectionAndNothingIsForwarded() throws {
        let auth = bearerHeader()
        let longTarget = "/status?" + String(repeating: "a", count: 9000)
        let attempts: [(String, Int)] = [
            ("POST /status HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            ("POST /status HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n", 400),
            ("POST /status HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde", 400),
            ("POST /status HTTP/1.1\r\nHost: a\r\nContent-Length: 4, 4\r\n\r\nabcd", 400),
            ("POST /status HTTP/1.1\r\nHost: a\r\nContent-Length: +4\r\n\r\nabcd", 400),
            ("POST /status HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400),
            ("POST /status HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400),
            ("POST /status HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            ("POST /status HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400),
            ("POST /status HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
            ("GET /status HTTP/1.1\nHost: a\n\n", 400),
            ("GET /status HTTP/1.1\r\nHost: a\rX: y\r\n\r\n", 400),
            ("GET /status HTTP/1.1\r\nHost : a\r\n\r\n", 400),
            ("GET /status HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n", 400),
            ("GET /status HTTP/1.1\r\nHost: a\r\nX: a\u{01}b\r\n\r\n", 400),
            ("GET /status HTTP/1.1\r\n\r\n", 400),
            ("GET /status HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            ("G(T /status HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            ("GET /status HTTP/2.0\r\nHost: a\r\n\r\n", 505),
            ("GET \(longTarget) HTTP/1.1\r\nHost: a\r\n\r\n", 414),
            ("GET http://evil.example/status HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            ("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            ("GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400),
            ("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 405),
            ("POST /status HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx", 417),
            ("GET /orders/1 HTTP/1.1\r\nHost: a\r\n\(auth)X-Folded: a\r\n b\r\n\r\n", 400),
            // Refused inside the body: the upstream exchange (if started) is abandoned.
            ("POST /status HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000001\r\nx\r\n0\r\n\r\n", 400),
            ("POST /status HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400),
            ("POST /status HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n", 400),
            ("POST /status HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        ]
        for (raw, status) in attempts {
            let c = try g.client()
            try c.send(raw)
            let r = try c.readResponse()
            XCTAssertEqual(r.status, status, raw.debugDescription)
            XCTAssertEqual(r.header("Connection"), "close", raw.debugDescription)
            XCTAssertTrue(c.isClosedByPeer(), "connection left open after \(raw.debugDescription)")
        }
        XCTAssertEqual(g.upstream.requests.count, 0, "a refused request reached the upstream")
    }

    func testRefusalsCarryAMatchingJSONErrorCode() throws {
        let cases = [
            ("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 405, "method_not_allowed"),
            ("POST /status HTTP/1.1\r\nHost: a\r\nExpect: x\r\nContent-Length: 1\r\n\r\nx", 417, "expectation_failed"),
            ("GET /status HTTP/3.0\r\nHost: a\r\n\r\n", 505, "http_version_not_supported"),
            ("GET /status HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, "bad_request"),
        ]
        for (raw, status, code) in cases {
            let c = try g.client()
            try c.send(raw)
            let r = try c.readResponse()
            XCTAssertEqual(r.status, status, raw)
            XCTAssertEqual(r.header("Content-Type"), "application/json", raw)
            XCTAssertTrue(r.bodyText.contains("\"error\":\"\(code)\""), r.bodyText)
            if status == 405 { XCTAssertEqual(r.header("Allow")?.contains("CONNECT"), false) }
        }
    }

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let c = try g.client()
        var batch = ""
        for i in 0..<5 { batch += "GET /status?n=\(i) HTTP/1.1\r\nHost: a\r\n\r\n" }
        try c.send(batch)
        for i in 0..<5 {
            let r = try c.readResponse()
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.bodyText, "path=/status?n=\(i)")
        }
        XCTAssertEqual(g.upstream.requests.map(\.target), (0..<5).map { "/status?n=\($0)" })
    }

    func testARefusedPipelinedRequestClosesTheConnectionAfterItsResponse() throws {
        let c = try g.client()
        try c.send("GET /status?n=1 HTTP/1.1\r\nHost: a\r\n\r\n"
            + "GET /orders/1 HTTP/1.1\r\nHost: a\r\n\r\n"          // no token: 401
            + "GET /status?n=3 HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 200)
        let refused = try c.readResponse()
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(refused.header("Connection"), "close")
        XCTAssertTrue(c.isClosedByPeer(), "the request behind a refusal must not be answered")
        XCTAssertEqual(g.upstream.requests.map(\.target), ["/status?n=1"])
    }

    func testContinueIsSentOnlyForAnAllowedRequest() throws {
        // Allowed: 100 Continue first, then the body goes upstream.
        let c = try g.client()
        try c.send("POST /orders/1 HTTP/1.1\r\nHost: a\r\n\(bearerHeader())Expect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        let interim = readHeadBytes(c)
        XCTAssertEqual(interim?.hasPrefix("HTTP/1.1 100 "), true, interim ?? "nothing")
        try c.send("hello")
        XCTAssertEqual(try c.readResponse().status, 200)
        XCTAssertEqual(g.upstream.requests.first?.body, Array("hello".utf8))
        XCTAssertEqual(g.upstream.requests.first?.values("Expect"), [])

        // Refused: the 401 comes at once, without a 100 and without the client sending the body.
        let d = try g.client()
        try d.send("POST /orders/1 HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 100000\r\n\r\n")
        let head = readHeadBytes(d)
        XCTAssertEqual(head?.hasPrefix("HTTP/1.1 401 "), true, head ?? "nothing")
        XCTAssertTrue(d.isClosedByPeer())

        // Forbidden (valid token, missing scope) likewise gets its 403 without a 100.
        let noScope = try TestTokens.rs256(["scope": .string("profile")])
        let e = try g.client()
        try e.send("PUT /upload/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(noScope)\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n")
        let forbidden = readHeadBytes(e)
        XCTAssertEqual(forbidden?.hasPrefix("HTTP/1.1 403 "), true, forbidden ?? "nothing")
        XCTAssertEqual(g.upstream.requests.count, 1)
    }

    func testHeadAnd204And304CarryNoBodyAndKeepTheConnectionInSync() throws {
        g.stop()
        g = try HardenedGateway(handler: { req in
            switch req.target {
            case "/status?204": .raw(Array("HTTP/1.1 204 No Content\r\nX-Kind: none\r\n\r\n".utf8))
            case "/status?304": .raw(Array("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 11\r\n\r\n".utf8))
            default: .ok("hello world")
            }
        })
        let c = try g.client()
        try c.send("HEAD /status HTTP/1.1\r\nHost: a\r\n\r\n")
        let head = try c.readResponse(headRequest: true)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("Content-Length"), "11", "HEAD keeps the representation's length")
        XCTAssertNil(head.header("Transfer-Encoding"))
        for (target, status) in [("/status?204", 204), ("/status?304", 304)] {
            try c.send("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n")
            let r = try c.readResponse()
            XCTAssertEqual(r.status, status)
            XCTAssertNil(r.header("Transfer-Encoding"), target)
        }
        // Had any body byte been sent after HEAD/204/304, this response would be garbled.
        try c.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\n")
        let last = try c.readResponse()
        XCTAssertEqual(last.status, 200)
        XCTAssertEqual(last.bodyText, "hello world")
        XCTAssertEqual(g.upstream.requests.first?.method, "HEAD")
    }

    func testARefusedHeadRequestGetsNoBody() throws {
        let c = try g.client()
        try c.send("HEAD /orders/1 HTTP/1.1\r\nHost: a\r\n\r\n")
        let head = readHeadBytes(c)
        XCTAssertEqual(head?.hasPrefix("HTTP/1.1 401 "), true, head ?? "nothing")
        XCTAssertEqual(bytesUntilEOF(c), 0, "a body was sent after the head of a HEAD response")
        XCTAssertEqual(g.upstream.requests.count, 0)
    }

    func testResponseFramingFollowsTheUpstreamAndDropsItsHopByHopHeaders() throws {
        g.stop()
        let hopByHop = [
            HTTPField(name: "Connection", value: "X-Secret-Hop"), HTTPField(name: "X-Secret-Hop", value: "1"),
            HTTPField(name: "Keep-Alive", value: "timeout=5"), HTTPField(name: "Proxy-Connection", value: "keep-alive"),
            HTTPField(name: "Upgrade", value: "h2c"), HTTPField(name: "Trailer", value: "X-T"),
            HTTPField(name: "X-End-To-End", value: "kept"),
        ]
        g = try HardenedGateway(handler: { req in
            req.target == "/status?chunked"
                ? .chunked(status: 200, fields: hopByHop, chunks: [Array("abc".utf8), Array("defg".utf8)])
                : .fixed(status: 200, fields: hopByHop, body: Array("fixed".utf8))
        })
        let c = try g.client()
        try c.send("GET /status?chunked HTTP/1.1\r\nHost: a\r\n\r\n")
        let chunked = try c.readResponse()
        XCTAssertEqual(chunked.bodyText, "abcdefg")
        XCTAssertEqual(chunked.header("Transfer-Encoding"), "chunked")
        XCTAssertNil(chunked.header("Content-Length"))
        try c.send("GET /status?fixed HTTP/1.1\r\nHost: a\r\n\r\n")
        let fixed = try c.readResponse()
        XCTAssertEqual(fixed.bodyText, "fixed")
        XCTAssertEqual(fixed.header("Content-Length"), "5")
        XCTAssertNil(fixed.header("Transfer-Encoding"))
        for r in [chunked, fixed] {
            for name in ["X-Secret-Hop", "Keep-Alive", "Proxy-Connection", "Upgrade", "Trailer"] {
                XCTAssertNil(r.header(name), name)
            }
            XCTAssertNil(r.header("Connection"), "keep-alive response names no hop-by-hop header")
            XCTAssertEqual(r.header("X-End-To-End"), "kept")
        }
        // HTTP/1.0 client, unknown-length upstream body: close-delimited, never chunked.
        let old = try g.client()
        try old.send("GET /status?chunked HTTP/1.0\r\n\r\n")
        let r10 = try old.readResponse()
        XCTAssertEqual(r10.bodyText, "abcdefg")
        XCTAssertNil(r10.header("Transfer-Encoding"))
        XCTAssertTrue(old.isClosedByPeer())
    }

    func testRoutingAndTheUpstreamBothSeeTheNormalisedPath() throws {
        let cases: [(target: String, headers: String, status: Int, upstreamTarget: String?)] = [
            ("/orders/./a/../1%41?x=%2F&y=..", bearerHeader(), 200, "/orders/1A?x=%2F&y=.."),
            ("//orders//2", bearerHeader(), 200, "/orders/2"),
            ("/elsewhere/../orders/3", bearerHeader(), 200, "/orders/3"),
            ("/%6Frders/4", bearerHeader(), 200, "/orders/4"),
            ("/status/../orders/5", "", 401, nil),            // routed by the normalised path: protected
            ("/orders/../status", "", 200, "/status"),
            ("/orders%2F..%2Fstatus", "", 400, nil),
            ("/orders;x=1", bearerHeader(), 400, nil),
            ("http://a/orders/../status?q", "", 200, "/status?q"),   // absolute-form, authority = Host
        ]
        for c in cases {
            let before = g.upstream.requests.count
            let client = try g.client()
            try client.send("GET \(c.target) HTTP/1.1\r\nHost: a\r\n\(c.headers)\r\n")
            let r = try client.readResponse()
            XCTAssertEqual(r.status, c.status, c.target)
            let got = g.upstream.requests
            if let expected = c.upstreamTarget {
                XCTAssertEqual(got.count, before + 1, c.target)
                XCTAssertEqual(got.last?.target, expected, c.target)
                XCTAssertEqual(r.bodyText, "path=\(expected)", c.target)
            } else {
                XCTAssertEqual(got.count, before, c.target)
            }
        }
    }

    func testOptionsAsteriskIsNotForwarded() throws {
        let c = try g.client()
        try c.send("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 404)
        XCTAssertEqual(g.upstream.requests.count, 0)
    }
}
