import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// `decide` with a trace records the checks it made; the trace ends at the check that
/// refused, and tracing never changes the decision.
final class DecisionTraceTests: XCTestCase {
    static let yaml = """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: test
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
        upstreams:
          orders: {url: "http://127.0.0.1:9"}
        identity:
          claims: {org_id: X-Auth-Org}
        routes:
          - name: status
            match: {path: /status}
            upstream: orders
            auth: public
          - name: orders
            match: {path_prefix: /orders}
            upstream: orders
            auth: {issuers: [test], scopes: [read:orders]}
          - name: org
            match: {path_prefix: /org}
            upstream: orders
            auth: {issuers: [test], claims: {org_id: 7}}
          - name: app
            match: {path_prefix: /app}
            upstream: orders
            auth:
              issuers: [test]
              token_from: [{cookie: access_token}]
        """

    var runtime: GatewayRuntime!

    override func setUpWithError() throws {
        runtime = try GatewayRuntime(config: try ConfigLoader.parse(yaml: Self.yaml, path: "t.yml", environment: [:]),
                                     keyMaterial: .readingFiles())
    }

    func head(_ target: String, method: String = "GET", token: String? = nil, _ extra: [HTTPField] = [],
              framing: RequestBodyFraming = .none) -> HTTPRequestHead {
        var fields = [HTTPField(name: "Host", value: "api.test")]
        if let token { fields.append(HTTPField(name: "Authorization", value: "Bearer " + token)) }
        return HTTPRequestHead(method: method, target: target, version: .http11, fields: fields + extra, framing: framing,
                               keepAlive: true, expectsContinue: false)
    }

