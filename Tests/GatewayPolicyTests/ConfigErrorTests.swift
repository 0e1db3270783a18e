import GatewayPolicy
import XCTest

/// Every kind of config error, as `gateway check` prints it: `PATH:LINE:COLUMN: message`.
final class ConfigErrorTests: XCTestCase {
    /// The printed errors for `yaml` (fails the test when it parses).
    func errors(_ yaml: String, env: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            let config = try ConfigLoader.parse(yaml: yaml, path: "gw.yml", environment: env)
            XCTFail("expected errors, got a config with \(config.routes.count) routes", file: file, line: line)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    /// A valid tail (upstream + public route) so each test only adds what it is about.
    static let tail = """
        upstreams: {u: {url: "http://127.0.0.1:9000"}}
        routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
        """

    func testYAMLSyntaxErrorHasYamsLocation() {
        XCTAssertEqual(errors("listen:\n  address: [1, 2\nroutes: []\n"),
                       ["gw.yml:3:7: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 2, column 12)"])
        XCTAssertEqual(errors("a: 1\n b: 2\n"), ["gw.yml:2:3: invalid YAML: mapping values are not allowed in this context"])
    }

    func testEmptyAndNonMappingRoot() {
        XCTAssertEqual(errors(""), ["gw.yml:1:1: the configuration is empty"])
        XCTAssertEqual(errors("- a\n"), ["gw.yml:1:1: `` must be a mapping, not a list"])
    }

    func testDuplicateKey() {
        XCTAssertEqual(errors("listen: {address: 0.0.0.0:1}\nlisten: {address: 0.0.0.0:2}\n"),
                       ["gw.yml:1:1: duplicate key `listen` in a mapping"])
    }

    func testUnknownKeysWithDidYouMeanAtEveryLevel() {
        XCTAssertEqual(errors("""
            lisen: {address: 0.0.0.0:8080}
            listen: {adress: 0.0.0.0:8080}
            colour: red
            \(Self.tail)
            """), [
                "gw.yml:1:1: unknown top-level key `lisen`; did you mean `listen`?",
                "gw.yml:2:9: missing required key `address` in `listen`",
                "gw.yml:2:10: unknown key `adress` in `listen`; did you mean `address`?",
                "gw.yml:3:1: unknown top-level key `colour`",
            ])
        XCTAssertEqual(errors("""
            listen: {address: 0.0.0.0:8080}
            upstreams: {u: {url: "http://a", timout: 5s}}
            routes:
              - name: r
                match: {path: /, method: [GET]}
                upstream: u
                auth: {issuers: [], scope: [x]}
            """), [
                "gw.yml:2:34: unknown key `timout` in `upstreams.u`; did you mean `timeout`?",
                "gw.yml:5:22: unknown key `method` in `routes[0].match`; did you mean `methods`?",
                "gw.yml:7:21: `routes[0].auth.issuers` must name at least one issuer",
                "gw.yml:7:25: unknown key `scope` in `routes[0].auth`; did you mean `scopes`?",
            ])
    }

    func testMissingRequiredKeysNameTheKeyAndParent() {
        XCTAssertEqual(errors("admin: {address: 127.0.0.1:9090}\n"), [
            "gw.yml:1:1: missing required top-level key `listen`",
            "gw.yml:1:1: missing required top-level key `routes`",
        ])
        XCTAssertEqual(errors("""
            listen: {address: 0.0.0.0:8080}
            upstreams: {u: {url: "http://a"}}
            routes:
              - name: r
                match: {path: /}
                upstream: u
              - match: {methods: [GET]}
                upstream: u
                auth: public
            """), [
                "gw.yml:4:5: missing required key `auth` in `routes[0]` (use `auth: public` for a route without a token)",
                "gw.yml:7:5: missing required key `name` in `routes[1]`",
                "gw.yml:7:12: `routes[1].match` needs exactly one of `path`, `path_prefix` or `path_regex`",
            ])
    }

    func testWrongTypes() {
        XCTAssertEqual(errors("""
            listen: 0.0.0.0:8080
            limits: {max_connections: lots, idle_timeout: [1], max_body_bytes: {a: 1}}
            upstreams: {u: {url: "http://127.0.0.1:9000"}}
            routes: {}
            """), [
                "gw.yml:1:9: `listen` must be a mapping, not a string",
                "gw.yml:2:27: `limits.max_connections` must be a whole number, not `lots`",
                "gw.yml:2:47: `limits.idle_timeout` must be a duration like `30s`, not a list",
                "gw.yml:2:68: `limits.max_body_bytes` must be a size like `16KiB`, not a mapping",
                "gw.yml:4:9: `routes` must be a list, not a mapping",
            ])
    }
}
