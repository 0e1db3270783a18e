import XCTest
import GatewayJOSE
import GatewayTestSupport

/// JWK Sets, PEM public keys, HMAC secrets and private keys: what loads and what is refused.
final class KeyLoadingTests: XCTestCase {
    private func jwks(_ members: String...) -> [UInt8] { Array((#"{"keys":["# + members.joined(separator: ",") + "]}").utf8) }

    private func message(_ e: KeyLoadError?) -> String {
        guard case .invalid(let m)? = e else { return "" }
        return m
    }

    /// A 1024-bit modulus (top bit set, odd): enough for the size check, which runs at load.
    static let n1024 = Base64URL.encode([0xC1] + [UInt8](repeating: 0x5A, count: 126) + [0x01])

    func testFixtureJWKSetLoadsEveryKeyWithItsType() throws {
        let set = try Fixtures.jwksKeySet()
        XCTAssertEqual(set.keys.map { $0.keyID ?? "" }, ["rsa-1", "rsa-2", "ec-256", "ec-384", "ec-521", "ed-1"])
        XCTAssertEqual(set.keys.map(\.keyType), ["RSA", "RSA", "EC", "EC", "EC", "OKP"])
        let fitting = set.keys.map { k in JWSAlgorithm.allCases.filter { k.fits($0) } }
        XCTAssertEqual(fitting[0], [.RS256, .RS384, .RS512, .PS256, .PS384, .PS512])
        XCTAssertEqual(fitting[2], [.ES256])
        XCTAssertEqual(fitting[3], [.ES384])
        XCTAssertEqual(fitting[4], [.ES512])
        XCTAssertEqual(fitting[5], [.EdDSA, .Ed25519], "RFC 9864's fully-specified name fits the same key")
        XCTAssertFalse(set.keys.contains { $0.matchesAnyKeyID })
    }

    func testRSA1024JWKIsRefusedAtLoad() throws {
        let small = #"{"kty":"RSA","kid":"small","n":"\#(Self.n1024)","e":"AQAB"}"#
        let error = keyLoadError { _ = try KeySet.jwkSet(json: jwks(small)) }
        XCTAssertTrue(message(error).contains("1024 bits"), message(error))
        XCTAssertFalse(message(error).contains(Self.n1024))
        // Beside a good key: skipped with a warning naming the kid, never the modulus.
        let good = JSONWriter.serialize(try SigningKey.generate(for: .ES256).publicJWK(keyID: "good", algorithm: nil)!)
        let set = try KeySet.jwkSet(json: jwks(small, good))
        XCTAssertEqual(set.keys.map(\.keyID), ["good"])
        XCTAssertEqual(set.warnings.count, 1)
        XCTAssertTrue(set.warnings[0].contains("kid \"small\""), set.warnings[0])
        XCTAssertTrue(set.warnings[0].contains("1024 bits"), set.warnings[0])
        XCTAssertFalse(set.warnings[0].contains(Self.n1024))
    }

    func testBadJWKMembersAreSkippedWithWarnings() throws {
        let good = JSONWriter.serialize(try SigningKey.generate(for: .ES256).publicJWK(keyID: "good", algorithm: nil)!)
        let ec = try XCTUnwrap(SigningKey.generate(for: .ES384).publicJWK(keyID: "e", algorithm: nil))
        let x = try XCTUnwrap({ if case .string(let s)? = ec[member: "x"] { return s }; return nil }())
        let y = try XCTUnwrap({ if case .string(let s)? = ec[member: "y"] { return s }; return nil }())
        let bad = [
            #"{"kty":"EC","kid":"short","crv":"P-384","x":"\#(x.dropLast(2))","y":"\#(y)"}"#, // x shorter than the curve
            #"{"kty":"EC","kid":"wrongcurve","crv":"P-256","x":"\#(x)","y":"\#(y)"}"#, // P-384 point as P-256
            #"{"kty":"EC","kid":"offcurve","crv":"P-384","x":"\#(x)","y":"\#(x)"}"#, // not on the curve
            #"{"kty":"EC","kid":"k256","crv":"secp256k1","x":"\#(x)","y":"\#(y)"}"#,
            #"{"kty":"OKP","kid":"x25519","crv":"X25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
            #"{"kty":"OKP","kid":"short-ed","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR"}"#,
            #"{"kty":"RSA","kid":"no-e","n":"\#(Self.n1024)"}"#,
            #"{"kty":"RSA","kid":"padded","n":"AQAB==","e":"AQAB"}"#,
            #"{"kty":"EC","kid":"private","crv":"P-384","x":"\#(x)","y":"\#(y)","d":"AAAA"}"#,
            #"{"kty":"oct","kid":"empty","k":""}"#,
            #"{"kid":"nokty"}"#,
            #"{"kty":"PQC","kid":"future"}"#,
            #"{"kty":"EC","kid":"usebad","crv":"P-384","x":"\#(x)","y":"\#(y)","use":1}"#,
            #""a string""#,
        ]
        let set = try KeySet.jwkSet(json: Array((#"{"keys":["# + (bad + [good]).joined(separator: ",") + "]}").utf8))
        XCTAssertEqual(set.keys.map(\.keyID), ["good"])
        XCTAssertEqual(set.warnings.count, bad.count, set.warnings.joined(separator: "\n"))
        for w in set.warnings {
            XCTAssertTrue(w.hasPrefix("JWK #"), w)
            XCTAssertFalse(w.contains(x) || w.contains(y), "key material in warning: \(w)")
        }
    }

    func testUseKeyOpsAndAlgRestrictFits() throws {
        let jwk = try XCTUnwrap(SigningKey.generate(for: .RS256).publicJWK(keyID: nil, algorithm: nil))
        guard case .object(let base) = jwk else { return XCTFail() }
        func with(_ extra: (String, JSONValue)...) throws -> VerificationKey {
            let members = base.filter { $0.0 != "use" } + extra
            let good = JSONWriter.serialize(try SigningKey.generate(for: .EdDSA).publicJWK(keyID: "anchor", algorithm: nil)!)
            let set = try KeySet.jwkSet(json: Array((#"{"keys":["# + JSONWriter.serialize(.object(members + [("kid", .string("t"))])) + "," + good + "]}").utf8))
            return try XCTUnwrap(set.keys.first { $0.keyID == "t" })
        }
        XCTAssertTrue(try with().fits(.RS256))
        XCTAssertTrue(try with(("use", .string("sig"))).fits(.PS512))
        XCTAssertFalse(try with(("use", .string("enc"))).fits(.RS256))
        XCTAssertTrue(try with(("key_ops", .array([.string("verify")]))).fits(.RS256))
        XCTAssertFalse(try with(("key_ops", .array([.string("sign"), .string("encrypt")]))).fits(.RS256))
        let onlyRS384 = try with(("alg", .string("RS384")))
        XCTAssertTrue(onlyRS384.fits(.RS384))
        XCTAssertFalse(onlyRS384.fits(.RS256) || onlyRS384.fits(.PS384))
        XCTAssertFalse(try with(("alg", .string("RSA-OAEP"))).fits(.RS256))
        // A set whose only key is for encryption has no usable key.
        let encOnly = JSONWriter.serialize(.object(base.filter { $0.0 != "use" } + [("use", .string("enc"))]))
        XCTAssertNotNil(keyLoadError { _ = try KeySet.jwkSet(json: self.jwks(encOnly)) })
    }

    func testMalformedJWKSetDocumentsThrow() throws {
        let good = JSONWriter.serialize(try SigningKey.generate(for: .ES256).publicJWK(keyID: "good", algorithm: nil)!)
        for doc in [#"{"keys":[\#(good)],"keys":[]}"#, #"[\#(good)]"#, #"{"keys":{}}"#, #"{"keys":[]}"#, #"{}"#,
                    #"{"keys":[\#(good)]} trailing"#, "", #"{"keys":[{"kty":"oct","kid":"a","kid":"b","k":"AAAA"}]}"#] {
            XCTAssertNotNil(keyLoadError { _ = try KeySet.jwkSet(json: Array(doc.utf8)) }, doc)
        }
        XCTAssertEqual(try KeySet.jwkSet(json: jwks(good)).keys.count, 1)
    }

    func testOctJWKNeedsTheHashLength() throws {
        let k32 = Base64URL.encode([UInt8](repeating: 1, count: 32))
        let set = try KeySet.jwkSet(json: jwks(#"{"kty":"oct","kid":"h","k":"\#(k32)"}"#))
        XCTAssertTrue(set.keys[0].fits(.HS256))
        XCTAssertFalse(set.keys[0].fits(.HS384) || set.keys[0].fits(.HS512) || set.keys[0].fits(.RS256))
    }

    // MARK: PEM

    func testFixturePublicPEMsLoad() throws {
        let expected: [(String, String, JWSAlgorithm)] = [("rsa-1", "RSA", .RS256), ("rsa-2", "RSA", .PS512), ("ec-256", "EC", .ES256),
                                                          ("ec-384", "EC", .ES384), ("ec-521", "EC", .ES512), ("ed-1", "OKP", .EdDSA)]
        for (name, type, alg) in expected {
            let set = try KeySet.publicKeyPEM(try Fixtures.bytes("vectors/keys/\(name).pub.pem"), keyID: nil)
            XCTAssertEqual(set.keys.count, 1)
            XCTAssertEqual(set.keys[0].keyType, type, name)
            XCTAssertTrue(set.keys[0].fits(alg), name)
            XCTAssertTrue(set.keys[0].matchesAnyKeyID, name)
            XCTAssertNil(set.keys[0].keyID)
            let named = try KeySet.publicKeyPEM(try Fixtures.bytes("vectors/keys/\(name).pub.pem"), keyID: "corp")
            XCTAssertEqual(named.keys[0].keyID, "corp")
            XCTAssertFalse(named.keys[0].matchesAnyKeyID)
        }
    }

    func testPrivateKeyOrCertificateInPublicKeyFileIsRefused() throws {
        let e = keyLoadError { _ = try KeySet.publicKeyPEM(try Fixtures.bytes("vectors/keys/rsa-1.pem"), keyID: nil) }
        XCTAssertTrue(message(e).contains("private key"), message(e))
        let ed = keyLoadError { _ = try KeySet.publicKeyPEM(try Fixtures.bytes("vectors/keys/ed-1.pem"), keyID: nil) }
        XCTAssertTrue(message(ed).contains("private key"), message(ed))
        let cert = Array("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8)
        let c = keyLoadError { _ = try KeySet.publicKeyPEM(cert, keyID: nil) }
        XCTAssertTrue(message(c).contains("certificate"), message(c))
        let pkcs1 = Array("-----BEGIN RSA PUBLIC KEY-----\nMIIB\n-----END RSA PUBLIC KEY-----\n".utf8)
        XCTAssertTrue(message(keyLoadError { _ = try KeySet.publicKeyPEM(pkcs1, keyID: nil) }).contains("SPKI"))
        XCTAssertNotNil(keyLoadError { _ = try KeySet.publicKeyPEM(Array("not pem".utf8), keyID: nil) })
        let two = try Fixtures.bytes("vectors/keys/ec-256.pub.pem") + Fixtures.bytes("vectors/keys/ec-384.pub.pem")
        XCTAssertNotNil(keyLoadError { _ = try KeySet.publicKeyPEM(two, keyID: nil) })
        let garbled = Array("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".utf8)
        XCTAssertNotNil(keyLoadError { _ = try KeySet.publicKeyPEM(garbled, keyID: nil) })
    }

    func testPrivatePEMsMatchThePublishedJWKs() throws {
        let published = try JSONReader.parse(try Fixtures.bytes("vectors/jwks.json"))
        guard case .array(let jwks)? = published[member: "keys"] else { return XCTFail("no keys") }
        for jwk in jwks {
            guard case .string(let kid)? = jwk[member: "kid"] else { return XCTFail() }
            let key = try SigningKey.privateKeyPEM(try Fixtures.bytes("vectors/keys/\(kid).pem"))
            let exported = try XCTUnwrap(key.publicJWK(keyID: kid, algorithm: nil))
            for member in ["kty", "crv", "n", "e", "x", "y", "kid"] {
                XCTAssertEqual(exported[member: member], jwk[member: member], "\(kid).\(member)")
            }
        }
        XCTAssertNotNil(keyLoadError { _ = try SigningKey.privateKeyPEM(try Fixtures.bytes("vectors/keys/rsa-1.pub.pem")) })
    }

    // MARK: HMAC secrets

    func testShortHMACSecretIsRefused() throws {
        let e = keyLoadError { _ = try KeySet.hmacSecret([UInt8](repeating: 1, count: 31), keyID: nil, algorithms: [.HS256]) }
        XCTAssertTrue(message(e).contains("32"), message(e))
        XCTAssertFalse(message(e).contains("\u{1}"))
        XCTAssertNoThrow(try KeySet.hmacSecret([UInt8](repeating: 1, count: 32), keyID: nil, algorithms: [.HS256]))
        XCTAssertNotNil(keyLoadError { _ = try KeySet.hmacSecret([UInt8](repeating: 1, count: 47), keyID: nil, algorithms: [.HS384]) })
        XCTAssertNotNil(keyLoadError { _ = try KeySet.hmacSecret([UInt8](repeating: 1, count: 48), keyID: nil, algorithms: [.HS256, .HS512]) })
        let full = try KeySet.hmacSecret([UInt8](repeating: 1, count: 64), keyID: nil, algorithms: [.HS256, .HS384, .HS512])
        XCTAssertTrue(full.keys[0].fits(.HS256) && full.keys[0].fits(.HS384) && full.keys[0].fits(.HS512))
        XCTAssertFalse(full.keys[0].fits(.RS256))
        XCTAssertEqual(try Fixtures.hmacSecret().count, 64)
    }
}
