import GatewayHTTP
import GatewayPolicy
import XCTest

/// `auth.token_from`, `auth.csrf_origins`, `auth.login_url` and a route's `cors`.
final class BrowserConfigTests: XCTestCase {
    static let head = """
        listen: {address: 0.0.0.0:80}
        issuers:
          - {name: corp, issuer: "https://corp", algorithms: [RS256], jwks_file: j.json}
        upstreams: {app: {url: "http://app"}}
        routes:

        """

    func parse(_ routes: String) throws(ConfigErrors) -> GatewayConfig {
        try ConfigLoader.parse(yaml: Self.head + routes, path: "gw.yml", environment: [:])
    }

    func errors(_ routes: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            _ = try parse(routes)
            XCTFail("expected errors", file: file, line: line)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    func requirements(_ config: GatewayConfig, _ index: Int = 0) -> AuthRequirements? {
        guard case .required(let req) = config.routes[index].auth else { return nil }
        return req
    }

    func testDefaultIsAuthorizationOnly() throws {
        let config = try parse("  - {name: a, match: {path: /a}, upstream: app, auth: {issuers: [corp]}}")
        XCTAssertEqual(requirements(config)?.browser.tokenFrom, [.authorization])
        XCTAssertEqual(requirements(config)?.browser.csrfOrigins, [])
        XCTAssertNil(requirements(config)?.browser.loginURL)
        XCTAssertNil(config.routes[0].cors)
        XCTAssertEqual(config.warnings, [])
    }

    func testAllKeys() throws {
        let config = try parse("""
              - name: app
                match: {path_prefix: /app}
                upstream: app
                auth:
                  issuers: [corp]
                  token_from:
                    - authorization
                    - cookie: access_token
                    - header: X-Access-Token
                  csrf_origins: [https://app.example.com, "http://localhost:3000"]
                  login_url: https://login.example.com/start?rd={url}
                cors:
                  allowed_origins: [https://app.example.com]
                  allowed_methods: [GET, post]
                  allowed_headers: [Authorization, Content-Type]
                  expose_headers: [X-Request-Id]
                  max_age: 10m
                  allow_credentials: true
            """)
        let browser = try XCTUnwrap(requirements(config)?.browser)
        XCTAssertEqual(browser.tokenFrom, [.authorization, .cookie("access_token"), .header("X-Access-Token")])
        XCTAssertEqual(browser.csrfOrigins, [Origin.parse("https://app.example.com")!, Origin.parse("http://localhost:3000")!])
        XCTAssertEqual(browser.loginURL, "https://login.example.com/start?rd={url}")
        let cors = try XCTUnwrap(config.routes[0].cors)
        XCTAssertEqual(cors.allowedOrigins, [Origin.parse("https://app.example.com")!])
        XCTAssertFalse(cors.anyOrigin)
        XCTAssertEqual(cors.allowedMethods, ["GET", "POST"])
        XCTAssertEqual(cors.allowedHeaders, ["Authorization", "Content-Type"])
        XCTAssertEqual(cors.exposeHeaders, ["X-Request-Id"])
        XCTAssertEqual(cors.maxAge, 600)
        XCTAssertTrue(cors.allowCredentials)
        // The listener is plain HTTP: the cookie cannot be `Secure`.
        XCTAssertEqual(config.warnings, [
            "gw.yml:11:7: warning: route `app` reads the token from a cookie on a plain-HTTP listener: browsers send a `Secure` cookie only over HTTPS, and a cookie that is not `Secure` can be read and set by anyone on the network",
        ])
    }

    func testCORSOnAPublicRouteWithDefaults() throws {
        let config = try parse("""
              - {name: p, match: {path: /p}, upstream: app, auth: public, cors: {allowed_origins: ["*"]}}
            """)
        let cors = try XCTUnwrap(config.routes[0].cors)
        XCTAssertTrue(cors.anyOrigin)
        XCTAssertEqual(cors.allowedMethods, ["GET", "HEAD", "POST"])
        XCTAssertNil(cors.maxAge)
        XCTAssertFalse(cors.allowCredentials)
    }

    func testTokenFromErrors() {
        XCTAssertEqual(errors("""
              - name: a
                match: {path: /a}
                upstream: app
                auth:
                  issuers: [corp]
                  token_from:
                    - authorisation
                    - cookie: "bad name"
                    - header: Cookie
                    - header: Authorization
                    - header: "X Token"
                    - {cookie: a, header: b}
                    - query: token
                    - header: Transfer_Encoding
                    - cookie: t
                    - cookie: t
                    - header: X-T
                    - header: x_t
              - {name: b, match: {path: /b}, upstream: app, auth: {issuers: [corp], token_from: []}}
            """), [
                "gw.yml:12:11: `routes[0].auth.token_from[0]` must be `authorization`, `cookie: NAME` or `header: NAME`, not `authorisation`; did you mean `authorization`?",
                "gw.yml:13:19: `routes[0].auth.token_from[1].cookie`: `bad name` is not a valid cookie name",
                "gw.yml:14:19: `routes[0].auth.token_from[2].header`: `Cookie` cannot carry a token",
                "gw.yml:15:19: `routes[0].auth.token_from[3].header`: `Authorization` cannot carry a token (use `authorization`)",
                "gw.yml:16:19: `routes[0].auth.token_from[4].header`: `X Token` is not a valid header field name",
                "gw.yml:17:11: `routes[0].auth.token_from[5]` must hold exactly one of `cookie` or `header`",
                "gw.yml:18:11: unknown key `query` in `routes[0].auth.token_from[6]`",
                "gw.yml:19:19: `routes[0].auth.token_from[7].header`: `Transfer_Encoding` cannot carry a token",
                "gw.yml:21:11: `routes[0].auth.token_from[9]`: `cookie: t` is listed twice",
                "gw.yml:23:11: `routes[0].auth.token_from[11]`: `header: x_t` is listed twice",
                "gw.yml:24:85: `routes[1].auth.token_from` must list at least one token source",
            ])
    }

    func testOriginAndLoginURLErrors() {
        XCTAssertEqual(errors("""
              - name: a
                match: {path: /a}
                upstream: app
                auth:
                  issuers: [corp]
                  token_from: [{cookie: t}]
                  csrf_origins: [app.example.com, "https://a.test/path", "null", "ftp://a.test", "https://a.test:99999"]
                  login_url: /login
              - {name: b, match: {path: /b}, upstream: app, auth: {issuers: [corp], login_url: "https://user@x/"}}
              - {name: c, match: {path: /c}, upstream: app, auth: {issuers: [corp], login_url: "https://x/a b"}}
            """), [
                "gw.yml:12:22: `routes[0].auth.csrf_origins[0]`: `app.example.com` is not an origin (`https://host` or `https://host:port`, nothing after it)",
                "gw.yml:12:39: `routes[0].auth.csrf_origins[1]`: `https://a.test/path` is not an origin (`https://host` or `https://host:port`, nothing after it)",
                "gw.yml:12:62: `routes[0].auth.csrf_origins[2]`: `null` is not an origin (`https://host` or `https://host:port`, nothing after it)",
                "gw.yml:12:70: `routes[0].auth.csrf_origins[3]`: `ftp://a.test` is not an origin (`https://host` or `https://host:port`, nothing after it)",
                "gw.yml:12:86: `routes[0].auth.csrf_origins[4]`: `https://a.test:99999` is not an origin (`https://host` or `https://host:port`, nothing after it)",
                "gw.yml:13:18: `routes[0].auth.login_url`: must be an absolute http:// or https:// URL",
                "gw.yml:14:84: `routes[1].auth.login_url`: must name a host (`https://login.example.com/...`), without userinfo",
                "gw.yml:15:84: `routes[2].auth.login_url`: must not hold spaces, control or non-ASCII characters",
            ])
    }

    func testOriginWithTrailingSlashWarnsAndCSRFWithoutCookieWarns() throws {
        let config = try parse("""
              - name: a
                match: {path: /a}
                upstream: app
                auth: {issuers: [corp], csrf_origins: ["https://app.example.com/"]}
            """)
        XCTAssertEqual(requirements(config)?.browser.csrfOrigins, [Origin.parse("https://app.example.com")!])
        XCTAssertEqual(config.warnings, [
            "gw.yml:9:44: warning: `routes[0].auth.csrf_origins[0]`: `https://app.example.com/` is a URL, not an origin; read as `https://app.example.com`",
            "gw.yml:6:5: warning: route `a`: `csrf_origins` has no effect without a cookie in `token_from`",
        ])
    }

    func testForwardedTokenFieldThatLooksLikeAnIdentityHeaderWarns() throws {
        let config = try parse("""
              - name: a
                match: {path: /a}
                upstream: app
                auth: {issuers: [corp], forward_token: true, token_from: [{header: X_Auth_Token}, {header: X-Token}]}
            """)
        XCTAssertEqual(config.warnings, [
            "gw.yml:9:50: warning: route `a`: token field `X_Auth_Token` looks like an identity header and is removed before forwarding, `forward_token` notwithstanding",
        ])
        let quiet = try parse("""
              - {name: a, match: {path: /a}, upstream: app, auth: {issuers: [corp], token_from: [{header: X-Auth-Token}]}}
            """)
        XCTAssertEqual(quiet.warnings, [])
    }

    func testCORSErrors() {
        XCTAssertEqual(errors("""
              - name: a
                match: {path: /a}
                upstream: app
                auth: public
                cors: {allowed_origins: ["*"], allow_credentials: true}
              - name: b
                match: {path: /b}
                upstream: app
                auth: public
                cors:
                  allowed_origins: ["*", https://a.test]
                  allowed_methods: ["*"]
                  allowed_headers: ["*", "X Y"]
                  max_age: soon
                  origins: []
              - {name: c, match: {path: /c}, upstream: app, auth: public, cors: {allowed_methods: []}}
            """), [
                "gw.yml:10:36: `routes[0].cors`: `allowed_origins: [\"*\"]` cannot be used with `allow_credentials: true`; list the origins",
                "gw.yml:16:25: `routes[1].cors.allowed_origins`: `*` allows every origin and cannot be listed with others",
                "gw.yml:17:25: `routes[1].cors.allowed_methods[0]`: `*` is not a method (wildcards are not supported)",
                "gw.yml:18:25: `routes[1].cors.allowed_headers[0]`: `*` is not a header field name (wildcards are not supported)",
                "gw.yml:18:30: `routes[1].cors.allowed_headers[1]`: `X Y` is not a header field name (wildcards are not supported)",
                "gw.yml:19:16: invalid duration `soon` for `routes[1].cors.max_age`: expected a number followed by ms, s, m or h",
                "gw.yml:20:7: unknown key `origins` in `routes[1].cors`",
                "gw.yml:21:69: missing required key `allowed_origins` in `routes[2].cors`",
                "gw.yml:21:87: `routes[2].cors.allowed_methods` must not be empty",
            ])
    }
}