    /// The traced decision, checked against the untraced one: same outcome, same code.
    func traced(_ head: HTTPRequestHead, file: StaticString = #filePath, line: UInt = #line)
        -> (steps: [DecisionTrace.Step], outcome: String)
    {
        let ctx = RequestContext(clientAddress: "192.0.2.7", now: Date().timeIntervalSince1970, makeRequestID: { "id" })
        var trace: DecisionTrace? = DecisionTrace()
        let decision = RequestPipeline.decide(head, context: ctx, runtime: runtime, trace: &trace)
        let plain = RequestPipeline.decide(head, context: ctx, runtime: runtime)
        XCTAssertEqual(outcome(decision), outcome(plain), "tracing changed the decision", file: file, line: line)
        let steps = trace?.steps ?? []
        // Explain prints this trace (its decision comes after these two: a verified-token
        // cache hit, which the verify step names).
        let explained = DecisionExplainer.explain(head, context: ctx, runtime: runtime)
        XCTAssertEqual(outcome(explained.decision), outcome(decision), file: file, line: line)
        XCTAssertEqual(explained.steps.map { "\($0.check) \($0.passed)" }, steps.map { "\($0.check) \($0.passed)" },
                       file: file, line: line)
        XCTAssertEqual(explained.steps.filter { $0.check != "verify" }, steps.filter { $0.check != "verify" }, file: file, line: line)
        XCTAssertFalse(steps.contains { s in head.fields.contains { $0.value.count > 40 && s.detail.contains($0.value) } },
                       "token text in the trace", file: file, line: line)
        return (steps, outcome(decision))
    }

    func outcome(_ d: Decision) -> String {
        switch d {
        case .forward(let p): return "forward \(p.routeName)"
        case .refuse(let r, _, _): return "refuse \(r.status) \(r.reason.code)"
        case .preflight: return "preflight"
        case .needsKeyRefresh: return "needs keys"
        case .needsIntrospection: return "needs introspection"
        }
    }

    /// The trace of a refusal ends with the one failed check, named `check`.
    func assertRefused(_ r: (steps: [DecisionTrace.Step], outcome: String), _ outcome: String, at check: String,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(r.outcome, outcome, file: file, line: line)
        XCTAssertEqual(r.steps.last?.check, check, "\(r.steps)", file: file, line: line)
        XCTAssertEqual(r.steps.last?.passed, false, file: file, line: line)
        XCTAssertEqual(r.steps.filter { !$0.passed }.count, 1, "\(r.steps)", file: file, line: line)
    }

    func testAllowedRequestsPassEveryStep() throws {
        let token = try TestTokens.rs256(["scope": .string("read:orders"), "org_id": .number(7)])
        let allowed = traced(head("/orders/../orders/1", token: token))
        XCTAssertEqual(allowed.outcome, "forward orders")
        XCTAssertEqual(allowed.steps.map(\.check), ["path", "route", "token", "issuer", "verify", "scopes"])
        XCTAssertTrue(allowed.steps.allSatisfy(\.passed), "\(allowed.steps)")
        XCTAssertEqual(allowed.steps[0].detail, "normalised to /orders/1")
        XCTAssertEqual(allowed.steps[1].detail, "orders (upstream orders)")
        XCTAssertTrue(allowed.steps[4].detail.hasPrefix("RS256 signature"), allowed.steps[4].detail)
        XCTAssertEqual(allowed.steps[5].detail, "granted [read:orders]; required all of [read:orders]")

        let claims = traced(head("/org/1", token: token))
        XCTAssertEqual(claims.outcome, "forward org")
        XCTAssertEqual(claims.steps.last, DecisionTrace.Step(check: "roles/claims", passed: true,
                                                            detail: "all required roles and claims present"))
        let open = traced(head("/status"))
        XCTAssertEqual(open.outcome, "forward status")
        XCTAssertEqual(open.steps.map(\.check), ["path", "route", "auth"])
        XCTAssertTrue(open.steps.allSatisfy(\.passed))
    }

    func testVerifyStepSaysWhetherTheAudienceWasChecked() throws {
        let token = try TestTokens.rs256(["scope": .string("read:orders")])
        let checked = traced(head("/orders/1", token: token))
        XCTAssertEqual(checked.steps.first { $0.check == "verify" }?.detail, "RS256 signature, exp/nbf/iat, iss, aud all valid")
        // The same issuer without `audiences`: no aud check is made, and the trace does not claim one.
        let yaml = Self.yaml.replacingOccurrences(of: "    audiences: [orders-api]\n", with: "")
        XCTAssertNotEqual(yaml, Self.yaml)
        runtime = try GatewayRuntime(config: try ConfigLoader.parse(yaml: yaml, path: "t.yml", environment: [:]),
                                     keyMaterial: .readingFiles())
        let unchecked = traced(head("/orders/1", token: token))
        XCTAssertEqual(unchecked.outcome, "forward orders")
        XCTAssertEqual(unchecked.steps.first { $0.check == "verify" }?.detail,
                       "RS256 signature, exp/nbf/iat, iss all valid (aud not checked: the issuer lists no audiences)")
    }

    func testEachRefusalEndsAtTheCheckThatRefused() throws {
        let good = try TestTokens.rs256(["scope": .string("read:orders")])
        assertRefused(traced(head("/orders/1", method: "get", token: good)), "refuse 400 bad_method", at: "method")
        assertRefused(traced(head("/orders/1", method: "TRACE")), "refuse 405 method_not_allowed", at: "method")
        assertRefused(traced(head("/orders/%2f")), "refuse 400 bad_path", at: "path")
        assertRefused(traced(head("/nothing")), "refuse 404 no_route", at: "route")
        assertRefused(traced(head("/status", method: "GET", framing: .contentLength(3))), "refuse 400 body_not_allowed", at: "content")
        assertRefused(traced(head("/orders/1")), "refuse 401 missing_token", at: "token")
        assertRefused(traced(head("/orders/1", token: "a.b")), "refuse 401 malformed", at: "issuer")
        let stranger = try TestTokens.rs256(["iss": .string("https://elsewhere.example/")])
        assertRefused(traced(head("/orders/1", token: stranger)), "refuse 401 issuer", at: "issuer")
        assertRefused(traced(head("/orders/1", token: Fixtures.token("expired"))), "refuse 401 expired", at: "verify")
        let anonymous = try TestTokens.rs256(["sub": nil, "scope": .string("read:orders")])
        assertRefused(traced(head("/orders/1", token: anonymous)), "refuse 401 invalid_sub", at: "subject")
        let reader = try TestTokens.rs256(["scope": .string("write:orders")])
        assertRefused(traced(head("/orders/1", token: reader)), "refuse 403 insufficient_scope", at: "scopes")
        let otherOrg = try TestTokens.rs256(["org_id": .number(8)])
        assertRefused(traced(head("/org/1", token: otherOrg)), "refuse 403 insufficient_scope", at: "roles/claims")
        let unsafe = try TestTokens.rs256(["scope": .string("read:orders"), "org_id": .string("a\u{7F}")])
        assertRefused(traced(head("/orders/1", token: unsafe)), "refuse 401 unsafe_claim", at: "identity")
        let crossSite = traced(head("/app/x", method: "POST", [HTTPField(name: "Cookie", value: "access_token=\(good)"),
                                                      HTTPField(name: "Origin", value: "https://evil.example")]))
        assertRefused(crossSite, "refuse 403 csrf", at: "csrf")
    }

    func testAVerifiedTokenCacheHitIsTracedLikeAVerification() throws {
        let token = try TestTokens.rs256(["scope": .string("read:orders")])
        let miss = traced(head("/orders/1", token: token))
        let hit = traced(head("/orders/1", token: token))
        // The first traced decision verified the token; every other decision was a hit.
        XCTAssertEqual(runtime.tokenCache?.statistics.hits ?? 0, 5)
        XCTAssertEqual(runtime.tokenCache?.statistics.misses ?? 0, 1)
        XCTAssertEqual(hit.steps.map(\.check), miss.steps.map(\.check))
        XCTAssertTrue(hit.steps.allSatisfy(\.passed))
        XCTAssertTrue(hit.steps[4].detail.contains("token cache"), hit.steps[4].detail)
        let late = traced(head("/orders/1", token: try TestTokens.rs256(["exp": .number(Date().timeIntervalSince1970 - 100)])))
        assertRefused(late, "refuse 401 expired", at: "verify")
    }
}
