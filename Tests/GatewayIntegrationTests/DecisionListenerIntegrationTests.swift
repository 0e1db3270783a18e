import Foundation
import GatewayHTTP
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// The real gateway's decision listener (docs/forward-auth.md) over real sockets: answers
/// for an ingress, no upstream contact, keep-alive, access log and metrics.
final class DecisionListenerIntegrationTests: XCTestCase {
    var upstream: RecordingUpstream!
    var gateway: GatewayProcess!

    override func setUpWithError() throws {
        upstream = try RecordingUpstream { _ in .ok("upstream must not be asked\n") }
        let config = GatewayHarness.config(upstreamPort: upstream.port)
            + "\ndecision:\n  address: 127.0.0.1:0\nadmin:\n  address: 127.0.0.1:0\n"
        gateway = try GatewayProcess(config: config, environment: ["TEST_HMAC_SECRET": Fixtures.text("vectors/hmac.secret")
            .trimmingCharacters(in: .whitespacesAndNewlines)])
    }

    override func tearDown() {
        gateway?.stop()
        upstream?.stop()
    }

    func decisionClient() throws -> RawHTTPClient {
        guard let port = gateway.decisionPort else { throw RawHTTPError.malformed("no decision_port logged: \(gateway.stdout)") }
        return try RawHTTPClient(port: port)
    }

    func ask(_ c: RawHTTPClient, _ fields: [(String, String)], method: String = "GET", target: String = "/auth",
             body: String? = nil) throws -> RawResponse {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (n, v) in fields { text += "\(n): \(v)\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n\r\n" + body } else { text += "\r\n" }
        try c.send(text)
        return try c.readResponse(headRequest: method == "HEAD")
    }

