import Foundation
import GatewayHTTP
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// Token sources, the cross-site request guard, the login redirect and CORS
/// (docs/browser-apps.md), through the real gateway binary, with the recording upstream
/// showing what was and was not forwarded.
final class BrowserIntegrationTests: XCTestCase {
    var upstream: RecordingUpstream!
    var gateway: GatewayProcess!
    let token = Fixtures.token("valid-RS256")
    static let app = "https://app.example.com"

    static func config(upstreamPort: Int) -> String {
        """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: test
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
        upstreams:
          main: {url: "http://127.0.0.1:\(upstreamPort)", connect_timeout: 2s, timeout: 5s}
        routes:
          - name: app
            match: {path_prefix: /app}
            upstream: main
            auth:
              issuers: [test]
              token_from: [authorization, {cookie: access_token}]
              csrf_origins: [\(app)]
              login_url: https://login.example.com/start?rd={url}
            cors:
              allowed_origins: [\(app)]
              allowed_methods: [GET, POST, DELETE]
              allowed_headers: [Content-Type, X-Trace]
              expose_headers: [X-Request-Id]
              max_age: 10m
              allow_credentials: true
          - name: fwd
            match: {path_prefix: /fwd}
            upstream: main
            auth: {issuers: [test], token_from: [{cookie: access_token}], forward_token: true}
          - name: hdr
            match: {path_prefix: /hdr}
            upstream: main
            auth: {issuers: [test], token_from: [{header: X-Access-Token}]}
          - name: plain
            match: {path_prefix: /plain}
            upstream: main
            auth: {issuers: [test]}
        """
    }

    override func setUpWithError() throws {
        upstream = try RecordingUpstream { req in
            if req.target.hasPrefix("/app/cors") {
                // An upstream with its own (wider) CORS answer: the gateway's replaces it.
                return .ok("upstream says hi", fields: [
                    HTTPField(name: "Access-Control-Allow-Origin", value: "*"),
                    HTTPField(name: "Access-Control-Allow-Methods", value: "PUT, PATCH"),
                    HTTPField(name: "access-control-allow-headers", value: "*"),
                    HTTPField(name: "Vary", value: "Accept-Encoding"),
                ])
            }
            return .ok("hello from upstream\n")
        }
        do {
            gateway = try GatewayProcess(config: Self.config(upstreamPort: upstream.port))
        } catch {
            upstream.stop()
            throw error
        }
    }

    override func tearDown() {
        gateway?.stop()
        upstream?.stop()
    }

    /// One request on a new connection, `Host: api.test` first.
    func request(_ method: String, _ target: String, _ headers: [(String, String)] = [],
                 body: String? = nil) throws -> RawResponse {
        let c = try RawHTTPClient(port: gateway.port)
        try c.send(Self.text(method, target, headers, body: body))
        return try c.readResponse(headRequest: method == "HEAD")
    }

