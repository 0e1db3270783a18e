import GatewayPolicy
import XCTest

/// Config values that would let a request through, or confuse the upstream, are refused.
final class HardeningRuleTests: XCTestCase {
    func errors(_ yaml: String) -> [String] {
        do {
            _ = try ConfigLoader.parse(yaml: yaml, path: "gw.yml", environment: [:])
            XCTFail("expected errors")
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    static let issuers = """
        issuers: [{name: corp, issuer: "https://corp", audiences: [a], algorithms: [RS256], jwks_file: j.json,
                   roles_claim: roles}]
        upstreams: {u: {url: "http://u"}}
        """

    func testIdentityHeadersTheGatewaySetsOrThatHoldUnderscoresAreRefused() {
        XCTAssertEqual(errors("""
            listen: {address: 0.0.0.0:80}
            identity:
              subject_header: X_User
              issuer_header: X-Forwarded-User
              scopes_header: Cookie
              claims: {a: X-Request-Id, b: traceparent, c: TraceState, d: forwarded, e: Proxy-Authenticate,
                       f: X-Forwarded, g: x-auth-subject, h: X-User, i: x-user}
            \(Self.issuers)
            routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
            """), [
            "gw.yml:3:19: `identity.subject_header`: `X_User` must not contain `_` (servers that map `_` to `-`, or drop such fields, would not see it as written)",
            "gw.yml:4:18: `identity.issuer_header`: `X-Forwarded-User` cannot be an identity header",
            "gw.yml:5:18: `identity.scopes_header`: `Cookie` cannot be an identity header",
            "gw.yml:6:15: `identity.claims.a`: `X-Request-Id` cannot be an identity header",
            "gw.yml:6:32: `identity.claims.b`: `traceparent` cannot be an identity header",
            "gw.yml:6:48: `identity.claims.c`: `TraceState` cannot be an identity header",
            "gw.yml:6:63: `identity.claims.d`: `forwarded` cannot be an identity header",
            "gw.yml:6:77: `identity.claims.e`: `Proxy-Authenticate` cannot be an identity header",
            "gw.yml:7:15: `identity.claims.f`: `X-Forwarded` cannot be an identity header",
            "gw.yml:7:61: `identity.claims.i`: header `x-user` is already used by `identity.claims.h`",
        ])
    }

    func testScopesAndRolesMustBeScopeTokens() {
        XCTAssertEqual(errors("""
            listen: {address: 0.0.0.0:80}
            \(Self.issuers)
            routes:
              - name: r
                match: {path: /}
                upstream: u
                auth: {issuers: [corp], scopes: ["read orders", ok], any_scopes: ["a\\"b", "c\\\\d"], roles: ["x\\r\\ny", "é"]}
            """), [
            "gw.yml:9:38: `routes[0].auth.scopes[0]`: `read orders` is not a valid scope: printable ASCII without spaces, `\"` or `\\` (RFC 6749 §3.3 scope-token)",
            "gw.yml:9:71: `routes[0].auth.any_scopes[0]`: `a\"b` is not a valid scope: printable ASCII without spaces, `\"` or `\\` (RFC 6749 §3.3 scope-token)",
            "gw.yml:9:79: `routes[0].auth.any_scopes[1]`: `c\\d` is not a valid scope: printable ASCII without spaces, `\"` or `\\` (RFC 6749 §3.3 scope-token)",
            "gw.yml:9:96: `routes[0].auth.roles[0]`: `x\\r\\ny` is not a valid role: printable ASCII without spaces, `\"` or `\\` (RFC 6749 §3.3 scope-token)",
            "gw.yml:9:106: `routes[0].auth.roles[1]`: `é` is not a valid role: printable ASCII without spaces, `\"` or `\\` (RFC 6749 §3.3 scope-token)",
        ])
    }

    func testUnknownMethodsAreRefusedWithASuggestion() throws {
        XCTAssertEqual(errors("""
            listen: {address: 0.0.0.0:80}
            \(Self.issuers)
            routes: [{name: r, match: {path: /, methods: [GETT, propfind, FOO, PATCH]}, upstream: u, auth: public}]
            """), [
            "gw.yml:5:47: `routes[0].match.methods[0]`: unknown method `GETT`; did you mean `GET`?",
            "gw.yml:5:63: `routes[0].match.methods[2]`: unknown method `FOO`",
        ])
        let config = try ConfigLoader.parse(yaml: """
            listen: {address: 0.0.0.0:80}
            \(Self.issuers)
            routes: [{name: r, match: {path: /, methods: [propfind, PATCH, VERSION-CONTROL, query]}, upstream: u, auth: public}]
            """, path: "gw.yml", environment: [:])
        XCTAssertEqual(config.routes[0].methods, ["PROPFIND", "PATCH", "VERSION-CONTROL", "QUERY"])
    }

    func testListenerAddressesMustDiffer() throws {
        let tail = "\(Self.issuers)\nroutes: [{name: r, match: {path: /}, upstream: u, auth: public}]\n"
        XCTAssertEqual(errors("listen: {address: 0.0.0.0:9090}\nadmin: {address: 127.0.0.1:9090}\n" + tail), [
            "gw.yml:2:18: `admin.address` 127.0.0.1:9090 and `listen.address` 0.0.0.0:9090 would listen on the same port; each listener needs its own address",
        ])
        XCTAssertEqual(errors("listen: {address: \"[::1]:8080\"}\nadmin: {address: \"[::]:8080\"}\n" + tail), [
            "gw.yml:2:18: `admin.address` [::]:8080 and `listen.address` [::1]:8080 would listen on the same port; each listener needs its own address",
        ])
        // The default admin address collides too: reported at `listen.address`.
        XCTAssertEqual(errors("listen: {address: 127.0.0.1:9090}\n" + tail), [
            "gw.yml:1:19: `admin.address` 127.0.0.1:9090 (its default) and `listen.address` 127.0.0.1:9090 would listen on the same port; each listener needs its own address",
        ])
        // Different hosts on one port, and port 0 (any free port), are fine.
        for (listen, admin) in [("127.0.0.1:9090", "127.0.0.2:9090"), ("127.0.0.1:0", "127.0.0.1:0"), ("0.0.0.0:8080", "127.0.0.1:9090")] {
            XCTAssertNoThrow(try ConfigLoader.parse(yaml: "listen: {address: \(listen)}\nadmin: {address: \(admin)}\n" + tail,
                                                    path: "gw.yml", environment: [:]), "\(listen) \(admin)")
        }
    }

    func testWeakHMACSecretsAreNamedByKindOnly() {
        func weakness(_ s: String) -> String? { HMACSecretStrength.weakness(Array(s.utf8)) }
        // jwt.io's sample secret, long enough to pass the length rule.
        XCTAssertEqual(weakness("a-string-secret-at-least-256-bits-long"), "is a well-known secret from public wordlists")
        XCTAssertEqual(weakness("YOUR-256-BIT-SECRET"), "is a well-known secret from public wordlists")
        XCTAssertEqual(weakness(String(repeating: "a", count: 64)), "uses fewer than 8 distinct bytes")
        XCTAssertEqual(weakness("thisismysupersecretsigningkeyforjwt"), "is built from common words or sequences")
        XCTAssertEqual(weakness("73049218564730192837465019283746"), "has under 128 bits of estimated entropy (its length and the characters it draws from)")
        XCTAssertEqual(weakness("q8V2mX7rq8V2mX7rq8V2mX7rq8V2mX7r"), "has under 128 bits of estimated entropy (its length and the characters it draws from)")
        // Random-looking: 32 alphanumerics, 32 hex digits (128 bits exactly), 32 random bytes.
        XCTAssertNil(weakness("q8V2mX7rT1zL9cB4nW6yH3kP0sD5fG8j"))
        XCTAssertNil(weakness("9f86d081884c7d659a2feaa0c55ad015"))
        XCTAssertNil(HMACSecretStrength.weakness((0..<32).map { UInt8(($0 * 73 + 41) & 0xFF) }))
        // The answers never hold the secret's text.
        for s in ["a-string-secret-at-least-256-bits-long", "thisismysupersecretsigningkeyforjwt", "73049218564730192837465019283746"] {
            XCTAssertFalse(weakness(s)!.contains("secret-at") || weakness(s)!.contains("super") || weakness(s)!.contains("7304"))
        }
    }
}
