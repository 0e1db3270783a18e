import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// The decision for one request head, without sockets: routing, token checks, refusals
/// (docs/refusals.md) and the exact header set sent upstream.
final class RequestPipelineTests: XCTestCase {
    static let yaml = """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: test
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256, ES256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
            roles_claim: realm_access.roles
        upstreams:
          orders: {url: "http://127.0.0.1:9/base"}
        identity:
          claims: {email: X-Auth-Email}
        routes:
          - name: status
            match: {path: /status}
            upstream: orders
            auth: public
          - name: admin
            match: {path_prefix: /admin}
            upstream: orders
            auth: {issuers: [test], roles: [admin]}
          - name: tenant
            match: {path_prefix: /tenant}
            upstream: orders
            auth: {issuers: [test], claims: {tenant: acme}}
          - name: kelvin
            match: {path_prefix: /kelvin}
            upstream: orders
            auth: {issuers: [test], scopes: [Kelvin:read], claims: {team: Kelvin}}
          - name: stripped
            match: {path_prefix: /api/v1}
            strip_prefix: true
            upstream: orders
            auth: public
          - name: orders-write
            match: {path_prefix: /orders, methods: [POST]}
            upstream: orders
            auth: {issuers: [test], scopes: [write:orders], forward_token: true}
          - name: orders
            match: {path_prefix: /orders}
            upstream: orders
            auth: {issuers: [test], scopes: [read:orders]}
        """

    var runtime: GatewayRuntime!

    override func setUpWithError() throws {
        let config = try ConfigLoader.parse(yaml: Self.yaml, path: "test.yml", environment: [:])
        runtime = try GatewayRuntime(config: config, keyMaterial: .readingFiles())
    }

    func head(_ method: String = "GET", _ target: String, _ fields: [(String, String)] = []) -> HTTPRequestHead {
        HTTPRequestHead(method: method, target: target, version: .http11,
                        fields: [HTTPField(name: "Host", value: "api.test")] + fields.map { HTTPField(name: $0.0, value: $0.1) },
                        framing: .none, keepAlive: true, expectsContinue: false)
    }

    func decide(_ h: HTTPRequestHead, now: Double = Date().timeIntervalSince1970) -> Decision {
        let ctx = RequestContext(clientAddress: "192.0.2.7", now: now, makeRequestID: { "generated-id" })
        return RequestPipeline.decide(h, context: ctx, runtime: runtime)
    }

    func refusal(_ d: Decision, file: StaticString = #filePath, line: UInt = #line) -> Refusal? {
        guard case .refuse(let r, _, _) = d else { XCTFail("expected a refusal", file: file, line: line); return nil }
        return r
    }

    func plan(_ d: Decision, file: StaticString = #filePath, line: UInt = #line) -> ForwardPlan? {
        guard case .forward(let p) = d else {
            if case .refuse(let r, _, _) = d { XCTFail("refused: \(r.status) \(String(decoding: r.body, as: UTF8.self))", file: file, line: line) }
            return nil
        }
        return p
    }

