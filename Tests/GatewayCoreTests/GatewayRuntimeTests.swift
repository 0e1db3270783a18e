import GatewayCore
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// Loading keys into a runtime: errors located at the key source, and warnings for
/// configurations that are valid but risky.
final class GatewayRuntimeTests: XCTestCase {
    func runtime(_ issuerLines: String, env: [String: String] = [:]) throws -> GatewayRuntime {
        let yaml = """
            listen: {address: 127.0.0.1:0}
            issuers:
              - name: a
                issuer: https://a.example/
            \(issuerLines)
            upstreams:
              u: {url: "http://127.0.0.1:9"}
            routes:
              - name: r
                match: {path_prefix: /}
                upstream: u
                auth: {issuers: [a]}
            """
        let config = try ConfigLoader.parse(yaml: yaml, path: "g.yml", environment: env)
        return try GatewayRuntime(config: config, keyMaterial: .readingFiles(environment: env))
    }

    func testNoAudiencesAndUnfittingAlgorithmsAreWarnedAbout() throws {
        let r = try runtime("""
                algorithms: [RS256, ES384]
                jwks_file: \(Fixtures.directory)/vectors/jwks.json
            """)
        XCTAssertTrue(r.warnings.contains { $0.contains("issuer a has no audiences") }, "\(r.warnings)")
        XCTAssertFalse(r.warnings.contains { $0.contains("algorithm RS256") }, "\(r.warnings)")
        let onlyEd = try runtime("""
                audiences: [x]
                algorithms: [EdDSA, ES256]
                public_key_file: \(Fixtures.directory)/vectors/keys/ed-1.pub.pem
            """)
        XCTAssertTrue(onlyEd.warnings.contains { $0.contains("no key fits algorithm ES256") }, "\(onlyEd.warnings)")
        XCTAssertFalse(onlyEd.warnings.contains { $0.contains("audiences") })
    }

    func testKeyErrorsPointAtTheKeySource() throws {
        XCTAssertThrowsError(try runtime("""
                algorithms: [HS256]
                secret_env: SHORT_SECRET
            """, env: ["SHORT_SECRET": "too-short"])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("g.yml:6:5:"), text)
            XCTAssertTrue(text.contains("SHORT_SECRET"), text)
            XCTAssertFalse(text.contains("too-short"), "the secret itself must not appear: \(text)")
        }
        XCTAssertThrowsError(try runtime("""
                algorithms: [RS256]
                jwks_file: /nonexistent/jwks.json
            """)) { error in
            XCTAssertTrue("\(error)".contains("cannot read JWK Set file"), "\(error)")
        }
    }
}
