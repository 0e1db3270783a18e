import XCTest
import GatewayJOSE

/// Published examples made by other implementations: RFC 7520 §4.1–4.4 and RFC 8037 §A.4.
/// Their payloads are not JWT claim sets, so the signature is checked through
/// `JWSCompact.parse` + `VerificationKey.verify`.
final class RFCVectorTests: XCTestCase {
    /// RFC 7520 §4 payload (Figure 7), with U+2019 apostrophes.
    static let payload = "It\u{2019}s a dangerous business, Frodo, going out your door. You step onto the road, and if you don't keep your feet, there\u{2019}s no knowing where you might be swept off to."

    /// RFC 7520 Figure 3 (public part): `bilbo.baggins@hobbiton.example`, RSA 2048.
    static let rsaJWK = """
    {"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig",
     "n":"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw",
     "e":"AQAB"}
    """
    /// RFC 7520 Figure 1 (public part): P-521.
    static let ecJWK = """
    {"kty":"EC","kid":"bilbo.baggins@hobbiton.example","use":"sig","crv":"P-521",
     "x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt",
     "y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"}
    """
    /// RFC 7520 Figure 5: HS256 key.
    static let octJWK = """
    {"kty":"oct","kid":"018c0ae5-4d9b-471b-bfd6-eef314bc7037","use":"sig","alg":"HS256",
     "k":"hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"}
    """
    /// RFC 8037 §A.2: Ed25519 public key.
    static let okpJWK = #"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#

    static let payloadB64 = "SXTigJlzIGEgZGFuZ2Vyb3VzIGJ1c2luZXNzLCBGcm9kbywgZ29pbmcgb3V0IHlvdXIgZG9vci4gWW91IHN0ZXAgb250byB0aGUgcm9hZCwgYW5kIGlmIHlvdSBkb24ndCBrZWVwIHlvdXIgZmVldCwgdGhlcmXigJlzIG5vIGtub3dpbmcgd2hlcmUgeW91IG1pZ2h0IGJlIHN3ZXB0IG9mZiB0by4"

    /// RFC 7520 Figure 13 (§4.1, RS256).
    static let rs256 = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9." + payloadB64 + ".MRjdkly7_-oTPTS3AXP41iQIGKa80A0ZmTuV5MEaHoxnW2e5CZ5NlKtainoFmKZopdHM1O2U4mwzJdQx996ivp83xuglII7PNDi84wnB-BDkoBwA78185hX-Es4JIwmDLJK3lfWRa-XtL0RnltuYv746iYTh_qHRD68BNt1uSNCrUCTJDt5aAE6x8wW1Kt9eRo4QPocSadnHXFxnt8Is9UzpERV0ePPQdLuW3IS_de3xyIrDaLGdjluPxUAhb6L2aXic1U12podGU0KLUQSE_oI-ZnmKJ3F4uOZDnd6QZWJushZ41Axf_fcIe8u9ipH84ogoree7vjbU5y18kDquDg"
    /// RFC 7520 Figure 20 (§4.2, PS384; PSS is randomized, so verify only).
    static let ps384 = "eyJhbGciOiJQUzM4NCIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9." + payloadB64 + ".cu22eBqkYDKgIlTpzDXGvaFfz6WGoz7fUDcfT0kkOy42miAh2qyBzk1xEsnk2IpN6-tPid6VrklHkqsGqDqHCdP6O8TTB5dDDItllVo6_1OLPpcbUrhiUSMxbbXUvdvWXzg-UD8biiReQFlfz28zGWVsdiNAUf8ZnyPEgVFn442ZdNqiVJRmBqrYRXe8P_ijQ7p8Vdz0TTrxUeT3lm8d9shnr2lfJT8ImUjvAA2Xez2Mlp8cBE5awDzT0qI0n6uiP1aCN_2_jLAeQTlqRHtfa64QQSUmFAAjVKPbByi7xho0uTOcbH510a6GYmJUAfmWjwZ6oD4ifKo8DYM-X72Eaw"
    /// RFC 7520 Figure 27 (§4.3, ES512).
    static let es512 = "eyJhbGciOiJFUzUxMiIsImtpZCI6ImJpbGJvLmJhZ2dpbnNAaG9iYml0b24uZXhhbXBsZSJ9." + payloadB64 + ".AE_R_YZCChjn4791jSQCrdPZCNYqHXCTZH0-JZGYNlaAjP2kqaluUIIUnC9qvbu9Plon7KRTzoNEuT4Va2cmL1eJAQy3mtPBu_u_sDDyYjnAMDxXPn7XrT0lw-kvAD890jl8e2puQens_IEKBpHABlsbEPX6sFY8OcGDqoRuBomu9xQ2"
    /// RFC 7520 Figure 34 (§4.4, HS256).
    static let hs256 = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjAxOGMwYWU1LTRkOWItNDcxYi1iZmQ2LWVlZjMxNGJjNzAzNyJ9." + payloadB64 + ".s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0"
    /// RFC 8037 §A.4 (EdDSA).
    static let eddsa = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

