import Foundation
import GatewayCore
import GatewayHTTP
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// `RequestPipeline.decide` on routes with `token_from`, `csrf_origins`, `login_url` and
/// `cors` (docs/browser-apps.md), without sockets.
final class BrowserDecisionTests: XCTestCase {
    static let yaml = """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: test
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
        upstreams:
          up: {url: "http://127.0.0.1:9"}
        routes:
          - name: read
            match: {path_prefix: /api, methods: [GET]}
            upstream: up
            auth: {issuers: [test], token_from: [{cookie: t}]}
            cors: {allowed_origins: [https://app.example], allowed_methods: [GET]}
          - name: write
            match: {path_prefix: /api, methods: [POST, OPTIONS]}
            upstream: up
            auth: {issuers: [test], token_from: [{cookie: t}]}
          - name: pages
            match: {path_prefix: /pages}
            upstream: up
            auth: {issuers: [test], login_url: "https://login.example/?rd={url}"}
          - name: rollout
            match: {path_prefix: /rollout}
            upstream: up
            auth: {issuers: [test], mode: report_only, token_from: [{cookie: t}], forward_token: true,
                   login_url: "https://login.example/?rd={url}"}
          - name: hdr
            match: {path_prefix: /hdr}
            upstream: up
            auth: {issuers: [test], token_from: [{header: X-Token}, authorization], forward_token: true}
        """

    var runtime: GatewayRuntime!
    let token = Fixtures.token("valid-RS256")

    override func setUpWithError() throws {
        let config = try ConfigLoader.parse(yaml: Self.yaml, path: "test.yml", environment: [:])
        runtime = try GatewayRuntime(config: config, keyMaterial: .readingFiles())
    }

    func decide(_ method: String, _ target: String, _ fields: [(String, String)], scheme: String = "http") -> Decision {
        let head = HTTPRequestHead(method: method, target: target, version: .http11,
                                   fields: [HTTPField(name: "Host", value: "api.test")] + fields.map { HTTPField(name: $0.0, value: $0.1) },
                                   framing: .none, keepAlive: true, expectsContinue: false)
        let ctx = RequestContext(clientAddress: "192.0.2.7", scheme: scheme, now: Date().timeIntervalSince1970,
                                 makeRequestID: { "id" })
        return RequestPipeline.decide(head, context: ctx, runtime: runtime)
    }

    func testAPreflightBelongsToTheRouteOfTheRequestedMethod() {
        // GET is served by `read` (cors): answered by the gateway.
        guard case .preflight(let fields, let route, _) = decide("OPTIONS", "/api/x", [
            ("Origin", "https://app.example"), ("Access-Control-Request-Method", "GET"),
        ]) else { return XCTFail("expected a preflight answer") }
        XCTAssertEqual(route, "read")
        XCTAssertEqual(fields.first, HTTPField(name: "Access-Control-Allow-Origin", value: "https://app.example"))
        // POST is served by `write` (no cors): an ordinary OPTIONS request, which needs a token.
        guard case .refuse(let r, let other, _) = decide("OPTIONS", "/api/x", [
            ("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST"),
        ]) else { return XCTFail("expected a refusal") }
        XCTAssertEqual(other, "write")
        XCTAssertEqual(r.reason, .missingToken)
        // An OPTIONS without Access-Control-Request-Method is no preflight.
        guard case .refuse(let plain, _, _) = decide("OPTIONS", "/api/x", [("Origin", "https://app.example")]) else {
            return XCTFail("expected a refusal")
        }
        XCTAssertEqual(plain.reason, .missingToken)
    }

    func testForwardPlanCarriesTheRoutesCORS() {
        guard case .forward(let plan) = decide("GET", "/api/x", [("Cookie", "t=\(token)")]) else { return XCTFail("expected forward") }
        XCTAssertEqual(plan.cors?.allowedOrigins, [Origin.parse("https://app.example")!])
        guard case .forward(let none) = decide("POST", "/api/x", [("Cookie", "t=\(token)"), ("Origin", "http://api.test")]) else {
            return XCTFail("expected forward")
        }
        XCTAssertNil(none.cors)
    }