    static func text(_ method: String, _ target: String, _ headers: [(String, String)], body: String? = nil) -> String {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: api.test\r\n"
        for (n, v) in headers { text += "\(n): \(v)\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        return text + "\r\n" + (body ?? "")
    }

    func accessControlFields(_ r: RawResponse) -> [String] {
        r.fields.filter { $0.name.lowercased().hasPrefix("access-control-") }.map { "\($0.name): \($0.value)" }
    }

    func errorCode(_ r: RawResponse) -> String? {
        string((try? JSONReader.parse(r.body))?[member: "error"])
    }

    func string(_ v: JSONValue?) -> String? {
        if case .string(let s)? = v { return s }
        return nil
    }

    // MARK: Token sources

    func testCookieTokenIsAcceptedAndOnlyTheTokenCookieIsRemovedOthersInOrder() throws {
        let r = try request("GET", "/app/orders", [("Cookie", "theme=dark; access_token=\(token); lang=\"en\"; z=9"),
                                                   ("Cookie", "later=1")])
        XCTAssertEqual(r.status, 200, r.bodyText)
        let got = try XCTUnwrap(upstream.requests.last)
        XCTAssertEqual(got.values("Cookie"), ["theme=dark; lang=\"en\"; z=9", "later=1"])
        XCTAssertEqual(got.values("X-Auth-Subject"), ["user-42"])
        XCTAssertFalse(got.fields.contains { $0.value.contains(token) }, "the token reached the upstream")

        // The token cookie alone: no `Cookie` field is left to forward.
        XCTAssertEqual(try request("GET", "/app/orders", [("Cookie", "access_token=\(token)")]).status, 200)
        XCTAssertEqual(upstream.requests.last?.values("Cookie"), [])
        XCTAssertEqual(upstream.requests.count, 2)
    }

    func testForwardTokenKeepsTheCookie() throws {
        let r = try request("GET", "/fwd/x", [("Cookie", "a=1; access_token=\(token); b=2")])
        XCTAssertEqual(r.status, 200, r.bodyText)
        XCTAssertEqual(upstream.requests.last?.values("Cookie"), ["a=1; access_token=\(token); b=2"])
        // An `Authorization` field is not a source there: not read, and never forwarded.
        let both = try request("GET", "/fwd/x", [("Cookie", "access_token=\(token)"), ("Authorization", "Bearer junk")])
        XCTAssertEqual(both.status, 200, both.bodyText)
        XCTAssertEqual(upstream.requests.last?.values("Authorization"), [])
    }

    func testCustomHeaderSourceIsReadAndRemoved() throws {
        let r = try request("GET", "/hdr/x", [("X-Access-Token", token), ("Authorization", "Bearer \(token)")])
        XCTAssertEqual(r.status, 200, r.bodyText)
        let got = try XCTUnwrap(upstream.requests.last)
        XCTAssertEqual(got.values("X-Access-Token"), [])
        XCTAssertEqual(got.values("Authorization"), [])
        XCTAssertEqual(got.values("X-Auth-Subject"), ["user-42"])
        // Only `Authorization` on a header-only route: no token at all.
        let unlisted = try request("GET", "/hdr/x", [("Authorization", "Bearer \(token)")])
        XCTAssertEqual(unlisted.status, 401)
        XCTAssertEqual(unlisted.header("WWW-Authenticate"), "Bearer realm=\"gateway\"")
        XCTAssertEqual(upstream.requests.count, 1)
    }

    func testTwoTokensARepeatedCookieOrARepeatedHeaderAre400() throws {
        let cases: [(String, String, [(String, String)])] = [
            ("two sources", "/app/x", [("Authorization", "Bearer \(token)"), ("Cookie", "access_token=\(token)")]),
            ("cookie twice in one field", "/app/x", [("Cookie", "access_token=\(token); access_token=\(token)")]),
            ("cookie twice across fields", "/app/x", [("Cookie", "access_token=\(token)"), ("Cookie", "access_token=x")]),
            ("header twice", "/hdr/x", [("X-Access-Token", token), ("x_access_token", token)]),
            ("malformed cookie", "/app/x", [("Cookie", "access_token=a b")]),
        ]
        for (name, target, headers) in cases {
            let r = try request("GET", target, headers)
            XCTAssertEqual(r.status, 400, name)
            XCTAssertEqual(errorCode(r), "invalid_request", name)
            XCTAssertEqual(r.header("WWW-Authenticate"), "Bearer realm=\"gateway\", error=\"invalid_request\"", name)
        }
        XCTAssertEqual(upstream.requests.count, 0)
    }

    // MARK: Cross-site request guard

    func testCrossSiteGuardOnCookieTokens() throws {
        let cookie = ("Cookie", "access_token=\(token)")
        let cases: [(String, [(String, String)], Int)] = [
            ("no Origin, no Sec-Fetch-Site", [cookie], 403),
            ("foreign Origin", [cookie, ("Origin", "https://evil.example")], 403),
            ("listed Origin", [cookie, ("Origin", Self.app)], 200),
            ("listed Origin, other case", [cookie, ("Origin", "HTTPS://App.Example.com")], 200),
            ("listed Origin, default port spelled out", [cookie, ("Origin", "https://app.example.com:443")], 200),
            ("port mismatch", [cookie, ("Origin", "https://app.example.com:8443")], 403),
            ("scheme mismatch", [cookie, ("Origin", "http://app.example.com")], 403),
            ("own origin", [cookie, ("Origin", "http://api.test")], 200),
            ("own origin over https (the listener is plain HTTP)", [cookie, ("Origin", "https://api.test")], 403),
            ("null Origin", [cookie, ("Origin", "null")], 403),
            ("two Origin fields", [cookie, ("Origin", Self.app), ("Origin", Self.app)], 403),
            ("Sec-Fetch-Site same-origin", [cookie, ("Sec-Fetch-Site", "same-origin")], 200),
            ("Sec-Fetch-Site same-site", [cookie, ("Sec-Fetch-Site", "same-site")], 403),
            ("Sec-Fetch-Site cross-site", [cookie, ("Sec-Fetch-Site", "cross-site")], 403),
            ("Sec-Fetch-Site none", [cookie, ("Sec-Fetch-Site", "none")], 403),
            ("foreign Origin with Sec-Fetch-Site same-origin",
             [cookie, ("Origin", "https://evil.example"), ("Sec-Fetch-Site", "same-origin")], 403),
        ]
        var forwarded = 0
        for (name, headers, status) in cases {
            let r = try request("POST", "/app/orders", headers, body: "{}")
            XCTAssertEqual(r.status, status, name)
            if status == 403 {
                XCTAssertEqual(r.bodyText, "{\"error\":\"csrf\",\"error_description\":\"cross-site request refused\"}", name)
                XCTAssertNil(r.header("WWW-Authenticate"), name)
            } else {
                forwarded += 1
            }
            XCTAssertEqual(upstream.requests.count, forwarded, name)
        }
        // Safe methods and tokens a browser does not attach by itself are not guarded.
        XCTAssertEqual(try request("GET", "/app/x", [cookie, ("Origin", "https://evil.example")]).status, 200)
        XCTAssertEqual(try request("DELETE", "/app/x", [("Authorization", "Bearer \(token)"),
                                                        ("Origin", "https://evil.example")]).status, 200)
        XCTAssertEqual(upstream.requests.count, forwarded + 2)
    }

    // MARK: Login redirect

    func testLoginRedirectForBrowserNavigationsOnly() throws {
        let nav = try request("GET", "/app/reports?q=1&x=a b".replacingOccurrences(of: " ", with: "%20"),
                              [("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")])
        XCTAssertEqual(nav.status, 302)
        XCTAssertEqual(nav.header("Location"),
                       "https://login.example.com/start?rd=http%3A%2F%2Fapi.test%2Fapp%2Freports%3Fq%3D1%26x%3Da%2520b")
        XCTAssertEqual(nav.header("Cache-Control"), "no-store")
        XCTAssertNil(nav.header("WWW-Authenticate"))
        for (name, method, headers) in [("json", "GET", [("Accept", "application/json")]),
                                        ("any", "GET", [("Accept", "*/*")]),
                                        ("no Accept", "GET", []),
                                        ("html refused by q=0", "GET", [("Accept", "text/html;q=0")]),
                                        ("POST", "POST", [("Accept", "text/html"), ("Origin", Self.app)])] {
            let r = try request(method, "/app/reports", headers, body: method == "POST" ? "" : nil)
            XCTAssertEqual(r.status, 401, name)
            XCTAssertEqual(r.header("WWW-Authenticate"), "Bearer realm=\"gateway\"", name)
            XCTAssertNil(r.header("Location"), name)
        }
        // Only "no token at all" redirects: a bad token keeps its 401.
        let bad = try request("GET", "/app/reports", [("Accept", "text/html"), ("Cookie", "access_token=\(Fixtures.token("expired"))")])
        XCTAssertEqual(bad.status, 401)
        XCTAssertEqual(upstream.requests.count, 0)
    }

    // MARK: CORS

    func testAllowedPreflightIsAnsweredWithoutTokenOrUpstreamAndKeepsTheConnection() throws {
        let c = try RawHTTPClient(port: gateway.port)
        try c.send(Self.text("OPTIONS", "/app/orders", [("Origin", Self.app), ("Access-Control-Request-Method", "POST"),
                                                         ("Access-Control-Request-Headers", "content-type,x-trace")]))
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 204)
        XCTAssertEqual(accessControlFields(r), [
            "Access-Control-Allow-Origin: https://app.example.com",
            "Access-Control-Allow-Credentials: true",
            "Access-Control-Allow-Methods: GET, POST, DELETE",
            "Access-Control-Allow-Headers: Content-Type, X-Trace",
            "Access-Control-Max-Age: 600",
        ])
        XCTAssertEqual(r.header("Vary"), "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
        XCTAssertNil(r.header("Content-Length"))
        XCTAssertNil(r.header("Connection"))
        XCTAssertEqual(r.body, [])
        // The actual request follows on the same connection, as a browser sends it.
        try c.send(Self.text("POST", "/app/orders", [("Origin", Self.app), ("Cookie", "access_token=\(token)"),
                                                      ("Content-Type", "application/json")], body: "{}"))
        let actual = try c.readResponse()
        XCTAssertEqual(actual.status, 200)
        XCTAssertEqual(actual.header("Access-Control-Allow-Origin"), Self.app)
        XCTAssertEqual(upstream.requests.map(\.method), ["POST"])
    }

    func testPipelinedPreflightsAndAPreflightWithContent() throws {
        // Two preflights and the actual request in one write: answered in order on one connection.
        let preflight = Self.text("OPTIONS", "/app/a", [("Origin", Self.app), ("Access-Control-Request-Method", "DELETE")])
        let c = try RawHTTPClient(port: gateway.port)
        try c.send(preflight + preflight + Self.text("DELETE", "/app/a", [("Origin", Self.app), ("Cookie", "access_token=\(token)")]))
        XCTAssertEqual(try c.readResponse().status, 204)
        XCTAssertEqual(try c.readResponse().status, 204)
        let actual = try c.readResponse()
        XCTAssertEqual(actual.status, 200)
        XCTAssertEqual(upstream.requests.map(\.method), ["DELETE"])
        // An HTTP/1.0 preflight gets its answer and the connection closes (no keep-alive asked).
        let old = try RawHTTPClient(port: gateway.port)
        try old.send("OPTIONS /app/a HTTP/1.0\r\nHost: api.test\r\nOrigin: \(Self.app)\r\nAccess-Control-Request-Method: GET\r\n\r\n")
        XCTAssertEqual(try old.readResponse().status, 204)
        XCTAssertTrue(old.isClosedByPeer())
        // A preflight with content: answered, then the connection is closed (its body is not read).
        let withBody = try RawHTTPClient(port: gateway.port)
        try withBody.send(Self.text("OPTIONS", "/app/a", [("Origin", Self.app), ("Access-Control-Request-Method", "GET")],
                                    body: "abc"))
        let r = try withBody.readResponse()
        XCTAssertEqual(r.status, 204)
        XCTAssertEqual(r.header("Connection"), "close")
        XCTAssertEqual(r.header("Access-Control-Allow-Origin"), Self.app)
        XCTAssertTrue(withBody.isClosedByPeer())
        XCTAssertEqual(upstream.requests.count, 1)
    }

    func testRefusedPreflightsAre403WithoutAccessControlFields() throws {
        let cases: [(String, [(String, String)])] = [
            ("foreign origin", [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "POST")]),
            ("null origin", [("Origin", "null"), ("Access-Control-Request-Method", "GET")]),
            ("method not listed", [("Origin", Self.app), ("Access-Control-Request-Method", "PUT")]),
            ("header not listed", [("Origin", Self.app), ("Access-Control-Request-Method", "POST"),
                                   ("Access-Control-Request-Headers", "content-type, x-secret")]),
        ]
        for (name, headers) in cases {
            let r = try request("OPTIONS", "/app/orders", headers + [("Cookie", "access_token=\(token)")])
            XCTAssertEqual(r.status, 403, name)
            XCTAssertEqual(accessControlFields(r), [], name)
            XCTAssertEqual(errorCode(r), "cors_refused", name)
        }
        XCTAssertEqual(upstream.requests.count, 0)
        // On a route without `cors` a preflight is an ordinary OPTIONS request: it needs a token...
        let plain = try request("OPTIONS", "/plain/x", [("Origin", Self.app), ("Access-Control-Request-Method", "GET")])
        XCTAssertEqual(plain.status, 401)
        XCTAssertEqual(upstream.requests.count, 0)
        // ...and with one it is forwarded like any method.
        let forwarded = try request("OPTIONS", "/plain/x", [("Origin", Self.app), ("Access-Control-Request-Method", "GET"),
                                                            ("Authorization", "Bearer \(token)")])
        XCTAssertEqual(forwarded.status, 200)
        XCTAssertEqual(upstream.requests.map(\.method), ["OPTIONS"])
    }

