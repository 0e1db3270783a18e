import GatewayPolicy
import XCTest

/// `routes:` validation errors, several at once, and warnings.
final class RouteConfigTests: XCTestCase {
    func parse(_ yaml: String) throws(ConfigErrors) -> GatewayConfig {
        try ConfigLoader.parse(yaml: yaml, path: "gw.yml", environment: [:])
    }

    func errors(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            _ = try parse(yaml)
            XCTFail("expected errors", file: file, line: line)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    static let head = """
        listen: {address: 0.0.0.0:80}
        issuers:
          - {name: corp, issuer: "https://corp", algorithms: [RS256], jwks_file: j.json, roles_claim: realm.roles}
          - {name: other, issuer: "https://other", algorithms: [RS256], jwks_file: o.json}
        upstreams: {orders: {url: "http://orders"}, bad: {url: "ftp://x"}}

        """

    func testRouteErrorsAreAllReported() {
        XCTAssertEqual(errors(Self.head + """
            routes:
              - name: a
                match: {path: orders, host: "api.example.com:8080"}
                upstream: order
                auth: {issuers: [corpp], roles: [admin]}
              - name: a
                match: {path_prefix: /x, path_regex: "^/x"}
                upstream: orders
                auth: private
              - name: c
                match: {path_regex: "/(unclosed", methods: [GET, "BAD METHOD"]}
                upstream: nowhere
                strip_prefix: true
                auth: {issuers: [other], roles: [admin], claims: {tenant: [a]}, forward_token: maybe}
              - name: d
                match: {path: /d, case_insensitive: 1}
                upstream: bad
                strip_prefix: true
                auth: public
            """).filter { !$0.contains("not a valid regular expression") }, [
                "gw.yml:5:56: invalid URL `ftp://x` for `upstreams.bad.url`: scheme must be http or https",
                "gw.yml:8:19: `routes[0].match.path` must start with `/`",
                "gw.yml:8:33: `routes[0].match.host` must be a host name without port (e.g. `api.example.com`) or a wildcard like `*.example.com`, not `api.example.com:8080`",
                "gw.yml:9:15: unknown upstream `order`; did you mean `orders`?",
                "gw.yml:10:22: unknown issuer `corpp`; did you mean `corp`?",
                // Both routes named `a` have other errors: the name is compared all the same.
                "gw.yml:11:11: duplicate route name `a`",
                "gw.yml:12:30: `routes[1].match` has both `path_prefix` and `path_regex`; exactly one of `path`, `path_prefix` or `path_regex` is allowed",
                "gw.yml:14:11: `routes[1].auth` must be `public` or a mapping with `issuers`, not `private`",
                "gw.yml:16:54: `routes[2].match.methods[1]`: `BAD METHOD` is not a valid method",
                "gw.yml:17:15: unknown upstream `nowhere`",
                "gw.yml:18:5: `routes[2].strip_prefix` is only allowed with `match.path_prefix`",
                "gw.yml:19:30: `routes[2].auth.roles` needs `roles_claim` on issuer `other`",
                "gw.yml:19:63: `routes[2].auth.claims.tenant` must be a string, number or boolean, not a list",
                "gw.yml:19:84: `routes[2].auth.forward_token` must be true or false, not `maybe`",
                "gw.yml:21:41: `routes[3].match.case_insensitive` must be true or false, not `1`",
                "gw.yml:23:5: `routes[3].strip_prefix` is only allowed with `match.path_prefix`",
            ])
    }

    func testEmptyAuthIsNotPublic() {
        XCTAssertEqual(errors("""
            listen: {address: 0.0.0.0:80}
            upstreams: {u: {url: "http://u"}}
            routes:
              - name: r
                match: {path: /}
                upstream: u
                auth:
            """), ["gw.yml:7:10: `routes[0].auth` must be `public` or a mapping with `issuers`, not empty"])
    }

    func testInvalidRegexIsReportedAtItsScalar() {
        let all = errors(Self.head + """
            routes:
              - {name: r, match: {path_regex: "/(unclosed"}, upstream: orders, auth: public}
            """)
        XCTAssertEqual(all.count, 2, "\(all)")  // + the `bad` upstream
        XCTAssertEqual(all[1], "gw.yml:7:35: `routes[0].match.path_regex` is not a valid regular expression: expected ')'")
    }

    func testDuplicateRouteNameAndEmptyRoutes() {
        let tail = "\nupstreams: {u: {url: \"http://u\"}}\n"
        XCTAssertEqual(errors("listen: {address: 0.0.0.0:80}\nroutes: []" + tail),
                       ["gw.yml:2:9: `routes` must hold at least one route"])
        XCTAssertEqual(errors("""
            listen: {address: 0.0.0.0:80}
            upstreams: {u: {url: "http://u"}}
            routes:
              - {name: r, match: {path: /a}, upstream: u, auth: public}
              - {name: r, match: {path: /b}, upstream: u, auth: public}
            """), ["gw.yml:5:12: duplicate route name `r`"])
    }

    func testMatchValuesAreNormalised() throws {
        let config = try parse(Self.head.replacingOccurrences(of: ", bad: {url: \"ftp://x\"}", with: "") + """
            routes:
              - name: a
                match: {host: API.Example.COM, path_prefix: /Orders, methods: [get, Post], case_insensitive: true}
                upstream: orders
                strip_prefix: true
                auth:
                  issuers: [corp, other, corp]
                  scopes: [read]
                  any_scopes: [x, y]
                  roles: []
                  claims: {n: 3, f: 1.5, b: true, s: "true", t: acme}
                  forward_token: true
              - {name: b, match: {host: "*.Example.com", path_regex: "^/v[0-9]+/.*$"}, upstream: orders, auth: public}
            """)
        let a = config.routes[0]
        XCTAssertEqual(a.host, "api.example.com")
        XCTAssertEqual(a.methods, ["GET", "POST"])
        XCTAssertTrue(a.caseInsensitive)
        XCTAssertTrue(a.stripPrefix)
        guard case .prefix("/Orders") = a.path else { return XCTFail("\(a.path)") }
        var req = AuthRequirements(issuers: ["corp", "other"])
        req.scopes = ["read"]
        req.anyScopes = ["x", "y"]
        req.claims = [("n", .number(3)), ("f", .number(1.5)), ("b", .bool(true)), ("s", .string("true")), ("t", .string("acme"))]
        req.forwardToken = true
        XCTAssertEqual(a.auth, .required(req))
        XCTAssertEqual(config.routes[1].host, "*.example.com")
        guard case .regex(let source, _) = config.routes[1].path else { return XCTFail("\(config.routes[1].path)") }
        XCTAssertEqual(source, "^/v[0-9]+/.*$")
    }

    /// `auth.mode`: `enforce` is the default, `report_only` is read and listed as a warning at
    /// its route, anything else is an error with a suggestion.
    func testAuthModeIsReadWarnedAboutAndChecked() throws {
        let routes = """
            routes:
              - {name: plain, match: {path: /p}, upstream: orders, auth: {issuers: [corp]}}
              - {name: strict, match: {path: /s}, upstream: orders, auth: {issuers: [corp], mode: enforce}}
              - name: rollout
                match: {path: /r}
                upstream: orders
                auth: {issuers: [corp, other], mode: report_only}
            """
        let config = try parse(Self.head.replacingOccurrences(of: ", bad: {url: \"ftp://x\"}", with: "") + routes)
        let modes = config.routes.map { r -> AuthMode? in
            if case .required(let req) = r.auth { return req.mode }
            return nil
        }
        XCTAssertEqual(modes, [.enforce, .enforce, .reportOnly])
        XCTAssertEqual(config.warnings.filter { $0.contains("report") }, [
            "gw.yml:9:5: warning: route `rollout` is report-only (`auth.mode: report_only`): requests it would refuse for their token are forwarded without identity headers and logged as `would_deny`, not refused; set `mode: enforce` once the logs show no unexpected `would_deny`",
        ])
        XCTAssertEqual(errors(Self.head.replacingOccurrences(of: ", bad: {url: \"ftp://x\"}", with: "") + """
            routes:
              - {name: a, match: {path: /a}, upstream: orders, auth: {issuers: [corp], mode: report-only}}
              - {name: b, match: {path: /b}, upstream: orders, auth: {issuers: [corp], mode: []}}
            """), [
                "gw.yml:7:82: `routes[0].auth.mode` must be `enforce` or `report_only`, not `report-only`; did you mean `report_only`?",
                "gw.yml:8:82: `routes[1].auth.mode` must be a string, not a list",
            ])
    }

    func testShadowedRoutesAndUnusedIssuersAreWarnings() throws {
        let config = try parse("""
            listen: {address: 0.0.0.0:80}
            issuers:
              - {name: corp, issuer: "https://corp", algorithms: [RS256], jwks_file: j.json}
              - {name: unused, issuer: "https://unused", algorithms: [RS256], jwks_file: u.json}
            upstreams: {u: {url: "http://u"}}
            routes:
              - {name: orders, match: {path_prefix: /orders}, upstream: u, auth: {issuers: [corp]}}
              - {name: orders-item, match: {path: /orders/1}, upstream: u, auth: public}
              - {name: orders-sub, match: {path_prefix: /orders/admin, methods: [GET]}, upstream: u, auth: public}
              - {name: ordersx, match: {path_prefix: /ordersx}, upstream: u, auth: public}
              - {name: get-status, match: {path: /status, methods: [GET]}, upstream: u, auth: public}
              - {name: status, match: {path: /status}, upstream: u, auth: public}
              - {name: get-status-again, match: {path: /status, methods: [GET]}, upstream: u, auth: public}
              - {name: host-orders, match: {host: a.example.com, path: /orders}, upstream: u, auth: public}
              - {name: ci, match: {path: /ORDERS/2, case_insensitive: true}, upstream: u, auth: public}
              - {name: wild, match: {host: "*.example.com", path_prefix: /w}, upstream: u, auth: public}
              - {name: wild-a, match: {host: a.example.com, path: /w/1}, upstream: u, auth: public}
              - {name: apex, match: {host: example.com, path: /w/1}, upstream: u, auth: public}
              - {name: host-only, match: {host: b.example.com, path: /h}, upstream: u, auth: public}
              - {name: any-host, match: {path: /h}, upstream: u, auth: public}
            """)
        XCTAssertEqual(config.routes.count, 14)
        XCTAssertEqual(config.warnings, [
            "gw.yml:8:5: warning: route `orders-item` can never match: route `orders` before it matches every request it would",
            "gw.yml:9:5: warning: route `orders-sub` can never match: route `orders` before it matches every request it would",
            "gw.yml:13:5: warning: route `get-status-again` can never match: route `get-status` before it matches every request it would",
            "gw.yml:14:5: warning: route `host-orders` can never match: route `orders` before it matches every request it would",
            "gw.yml:17:5: warning: route `wild-a` can never match: route `wild` before it matches every request it would",
            "gw.yml:4:67: warning: issuer `unused` is not used by any route",
        ])
    }
}