    func testTheOwnOriginFollowsTheListenersScheme() {
        let fields = [("Cookie", "t=\(token)"), ("Origin", "https://api.test")]
        guard case .refuse(let r, _, _) = decide("POST", "/api/x", fields) else { return XCTFail("expected csrf") }
        XCTAssertEqual(r.reason, .crossSiteRequest)
        guard case .forward = decide("POST", "/api/x", fields, scheme: "https") else { return XCTFail("expected forward") }
    }

    func testLoginRedirectOnADefaultAuthorizationRoute() {
        guard case .refuse(let r, _, _) = decide("GET", "/pages/a?b=c", [("Accept", "text/html")], scheme: "https") else {
            return XCTFail("expected a refusal")
        }
        XCTAssertEqual(r.reason, .loginRequired(location: "https://login.example/?rd=https%3A%2F%2Fapi.test%2Fpages%2Fa%3Fb%3Dc"))
        XCTAssertEqual(r.status, 302)
        // Another scheme is no token either.
        guard case .refuse(let basic, _, _) = decide("GET", "/pages/a", [("Accept", "text/html"), ("Authorization", "Basic eDp5")])
        else { return XCTFail("expected a refusal") }
        XCTAssertEqual(basic.status, 302)
    }

    func testForwardTokenKeepsOnlyTheSourceThatHeldTheToken() {
        guard case .forward(let header) = decide("GET", "/hdr/x", [("X-Token", token), ("Authorization", "Basic eDp5")]) else {
            return XCTFail("expected forward")
        }
        XCTAssertEqual(header.fields.filter { $0.name == "X-Token" }.map(\.value), [token])
        XCTAssertFalse(header.fields.contains { $0.name == "Authorization" })
        guard case .forward(let bearer) = decide("GET", "/hdr/x", [("Authorization", "Bearer \(token)")]) else {
            return XCTFail("expected forward")
        }
        XCTAssertEqual(bearer.fields.filter { $0.name == "Authorization" }.map(\.value), ["Bearer \(token)"])
    }

    func testReportOnlyForwardsWithoutTheTokenCookieButKeepsTheCrossSiteGuard() {
        let expired = Fixtures.token("expired")
        guard case .forward(let bad) = decide("GET", "/rollout/x", [("Cookie", "a=1; t=\(expired); b=2")]) else {
            return XCTFail("expected forward")
        }
        XCTAssertEqual(bad.wouldDeny?.code, "expired")
        XCTAssertEqual(bad.fields.filter { $0.name == "Cookie" }.map(\.value), ["a=1; b=2"])
        XCTAssertFalse(bad.fields.contains { $0.name == "X-Auth-Subject" })
        // A good token: forwarded with its cookie (forward_token) and the identity.
        guard case .forward(let good) = decide("GET", "/rollout/x", [("Cookie", "a=1; t=\(token)")]) else {
            return XCTFail("expected forward")
        }
        XCTAssertNil(good.wouldDeny)
        XCTAssertEqual(good.fields.filter { $0.name == "Cookie" }.map(\.value), ["a=1; t=\(token)"])
        // A navigation without a token is reported as the login redirect it would get.
        guard case .forward(let nav) = decide("GET", "/rollout/x", [("Accept", "text/html")]) else { return XCTFail("expected forward") }
        XCTAssertEqual(nav.wouldDeny?.code, "login_redirect")
        // The cross-site guard is not a credential check: still refused.
        guard case .refuse(let csrf, _, _) = decide("POST", "/rollout/x", [("Cookie", "t=\(token)")]) else {
            return XCTFail("expected a refusal")
        }
        XCTAssertEqual(csrf.reason, .crossSiteRequest)
    }
}
