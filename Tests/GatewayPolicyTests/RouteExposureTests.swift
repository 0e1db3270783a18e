import GatewayPolicy
import XCTest

/// Route orders that would serve a protected route's requests without a token.
final class RouteExposureTests: XCTestCase {
    static func yaml(_ routes: String) -> String {
        """
        listen: {address: 0.0.0.0:80}
        issuers: [{name: corp, issuer: "https://corp", audiences: [a], algorithms: [RS256], jwks_file: j.json}]
        upstreams: {u: {url: "http://u"}}
        routes:
        \(routes)
        """
    }

    func config(_ routes: String, file: StaticString = #filePath, line: UInt = #line) throws -> GatewayConfig {
        try ConfigLoader.parse(yaml: Self.yaml(routes), path: "gw.yml", environment: [:])
    }

    func errors(_ routes: String) -> [String] {
        do {
            _ = try ConfigLoader.parse(yaml: Self.yaml(routes), path: "gw.yml", environment: [:])
            XCTFail("expected errors")
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    func testProtectedRouteShadowedByAnEarlierPublicRouteIsAnError() {
        XCTAssertEqual(errors("""
              - {name: all, match: {path_prefix: /}, upstream: u, auth: public}
              - {name: admin, match: {path_prefix: /admin}, upstream: u, auth: {issuers: [corp]}}
            """), [
            "gw.yml:6:5: route `admin` is protected but can never match: public route `all` before it matches every request it would, so those requests are served without a token (move `admin` before `all`)",
        ])
        // A universal regex, an exact path under a prefix, a regex run on an exact path, hosts.
        XCTAssertEqual(errors("""
              - {name: any, match: {path_regex: "/.*", host: "*.example.com"}, upstream: u, auth: public}
              - {name: a, match: {path: /a, host: api.example.com}, upstream: u, auth: {issuers: [corp]}}
              - {name: num, match: {path_regex: "/n/[0-9]+"}, upstream: u, auth: public}
              - {name: n1, match: {path: /n/1, methods: [GET]}, upstream: u, auth: {issuers: [corp]}}
            """).count, 2)
    }

    func testShadowingIsClaimedOnlyWhenProvable() throws {
        // A regex before a prefix, a method subset, another host, a case-insensitive later route:
        // not provably shadowed, so neither an error nor a "can never match" warning.
        let c = try config("""
              - {name: re, match: {path_regex: "/admin.*"}, upstream: u, auth: public}
              - {name: admin, match: {path_prefix: /admin}, upstream: u, auth: {issuers: [corp]}}
              - {name: get, match: {path_prefix: /g, methods: [GET]}, upstream: u, auth: public}
              - {name: g, match: {path_prefix: /g}, upstream: u, auth: {issuers: [corp]}}
              - {name: h, match: {path_prefix: /h, host: a.example.com}, upstream: u, auth: public}
              - {name: h2, match: {path_prefix: /h, host: b.example.com}, upstream: u, auth: {issuers: [corp]}}
              - {name: c, match: {path_prefix: /c}, upstream: u, auth: public}
              - {name: c2, match: {path_prefix: /C, case_insensitive: true}, upstream: u, auth: {issuers: [corp]}}
            """)
        XCTAssertFalse(c.warnings.contains { $0.contains("can never match") }, "\(c.warnings)")
    }

    func testMethodFallThroughToAPublicRouteWarnsNamingMethodsAndPaths() throws {
        let c = try config("""
              - {name: admin-read, match: {path_prefix: /admin, methods: [GET]}, upstream: u, auth: {issuers: [corp]}}
              - {name: all, match: {path_prefix: /}, upstream: u, auth: public}
            """)
        let message = "route `admin-read` is protected only for GET: requests with any method except GET to `/admin*` reach public route `all` without a token (list the methods on a protected route before `all`, or narrow `all`)"
        XCTAssertEqual(c.warnings, ["gw.yml:5:5: warning: " + message])
        XCTAssertEqual(c.strictWarnings.map(\.description), ["gw.yml:5:5: " + message])
    }

    func testFallThroughNamesOnlyTheMethodsThatLeak() throws {
        let c = try config("""
              - {name: read, match: {path: /doc, methods: [GET, HEAD]}, upstream: u, auth: {issuers: [corp]}}
              - {name: write, match: {path: /doc, methods: [PUT]}, upstream: u, auth: {issuers: [corp]}}
              - {name: open, match: {path_regex: "/d.c", methods: [GET, POST, PUT, PROPFIND]}, upstream: u, auth: public}
            """)
        // GET and PUT are taken by the protected routes before `open`; POST and PROPFIND are not.
        XCTAssertEqual(c.strictWarnings.map(\.message), [
            "route `read` is protected only for GET, HEAD: POST, PROPFIND requests to `/doc` reach public route `open` without a token (list the methods on a protected route before `open`, or narrow `open`)",
            "route `write` is protected only for PUT: POST, PROPFIND requests to `/doc` reach public route `open` without a token (list the methods on a protected route before `open`, or narrow `open`)",
        ])
    }

    func testNoFallThroughWarningWhenCoveredOrDisjoint() throws {
        // The repository example's shape: read and write routes together cover the methods
        // the public route would take; a public route on other paths; a protected route for
        // every method; a later protected catch-all for the same paths before the public one.
        let c = try config("""
              - {name: status, match: {path: /status}, upstream: u, auth: public}
              - {name: w, match: {path_prefix: /orders, methods: [POST, PUT]}, upstream: u, auth: {issuers: [corp]}}
              - {name: r, match: {path_prefix: /orders, methods: [GET]}, upstream: u, auth: {issuers: [corp]}}
              - {name: rest, match: {path_prefix: /orders}, upstream: u, auth: {issuers: [corp]}}
              - {name: x, match: {path_prefix: /x, methods: [GET]}, upstream: u, auth: {issuers: [corp]}}
              - {name: y, match: {path_prefix: /y}, upstream: u, auth: public}
              - {name: all, match: {path_prefix: /}, upstream: u, auth: public}
            """)
        XCTAssertEqual(c.strictWarnings.map(\.message).filter { $0.contains("`w`") || $0.contains("`r`") }, [])
        XCTAssertEqual(c.strictWarnings.count, 1)  // x: the catch-all `all` takes its other methods
        XCTAssertTrue(c.strictWarnings[0].message.hasPrefix("route `x` is protected only for GET"))
    }

    func testAnEarlierPublicRouteTakingSomeMethodsOfAllItsPathsWarns() throws {
        let c = try config("""
              - {name: health, match: {path: /admin/health}, upstream: u, auth: public}
              - {name: reads, match: {path_prefix: /, methods: [GET, HEAD]}, upstream: u, auth: public}
              - {name: admin, match: {path_prefix: /admin}, upstream: u, auth: {issuers: [corp]}}
              - {name: posts, match: {path_prefix: /p, methods: [POST]}, upstream: u, auth: {issuers: [corp]}}
            """)
        // `health` covers only part of `/admin*` (a deliberate exception); `reads` takes GET
        // and HEAD on every path. `posts` shares no method with `reads`, so it is not
        // shadowed; its other methods falling through to `reads` are reported as such.
        XCTAssertEqual(c.strictWarnings.map(\.description), [
            "gw.yml:7:5: route `admin` is protected, but public route `reads` before it takes its GET, HEAD requests to `/admin*` without a token (move `admin` before `reads`)",
            "gw.yml:8:5: route `posts` is protected only for POST: GET, HEAD requests to `/p*` reach public route `reads` without a token (list the methods on a protected route before `reads`, or narrow `reads`)",
        ])
    }

    func testAPublicCarveOutInsideAProtectedRouteIsNotAFallThrough() throws {
        let c = try config("""
              - {name: login, match: {path: /admin/login, methods: [POST]}, upstream: u, auth: public}
              - {name: admin, match: {path_prefix: /admin, methods: [GET]}, upstream: u, auth: {issuers: [corp]}}
              - {name: status, match: {path: /admin/status}, upstream: u, auth: public}
            """)
        XCTAssertEqual(c.strictWarnings, [])
        XCTAssertEqual(c.warnings, [])
    }

    func testProtectedPrefixWithTrailingSlashWarns() throws {
        let c = try config("""
              - {name: admin, match: {path_prefix: /admin/}, upstream: u, auth: {issuers: [corp]}}
              - {name: api, match: {path_prefix: /api/}, upstream: u, auth: {issuers: [corp]}}
              - {name: api-root, match: {path: /api}, upstream: u, auth: {issuers: [corp]}}
            """)
        XCTAssertEqual(c.warnings, [
            "gw.yml:5:5: warning: route `admin`: `path_prefix: /admin/` does not cover `/admin` itself (requests for it go on to later routes); write `path_prefix: /admin` to protect `/admin` and `/admin/...`",
        ])
        XCTAssertEqual(c.strictWarnings, [])
    }
}
