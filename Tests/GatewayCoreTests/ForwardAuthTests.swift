import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// The decision listener's answers without sockets: the original request read from each
/// ingress's header convention (and the fallbacks), decided by the proxy listener's pipeline;
/// identity fields as the answer, the proxy listener's refusals otherwise.
final class ForwardAuthTests: XCTestCase {
    static let yaml = """
        listen: {address: 127.0.0.1:0}
        decision: {address: 127.0.0.1:0}
        issuers:
          - name: test
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
        upstreams:
          orders: {url: "http://127.0.0.1:9/base"}
        identity:
          claims: {email: X-Auth-Email}
        routes:
          - name: status
            match: {path: /status}
            upstream: orders
            auth: public
          - name: hosted
            match: {host: app.example.com, path_prefix: /hosted}
            upstream: orders
            auth: public
          - name: rollout
            match: {path_prefix: /rollout}
            upstream: orders
            auth: {issuers: [test], scopes: [read:orders], mode: report_only}
          - name: orders-write
            match: {path_prefix: /orders, methods: [POST, DELETE]}
            upstream: orders
            auth: {issuers: [test], scopes: [write:orders]}
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

    func head(_ method: String = "GET", _ target: String = "/auth", _ fields: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(method: method, target: target, version: .http11,
                        fields: fields.map { HTTPField(name: $0.0, value: $0.1) },
                        framing: .none, keepAlive: true, expectsContinue: false)
    }

    func decide(_ h: HTTPRequestHead) -> ForwardAuthAnswer {
        let ctx = RequestContext(clientAddress: "127.0.0.1", now: Date().timeIntervalSince1970, makeRequestID: { "generated-id" })
        return ForwardAuth.decide(h, context: ctx, runtime: runtime)
    }

    func allowed(_ a: ForwardAuthAnswer, file: StaticString = #filePath, line: UInt = #line) -> [HTTPField]? {
        switch a {
        case .allow(let fields, _, _, _, _): return fields
        case .refuse(let r, _, _):
            XCTFail("refused: \(r.status) \(String(decoding: r.body, as: UTF8.self))", file: file, line: line)
        case .needsKeyRefresh: XCTFail("asked for a key refresh", file: file, line: line)
        case .needsIntrospection: XCTFail("asked for introspection", file: file, line: line)
        }
        return nil
    }

    func refused(_ a: ForwardAuthAnswer, file: StaticString = #filePath, line: UInt = #line) -> Refusal? {
        if case .refuse(let r, _, _) = a { return r }
        XCTFail("expected a refusal, got \(a)", file: file, line: line)
        return nil
    }

    func reader() throws -> String { try TestTokens.rs256(["scope": .string("read:orders"), "email": .string("u@example.test")]) }

    // MARK: Header conventions

    func testTraefikAndCaddyForwardedFields() throws {
        let token = try reader()
        let a = decide(head("GET", "/", [
            ("Host", "127.0.0.1:8081"), ("X-Forwarded-Method", "GET"), ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "api.example.com"), ("X-Forwarded-Uri", "/orders/7?x=1"),
            ("Authorization", "Bearer " + token),
        ]))
        guard let fields = allowed(a) else { return }
        XCTAssertEqual(fields.map(\.name), ["X-Auth-Subject", "X-Auth-Issuer", "X-Auth-Scopes", "X-Auth-Email"])
        XCTAssertEqual(fields.map(\.value), ["user-42", "https://issuer.test.example/", "read:orders", "u@example.test"])
        if case .allow(_, let route, _, let subject, _) = a {
            XCTAssertEqual(route, "orders")
            XCTAssertEqual(subject, "user-42")
        }
        // The original method, not the decision request's, picks the route: DELETE needs write:orders.
        let delete = decide(head("GET", "/", [("X-Forwarded-Method", "DELETE"), ("X-Forwarded-Uri", "/orders/7"),
                                              ("X-Forwarded-Host", "api.example.com"), ("Authorization", "Bearer " + token)]))
        XCTAssertEqual(refused(delete)?.status, 403)
    }

    func testNginxOriginalFieldsWithForwardedHostOrHost() throws {
        let token = try reader()
        let a = decide(head("GET", "/_gateway_auth", [
            ("Host", "api.example.com"), ("X-Original-Method", "GET"), ("X-Original-URI", "/orders/7"),
            ("Authorization", "Bearer " + token),
        ]))
        XCTAssertEqual(allowed(a)?.first { $0.name == "X-Auth-Subject" }?.value, "user-42")
        // The host comes from X-Forwarded-Host before Host: a host-restricted route sees it.
        let hosted = decide(head("GET", "/_gateway_auth", [
            ("Host", "127.0.0.1:8081"), ("X-Forwarded-Host", "app.example.com"), ("X-Original-Method", "GET"),
            ("X-Original-URI", "/hosted/page"),
        ]))
        XCTAssertNotNil(allowed(hosted))
        let otherHost = decide(head("GET", "/_gateway_auth", [
            ("Host", "app.example.com"), ("X-Forwarded-Host", "evil.example.com"), ("X-Original-Method", "GET"),
            ("X-Original-URI", "/hosted/page"),
        ]))
        XCTAssertEqual(refused(otherHost)?.status, 404)
    }

    func testEnvoyDecisionRequestItself() throws {
        let token = try reader()
        XCTAssertNotNil(allowed(decide(head("GET", "/orders/7", [("Host", "api.example.com"), ("Authorization", "Bearer " + token)]))))
        XCTAssertEqual(refused(decide(head("GET", "/orders/7", [("Host", "api.example.com")])))?.status, 401)
        XCTAssertEqual(refused(decide(head("POST", "/orders/7", [("Host", "api.example.com"), ("Authorization", "Bearer " + token)])))?.status,
                       403)
    }

    func testForwardedFieldsComeBeforeOriginalFields() throws {
        // Both present: the X-Forwarded-* convention is the one read.
        let a = decide(head("GET", "/", [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/orders/1"),
                                         ("X-Original-Method", "GET"), ("X-Original-URI", "/status")]))
        XCTAssertEqual(refused(a)?.status, 401)
        let b = decide(head("GET", "/status", [("X-Original-Method", "GET"), ("X-Original-URI", "/orders/1")]))
        XCTAssertEqual(refused(b)?.status, 401)
    }

    func testMissingMethodOrTargetIsBadRequest() throws {
        let cases: [[(String, String)]] = [
            [("X-Forwarded-Uri", "/status")],
            [("X-Forwarded-Method", "GET")],
            [("X-Original-URI", "/status")],
            [("X-Original-Method", "GET")],
            [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/status"), ("X-Forwarded-Uri", "/orders")],
            [("X-Forwarded-Method", ""), ("X-Forwarded-Uri", "/status")],
            [("X-Forwarded-Method", "G T"), ("X-Forwarded-Uri", "/status")],
            [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "")],
            [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "status")],
            [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "http://evil/status")],
            [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/status#frag")],
            [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/status"), ("X-Forwarded-Host", "a.example, b.example")],
            [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/status"), ("X-Forwarded-Proto", "gopher")],
        ]
        for fields in cases {
            let r = refused(decide(head("GET", "/status", fields)))
            XCTAssertEqual(r?.status, 400, "\(fields)")
            XCTAssertNil(r?.fields.first { $0.name == "WWW-Authenticate" }, "\(fields)")
        }
    }

    // MARK: Path tricks in the original target

    func testTargetsNotInNormalFormAreRefusedNotDecided() throws {
        // The ingress forwards the target as sent: the app behind it could route
        // /status/../orders/1 or /orders/%2e%2e/status differently from the normalised path,
        // so neither is decided, whichever way normalisation would have gone.
        for uri in ["/status/../orders/1", "/status/%2e%2e/orders/1", "//orders/1", "/./orders/1", "/orders/../status",
                    "/%73tatus", "/status/%7e", "/orders//1?x=1"] {
            let r = refused(decide(head("GET", "/", [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", uri)])))
            XCTAssertEqual(r?.status, 400, uri)
            XCTAssertEqual(r?.reason, .badPath("the original path is not in normal form; the app would get a different path than the one decided"), uri)
            XCTAssertNil(r?.fields.first { $0.name == "WWW-Authenticate" }, uri)
        }
        // The Envoy convention (the decision request's own target) is held to the same rule.
        XCTAssertEqual(refused(decide(head("GET", "/status/../orders/1", [])))?.status, 400)
        for uri in ["/status%2F..%2Forders/1", "/orders%2f1", "/status/..%5C..", "/../status", "/status;x=1", "/status%00",
                    "/%252e%252e/orders"] {
            let r = refused(decide(head("GET", "/", [("X-Original-Method", "GET"), ("X-Original-URI", uri)])))
            XCTAssertEqual(r?.status, 400, uri)
        }
        // Already-normal targets are decided: a query is kept as sent, percent-encodings of
        // reserved characters (uppercase hex) stay.
        XCTAssertNotNil(allowed(decide(head("GET", "/", [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/status?a=%2e%2e/../x")]))))
        XCTAssertEqual(refused(decide(head("GET", "/", [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/orders/a%20b%3A")])))?.status, 401)
        XCTAssertEqual(refused(decide(head("GET", "/", [("X-Forwarded-Method", "get"), ("X-Forwarded-Uri", "/status")])))?.status, 400)
        XCTAssertEqual(refused(decide(head("GET", "/", [("X-Forwarded-Method", "TRACE"), ("X-Forwarded-Uri", "/status")])))?.status, 405)
    }

    // MARK: Identity spoofing

    func testClientIdentityFieldsAreNeverEchoed() throws {
        let token = try reader()
        let spoofed: [(String, String)] = [
            ("X-Auth-Subject", "admin"), ("x_auth_subject", "admin"), ("X-Auth-Scopes", "write:orders"),
            ("X-Auth-Email", "ceo@example.test"), ("X-Auth-Role", "root"),
        ]
        let a = decide(head("GET", "/", [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/orders/1"),
                                         ("Authorization", "Bearer " + token)] + spoofed))
        guard let fields = allowed(a) else { return }
        XCTAssertEqual(fields.map(\.value), ["user-42", "https://issuer.test.example/", "read:orders", "u@example.test"])
        // Spoofed scopes do not authorize either.
        let write = decide(head("GET", "/", [("X-Forwarded-Method", "POST"), ("X-Forwarded-Uri", "/orders/1"),
                                             ("Authorization", "Bearer " + token)] + spoofed))
        XCTAssertEqual(refused(write)?.status, 403)
        // A public route answers with no identity field at all.
        let open = decide(head("GET", "/", [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/status")] + spoofed))
        XCTAssertEqual(allowed(open)?.count, 0)
    }

    // MARK: Refusals

    func testRefusalsAreTheProxyListenersRefusals() throws {
        let expired = try TestTokens.rs256(["scope": .string("read:orders"), "exp": .number(1000), "iat": .number(900)])
        let writer = try TestTokens.rs256(["scope": .string("write:orders")])
        let cases: [(String?, Int, String?)] = [
            (nil, 401, #"Bearer realm="gateway""#),
            (expired, 401, #"Bearer realm="gateway", error="invalid_token", error_description="token expired""#),
            (writer, 403, #"Bearer realm="gateway", error="insufficient_scope", scope="read:orders""#),
        ]
        for (token, status, challenge) in cases {
            var fields = [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/orders/1"), ("X-Forwarded-Host", "api.example.com")]
            var proxyFields = [("Host", "api.example.com")]
            if let token {
                fields.append(("Authorization", "Bearer " + token))
                proxyFields.append(("Authorization", "Bearer " + token))
            }
            guard let r = refused(decide(head("GET", "/", fields))) else { continue }
            XCTAssertEqual(r.status, status)
            XCTAssertEqual(r.fields.first { $0.name == "WWW-Authenticate" }?.value, challenge)
            // Byte for byte what the proxy listener answers for the same request.
            let ctx = RequestContext(clientAddress: "127.0.0.1", now: Date().timeIntervalSince1970, makeRequestID: { "id" })
            guard case .refuse(let proxy, _, _) = RequestPipeline.decide(head("GET", "/orders/1", proxyFields), context: ctx,
                                                                          runtime: runtime) else {
                XCTFail("the proxy listener allowed it")
                continue
            }
            XCTAssertEqual(r, proxy)
        }
    }

    func testReconstructedRequestDropsConventionFieldsAndFraming() throws {
        let h = HTTPRequestHead(method: "POST", target: "/auth", version: .http11, fields: [
            HTTPField(name: "Host", value: "gw"), HTTPField(name: "X-Forwarded-Method", value: "GET"),
            HTTPField(name: "X-Forwarded-Uri", value: "/a?b=c"), HTTPField(name: "X-Forwarded-Host", value: "api.example.com"),
            HTTPField(name: "X-Forwarded-Proto", value: "https"), HTTPField(name: "Content-Length", value: "5"),
            HTTPField(name: "Cookie", value: "a=b"),
        ], framing: .contentLength(5), keepAlive: true, expectsContinue: false)
        let r = try ForwardAuthRequest.reconstruct(h).get()
        XCTAssertEqual(r.convention, .forwardedHeaders)
        XCTAssertEqual(r.head.method, "GET")
        XCTAssertEqual(r.head.target, "/a?b=c")
        XCTAssertEqual(r.scheme, "https")
        XCTAssertEqual(r.head.framing, .none)
        XCTAssertEqual(r.head.fields, [HTTPField(name: "Host", value: "api.example.com"), HTTPField(name: "Cookie", value: "a=b")])
    }

    func testReportOnlyRouteAllowsAndReportsWhatItWouldRefuse() throws {
        let a = decide(head("GET", "/", [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/rollout/1"),
                                         ("X-Auth-Subject", "admin")]))
        guard case .allow(let fields, let route, _, let subject, let wouldDeny) = a else { return XCTFail("\(a)") }
        XCTAssertEqual(fields, [])
        XCTAssertEqual(route, "rollout")
        XCTAssertNil(subject)
        XCTAssertEqual(wouldDeny, .missingToken)
    }
}
