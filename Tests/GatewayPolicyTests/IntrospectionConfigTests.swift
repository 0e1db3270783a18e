import GatewayPolicy
import XCTest

/// An issuer's `introspection:` and a route's `auth.introspect`.
final class IntrospectionConfigTests: XCTestCase {
    func parse(issuer extra: String, auth: String = "introspect: true", issuers: String = "[corp]") throws -> GatewayConfig {
        let yaml = """
            listen: {address: 127.0.0.1:0}
            issuers:
              - name: corp
                issuer: https://auth.example.com/
                algorithms: [HS256]
                secret_env: S
            \(extra)
              - {name: other, issuer: https://other.example.com/, algorithms: [HS256], secret_env: S}
            upstreams:
              u: {url: "http://127.0.0.1:9"}
            routes:
              - {name: r, match: {path: /}, upstream: u, auth: {issuers: \(issuers), \(auth)}}
            """
        return try ConfigLoader.parse(yaml: yaml, path: "/etc/gw/g.yml", environment: [:])
    }

    func errors(issuer extra: String, auth: String = "introspect: true", issuers: String = "[corp]") -> [String] {
        do {
            _ = try parse(issuer: extra, auth: auth, issuers: issuers)
            return []
        } catch {
            return (error as? ConfigErrors)?.errors.map(\.description) ?? ["\(error)"]
        }
    }

    let section = "    introspection: {url: \"https://auth.example.com/introspect\", client_id: gateway, client_secret_env: INTRO}"

    func testDefaultsAndRoute() throws {
        let config = try parse(issuer: section)
        let i = try XCTUnwrap(config.issuers.first?.introspection)
        XCTAssertEqual(i.url, "https://auth.example.com/introspect")
        XCTAssertEqual(i.clientID, "gateway")
        XCTAssertEqual(i.clientSecretEnv, "INTRO")
        XCTAssertEqual(i.cache, 30)
        XCTAssertEqual(i.location, ConfigLocation(path: "/etc/gw/g.yml", line: 7, column: 5))
        guard case .required(let req) = config.routes[0].auth else { return XCTFail("route is not protected") }
        XCTAssertTrue(req.introspect)
    }

    func testIntrospectOffByDefault() throws {
        let config = try parse(issuer: section, auth: "scopes: [a]")
        guard case .required(let req) = config.routes[0].auth else { return XCTFail("route is not protected") }
        XCTAssertFalse(req.introspect)
    }

    func testCacheZeroAllowed() throws {
        let s = "    introspection: {url: \"http://127.0.0.1:9/i\", client_id: g, client_secret_env: INTRO, cache: 0s}"
        XCTAssertEqual(try parse(issuer: s).issuers.first?.introspection?.cache, 0)
    }

    func testIntrospectNeedsIntrospectionOnEveryIssuer() {
        XCTAssertEqual(errors(issuer: ""),
                       ["/etc/gw/g.yml:12:70: `routes[0].auth.introspect` needs `introspection` on issuer `corp`"])
        XCTAssertEqual(errors(issuer: section, issuers: "[corp, other]"),
                       ["/etc/gw/g.yml:12:77: `routes[0].auth.introspect` needs `introspection` on issuer `other`"])
        XCTAssertEqual(errors(issuer: "", auth: "introspect: false"), [])
    }

    func testURLFollowsTheJWKSURLRules() {
        let s = "    introspection: {url: \"http://auth.example.com/i\", client_id: g, client_secret_env: INTRO}"
        let e = errors(issuer: s)
        XCTAssertEqual(e.count, 1)
        XCTAssertTrue(e.first?.contains("must be https (http only for a loopback host)") == true, "\(e)")
    }

    func testRequiredKeysAndVariableName() {
        let missing = errors(issuer: "    introspection: {url: \"https://a/i\", client_id: g}")
        XCTAssertTrue(missing.contains { $0.contains("client_secret_env") }, "\(missing)")
        let badName = errors(issuer: "    introspection: {url: \"https://a/i\", client_id: g, client_secret_env: \"a-b\"}")
        XCTAssertTrue(badName.contains { $0.contains("must be an environment variable name") }, "\(badName)")
        let unknown = errors(issuer: "    introspection: {url: \"https://a/i\", client_id: g, client_secret_env: X, cahce: 1s}")
        XCTAssertTrue(unknown.contains { $0.contains("cahce") }, "\(unknown)")
    }
}