    private func key(_ jwk: String) throws -> VerificationKey {
        let set = try KeySet.jwkSet(json: Array(#"{"keys":["#.utf8) + Array(jwk.utf8) + Array("]}".utf8))
        XCTAssertEqual(set.keys.count, 1)
        return try XCTUnwrap(set.keys.first)
    }

    /// Parses, checks `alg`, verifies; then checks that a one-bit change is refused.
    private func assertVerifies(_ token: String, _ jwk: String, _ alg: JWSAlgorithm, payload: String,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let jws = try JWSCompact.parse(Substring(token))
        XCTAssertEqual(jws.header[member: "alg"], .string(alg.rawValue), file: file, line: line)
        XCTAssertEqual(String(decoding: jws.payload, as: UTF8.self), payload, file: file, line: line)
        let k = try key(jwk)
        XCTAssertTrue(k.fits(alg), file: file, line: line)
        XCTAssertTrue(k.verify(algorithm: alg, signingInput: jws.signingInput, signature: jws.signature), file: file, line: line)
        var tampered = jws.signingInput
        tampered[tampered.count - 1] ^= 0x01
        XCTAssertFalse(k.verify(algorithm: alg, signingInput: tampered, signature: jws.signature), file: file, line: line)
    }

    func testRFC7520Section4_1RS256() throws { try assertVerifies(Self.rs256, Self.rsaJWK, .RS256, payload: Self.payload) }
    func testRFC7520Section4_2PS384() throws { try assertVerifies(Self.ps384, Self.rsaJWK, .PS384, payload: Self.payload) }
    func testRFC7520Section4_3ES512() throws { try assertVerifies(Self.es512, Self.ecJWK, .ES512, payload: Self.payload) }
    func testRFC7520Section4_4HS256() throws { try assertVerifies(Self.hs256, Self.octJWK, .HS256, payload: Self.payload) }
    func testRFC8037AppendixA4EdDSA() throws { try assertVerifies(Self.eddsa, Self.okpJWK, .EdDSA, payload: "Example of Ed25519 signing") }

    func testRFC7520HS256SigningIsByteForByte() throws {
        // HMAC is deterministic: signing the RFC's input with its key gives its signature.
        let jws = try JWSCompact.parse(Substring(Self.hs256))
        let secret = try XCTUnwrap(Base64URL.decode("hJtXIZ2uSN5kbQfbtTNWbpdmhkV8FJG-Onbc6mxCcYg"))
        let sig = try SigningKey.hmac(secret).signature(algorithm: .HS256, signingInput: jws.signingInput)
        XCTAssertEqual(Base64URL.encode(sig), "s0h6KThzkfBBBkLspW1h84VsJZFTsPPqMDA7g1Md7p0")
    }

    func testRFCKeysDoNotFitOtherAlgorithms() throws {
        let rsa = try key(Self.rsaJWK), ec = try key(Self.ecJWK), oct = try key(Self.octJWK), okp = try key(Self.okpJWK)
        XCTAssertTrue(rsa.fits(.RS512) && rsa.fits(.PS256))
        XCTAssertFalse(rsa.fits(.ES256) || rsa.fits(.HS256) || rsa.fits(.EdDSA))
        XCTAssertFalse(ec.fits(.ES256) || ec.fits(.ES384) || ec.fits(.RS256))
        // The oct JWK is 32 bytes and carries "alg": "HS256": no other algorithm fits.
        XCTAssertFalse(oct.fits(.HS384) || oct.fits(.RS256))
        XCTAssertFalse(okp.fits(.ES256) || okp.fits(.HS256))
        XCTAssertEqual([rsa.keyType, ec.keyType, oct.keyType, okp.keyType], ["RSA", "EC", "oct", "OKP"])
        // RSA signature of RS256 does not verify as PS256 (same key, other padding).
        let jws = try JWSCompact.parse(Substring(Self.rs256))
        XCTAssertFalse(rsa.verify(algorithm: .PS256, signingInput: jws.signingInput, signature: jws.signature))
    }
}
