import XCTest
import GatewayJOSE
import GatewayTestSupport
import Foundation

/// sign → verify for every algorithm with generated keys, through the key itself and
/// through its exported public JWK.
final class RoundTripTests: XCTestCase {
    func testEveryAlgorithmRoundTrips() throws {
        let claims: JSONValue = .object([
            ("iss", .string(Fixtures.issuer)), ("aud", .string(Fixtures.audience)), ("sub", .string("user-1")),
            ("iat", .number(1_700_000_000)), ("exp", .number(4_102_444_800.25)), ("scope", .string("a b")),
        ])
        for alg in JWSAlgorithm.allCases {
            let key = try SigningKey.generate(for: alg)
            XCTAssertTrue(key.fits(alg), alg.rawValue)
            let token = try key.sign(claims: claims, algorithm: alg, keyID: "kid-\(alg.rawValue)")
            let r = Fixtures.requirements([alg])
            var sets = [KeySet(keys: [key.verificationKey(keyID: "kid-\(alg.rawValue)")])]
            if let jwk = key.publicJWK(keyID: "kid-\(alg.rawValue)", algorithm: alg) {
                XCTAssertEqual(jwk[member: "alg"], .string(alg.rawValue))
                sets.append(try KeySet.jwkSet(json: Array((#"{"keys":["# + JSONWriter.serialize(jwk) + "]}").utf8)))
            } else {
                XCTAssertEqual(alg.rawValue.prefix(2), "HS")
            }
            for keys in sets {
                let t = try TokenVerifier.verify(Substring(token), keys: keys, requirements: r, now: 1_800_000_000)
                XCTAssertEqual(t.algorithm, alg)
                XCTAssertEqual(t.claims, claims)
                XCTAssertEqual(t.header, .object([("alg", .string(alg.rawValue)), ("typ", .string("JWT")), ("kid", .string("kid-\(alg.rawValue)"))]))
            }
            // Another key of the same kind does not verify it.
            let other = KeySet(keys: [try SigningKey.generate(for: alg).verificationKey(keyID: "kid-\(alg.rawValue)")])
            XCTAssertEqual(tokenError { _ = try TokenVerifier.verify(Substring(token), keys: other, requirements: r, now: 1_800_000_000) },
                           .signature, alg.rawValue)
        }
    }

    func testSigningWithAnUnfittingAlgorithmThrows() throws {
        let ec = try SigningKey.generate(for: .ES256)
        XCTAssertNotNil(keyLoadError { _ = try ec.sign(claims: .object([]), algorithm: .ES384, keyID: nil) })
        XCTAssertNotNil(keyLoadError { _ = try ec.sign(claims: .object([]), algorithm: .RS256, keyID: nil) })
        let rsa = try SigningKey.generate(for: .PS256)
        XCTAssertNotNil(keyLoadError { _ = try rsa.sign(claims: .object([]), algorithm: .EdDSA, keyID: nil) })
        XCTAssertNotNil(keyLoadError { _ = try SigningKey.hmac([1, 2, 3]).sign(claims: .object([]), algorithm: .HS256, keyID: nil) })
        XCTAssertNil(SigningKey.hmac([UInt8](repeating: 1, count: 64)).publicJWK(keyID: nil, algorithm: nil))
    }

    func testFixturePrivateKeysSignTokensTheFixtureJWKSetAccepts() throws {
        let keys = try Fixtures.jwksKeySet()
        let claims: JSONValue = .object([("iss", .string(Fixtures.issuer)), ("aud", .string(Fixtures.audience)), ("exp", .number(4_102_444_800))])
        for (kid, alg) in [("rsa-1", JWSAlgorithm.PS256), ("rsa-2", .RS384), ("ec-256", .ES256), ("ec-384", .ES384), ("ec-521", .ES512), ("ed-1", .EdDSA)] {
            let key = try SigningKey.privateKeyPEM(try Fixtures.bytes("vectors/keys/\(kid).pem"))
            let token = try key.sign(claims: claims, algorithm: alg, keyID: kid)
            XCTAssertNoThrow(try TokenVerifier.verify(Substring(token), keys: keys, requirements: Fixtures.requirements(Fixtures.jwksAlgorithms), now: Fixtures.now), kid)
        }
    }

    func testGeneratedKeySizes() throws {
        for (alg, size) in [(JWSAlgorithm.ES256, 32), (.ES384, 48), (.ES512, 66)] {
            let jwk = try XCTUnwrap(SigningKey.generate(for: alg).publicJWK(keyID: nil, algorithm: nil))
            guard case .string(let x)? = jwk[member: "x"], case .string(let crv)? = jwk[member: "crv"] else { return XCTFail() }
            XCTAssertEqual(Base64URL.decode(Substring(x))?.count, size)
            XCTAssertEqual(crv, ["ES256": "P-256", "ES384": "P-384", "ES512": "P-521"][alg.rawValue])
        }
        let rsa = try XCTUnwrap(SigningKey.generate(for: .RS256).publicJWK(keyID: nil, algorithm: nil))
        guard case .string(let n)? = rsa[member: "n"] else { return XCTFail() }
        XCTAssertEqual(Base64URL.decode(Substring(n))?.count, 256)
        XCTAssertEqual(rsa[member: "e"], .string("AQAB"))
    }
}

final class ConcurrencyTests: XCTestCase {
    /// One key set shared by many threads (as the server does): every verification gives
    /// the same answer, and a failure on one thread leaves no OpenSSL error behind for others.
    func testConcurrentVerificationSharesKeys() throws {
        let vectors = try Fixtures.tokenVectors()
        let jwks = try Fixtures.jwksKeySet()
        let r = Fixtures.requirements(Fixtures.jwksAlgorithms)
        let cases = vectors.tokens.filter { $0.issuer == "jwks" }.map { ($0.token, $0.expect == "valid") }
        let mismatches = Mismatches()
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for round in 0..<5 {
                for (k, (token, valid)) in cases.enumerated() where (k + worker + round) % 2 == 0 {
                    let ok = (try? TokenVerifier.verify(Substring(token), keys: jwks, requirements: r, now: 1_800_000_000)) != nil
                    if ok != valid { mismatches.add() }
                }
            }
        }
        XCTAssertEqual(mismatches.count, 0)
    }
}

private final class Mismatches: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.lock(); value += 1; lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return value }
}