    func field(_ p: ForwardPlan, _ name: String) -> [String] {
        p.fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    func testAllowedRequestGetsIdentityHeadersAndNoToken() throws {
        let token = Fixtures.token("valid-RS256")
        guard let p = plan(decide(head("GET", "/orders/42?x=1", [("Authorization", "Bearer " + token)]))) else { return }
        XCTAssertEqual(p.url, "http://127.0.0.1:9/base/orders/42?x=1")
        XCTAssertEqual(field(p, "X-Auth-Subject"), ["user-42"])
        XCTAssertEqual(field(p, "X-Auth-Issuer"), ["https://issuer.test.example/"])
        XCTAssertEqual(field(p, "X-Auth-Scopes"), ["read:orders write:orders"])
        XCTAssertEqual(field(p, "X-Auth-Email"), ["user42@example.test"])
        XCTAssertEqual(field(p, "Authorization"), [])
        XCTAssertEqual(field(p, "X-Forwarded-For"), ["192.0.2.7"])
        XCTAssertEqual(field(p, "X-Forwarded-Host"), ["api.test"])
        XCTAssertEqual(field(p, "X-Forwarded-Proto"), ["http"])
        XCTAssertEqual(field(p, "X-Request-Id"), ["generated-id"])
        XCTAssertEqual(p.subject, "user-42")
        XCTAssertEqual(p.routeName, "orders")
    }

    func testSpoofedIdentityHeadersAreRemovedInEveryForm() throws {
        let token = Fixtures.token("valid-RS256")
        let h = head("GET", "/orders/1", [
            ("Authorization", "Bearer " + token), ("X-Auth-Subject", "admin"), ("x-auth-subject", "admin"),
            ("X_Auth_Subject", "admin"), ("X-Auth-Email", "evil@x"), ("X-Auth-Anything", "1"),
            ("Connection", "X-Auth-Subject"), ("X-Forwarded-Host", "evil"), ("X-Forwarded-Proto", "https"),
        ])
        guard let p = plan(decide(h)) else { return }
        XCTAssertEqual(field(p, "X-Auth-Subject"), ["user-42"])
        XCTAssertEqual(field(p, "X-Auth-Email"), ["user42@example.test"])
        XCTAssertEqual(field(p, "X-Auth-Anything"), [])
        XCTAssertEqual(field(p, "X_Auth_Subject"), [])
        XCTAssertEqual(field(p, "Connection"), [])
        XCTAssertEqual(field(p, "X-Forwarded-Host"), ["api.test"])
        XCTAssertEqual(field(p, "X-Forwarded-Proto"), ["http"])
    }

    func testClientProxyAndOverrideFieldsNeverReachTheUpstream() throws {
        let spoofed = ["X-Forwarded-Port", "X-Forwarded-Prefix", "X_Forwarded_Server", "X-Real-IP", "X-Client-IP",
                       "True-Client-IP", "X-Original-URL", "X-Rewrite-URL", "X-HTTP-Method-Override",
                       "x-http-method", "X-Method-Override", "X-Forwarded"]
        let h = head("GET", "/status", spoofed.map { ($0, "/admin") } + [("Accept", "*/*")])
        guard let p = plan(decide(h)) else { return }
        for name in spoofed { XCTAssertEqual(field(p, name), [], name) }
        XCTAssertEqual(field(p, "Accept"), ["*/*"])
        XCTAssertEqual(field(p, "X-Forwarded-For"), ["192.0.2.7"])
    }

    func testPublicRouteStripsIdentityHeadersAndKeepsClientRequestID() throws {
        let h = head("GET", "/status", [("X-Auth-Subject", "admin"), ("X-Request-Id", "abc-123"),
                                        ("X-Forwarded-For", "10.1.1.1"), ("Accept", "text/plain")])
        guard let p = plan(decide(h)) else { return }
        XCTAssertEqual(field(p, "X-Auth-Subject"), [])
        XCTAssertEqual(field(p, "X-Request-Id"), ["abc-123"])
        XCTAssertEqual(field(p, "X-Forwarded-For"), ["10.1.1.1, 192.0.2.7"])
        XCTAssertEqual(field(p, "Accept"), ["text/plain"])
    }

    func testTraceFieldsOfTheContextReplaceTheClientsAndComeLast() throws {
        let h = head("GET", "/status", [("TraceParent", "00-client-parent"), ("Accept", "*/*"), ("tracestate", "a=1")])
        var ctx = RequestContext(clientAddress: "192.0.2.7", now: Date().timeIntervalSince1970, makeRequestID: { "generated-id" })
        ctx.upstreamTraceFields = [HTTPField(name: "traceparent", value: "00-gateway"), HTTPField(name: "tracestate", value: "b=2")]
        guard let p = plan(RequestPipeline.decide(h, context: ctx, runtime: runtime)) else { return }
        XCTAssertEqual(field(p, "traceparent"), ["00-gateway"])
        XCTAssertEqual(field(p, "tracestate"), ["b=2"])
        XCTAssertEqual(p.fields.suffix(2).map(\.name), ["traceparent", "tracestate"])
        XCTAssertEqual(field(p, "Accept"), ["*/*"])
        // Without trace fields in the context (the decision listener, `gateway explain`),
        // the client's are forwarded as they are.
        guard let plain = plan(decide(h)) else { return }
        XCTAssertEqual(field(plain, "traceparent"), ["00-client-parent"])
        XCTAssertEqual(field(plain, "tracestate"), ["a=1"])
    }

    func testInvalidClientRequestIDIsReplaced() throws {
        guard let p = plan(decide(head("GET", "/status", [("X-Request-Id", "bad id\u{7f}")]))) else { return }
        XCTAssertEqual(field(p, "X-Request-Id"), ["generated-id"])
    }

    func testStripPrefix() throws {
        guard let p = plan(decide(head("GET", "/api/v1/users/7"))) else { return }
        XCTAssertEqual(p.url, "http://127.0.0.1:9/base/users/7")
        guard let q = plan(decide(head("GET", "/api/v1"))) else { return }
        XCTAssertEqual(q.url, "http://127.0.0.1:9/base/")
    }

    func testMissingTokenIs401WithBareChallenge() throws {
        guard let r = refusal(decide(head("GET", "/orders/1"))) else { return }
        XCTAssertEqual(r.status, 401)
        XCTAssertEqual(r.fields.first { $0.name == "WWW-Authenticate" }?.value, "Bearer realm=\"gateway\"")
        XCTAssertEqual(r.fields.first { $0.name == "Content-Type" }?.value, "application/json")
    }

    func testOtherSchemeCountsAsNoToken() throws {
        guard let r = refusal(decide(head("GET", "/orders/1", [("Authorization", "Basic dXNlcjpwYXNz")]))) else { return }
        XCTAssertEqual(r.status, 401)
        XCTAssertEqual(r.reason, .missingToken)
    }

    func testSchemeIsCaseInsensitive() throws {
        let token = Fixtures.token("valid-RS256")
        XCTAssertNotNil(plan(decide(head("GET", "/orders/1", [("Authorization", "bEaReR " + token)]))))
    }

    func testSeveralAuthorizationHeadersAre400InvalidRequest() throws {
        let token = Fixtures.token("valid-RS256")
        let h = head("GET", "/orders/1", [("Authorization", "Bearer " + token), ("authorization", "Bearer " + token)])
        guard let r = refusal(decide(h)) else { return }
        XCTAssertEqual(r.status, 400)
        XCTAssertEqual(r.fields.first { $0.name == "WWW-Authenticate" }?.value,
                       "Bearer realm=\"gateway\", error=\"invalid_request\"")
    }

    func testBadBearerSyntaxIs400() throws {
        for value in ["Bearer", "Bearer ", "Bearer a b", "Bearer a,b"] {
            guard let r = refusal(decide(head("GET", "/orders/1", [("Authorization", value)]))) else { continue }
            XCTAssertEqual(r.status, 400, value)
        }
    }

    func testExpiredTokenIs401InvalidTokenWithDescription() throws {
        guard let r = refusal(decide(head("GET", "/orders/1", [("Authorization", "Bearer " + Fixtures.token("expired"))]))) else { return }
        XCTAssertEqual(r.status, 401)
        XCTAssertEqual(r.fields.first { $0.name == "WWW-Authenticate" }?.value,
                       "Bearer realm=\"gateway\", error=\"invalid_token\", error_description=\"token expired\"")
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self),
                       "{\"error\":\"invalid_token\",\"error_description\":\"token expired\"}")
    }

    func testWrongIssuerIs401() throws {
        guard let r = refusal(decide(head("GET", "/orders/1", [("Authorization", "Bearer " + Fixtures.token("wrong-issuer"))]))) else { return }
        XCTAssertEqual(r.status, 401)
        XCTAssertEqual(r.reason, .invalidToken(.issuer))
    }

    func testRefusalNeverEchoesTheToken() throws {
        for name in ["expired", "payload-tampered", "alg-none", "wrong-audience"] {
            let token = Fixtures.token(name)
            guard let r = refusal(decide(head("GET", "/orders/1", [("Authorization", "Bearer " + token)]))) else { continue }
            let all = String(decoding: r.body, as: UTF8.self) + r.fields.map(\.value).joined()
            for part in token.split(separator: ".") where part.count > 8 {
                XCTAssertFalse(all.contains(part), name)
            }
        }
    }

    func testMissingScopeIs403WithRequiredScopes() throws {
        let token = try TestTokens.rs256(["scope": .string("profile")])
        guard let r = refusal(decide(head("GET", "/orders/1", [("Authorization", "Bearer " + token)]))) else { return }
        XCTAssertEqual(r.status, 403)
        XCTAssertEqual(r.fields.first { $0.name == "WWW-Authenticate" }?.value,
                       "Bearer realm=\"gateway\", error=\"insufficient_scope\", scope=\"read:orders\"")
    }

    func testScpArrayGrantsScopes() throws {
        let token = try TestTokens.rs256(["scp": .array([.string("read:orders")])])
        XCTAssertNotNil(plan(decide(head("GET", "/orders/1", [("Authorization", "Bearer " + token)]))))
    }

    func testMethodSelectsRouteAndForwardToken() throws {
        let token = try TestTokens.rs256(["scope": .string("write:orders")])
        guard let p = plan(decide(head("POST", "/orders", [("Authorization", "Bearer " + token)]))) else { return }
        XCTAssertEqual(p.routeName, "orders-write")
        XCTAssertEqual(field(p, "Authorization"), ["Bearer " + token])
    }

    func testRolesFromDottedClaim() throws {
        let admin = try TestTokens.rs256(["realm_access": .object([("roles", .array([.string("admin")]))])])
        XCTAssertNotNil(plan(decide(head("GET", "/admin/x", [("Authorization", "Bearer " + admin)]))))
        let user = try TestTokens.rs256(["realm_access": .object([("roles", .array([.string("user")]))])])
        XCTAssertEqual(refusal(decide(head("GET", "/admin/x", [("Authorization", "Bearer " + user)])))?.status, 403)
    }

    func testClaimEqualityAndMembership() throws {
        let ok = try TestTokens.rs256(["tenant": .string("acme")])
        XCTAssertNotNil(plan(decide(head("GET", "/tenant/1", [("Authorization", "Bearer " + ok)]))))
        let member = try TestTokens.rs256(["tenant": .array([.string("other"), .string("acme")])])
        XCTAssertNotNil(plan(decide(head("GET", "/tenant/1", [("Authorization", "Bearer " + member)]))))
        let other = try TestTokens.rs256(["tenant": .string("evil")])
        XCTAssertEqual(refusal(decide(head("GET", "/tenant/1", [("Authorization", "Bearer " + other)])))?.status, 403)
    }

    func testControlCharacterInClaimIsRefusedNamingTheClaim() throws {
        let token = try TestTokens.rs256(["email": .string("a@b\r\nX-Auth-Subject: admin"), "scope": .string("read:orders")])
        guard let r = refusal(decide(head("GET", "/orders/1", [("Authorization", "Bearer " + token),]))) else { return }
        XCTAssertEqual(r.status, 401)
        XCTAssertTrue(String(decoding: r.body, as: UTF8.self).contains("email"))
    }

    func testNoRouteIs404AndBadPathIs400() throws {
        XCTAssertEqual(refusal(decide(head("GET", "/nothing")))?.status, 404)
        XCTAssertEqual(refusal(decide(head("GET", "/orders/../../etc")))?.status, 400)
        XCTAssertEqual(refusal(decide(head("GET", "/orders%2F..")))?.status, 400)
    }

    func testTokenCheckedAtInjectedTime() throws {
        let token = Fixtures.token("valid-RS256")  // exp 2100-01-01
        let after = 4_102_444_800.0 + 3600
        XCTAssertEqual(refusal(decide(head("GET", "/orders/1", [("Authorization", "Bearer " + token)]), now: after))?.reason,
                       .invalidToken(.expired))
    }

    func testScopesAndClaimsCompareExactly() throws {
        // "\u{212A}" (KELVIN SIGN) is canonically equivalent to "K" (Swift's == says equal),
        // but it is not the same bytes, and the upstream would receive different bytes.
        let ok = try TestTokens.rs256(["scope": .string("Kelvin:read"), "team": .string("Kelvin")])
        XCTAssertNotNil(plan(decide(head("GET", "/kelvin/1", [("Authorization", "Bearer " + ok)]))))
        let scope = try TestTokens.rs256(["scope": .string("\u{212A}elvin:read"), "team": .string("Kelvin")])
        XCTAssertEqual(refusal(decide(head("GET", "/kelvin/1", [("Authorization", "Bearer " + scope)])))?.status, 403)
        let claim = try TestTokens.rs256(["scope": .string("Kelvin:read"), "team": .string("\u{212A}elvin")])
        XCTAssertEqual(refusal(decide(head("GET", "/kelvin/1", [("Authorization", "Bearer " + claim)])))?.status, 403)
    }

    func testIdentityValuesThatWouldChangeUpstreamAreRefused() throws {
        func status(_ overrides: [String: JSONValue?]) throws -> Int? {
            var claims = overrides
            if claims["scope"] == nil { claims["scope"] = .string("read:orders") }
            let t = try TestTokens.rs256(claims)
            let d = decide(head("GET", "/orders/1", [("Authorization", "Bearer " + t)]))
            if case .refuse(let r, _, _) = d { return r.status }
            return 200
        }
        XCTAssertEqual(try status(["sub": .string("admin ")]), 401, "trailing space would be trimmed upstream")
        XCTAssertEqual(try status(["sub": .string(" admin")]), 401)
        XCTAssertEqual(try status(["sub": .string("ad\tmin")]), 401)
        XCTAssertEqual(try status(["scp": .array([.string("x admin")])]), 401, "one scp item would read as two scopes")
        XCTAssertEqual(try status(["email": .array([.string("a@x"), .string("b@x")])]), 200)
        XCTAssertEqual(try status(["email": .array([.string("a@x,b@x")])]), 401, "an item holding the list separator")
        XCTAssertEqual(try status(["sub": .string("user 42")]), 200, "inner spaces are kept as they are")
    }

    func testMethodsThatCouldSlipPastMethodRoutesAreRefused() throws {
        XCTAssertEqual(refusal(decide(head("get", "/status")))?.status, 400)
        let trace = refusal(decide(head("TRACE", "/status")))
        XCTAssertEqual(trace?.status, 405)
        XCTAssertNotNil(trace?.fields.first { $0.name == "Allow" })
        XCTAssertNotNil(plan(decide(head("PURGE", "/status"))), "other uppercase extension methods are routed")
    }

    func testTabAfterBearerIsInvalidRequestAndProxyAuthorizationIsNotForwarded() throws {
        let token = Fixtures.token("valid-RS256")
        XCTAssertEqual(refusal(decide(head("GET", "/orders/1", [("Authorization", "Bearer\t" + token)])))?.status, 400)
        guard let p = plan(decide(head("GET", "/status", [("Proxy-Authorization", "Basic eDp5")]))) else { return }
        XCTAssertEqual(field(p, "Proxy-Authorization"), [])
    }
}