    func testAllowedAnswerCarriesIdentityAndNothingReachesTheUpstream() throws {
        let c = try decisionClient()
        let r = try ask(c, [
            ("X-Forwarded-Method", "GET"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "api.test"),
            ("X-Forwarded-Uri", "/orders/42?page=2"), ("Authorization", "Bearer " + Fixtures.token("valid-RS256")),
            ("X-Auth-Subject", "admin"), ("X_Auth_Subject", "admin"), ("X-Auth-Email", "root@evil"), ("X-Auth-Extra", "1"),
        ])
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body, [])
        XCTAssertEqual(r.header("Content-Length"), "0")
        XCTAssertEqual(r.fields.filter { $0.name.lowercased() == "x-auth-subject" }.map(\.value), ["user-42"])
        XCTAssertEqual(r.header("X-Auth-Issuer"), "https://issuer.test.example/")
        XCTAssertEqual(r.header("X-Auth-Scopes"), "read:orders write:orders")
        XCTAssertEqual(r.fields.filter { $0.name.lowercased() == "x-auth-email" }.map(\.value), ["user42@example.test"])
        XCTAssertNil(r.header("X_Auth_Subject"))
        XCTAssertNil(r.header("X-Auth-Extra"))
        XCTAssertNil(r.header("Authorization"))
        // The same connection answers the next decision (ingresses keep decision connections open).
        let refused = try ask(c, [("X-Original-Method", "GET"), ("X-Original-URI", "/orders/1")])
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(refused.header("WWW-Authenticate"), #"Bearer realm="gateway""#)
        XCTAssertEqual(refused.header("Content-Type"), "application/json")
        XCTAssertEqual(refused.bodyText, #"{"error":"unauthorized","error_description":"bearer token required"}"#)
        let envoy = try ask(c, [("Authorization", "Bearer " + Fixtures.token("valid-RS256"))], target: "/orders/1")
        XCTAssertEqual(envoy.status, 200)
        XCTAssertEqual(envoy.header("X-Auth-Subject"), "user-42")
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertEqual(upstream.requests.count, 0)
    }

    func testRefusalsMatchTheProxyListener() throws {
        let expired = try TestTokens.rs256(["scope": .string("write:orders"), "iat": .number(900), "exp": .number(1000)])
        for (fields, status) in [([(String, String)](), 401), ([("Authorization", "Bearer " + expired)], 401),
                                 ([("Authorization", "Bearer not.a.token")], 401)] {
            let decision = try ask(try decisionClient(), [("X-Forwarded-Method", "GET"), ("X-Forwarded-Host", "api.test"),
                                                          ("X-Forwarded-Uri", "/upload/1")] + fields)
            let proxyClient = try RawHTTPClient(port: gateway.port)
            var text = "GET /upload/1 HTTP/1.1\r\nHost: api.test\r\n"
            for (n, v) in fields { text += "\(n): \(v)\r\n" }
            try proxyClient.send(text + "\r\n")
            let proxy = try proxyClient.readResponse()
            XCTAssertEqual(decision.status, status)
            XCTAssertEqual(decision.status, proxy.status)
            XCTAssertEqual(decision.header("WWW-Authenticate"), proxy.header("WWW-Authenticate"))
            XCTAssertNotNil(decision.header("WWW-Authenticate"))
            XCTAssertEqual(decision.bodyText, proxy.bodyText)
        }
        // Token fine, scope missing: 403 with the required scope.
        let reader = try TestTokens.rs256(["scope": .string("read:orders")])
        let r = try ask(try decisionClient(), [("X-Forwarded-Method", "POST"), ("X-Forwarded-Uri", "/upload/1"),
                                               ("Authorization", "Bearer " + reader)])
        XCTAssertEqual(r.status, 403)
        XCTAssertEqual(r.header("WWW-Authenticate"), #"Bearer realm="gateway", error="insufficient_scope", scope="write:orders""#)
        XCTAssertEqual(upstream.requests.count, 0)
    }

    func testMissingMethodOrTargetAndPathTricksAre400() throws {
        for fields in [[("X-Forwarded-Uri", "/status")], [("X-Original-Method", "GET")],
                       [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/status%2F..%2Forders")],
                       [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/../orders")]] {
            let r = try ask(try decisionClient(), fields)
            XCTAssertEqual(r.status, 400, "\(fields)")
            XCTAssertNil(r.header("WWW-Authenticate"))
        }
        // A target not in normal form is not decided: the ingress would pass it to the app as
        // sent, and the app might route it differently from its normalised path (a public
        // /status reached as /orders/%2e%2e/status, a protected /orders/1 as /status/../orders/1).
        for uri in ["/status/../orders/1", "/orders/%2e%2e/status", "/orders//1"] {
            let r = try ask(try decisionClient(), [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", uri),
                                                   ("Authorization", "Bearer " + Fixtures.token("valid-RS256"))])
            XCTAssertEqual(r.status, 400, uri)
            XCTAssertNil(r.header("X-Auth-Subject"), uri)
        }
    }

    func testABodyIsNeverReadAndEndsTheConnection() throws {
        let c = try decisionClient()
        let r = try ask(c, [("X-Forwarded-Method", "POST"), ("X-Forwarded-Uri", "/status")], method: "POST",
                        body: "{\"large\":\"payload\"}")
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.header("Connection"), "close")
        XCTAssertTrue(c.isClosedByPeer(within: 5))
        XCTAssertEqual(upstream.requests.count, 0)
    }

    func testAccessLogAndMetricsSayListenerDecision() throws {
        _ = try ask(try decisionClient(), [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/status")])
        _ = try ask(try decisionClient(), [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/orders/1")])
        let proxy = try RawHTTPClient(port: gateway.port)
        try proxy.send("GET /status HTTP/1.1\r\nHost: api.test\r\n\r\n")
        XCTAssertEqual(try proxy.readResponse().status, 200)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && gateway.stdout.components(separatedBy: "\"message\":\"request\"").count < 4 {
            Thread.sleep(forTimeInterval: 0.05)
        }
        let lines = gateway.stdout.split(separator: "\n").filter { $0.contains("\"message\":\"request\"") }
        XCTAssertEqual(lines.count, 3, gateway.stdout)
        let decisionLines = lines.filter { $0.contains("\"listener\":\"decision\"") }
        XCTAssertEqual(decisionLines.count, 2, "\(lines)")
        XCTAssertTrue(decisionLines.contains { $0.contains("\"decision\":\"allow\"") && $0.contains("\"route\":\"status\"") })
        // The original request's method and path, not the decision request's.
        XCTAssertTrue(decisionLines.contains { $0.contains("\"path\":\"/orders/1\"") }, "\(decisionLines)")
        XCTAssertFalse(decisionLines.contains { $0.contains("\"path\":\"/auth\"") }, "\(decisionLines)")
        XCTAssertTrue(decisionLines.contains { $0.contains("\"decision\":\"deny\"") && $0.contains("\"reason\":\"missing_token\"") })

        let admin = try RawHTTPClient(port: gateway.adminPort)
        try admin.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
        let metrics = try admin.readResponse().bodyText
        XCTAssertTrue(metrics.contains(#"gateway_requests_total{route="status",status="200",listener="decision"} 1"#), metrics)
        XCTAssertTrue(metrics.contains(#"gateway_requests_total{route="orders",status="401",listener="decision"} 1"#), metrics)
        // The proxy listener's series keep their labels.
        XCTAssertTrue(metrics.contains(#"gateway_requests_total{route="status",status="200"} 1"#), metrics)
        XCTAssertTrue(metrics.contains(#"gateway_auth_decisions_total{route="orders",decision="deny",reason="missing_token",listener="decision"} 1"#),
                      metrics)
    }
}

/// Revocation applies to decisions exactly as to proxied requests (the same pipeline).
final class DecisionRevocationIntegrationTests: XCTestCase {
    func testRevokedTokenIsRefusedByTheDecisionListener() throws {
        let iss = TestTokens.issuer
        let config = """
            listen: {address: 127.0.0.1:0}
            decision: {address: 127.0.0.1:0}
            issuers:
              - name: test
                issuer: \(iss)
                audiences: [orders-api]
                algorithms: [RS256]
                jwks_file: \(Fixtures.directory)/vectors/jwks.json
            upstreams:
              main: {url: "http://127.0.0.1:9"}
            routes:
              - name: orders
                match: {path_prefix: /orders}
                upstream: main
                auth: {issuers: [test], scopes: [read:orders]}
            revocation:
              file: revoked.json
            """
        let revoked = #"{"tokens": [{"iss": "\#(iss)", "jti": "stolen-1", "exp": 4102444800}]}"#
        let g = try GatewayProcess(config: config, files: ["revoked.json": revoked])
        defer { g.stop() }
        guard let port = g.decisionPort else { return XCTFail("no decision port: \(g.stdout)") }
        func ask(_ token: String) throws -> RawResponse {
            let c = try RawHTTPClient(port: port)
            try c.send("GET / HTTP/1.1\r\nHost: gw\r\nX-Original-Method: GET\r\nX-Original-URI: /orders/1\r\n"
                + "Authorization: Bearer \(token)\r\n\r\n")
            return try c.readResponse()
        }
        let fine = try ask(try TestTokens.rs256(["jti": .string("fine-1"), "scope": .string("read:orders")]))
        XCTAssertEqual(fine.status, 200)
        XCTAssertEqual(fine.header("X-Auth-Subject"), "user-42")
        let stolen = try ask(try TestTokens.rs256(["jti": .string("stolen-1"), "scope": .string("read:orders")]))
        XCTAssertEqual(stolen.status, 401)
        XCTAssertEqual(stolen.header("WWW-Authenticate"),
                       #"Bearer realm="gateway", error="invalid_token", error_description="token revoked""#)
        XCTAssertNil(stolen.header("X-Auth-Subject"))
    }
}
