import XCTest
import GatewayJOSE
import GatewayTestSupport

/// tokens.json: every vector passes or fails as `expect` says, with the `reason` class.
final class TokenVectorTests: XCTestCase {
    func testEveryVectorHasTheExpectedOutcome() throws {
        let vectors = try Fixtures.tokenVectors()
        XCTAssertEqual(vectors.issuer, Fixtures.issuer)
        XCTAssertEqual(vectors.audience, Fixtures.audience)
        XCTAssertGreaterThan(vectors.tokens.count, 30)
        let jwks = try Fixtures.jwksKeySet()
        XCTAssertEqual(jwks.keys.count, 6)
        XCTAssertEqual(jwks.warnings, [])
        let hmac = try Fixtures.hmacKeySet()
        for v in vectors.tokens {
            let keys = v.issuer == "hmac" ? hmac : jwks
            let requirements = Fixtures.requirements(v.issuer == "hmac" ? Fixtures.hmacAlgorithms : Fixtures.jwksAlgorithms)
            var verified: VerifiedToken?
            let error = tokenError {
                verified = try TokenVerifier.verify(Substring(v.token), keys: keys, requirements: requirements, now: Fixtures.now)
            }
            if v.expect == "valid" {
                XCTAssertNil(error, "\(v.name): refused with \(String(describing: error))")
                XCTAssertEqual(verified?.claims[member: "sub"], .string("user-42"), v.name)
                XCTAssertEqual(verified?.claims[member: "iss"], .string(Fixtures.issuer), v.name)
            } else {
                XCTAssertEqual(v.expect, "invalid", v.name)
                XCTAssertEqual(error?.reasonCode, v.reason, "\(v.name): \(String(describing: error))")
            }
        }
    }

    func testValidTokenReportsAlgorithmHeaderAndClaims() throws {
        let v = try XCTUnwrap(try Fixtures.tokenVectors().tokens.first { $0.name == "valid-ES384" })
        let t = try TokenVerifier.verify(Substring(v.token), keys: try Fixtures.jwksKeySet(),
                                         requirements: Fixtures.requirements(Fixtures.jwksAlgorithms), now: Fixtures.now)
        XCTAssertEqual(t.algorithm, .ES384)
        XCTAssertEqual(t.header[member: "kid"], .string("ec-384"))
        XCTAssertEqual(t.claims[member: "scope"], .string("read:orders write:orders"))
        XCTAssertEqual(t.claims[member: "exp"], .number(4_102_444_800))
    }

    func testUnverifiedIssuerReadsIssWithoutAKey() throws {
        let vectors = try Fixtures.tokenVectors()
        let valid = try XCTUnwrap(vectors.tokens.first { $0.name == "valid-RS256" })
        XCTAssertEqual(try TokenVerifier.unverifiedIssuer(Substring(valid.token)), Fixtures.issuer)
        let wrong = try XCTUnwrap(vectors.tokens.first { $0.name == "wrong-issuer" })
        XCTAssertEqual(try TokenVerifier.unverifiedIssuer(Substring(wrong.token)), "https://evil.test.example/")
        let twoParts = try XCTUnwrap(vectors.tokens.first { $0.name == "two-parts" })
        XCTAssertEqual(tokenError { _ = try TokenVerifier.unverifiedIssuer(Substring(twoParts.token)) }?.reasonCode, "malformed")
        let notJSON = try XCTUnwrap(vectors.tokens.first { $0.name == "payload-not-json" })
        XCTAssertEqual(tokenError { _ = try TokenVerifier.unverifiedIssuer(Substring(notJSON.token)) }?.reasonCode, "malformed")
    }

    func testAlgorithmConfusionRefusedUnderThePublicKeyPEM() throws {
        // The attack: HS256 "signed" with the RSA public key's PEM bytes as the secret.
        let v = try XCTUnwrap(try Fixtures.tokenVectors().tokens.first { $0.name == "alg-confusion-hs256-with-rsa-public-pem" })
        let pemKeys = try KeySet.publicKeyPEM(try Fixtures.bytes("vectors/keys/rsa-1.pub.pem"), keyID: nil)
        for algorithms in [Fixtures.jwksAlgorithms, Fixtures.jwksAlgorithms.union(Fixtures.hmacAlgorithms)] {
            let error = tokenError {
                _ = try TokenVerifier.verify(Substring(v.token), keys: pemKeys, requirements: Fixtures.requirements(algorithms), now: Fixtures.now)
            }
            XCTAssertEqual(error?.reasonCode, "algorithm")
        }
        // And the same PEM key accepts the genuine RS256 token whatever its kid says.
        let valid = try XCTUnwrap(try Fixtures.tokenVectors().tokens.first { $0.name == "valid-RS256" })
        XCTAssertNoThrow(try TokenVerifier.verify(Substring(valid.token), keys: pemKeys,
                                                  requirements: Fixtures.requirements(Fixtures.jwksAlgorithms), now: Fixtures.now))
    }

    func testExpiryIsJudgedAtTheInjectedTime() throws {
        let v = try XCTUnwrap(try Fixtures.tokenVectors().tokens.first { $0.name == "valid-RS256" })
        let keys = try Fixtures.jwksKeySet()
        let r = Fixtures.requirements(Fixtures.jwksAlgorithms)
        let exp = 4_102_444_800.0
        XCTAssertNoThrow(try TokenVerifier.verify(Substring(v.token), keys: keys, requirements: r, now: exp + 29))
        XCTAssertEqual(tokenError { _ = try TokenVerifier.verify(Substring(v.token), keys: keys, requirements: r, now: exp + 30) }, .expired)
        XCTAssertEqual(tokenError { _ = try TokenVerifier.verify(Substring(v.token), keys: keys, requirements: r, now: 1_699_999_960) }, .iatInFuture)
        var limited = r
        limited.maxTokenLifetime = 86_400
        XCTAssertEqual(tokenError { _ = try TokenVerifier.verify(Substring(v.token), keys: keys, requirements: limited, now: Fixtures.now) }, .lifetime)
    }
}
