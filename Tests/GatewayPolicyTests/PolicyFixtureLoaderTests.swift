@testable import GatewayPolicy
import XCTest

/// Policy-test files: what each key of a case becomes.
final class PolicyFixtureLoaderTests: XCTestCase {
    func parse(_ yaml: String, env: [String: String] = [:]) throws(ConfigErrors) -> PolicyFixture {
        try PolicyFixtureLoader.parse(contents: Array(yaml.utf8), path: "/fx/cases.yml", environment: { env[$0] })
    }

    func testValuesOfACase() throws {
        let f = try parse("""
            keys:
              rsa: {alg: RS256, kid: k1, private_key_file: keys/rsa.pem}
              mac: {alg: HS512, secret_env: MAC, secret_encoding: base64}
            cases:
              - name: one
                request:
                  method: PATCH
                  url: "https://api.example.com:8443?x=1"
                  headers: {Accept: text/plain, Authorization: [Bearer a, Bearer b], X-Empty: ""}
                token:
                  key: rsa
                  claims: {sub: alice, n: 12345678901234567890, f: 1.5, b: true, s: "true", y: yes, h: 0x1F, z: ~,
                           roles: [a, 2], obj: {k: v}, iat: 100, tenant: "${TENANT}"}
                  ttl: 90s
                expect: {status: 403, reason: insufficient_scope, route: r, decision: deny,
                         upstream_headers: {X-A: a, X-N: 7, X-None: null, X-Tilde: ~}}
              - {name: two, request: {method: GET, url: "http://h"}, token: "abc.def.ghi", expect: {status: forward}}
            """, env: ["TENANT": "acme"])
        XCTAssertEqual(f.keys, [
            PolicyFixture.Key(name: "rsa", algorithm: .RS256, keyID: "k1", source: .privateKeyFile("/fx/keys/rsa.pem"),
                              location: ConfigLocation(path: "/fx/cases.yml", line: 2, column: 3)),
            PolicyFixture.Key(name: "mac", algorithm: .HS512, keyID: nil, source: .secretEnv("MAC", .base64),
                              location: ConfigLocation(path: "/fx/cases.yml", line: 3, column: 3)),
        ])
        let one = f.cases[0]
        XCTAssertEqual(one.location, ConfigLocation(path: "/fx/cases.yml", line: 5, column: 5))
        XCTAssertEqual(one.request.method, "PATCH")
        XCTAssertEqual(one.request.scheme, "https")
        XCTAssertEqual(one.request.host, "api.example.com:8443")
        XCTAssertEqual(one.request.target, "/?x=1")
        XCTAssertEqual(one.request.headers.map { "\($0.name): \($0.value)" },
                       ["Accept: text/plain", "Authorization: Bearer a", "Authorization: Bearer b", "X-Empty: "])
        XCTAssertEqual(one.token, .minted(key: "rsa", claims: [
            #""sub":"alice""#, #""n":12345678901234567890"#, #""f":1.5"#, #""b":true"#, #""s":"true""#, #""y":"yes""#,
            #""h":"0x1F""#, #""z":null"#, #""roles":["a",2]"#, #""obj":{"k":"v"}"#, #""iat":100"#, #""tenant":"acme""#,
        ], hasIssuedAt: true, hasExpiry: false, ttl: 90))
        XCTAssertEqual(one.expect.status, .refused(403))
        XCTAssertEqual(one.expect.reason, "insufficient_scope")
        XCTAssertEqual(one.expect.route, "r")
        XCTAssertEqual(one.expect.decision, "deny")
        XCTAssertEqual(one.expect.upstreamHeaders.map(\.name), ["X-A", "X-N", "X-None", "X-Tilde"])
        XCTAssertEqual(one.expect.upstreamHeaders.map(\.value), ["a", "7", nil, nil])
        XCTAssertEqual(f.cases[1].token, .literal("abc.def.ghi"))
        XCTAssertEqual(f.cases[1].request.target, "/")
        XCTAssertEqual(f.cases[1].expect.status, .forward)
        XCTAssertNil(f.cases[1].expect.reason)
    }

    func testKeyErrors() {
        XCTAssertThrowsError(try parse("""
            keys:
              a: {alg: RS256}
              b: {alg: RS256, private_key_file: b.pem, secret_env: B}
              c: {alg: ES256, secret_env: C}
              d: {alg: RS256, private_key_file: d.pem, secret_encoding: base64}
              e: {alg: HS256, secret_env: E, secret_encoding: hex}
            cases:
              - {name: x, request: {method: GET, url: "http://h/"}, expect: {status: 999}}
            """)) { error in
            XCTAssertEqual((error as? ConfigErrors)?.errors.map(\.description), [
                "/fx/cases.yml:2:6: `keys.a` needs `private_key_file` or `secret_env`",
                "/fx/cases.yml:3:6: `keys.b` has both `private_key_file` and `secret_env`; exactly one is allowed",
                "/fx/cases.yml:4:6: `keys.c`: ES256 signs with a private key: use `private_key_file`",
                "/fx/cases.yml:5:44: `keys.d.secret_encoding` is only allowed with `secret_env`",
                "/fx/cases.yml:6:51: `keys.e.secret_encoding` must be raw, base64 or base64url, not `hex`",
                "/fx/cases.yml:8:74: `cases[0].expect.status` must be `forward` or a status code such as 401, not `999`",
            ])
        }
    }
}