    func testActualResponsesCarryTheRoutesCORSFieldsInsteadOfTheUpstreams() throws {
        let r = try request("GET", "/app/cors", [("Origin", Self.app), ("Cookie", "access_token=\(token)")])
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.bodyText, "upstream says hi")
        XCTAssertEqual(accessControlFields(r), [
            "Access-Control-Allow-Origin: https://app.example.com",
            "Access-Control-Allow-Credentials: true",
            "Access-Control-Expose-Headers: X-Request-Id",
        ])
        XCTAssertEqual(r.fields.filter { $0.name.lowercased() == "vary" }.map(\.value), ["Accept-Encoding", "Origin"])

        // A foreign origin gets none of them (the upstream's `*` included), but `Vary: Origin`.
        let foreign = try request("GET", "/app/cors", [("Origin", "https://evil.example"), ("Cookie", "access_token=\(token)")])
        XCTAssertEqual(foreign.status, 200)
        XCTAssertEqual(accessControlFields(foreign), [])
        XCTAssertTrue(foreign.fields.contains { $0.name == "Vary" && $0.value == "Origin" })

        // The gateway's own refusals on the route: the page can read its 401.
        let refused = try request("GET", "/app/x", [("Origin", Self.app), ("Accept", "application/json")])
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(refused.header("Access-Control-Allow-Origin"), Self.app)
        XCTAssertEqual(refused.header("Access-Control-Allow-Credentials"), "true")
        let csrf = try request("POST", "/app/x", [("Origin", "https://evil.example"), ("Cookie", "access_token=\(token)")], body: "")
        XCTAssertEqual(csrf.status, 403)
        XCTAssertEqual(accessControlFields(csrf), [])
        // Routes without `cors` pass the upstream's fields through.
        XCTAssertEqual(upstream.requests.count, 2)
    }

    func testAccessLogReasons() throws {
        _ = try request("OPTIONS", "/app/x", [("Origin", Self.app), ("Access-Control-Request-Method", "GET")])
        _ = try request("OPTIONS", "/app/x", [("Origin", Self.app), ("Access-Control-Request-Method", "PUT")])
        _ = try request("POST", "/app/x", [("Cookie", "access_token=\(token)")], body: "")
        _ = try request("GET", "/app/x", [("Accept", "text/html")])
        var reasons: [String] = []
        for _ in 0..<100 {
            reasons = gateway.stdout.split(separator: "\n").filter { $0.contains("\"message\":\"request\"") }.compactMap {
                string((try? JSONReader.parse(Array($0.utf8)))?[member: "reason"])
            }
            if reasons.count >= 4 { break }
            usleep(20_000)
        }
        XCTAssertEqual(reasons, ["cors_preflight", "cors_preflight_refused", "csrf", "login_redirect"])
        let admin = try RawHTTPClient(port: gateway.adminPort)
        try admin.send("GET /metrics HTTP/1.1\r\nHost: admin\r\n\r\n")
        let metrics = try admin.readResponse().bodyText
        for line in ["gateway_auth_decisions_total{route=\"app\",decision=\"allow\",reason=\"cors_preflight\"} 1",
                     "gateway_auth_decisions_total{route=\"app\",decision=\"deny\",reason=\"cors_preflight_refused\"} 1",
                     "gateway_auth_decisions_total{route=\"app\",decision=\"deny\",reason=\"csrf\"} 1",
                     "gateway_auth_decisions_total{route=\"app\",decision=\"deny\",reason=\"login_redirect\"} 1"] {
            XCTAssertTrue(metrics.contains(line), line + "\n" + metrics)
        }
        XCTAssertFalse((gateway.stdout + gateway.stderr).contains(String(token.split(separator: ".")[2])))
    }
}
