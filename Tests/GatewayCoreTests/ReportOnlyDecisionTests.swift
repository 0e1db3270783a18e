import Foundation
import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// `auth.mode: report_only` in the pure decision: refusals of the credential are forwarded
/// without identity headers and token, flagged with the reason; malformed or unroutable
/// requests are refused exactly as under `enforce`.
final class ReportOnlyDecisionTests: XCTestCase {
    static func yaml(keys: String = "jwks_file: \(Fixtures.directory)/vectors/jwks.json") -> String {
        """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: test
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256]
            \(keys)
        upstreams:
          orders: {url: "http://127.0.0.1:9"}
        identity:
          claims: {email: X-Auth-Email}
        routes:
          - name: rollout
            match: {path_prefix: /orders}
            upstream: orders
            auth: {issuers: [test], scopes: [read:orders], mode: report_only, forward_token: true}
          - name: enforced
            match: {path_prefix: /admin}
            upstream: orders
            auth: {issuers: [test], scopes: [read:orders]}
        """
    }

    var runtime: GatewayRuntime!

    override func setUpWithError() throws {
        let config = try ConfigLoader.parse(yaml: Self.yaml(), path: "test.yml", environment: [:])
        runtime = try GatewayRuntime(config: config, keyMaterial: .readingFiles())
    }

    func decide(_ target: String, _ fields: [(String, String)] = [], runtime: GatewayRuntime? = nil) -> Decision {
        let head = HTTPRequestHead(method: "GET", target: target, version: .http11,
                                   fields: [HTTPField(name: "Host", value: "api.test")] + fields.map { HTTPField(name: $0.0, value: $0.1) },
                                   framing: .none, keepAlive: true, expectsContinue: false)
        let ctx = RequestContext(clientAddress: "192.0.2.7", now: Date().timeIntervalSince1970, makeRequestID: { "id-1" })
        return RequestPipeline.decide(head, context: ctx, runtime: runtime ?? self.runtime)
    }

    func plan(_ d: Decision, file: StaticString = #filePath, line: UInt = #line) -> ForwardPlan? {
        guard case .forward(let p) = d else { XCTFail("not forwarded: \(d)", file: file, line: line); return nil }
        return p
    }

    /// Every identity-like and credential field of a forwarded request.
    func credentials(_ p: ForwardPlan) -> [String] {
        p.fields.filter { $0.name.lowercased().hasPrefix("x-auth-") || $0.name.lowercased() == "authorization" }
            .map { "\($0.name): \($0.value)" }
    }

    func testRefusalsOfTheTokenAreForwardedWithoutIdentityAndTokenAndFlagged() throws {
        let noScope = try TestTokens.rs256(["scope": .string("profile"), "email": .string("a@example.test")])
        let cases: [(String, [(String, String)], String)] = [
            ("no token", [], "missing_token"),
            ("another scheme", [("Authorization", "Basic dXNlcjpwYXNz")], "missing_token"),
            ("expired", [("Authorization", "Bearer " + Fixtures.token("expired"))], "expired"),
            ("tampered", [("Authorization", "Bearer " + Fixtures.token("payload-tampered"))], "signature"),
            ("scope missing", [("Authorization", "Bearer " + noScope)], "insufficient_scope"),
        ]
        for (name, fields, reason) in cases {
            // A client-sent identity header never survives, refused or not.
            guard let p = plan(decide("/orders/1", fields + [("X-Auth-Subject", "admin")])) else { continue }
            XCTAssertEqual(p.routeName, "rollout", name)
            XCTAssertEqual(p.wouldDeny?.code, reason, name)
            XCTAssertEqual(credentials(p), [], "\(name): identity or token forwarded")
            XCTAssertNil(p.subject, name)
            XCTAssertEqual(p.url, "http://127.0.0.1:9/orders/1", name)
            XCTAssertEqual(p.fields.first { $0.name == "X-Request-Id" }?.value, "id-1", name)
        }
        // The same token on the enforced route is refused.
        guard case .refuse(let r, "enforced", _) = decide("/admin", [("Authorization", "Bearer " + noScope)]) else {
            return XCTFail("enforced route forwarded")
        }
        XCTAssertEqual(r.status, 403)
    }

