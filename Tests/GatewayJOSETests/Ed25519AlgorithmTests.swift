import GatewayJOSE
import XCTest

/// RFC 9864's fully-specified `Ed25519` beside RFC 8037's `EdDSA`, and JWK Set import rules.
final class Ed25519AlgorithmTests: XCTestCase {
    let claims: JSONValue = .object([("iss", .string("https://i.example/")), ("sub", .string("u")), ("exp", .number(4_000))])

    func verify(_ token: String, _ keys: KeySet, allow: Set<JWSAlgorithm>) -> TokenError? {
        let req = TokenRequirements(issuer: "https://i.example/", audiences: [], algorithms: allow)
        return tokenError { _ = try TokenVerifier.verify(Substring(token), keys: keys, requirements: req, now: 1_000) }
    }

    func jwkSet(_ members: [JSONValue]) throws -> KeySet {
        try KeySet.jwkSet(json: Array(JSONWriter.serialize(.object([("keys", .array(members))])).utf8))
    }

    func testEd25519IsAcceptedWhenAllowedAndDistinctFromEdDSA() throws {
        let key = try SigningKey.generate(for: .Ed25519)
        let keys = KeySet(keys: [key.verificationKey(keyID: nil)])
        let ed25519 = try key.sign(claims: claims, algorithm: .Ed25519, keyID: nil)
        let header = try JWSCompact.parse(Substring(ed25519)).header
        XCTAssertEqual(header[member: "alg"], .string("Ed25519"))
        XCTAssertNil(verify(ed25519, keys, allow: [.Ed25519]))
        XCTAssertNil(verify(ed25519, keys, allow: [.EdDSA, .Ed25519]))
        XCTAssertEqual(verify(ed25519, keys, allow: [.EdDSA]), .algorithm("alg not allowed"), "EdDSA does not allow Ed25519")
        let eddsa = try key.sign(claims: claims, algorithm: .EdDSA, keyID: nil)
        XCTAssertNil(verify(eddsa, keys, allow: [.EdDSA]))
        XCTAssertEqual(verify(eddsa, keys, allow: [.Ed25519]), .algorithm("alg not allowed"), "Ed25519 does not allow EdDSA")
        // Other key types never fit it.
        let ec = try SigningKey.generate(for: .ES256)
        XCTAssertFalse(ec.verificationKey(keyID: nil).fits(.Ed25519))
        XCTAssertNotNil(keyLoadError { _ = try ec.sign(claims: self.claims, algorithm: .Ed25519, keyID: nil) })
        // A tampered signature still fails.
        var tampered = Array(ed25519.utf8)
        tampered[tampered.count - 3] = tampered[tampered.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        XCTAssertEqual(verify(String(decoding: tampered, as: UTF8.self), keys, allow: [.Ed25519]), .signature)
    }

    func testJWKAlgRestrictsToThatExactName() throws {
        let key = try SigningKey.generate(for: .Ed25519)
        let pinnedEdDSA = try jwkSet([key.publicJWK(keyID: "k", algorithm: .EdDSA)!])
        let pinnedEd25519 = try jwkSet([key.publicJWK(keyID: "k", algorithm: .Ed25519)!])
        let eddsa = try key.sign(claims: claims, algorithm: .EdDSA, keyID: "k")
        let ed25519 = try key.sign(claims: claims, algorithm: .Ed25519, keyID: "k")
        let both: Set<JWSAlgorithm> = [.EdDSA, .Ed25519]
        XCTAssertNil(verify(eddsa, pinnedEdDSA, allow: both))
        XCTAssertEqual(verify(ed25519, pinnedEdDSA, allow: both), .algorithm("key does not fit alg"))
        XCTAssertNil(verify(ed25519, pinnedEd25519, allow: both))
        XCTAssertEqual(verify(eddsa, pinnedEd25519, allow: both), .algorithm("key does not fit alg"))
    }

    func testRepeatedKeyIDWarnsAndEachKeyIsTried() throws {
        let old = try SigningKey.generate(for: .Ed25519), new = try SigningKey.generate(for: .Ed25519)
        let set = try jwkSet([old.publicJWK(keyID: "dup", algorithm: nil)!, new.publicJWK(keyID: "dup", algorithm: nil)!,
                              new.publicJWK(keyID: "solo", algorithm: nil)!])
        XCTAssertEqual(set.warnings, [#"JWK Set repeats kid "dup" in 2 keys: a token naming it is checked against each"#])
        for signer in [old, new] {
            XCTAssertNil(verify(try signer.sign(claims: claims, algorithm: .Ed25519, keyID: "dup"), set, allow: [.Ed25519]))
        }
        let other = try SigningKey.generate(for: .Ed25519)
        XCTAssertEqual(verify(try other.sign(claims: claims, algorithm: .Ed25519, keyID: "dup"), set, allow: [.Ed25519]), .signature)
        // Over the per-kid limit: said so in the warning.
        let many = try jwkSet((0..<6).map { _ in try SigningKey.generate(for: .Ed25519).publicJWK(keyID: "x\"y", algorithm: nil)! })
        XCTAssertEqual(many.warnings, ["JWK Set repeats a kid in 6 keys: a token naming it is checked against each (only the first 4)"])
        XCTAssertTrue(try jwkSet([old.publicJWK(keyID: "a", algorithm: nil)!, new.publicJWK(keyID: "b", algorithm: nil)!]).warnings.isEmpty)
    }

    func testSkippedMembersAndUseKeyOpsAreHonoured() throws {
        let key = try SigningKey.generate(for: .Ed25519)
        guard case .object(var enc)? = key.publicJWK(keyID: "enc", algorithm: nil) else { return XCTFail() }
        enc.removeAll { $0.0 == "use" }
        enc.append(("use", .string("enc")))
        guard case .object(var ops)? = key.publicJWK(keyID: "ops", algorithm: nil) else { return XCTFail() }
        ops.append(("key_ops", .array([.string("sign")])))
        let set = try jwkSet([.object(enc), .object(ops), .object([("kty", .string("oct?"))]), key.publicJWK(keyID: "ok", algorithm: nil)!])
        XCTAssertEqual(set.warnings.count, 1, "\(set.warnings)")
        XCTAssertTrue(set.warnings[0].hasPrefix("JWK #2"), set.warnings[0])
        XCTAssertEqual(verify(try key.sign(claims: claims, algorithm: .Ed25519, keyID: "enc"), set, allow: [.Ed25519]),
                       .algorithm("key does not fit alg"), "use: enc never verifies")
        XCTAssertEqual(verify(try key.sign(claims: claims, algorithm: .Ed25519, keyID: "ops"), set, allow: [.Ed25519]),
                       .algorithm("key does not fit alg"), "key_ops without verify never verifies")
        XCTAssertNil(verify(try key.sign(claims: claims, algorithm: .Ed25519, keyID: "ok"), set, allow: [.Ed25519]))
    }
}
