import Foundation
import GatewayHTTP
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// The real gateway process on 127.0.0.1 in front of a recording upstream, over real sockets.
final class ProxyIntegrationTests: XCTestCase {
    var h: GatewayHarness!

    override func setUpWithError() throws { h = try GatewayHarness() }
    override func tearDown() { h?.stop() }

    func bearer(_ name: String = "valid-RS256") -> (String, String) {
        ("Authorization", "Bearer " + Fixtures.token(name))
    }

    func testAllowedRequestIsForwardedWithIdentityAndWithoutSpoofedHeaders() throws {
        let r = try h.request("GET", "/orders/42?page=2", headers: [
            bearer(), ("X-Auth-Subject", "admin"), ("x-auth-subject", "admin"), ("X_Auth_Subject", "admin"),
            ("Connection", "X-Auth-Subject"), ("X-Auth-Email", "root@evil"), ("Accept", "application/json"),
        ])
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.bodyText, "hello from upstream\n")
        let got = h.upstream.requests
        XCTAssertEqual(got.count, 1)
        guard let req = got.first else { return }
        XCTAssertEqual(req.method, "GET")
        XCTAssertEqual(req.target, "/orders/42?page=2")
        XCTAssertEqual(req.values("X-Auth-Subject"), ["user-42"])
        XCTAssertEqual(req.values("X_Auth_Subject"), [])
        XCTAssertEqual(req.values("X-Auth-Issuer"), ["https://issuer.test.example/"])
        XCTAssertEqual(req.values("X-Auth-Scopes"), ["read:orders write:orders"])
        XCTAssertEqual(req.values("X-Auth-Email"), ["user42@example.test"])
        XCTAssertEqual(req.values("Authorization"), [])
        XCTAssertEqual(req.values("Accept"), ["application/json"])
        XCTAssertEqual(req.values("X-Forwarded-For"), ["127.0.0.1"])
        XCTAssertEqual(req.values("X-Forwarded-Host"), ["api.test"])
        XCTAssertEqual(req.values("X-Forwarded-Proto"), ["http"])
        XCTAssertEqual(req.values("X-Request-Id").count, 1)
        XCTAssertFalse(req.fields.contains { $0.name.lowercased() == "connection" && $0.value.lowercased().contains("auth") })
        // Nothing curl would add on its own.
        XCTAssertEqual(req.values("User-Agent"), [])
        XCTAssertEqual(req.values("Expect"), [])
    }

    func testEveryAlgorithmVectorIsAcceptedEndToEnd() throws {
        for name in ["valid-RS256", "valid-PS256", "valid-ES256", "valid-ES384", "valid-ES512", "valid-EdDSA",
                     "valid-RS512"] {
            let r = try h.request("GET", "/orders/1", headers: [bearer(name)])
            XCTAssertEqual(r.status, 200, name)
        }
        // The vectors' HS256 tokens share the RSA issuer's `iss`; an HMAC issuer needs its own.
        let secret = Base64URL.decode(Substring(try Fixtures.text("vectors/hmac.secret")
            .trimmingCharacters(in: .whitespacesAndNewlines)))!
        let now = Date().timeIntervalSince1970
        let hs = try SigningKey.hmac(secret).sign(claims: .object([
            ("iss", .string("https://hmac.test.example/")), ("sub", .string("svc")), ("exp", .number(now + 60)),
            ("scope", .string("read:orders")),
        ]), algorithm: .HS256, keyID: nil)
        XCTAssertEqual(try h.request("GET", "/orders/1", headers: [("Authorization", "Bearer " + hs)]).status, 200)
        XCTAssertEqual(h.upstream.requests.count, 8)
        XCTAssertEqual(h.upstream.requests.last?.values("X-Auth-Subject"), ["svc"])
    }

    func testRefusalsMatchTheSpecTableAndNeverReachTheUpstream() throws {
        struct Case { var name: String; var headers: [(String, String)]; var status: Int; var challenge: String? ; var path = "/orders/1" }
        let noScope = try TestTokens.rs256(["scope": .string("profile")])
        let token = Fixtures.token("valid-RS256")
        let cases = [
            Case(name: "no token", headers: [], status: 401, challenge: "Bearer realm=\"gateway\""),
            Case(name: "expired", headers: [bearer("expired")], status: 401,
                 challenge: "Bearer realm=\"gateway\", error=\"invalid_token\", error_description=\"token expired\""),
            Case(name: "tampered", headers: [bearer("payload-tampered")], status: 401, challenge: nil),
            Case(name: "alg none", headers: [bearer("alg-none")], status: 401, challenge: nil),
            Case(name: "wrong audience", headers: [bearer("wrong-audience")], status: 401, challenge: nil),
            Case(name: "unknown kid", headers: [bearer("unknown-kid")], status: 401, challenge: nil),
            Case(name: "missing scope", headers: [("Authorization", "Bearer " + noScope)], status: 403,
                 challenge: "Bearer realm=\"gateway\", error=\"insufficient_scope\", scope=\"read:orders\""),
            Case(name: "two authorization headers", headers: [("Authorization", "Bearer " + token), ("Authorization", "Bearer " + token)],
                 status: 400, challenge: "Bearer realm=\"gateway\", error=\"invalid_request\""),
            Case(name: "no route", headers: [bearer()], status: 404, challenge: nil, path: "/elsewhere"),
            Case(name: "dot-dot above root", headers: [bearer()], status: 400, challenge: nil, path: "/orders/../../x"),
            Case(name: "encoded slash", headers: [bearer()], status: 400, challenge: nil, path: "/orders%2F1"),
        ]
        for c in cases {
            let r = try h.request("GET", c.path, headers: c.headers)
            XCTAssertEqual(r.status, c.status, c.name)
            XCTAssertEqual(r.header("Content-Type"), "application/json", c.name)
            if let challenge = c.challenge { XCTAssertEqual(r.header("WWW-Authenticate"), challenge, c.name) }
            if c.status == 401 { XCTAssertTrue(r.header("WWW-Authenticate")?.hasPrefix("Bearer realm=\"gateway\"") == true, c.name) }
            let body = try JSONReader.parse(r.body)
            XCTAssertNotNil(body[member: "error"], c.name)
            XCTAssertFalse(r.bodyText.contains(token.split(separator: ".")[1]), c.name)
        }
        XCTAssertEqual(h.upstream.requests.count, 0, "a refused request reached the upstream")
    }

    func testSmugglingAttemptsAreRefusedAndNeverForwarded() throws {
        let auth = "Authorization: Bearer \(Fixtures.token("valid-RS256"))\r\n"
        let attempts = [
            "POST /orders/1 HTTP/1.1\r\nHost: a\r\n\(auth)Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "POST /orders/1 HTTP/1.1\r\nHost: a\r\n\(auth)Content-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
            "GET /orders/1 HTTP/1.1\nHost: a\n\(auth)\n",
            "GET /orders/1 HTTP/1.1\r\nHost: a\r\n\(auth)X-Folded: a\r\n b\r\n\r\n",
            "GET /orders/1 HTTP/1.1\r\nHost: a\r\n\(auth)Bad Name: x\r\n\r\n",
            "GET /orders/1 HTTP/1.1\r\nHost : a\r\n\(auth)\r\n",
            "POST /orders/1 HTTP/1.1\r\nHost: a\r\n\(auth)Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        ]
        for raw in attempts {
            let c = try h.client()
            try c.send(raw)
            let r = try c.readResponse()
            XCTAssertEqual(r.status, 400, raw.debugDescription)
            XCTAssertTrue(c.isClosedByPeer(), "connection left open after \(raw.debugDescription)")
        }
        XCTAssertEqual(h.upstream.requests.count, 0)
    }

    func testOversizedHeadIs431() throws {
        let c = try h.client()
        try c.send("GET /status HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "a", count: 20_000))\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 431)
        XCTAssertEqual(h.upstream.requests.count, 0)
    }

    func testHundredSequentialKeepAliveRequestsOnOneConnection() throws {
        let c = try h.client()
        let auth = "Bearer " + Fixtures.token("valid-ES256")
        for i in 0..<100 {
            try c.send("GET /orders/\(i) HTTP/1.1\r\nHost: a\r\nAuthorization: \(auth)\r\n\r\n")
            let r = try c.readResponse()
            XCTAssertEqual(r.status, 200, "request \(i)")
            if r.status != 200 { break }
        }
        let got = h.upstream.requests
        XCTAssertEqual(got.count, 100)
        XCTAssertEqual(got.last?.target, "/orders/99")
        XCTAssertLessThanOrEqual(h.upstream.connectionCount, 2, "upstream connections are pooled")
    }

    func testChunkedUploadArrivesByteIdentical() throws {
        let token = try TestTokens.rs256(["scope": .string("write:orders")])
        let c = try h.client()
        try c.send("POST /upload/file HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(token)\r\nTransfer-Encoding: chunked\r\n\r\n")
        var expected: [UInt8] = []
        for i in 0..<64 {
            let chunk = (0..<(1000 + i * 37)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            expected += chunk
            try c.send(Array("\(String(chunk.count, radix: 16))\r\n".utf8) + chunk + Array("\r\n".utf8))
        }
        try c.send("0\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 200)
        XCTAssertEqual(h.upstream.requests.first?.body, expected)
    }

    func testContentLengthUploadArrivesByteIdentical() throws {
        let token = try TestTokens.rs256(["scope": .string("write:orders")])
        let body = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let r = try h.request("PUT", "/upload/big", headers: [("Authorization", "Bearer \(token)")], body: body)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(h.upstream.requests.first?.body.count, body.count)
        XCTAssertEqual(h.upstream.requests.first?.body, body)
    }

    func testHTTP10ClientGetsAnAnswerAndClose() throws {
        let c = try h.client()
        try c.send("GET /status HTTP/1.0\r\n\r\n")
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.bodyText, "hello from upstream\n")
        XCTAssertTrue(c.isClosedByPeer())
    }

    func testUpstreamDownIs502() throws {
        h.upstream.stop()
        let r = try h.request("GET", "/status")
        XCTAssertEqual(r.status, 502)
        XCTAssertEqual(r.header("Content-Type"), "application/json")
    }
}

/// Large and slow upstream responses.
final class StreamingIntegrationTests: XCTestCase {
    func testLargeDownloadArrivesByteIdentical() throws {
        let size = 48 * 1024 * 1024 + 123
        for chunked in [false, true] {
            let h = try GatewayHarness(handler: { _ in .generated(status: 200, fields: [], length: size, chunked: chunked) })
            defer { h.stop() }
            let r = try h.request("GET", "/status")
            XCTAssertEqual(r.status, 200)
            XCTAssertEqual(r.body.count, size)
            var hash = RecordingUpstream.Hash()
            r.body.withUnsafeBytes { hash.update($0) }
            XCTAssertEqual(hash, RecordingUpstream.patternHash(length: size), "chunked=\(chunked)")
        }
    }

    func testUpstreamTimeoutIs504() throws {
        let h = try GatewayHarness(upstreamTimeout: "500ms", handler: { _ in .delayed(seconds: 3, then: .ok("late")) })
        defer { h.stop() }
        XCTAssertEqual(try h.request("GET", "/status").status, 504)
    }

    func testUpstreamFailingMidBodyClosesTheClientConnection() throws {
        let h = try GatewayHarness(handler: { _ in .truncated(declared: 1000, sent: Array(repeating: 65, count: 10)) })
        defer { h.stop() }
        let c = try h.client()
        try c.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\n")
        // Either the head arrives and the body is cut short, or (nothing of the response had
        // left the gateway yet) a clean 502: never a complete 1000-byte body.
        if let r = try? c.readResponse() {
            XCTAssertEqual(r.status, 502)
            XCTAssertNotEqual(r.body.count, 1000)
        }
        XCTAssertTrue(c.isClosedByPeer())
    }
}