    func testAnAllowedRequestGetsItsIdentityAsUsual() throws {
        let token = try TestTokens.rs256(["scope": .string("read:orders"), "email": .string("a@example.test")])
        guard let p = plan(decide("/orders/1", [("Authorization", "Bearer " + token)])) else { return }
        XCTAssertNil(p.wouldDeny)
        XCTAssertEqual(p.subject, "user-42")
        XCTAssertEqual(credentials(p), [
            "Authorization: Bearer " + token,  // forward_token: true
            "X-Auth-Subject: user-42", "X-Auth-Issuer: https://issuer.test.example/", "X-Auth-Scopes: read:orders",
            "X-Auth-Email: a@example.test",
        ])
    }

    func testMalformedAndUnroutableRequestsAreStillRefused() throws {
        let token = Fixtures.token("valid-RS256")
        let cases: [(String, String, [(String, String)], Int, String)] = [
            ("encoded slash", "/orders%2F1", [], 400, "bad_path"),
            ("dot-dot above root", "/orders/../../x", [], 400, "bad_path"),
            ("no route", "/elsewhere", [], 404, "no_route"),
            ("two Authorization fields", "/orders/1",
             [("Authorization", "Bearer " + token), ("Authorization", "Bearer " + token)], 400, "invalid_request"),
            ("Bearer without a token", "/orders/1", [("Authorization", "Bearer")], 400, "invalid_request"),
        ]
        for (name, target, fields, status, reason) in cases {
            guard case .refuse(let r, _, _) = decide(target, fields) else {
                XCTFail("\(name): forwarded")
                continue
            }
            XCTAssertEqual(r.status, status, name)
            XCTAssertEqual(r.reason.code, reason, name)
        }
    }

    /// An issuer whose identity provider has not answered yet: enforced, 503; report-only, the
    /// request goes through (flagged), like any other request the route cannot accept.
    func testAnIssuerWithoutKeysIsReportedNotRefused() throws {
        let config = try ConfigLoader.parse(yaml: Self.yaml(keys: "jwks_url: https://keys.test.example/jwks.json"),
                                            path: "test.yml", environment: [:])
        let store = IssuerKeyStore(awaitingKeysFrom: "https://keys.test.example/jwks.json")
        let rt = try GatewayRuntime(config: config, keyMaterial: .readingFiles(remoteKeys: { _ throws(ConfigError) in store }))
        let token = Fixtures.token("valid-RS256")
        guard let p = plan(decide("/orders/1", [("Authorization", "Bearer " + token)], runtime: rt)) else { return }
        XCTAssertEqual(p.wouldDeny?.code, "keys_unavailable")
        XCTAssertEqual(credentials(p), [])
        guard case .refuse(let r, _, _) = decide("/admin", [("Authorization", "Bearer " + token)], runtime: rt) else {
            return XCTFail("enforced route forwarded")
        }
        XCTAssertEqual(r.status, 503)
    }

    func testExplainShowsTheFailedCheckOfAReportOnlyDecision() throws {
        let head = HTTPRequestHead(method: "GET", target: "/orders/1", version: .http11,
                                   fields: [HTTPField(name: "Host", value: "api.test"),
                                            HTTPField(name: "Authorization", value: "Bearer " + Fixtures.token("expired"))],
                                   framing: .none, keepAlive: true, expectsContinue: false)
        let ctx = RequestContext(clientAddress: "192.0.2.7", now: Date().timeIntervalSince1970, makeRequestID: { "id" })
        let (steps, decision) = DecisionExplainer.explain(head, context: ctx, runtime: runtime)
        guard case .forward(let p) = decision else { return XCTFail("not forwarded") }
        XCTAssertEqual(p.wouldDeny?.code, "expired")
        XCTAssertEqual(steps.last?.check, "verify")
        XCTAssertEqual(steps.last?.passed, false)
    }
}
