import GatewayCore
import GatewayPolicy
import XCTest

/// A guessable HMAC secret loads (it is long enough) but is warned about, without the secret.
final class WeakSecretWarningTests: XCTestCase {
    func runtime(secret: String, encoding: String = "raw") throws -> GatewayRuntime {
        let env = ["GW_TEST_HMAC": secret]
        let config = try ConfigLoader.parse(yaml: """
            listen: {address: 127.0.0.1:0}
            issuers:
              - {name: a, issuer: "https://a.example/", audiences: [x], algorithms: [HS256], secret_env: GW_TEST_HMAC,
                 secret_encoding: \(encoding)}
            upstreams: {u: {url: "http://127.0.0.1:9"}}
            routes: [{name: r, match: {path_prefix: /}, upstream: u, auth: {issuers: [a]}}]
            """, path: "g.yml", environment: env)
        return try GatewayRuntime(config: config, keyMaterial: .readingFiles(environment: env))
    }

    func testWellKnownAndLowEntropySecretsAreWarnedAboutWithoutShowingThem() throws {
        let known = try runtime(secret: "a-string-secret-at-least-256-bits-long")
        // Located at the issuer's key source (the `secret_env` value, line 3 column 82 of g.yml), like every config warning.
        XCTAssertEqual(known.warnings, [
            "g.yml:3:82: warning: issuer a: the secret in GW_TEST_HMAC is a well-known secret from public wordlists: tokens signed with it can be forged by guessing it; use at least 32 random bytes (e.g. `openssl rand -base64 32` with `secret_encoding: base64`)",
        ])
        let digits = try runtime(secret: "73049218564730192837465019283746")
        XCTAssertEqual(digits.warnings.count, 1)
        XCTAssertTrue(digits.warnings[0].hasPrefix("g.yml:3:82: warning: issuer a: the secret in GW_TEST_HMAC has under 128 bits"),
                      "\(digits.warnings)")
        for w in known.warnings + digits.warnings {
            XCTAssertFalse(w.contains("a-string") || w.contains("7304921"), w)
        }
    }

    func testRandomSecretsAreNotWarnedAbout() throws {
        XCTAssertEqual(try runtime(secret: "q8V2mX7rT1zL9cB4nW6yH3kP0sD5fG8j").warnings, [])
        // 32 random bytes, base64: judged on the decoded bytes.
        XCTAssertEqual(try runtime(secret: "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGho=", encoding: "base64").warnings, [])
    }
}
