import XCTest
import GatewayJOSE
import GatewayTestSupport

/// Hostile and borderline tokens: each refused with the right reason, or accepted.
final class StrictnessTests: XCTestCase {
    static let es256 = try! SigningKey.generate(for: .ES256)
    static let factory = TokenFactory(key: es256, algorithm: .ES256)
    static let keys = KeySet(keys: [es256.verificationKey(keyID: "k1")])
    static let requirements = Fixtures.requirements([.ES256, .RS256])
    static let now = 1_800_000_000.0

    private func verify(_ token: String, keys: KeySet = StrictnessTests.keys,
                        requirements: TokenRequirements = StrictnessTests.requirements) -> TokenError? {
        tokenError { _ = try TokenVerifier.verify(Substring(token), keys: keys, requirements: requirements, now: Self.now) }
    }

    private func token(header: String, payload: String? = nil) throws -> String {
        try Self.factory.token(header: header, payload: payload ?? "{" + claimsWithoutExp + #","exp":4102444800}"#)
    }

    func testBaselineTokenIsAccepted() throws {
        XCTAssertNil(verify(try Self.factory.token()))
    }

    // MARK: header

    func testAlgNoneIsRefused() throws {
        let payload = Base64URL.encode(Array(("{" + claimsWithoutExp + #","exp":4102444800}"#).utf8))
        let unsecured = Base64URL.encode(Array(#"{"alg":"none","kid":"k1"}"#.utf8)) + "." + payload + "."
        XCTAssertEqual(verify(unsecured)?.reasonCode, "algorithm")
        XCTAssertEqual(verify(try token(header: #"{"alg":"None","kid":"k1"}"#))?.reasonCode, "algorithm")
    }

    func testAlgMustBeAnAllowedStringNamingAnAlgorithm() throws {
        XCTAssertEqual(verify(try token(header: #"{"alg":"ES256K","kid":"k1"}"#))?.reasonCode, "algorithm")
        XCTAssertEqual(verify(try token(header: #"{"alg":256,"kid":"k1"}"#))?.reasonCode, "algorithm")
        XCTAssertEqual(verify(try token(header: #"{"alg":"es256","kid":"k1"}"#))?.reasonCode, "algorithm")
        XCTAssertEqual(verify(try token(header: #"{"kid":"k1"}"#))?.reasonCode, "malformed")
        var onlyRS = Self.requirements
        onlyRS.algorithms = [.RS256]
        XCTAssertEqual(verify(try Self.factory.token(), requirements: onlyRS)?.reasonCode, "algorithm")
    }

    func testCritHeaderIsRefused() throws {
        XCTAssertEqual(verify(try token(header: #"{"alg":"ES256","kid":"k1","crit":["b64"],"b64":false}"#)), .crit)
        XCTAssertEqual(verify(try token(header: #"{"alg":"ES256","kid":"k1","crit":[]}"#)), .crit)
    }

    func testTypMustBeJWTOrAccessTokenCaseInsensitive() throws {
        for typ in ["JWT", "jwt", "at+jwt", "AT+JWT", "At+Jwt"] {
            XCTAssertNil(verify(try token(header: #"{"alg":"ES256","kid":"k1","typ":"\#(typ)"}"#)), typ)
        }
        for typ in [#""JOSE""#, #""application/jwt+x""#, #""""#, "1", "null", #"["JWT"]"#] {
            XCTAssertEqual(verify(try token(header: #"{"alg":"ES256","kid":"k1","typ":\#(typ)}"#)), .type, typ)
        }
        XCTAssertNil(verify(try token(header: #"{"alg":"ES256","kid":"k1"}"#)))
    }

    func testKeysInTheTokenAreIgnored() throws {
        // An attacker's own key in `jwk`/`jku`/`x5u`/`x5c` changes nothing: the configured key decides.
        let attacker = try SigningKey.generate(for: .ES256)
        let jwk = JSONWriter.serialize(try XCTUnwrap(attacker.publicJWK(keyID: "k1", algorithm: .ES256)))
        let forged = try TokenFactory(key: attacker, algorithm: .ES256).token(
            header: #"{"alg":"ES256","kid":"k1","jwk":\#(jwk),"jku":"https://evil.example/jwks","x5u":"https://evil.example/c"}"#,
            payload: "{" + claimsWithoutExp + #","exp":4102444800}"#)
        XCTAssertEqual(verify(forged), .signature)
    }

    func testDuplicateMemberNamesAreMalformed() throws {
        XCTAssertEqual(verify(try token(header: #"{"alg":"ES256","kid":"k1","alg":"ES256"}"#))?.reasonCode, "malformed")
        XCTAssertEqual(verify(try token(header: #"{"alg":"ES256","kid":"k1"}"#,
                                        payload: "{" + claimsWithoutExp + #","exp":4102444800,"exp":4102444800}"#))?.reasonCode, "malformed")
        // Escaped spelling of the same name is still the same name.
        XCTAssertEqual(verify(try token(header: #"{"alg":"ES256","kid":"k1","\u0061lg":"ES256"}"#))?.reasonCode, "malformed")
    }

    func testKidMustBeAString() throws {
        XCTAssertEqual(verify(try token(header: #"{"alg":"ES256","kid":1}"#))?.reasonCode, "malformed")
    }

    // MARK: shape and encoding

    func testShapeAndBase64URLStrictness() throws {
        let good = try Self.factory.token()
        let parts = good.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(parts.count, 3)
        XCTAssertEqual(verify(parts[0] + "." + parts[1])?.reasonCode, "malformed")
        XCTAssertEqual(verify(good + ".")?.reasonCode, "malformed")
        XCTAssertEqual(verify(good + ".." + parts[2])?.reasonCode, "malformed")
        XCTAssertEqual(verify(" " + good)?.reasonCode, "malformed")
        XCTAssertEqual(verify(good + "\n")?.reasonCode, "malformed")
        XCTAssertEqual(verify("")?.reasonCode, "malformed")
        // Padding, standard-alphabet characters.
        XCTAssertEqual(verify(parts[0] + "=." + parts[1] + "." + parts[2])?.reasonCode, "malformed")
        XCTAssertEqual(verify(parts[0] + "." + parts[1] + "." + parts[2] + "==")?.reasonCode, "malformed")
        let standard = parts[2].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        if standard != parts[2] {
            XCTAssertEqual(verify(parts[0] + "." + parts[1] + "." + standard)?.reasonCode, "malformed")
        }
        XCTAssertEqual(verify(parts[0] + "." + parts[1] + "." + "ab+c")?.reasonCode, "malformed")
        // ES256 signature: 64 bytes → 86 characters, the last one carrying 2 unused bits.
        XCTAssertEqual(parts[2].count, 86)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        let last = alphabet.firstIndex(of: parts[2].last!)!
        let nonzeroTrailing = String(parts[2].dropLast()) + String(alphabet[last | 1])
        XCTAssertEqual(verify(parts[0] + "." + parts[1] + "." + nonzeroTrailing)?.reasonCode, "malformed")
    }

    func testTokenOver8KiBIsMalformed() throws {
        let big = String(repeating: "a", count: 8 * 1024)
        let token = try Self.factory.token(extra: #""pad":"\#(big)""#)
        XCTAssertGreaterThan(token.utf8.count, 8 * 1024)
        XCTAssertEqual(verify(token), .malformed("token over 8 KiB"))
        XCTAssertEqual(tokenError { _ = try TokenVerifier.unverifiedIssuer(Substring(token)) }?.reasonCode, "malformed")
        // Just under the limit is fine.
        let fits = try Self.factory.token(extra: #""pad":"\#(String(repeating: "a", count: 5000))""#)
        XCTAssertLessThan(fits.utf8.count, 8 * 1024)
        XCTAssertNil(verify(fits))
    }

    func testHeaderAndPayloadMustBeJSONObjects() throws {
        XCTAssertEqual(verify(try token(header: #"["ES256"]"#))?.reasonCode, "malformed")
        XCTAssertEqual(verify(try token(header: #"{"alg":"ES256","kid":"k1"}"#, payload: #""claims""#))?.reasonCode, "malformed")
        XCTAssertEqual(verify(try token(header: #"{"alg":"ES256","kid":"k1"}"#, payload: "{" + claimsWithoutExp + "} x"))?.reasonCode, "malformed")
        XCTAssertEqual(verify(try token(header: #"{"alg":"ES256","kid":"k1"} "#, payload: "{" + claimsWithoutExp + "}"))?.reasonCode, "missing_exp")
    }

    // MARK: ECDSA signatures

    private static let p256Order: [UInt8] = hex("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551")

    private func withSignature(_ token: String, _ signature: [UInt8]) -> String {
        let parts = token.split(separator: ".").map(String.init)
        return parts[0] + "." + parts[1] + "." + Base64URL.encode(signature)
    }

    func testDERECDSASignatureIsRefused() throws {
        let good = try Self.factory.token()
        let raw = try XCTUnwrap(Base64URL.decode(Substring(good.split(separator: ".")[2])))
        XCTAssertEqual(raw.count, 64)
        let der = derSignature(r: Array(raw[0..<32]), s: Array(raw[32..<64]))
        XCTAssertEqual(verify(withSignature(good, der)), .signature)
        // Truncated, extended and doubled raw forms too.
        XCTAssertEqual(verify(withSignature(good, Array(raw.dropLast()))), .signature)
        XCTAssertEqual(verify(withSignature(good, raw + [0])), .signature)
        XCTAssertEqual(verify(withSignature(good, [0] + raw)), .signature)
        XCTAssertEqual(verify(withSignature(good, raw + raw)), .signature)
        XCTAssertEqual(verify(withSignature(good, [])), .signature)
    }

    func testECDSAScalarsOutOfRangeAreRefused() throws {
        let good = try Self.factory.token()
        let raw = try XCTUnwrap(Base64URL.decode(Substring(good.split(separator: ".")[2])))
        let r = Array(raw[0..<32]), s = Array(raw[32..<64])
        let zero = [UInt8](repeating: 0, count: 32)
        XCTAssertEqual(verify(withSignature(good, zero + s)), .signature)
        XCTAssertEqual(verify(withSignature(good, r + zero)), .signature)
        XCTAssertEqual(verify(withSignature(good, zero + zero)), .signature)
        XCTAssertEqual(verify(withSignature(good, r + Self.p256Order)), .signature)
        XCTAssertEqual(verify(withSignature(good, Self.p256Order + s)), .signature)
        XCTAssertEqual(verify(withSignature(good, r + [UInt8](repeating: 0xFF, count: 32))), .signature)
        // s + n (mod 2^256) would be the same scalar mod n: refused, not reduced.
        XCTAssertEqual(verify(withSignature(good, r + add(s, Self.p256Order))), .signature)
        XCTAssertNil(verify(withSignature(good, r + s)))
    }

    // MARK: claims

    func testTimeClaimsMustBeNumbersInRange() throws {
        let f = Self.factory
        XCTAssertEqual(verify(try f.token(claims: claimsWithoutExp + #","exp":"4102444800""#)), .malformedClaim("exp"))
        XCTAssertEqual(verify(try f.token(claims: claimsWithoutExp + #","exp":-1"#)), .malformedClaim("exp"))
        XCTAssertEqual(verify(try f.token(claims: claimsWithoutExp + #","exp":1e300"#)), .malformedClaim("exp"))
        XCTAssertEqual(verify(try f.token(claims: claimsWithoutExp + #","exp":253402300800"#)), .malformedClaim("exp"))
        XCTAssertNil(verify(try f.token(claims: claimsWithoutExp + #","exp":253402300799"#)))
        XCTAssertEqual(verify(try f.token(claims: claimsWithoutExp + #","exp":true"#)), .malformedClaim("exp"))
        XCTAssertEqual(verify(try f.token(claims: claimsWithoutExp + #","exp":null"#)), .malformedClaim("exp"))
        XCTAssertEqual(verify(try f.token(claims: claimsWithoutExp + #","exp":[4102444800]"#)), .malformedClaim("exp"))
        // Not JSON at all: NaN, Infinity, a number overflowing a Double, hex.
        for bad in ["NaN", "Infinity", "-Infinity", "1e400", "0x10", "+4102444800", "04102444800"] {
            XCTAssertEqual(verify(try f.token(claims: claimsWithoutExp + #","exp":\#(bad)"#))?.reasonCode, "malformed", bad)
        }
        XCTAssertEqual(verify(try f.token(extra: #""nbf":"0""#)), .malformedClaim("nbf"))
        XCTAssertEqual(verify(try f.token(extra: #""nbf":-5"#)), .malformedClaim("nbf"))
        XCTAssertEqual(verify(try f.token(claims: #""iss":"https://issuer.test.example/","aud":"orders-api","iat":"1","exp":4102444800"#)), .malformedClaim("iat"))
    }

    func testExpiryBoundariesWithSkew() throws {
        let f = Self.factory
        let exp = Self.now
        // Valid while now - 30 < exp.
        XCTAssertNil(verify(try f.token(claims: claimsWithoutExp + #","exp":\#(Int(exp - 29))"#)))
        XCTAssertEqual(verify(try f.token(claims: claimsWithoutExp + #","exp":\#(Int(exp - 30))"#)), .expired)
        XCTAssertEqual(verify(try f.token(claims: claimsWithoutExp + #","exp":\#(exp - 29.5)"#)), nil)
        XCTAssertEqual(verify(try f.token(claims: claimsWithoutExp + #","exp":\#(exp - 30.5)"#)), .expired)
        var noSkew = Self.requirements
        noSkew.clockSkew = 0
        XCTAssertEqual(verify(try f.token(claims: claimsWithoutExp + #","exp":\#(Int(exp))"#), requirements: noSkew), .expired)
        XCTAssertNil(verify(try f.token(claims: claimsWithoutExp + #","exp":\#(Int(exp + 1))"#), requirements: noSkew))
    }

    func testNotBeforeAndIssuedAtWithSkew() throws {
        let f = Self.factory
        let now = Int(Self.now)
        XCTAssertNil(verify(try f.token(extra: #""nbf":\#(now + 30)"#)))
        XCTAssertEqual(verify(try f.token(extra: #""nbf":\#(now + 31)"#)), .notYetValid)
        let iatClaims = { (iat: Int) in #""iss":"https://issuer.test.example/","aud":"orders-api","iat":\#(iat),"exp":4102444800"# }
        XCTAssertNil(verify(try f.token(claims: iatClaims(now + 30))))
        XCTAssertEqual(verify(try f.token(claims: iatClaims(now + 31))), .iatInFuture)
    }

    func testMissingExp() throws {
        XCTAssertEqual(verify(try Self.factory.token(claims: claimsWithoutExp)), .missingExp)
        var optional = Self.requirements
        optional.requireExp = false
        XCTAssertNil(verify(try Self.factory.token(claims: claimsWithoutExp), requirements: optional))
        optional.maxTokenLifetime = 3600
        XCTAssertEqual(verify(try Self.factory.token(claims: claimsWithoutExp), requirements: optional), .lifetime)
    }

    func testIssuerIsExact() throws {
        let f = Self.factory
        XCTAssertEqual(verify(try f.token(claims: #""aud":"orders-api","exp":4102444800"#)), .issuer)
        XCTAssertEqual(verify(try f.token(claims: #""iss":"HTTPS://issuer.test.example/","aud":"orders-api","exp":4102444800"#)), .issuer)
        XCTAssertEqual(verify(try f.token(claims: #""iss":["https://issuer.test.example/"],"aud":"orders-api","exp":4102444800"#)), .issuer)
    }

    func testAudience() throws {
        let f = Self.factory
        let base = #""iss":"https://issuer.test.example/","exp":4102444800"#
        XCTAssertNil(verify(try f.token(claims: base + #","aud":["a","orders-api"]"#)))
        XCTAssertEqual(verify(try f.token(claims: base + #","aud":["a","b"]"#)), .audience)
        XCTAssertEqual(verify(try f.token(claims: base + #","aud":[]"#)), .audience)
        XCTAssertEqual(verify(try f.token(claims: base)), .audience)
        XCTAssertEqual(verify(try f.token(claims: base + #","aud":"Orders-Api""#)), .audience)
        XCTAssertEqual(verify(try f.token(claims: base + #","aud":5"#)), .malformedClaim("aud"))
        XCTAssertEqual(verify(try f.token(claims: base + #","aud":["orders-api",5]"#)), .malformedClaim("aud"))
        var any = Self.requirements
        any.audiences = []
        XCTAssertNil(verify(try f.token(claims: base), requirements: any))
        any.audiences = ["x", "orders-api"]
        XCTAssertNil(verify(try f.token(claims: base + #","aud":"orders-api""#), requirements: any))
    }

    func testMaximumLifetime() throws {
        var r = Self.requirements
        r.maxTokenLifetime = 3600
        let now = Int(Self.now)
        let claims = { (iat: Int?, exp: Int) in
            #""iss":"https://issuer.test.example/","aud":"orders-api","exp":\#(exp)"# + (iat.map { #","iat":\#($0)"# } ?? "")
        }
        XCTAssertNil(verify(try Self.factory.token(claims: claims(now, now + 3600)), requirements: r))
        XCTAssertEqual(verify(try Self.factory.token(claims: claims(now, now + 3601)), requirements: r), .lifetime)
        XCTAssertNil(verify(try Self.factory.token(claims: claims(nil, now + 3600)), requirements: r))
        XCTAssertEqual(verify(try Self.factory.token(claims: claims(nil, now + 3601)), requirements: r), .lifetime)
    }

    func testSignatureIsCheckedBeforeClaims() throws {
        // An expired token with a bad signature reports the signature, not the expiry.
        let expired = try Self.factory.token(claims: claimsWithoutExp + #","exp":1000"#)
        let other = try TokenFactory(key: try SigningKey.generate(for: .ES256), algorithm: .ES256).token(claims: claimsWithoutExp + #","exp":1000"#)
        XCTAssertEqual(verify(expired), .expired)
        XCTAssertEqual(verify(other), .signature)
    }

    // MARK: key selection

    func testKeySelection() throws {
        let second = try SigningKey.generate(for: .ES256)
        let rsa = try SigningKey.generate(for: .RS256)
        let two = KeySet(keys: [Self.es256.verificationKey(keyID: "k1"), second.verificationKey(keyID: "k2"),
                                rsa.verificationKey(keyID: "r1")])
        let noKid = #"{"alg":"ES256"}"#
        let payload = "{" + claimsWithoutExp + #","exp":4102444800}"#
        // Without kid: two ES256 keys fit → unknown key; one fitting key → used.
        XCTAssertEqual(verify(try Self.factory.token(header: noKid, payload: payload), keys: two), .unknownKey)
        XCTAssertNil(verify(try Self.factory.token(header: noKid, payload: payload)))
        let rsaToken = try TokenFactory(key: rsa, algorithm: .RS256).token(header: #"{"alg":"RS256"}"#, payload: payload)
        XCTAssertNil(verify(rsaToken, keys: two))
        // kid picks among them.
        XCTAssertNil(verify(try Self.factory.token(header: #"{"alg":"ES256","kid":"k1"}"#, payload: payload), keys: two))
        XCTAssertEqual(verify(try Self.factory.token(header: #"{"alg":"ES256","kid":"k2"}"#, payload: payload), keys: two), .signature)
        XCTAssertEqual(verify(try Self.factory.token(header: #"{"alg":"ES256","kid":"k9"}"#, payload: payload), keys: two), .unknownKey)
        // A kid naming a key of another type: algorithm.
        XCTAssertEqual(verify(try Self.factory.token(header: #"{"alg":"ES256","kid":"r1"}"#, payload: payload), keys: two)?.reasonCode, "algorithm")
        // No key at all.
        XCTAssertEqual(verify(try Self.factory.token(header: noKid, payload: payload), keys: KeySet(keys: [])), .unknownKey)
    }

    func testConfiguredKeyWithoutKeyIDIgnoresTheTokensKid() throws {
        let pemKeyNoID = KeySet(keys: try KeySet.hmacSecret([UInt8](repeating: 7, count: 32), keyID: nil, algorithms: [.HS256]).keys)
        let hs = TokenFactory(key: SigningKey.hmac([UInt8](repeating: 7, count: 32)), algorithm: .HS256)
        let payload = "{" + claimsWithoutExp + #","exp":4102444800}"#
        var r = Self.requirements
        r.algorithms = [.HS256]
        XCTAssertNil(verify(try hs.token(header: #"{"alg":"HS256","kid":"anything"}"#, payload: payload), keys: pemKeyNoID, requirements: r))
        XCTAssertNil(verify(try hs.token(header: #"{"alg":"HS256"}"#, payload: payload), keys: pemKeyNoID, requirements: r))
        // With key_id set, a token kid must equal it.
        let withID = try KeySet.hmacSecret([UInt8](repeating: 7, count: 32), keyID: "corp", algorithms: [.HS256])
        XCTAssertNil(verify(try hs.token(header: #"{"alg":"HS256","kid":"corp"}"#, payload: payload), keys: withID, requirements: r))
        XCTAssertEqual(verify(try hs.token(header: #"{"alg":"HS256","kid":"other"}"#, payload: payload), keys: withID, requirements: r), .unknownKey)
        XCTAssertNil(verify(try hs.token(header: #"{"alg":"HS256"}"#, payload: payload), keys: withID, requirements: r))
        // A JWK without kid is not selected by a token's kid.
        let jwkNoKid = try KeySet.jwkSet(json: Array((#"{"keys":["# + JSONWriter.serialize(Self.es256.publicJWK(keyID: nil, algorithm: nil)!) + "]}").utf8))
        XCTAssertEqual(verify(try Self.factory.token(), keys: jwkNoKid), .unknownKey)
        XCTAssertNil(verify(try Self.factory.token(header: #"{"alg":"ES256"}"#, payload: payload), keys: jwkNoKid))
    }

    func testHMACSignatureComparison() throws {
        let secret = [UInt8](repeating: 9, count: 64)
        let keys = try KeySet.hmacSecret(secret, keyID: nil, algorithms: [.HS256, .HS512])
        var r = Self.requirements
        r.algorithms = [.HS256, .HS512]
        let good = try TokenFactory(key: SigningKey.hmac(secret), algorithm: .HS512).token()
        XCTAssertNil(verify(good, keys: keys, requirements: r))
        let raw = try XCTUnwrap(Base64URL.decode(Substring(good.split(separator: ".")[2])))
        XCTAssertEqual(verify(withSignature(good, Array(raw.prefix(32))), keys: keys, requirements: r), .signature)
        var flipped = raw
        flipped[63] ^= 0x80
        XCTAssertEqual(verify(withSignature(good, flipped), keys: keys, requirements: r), .signature)
        let wrongKey = try TokenFactory(key: SigningKey.hmac([UInt8](repeating: 8, count: 64)), algorithm: .HS512).token()
        XCTAssertEqual(verify(wrongKey, keys: keys, requirements: r), .signature)
    }
}

func hex(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = s.makeIterator()
    while let a = it.next(), let b = it.next() { out.append(UInt8(String([a, b]), radix: 16)!) }
    return out
}

/// Big-endian a + b, truncated to a's length.
func add(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
    var out = a
    var carry = 0
    for k in stride(from: a.count - 1, through: 0, by: -1) {
        let v = Int(a[k]) + Int(b[k]) + carry
        out[k] = UInt8(v & 0xFF)
        carry = v >> 8
    }
    return out
}

/// DER `ECDSA-Sig-Value` (SEQUENCE of two INTEGERs), written independently of the module.
func derSignature(r: [UInt8], s: [UInt8]) -> [UInt8] {
    func integer(_ v: [UInt8]) -> [UInt8] {
        var body = Array(v.drop { $0 == 0 })
        if body.isEmpty { body = [0] }
        if body[0] & 0x80 != 0 { body.insert(0, at: 0) }
        return [0x02, UInt8(body.count)] + body
    }
    let content = integer(r) + integer(s)
    return [0x30] + (content.count < 128 ? [UInt8(content.count)] : [0x81, UInt8(content.count)]) + content
}

final class RSASignatureLengthTests: XCTestCase {
    /// RFC 8017 §8.2.2 step 1: a signature must be exactly the modulus length, so one
    /// whose leading zero octet was dropped is refused (PSS and PKCS #1 v1.5 alike).
    func testRSASignatureWithLeadingZeroStrippedIsRefused() throws {
        let key = try SigningKey.generate(for: .PS256)
        let keys = KeySet(keys: [key.verificationKey(keyID: "k1")])
        let r = Fixtures.requirements([.PS256])
        let factory = TokenFactory(key: key, algorithm: .PS256)
        // PSS is randomized: about one signature in 256 starts with 0x00. Bounded search.
        var found = false
        for i in 0..<4000 {
            let token = try factory.token(extra: #""n":\#(i)"#)
            let parts = token.split(separator: ".").map(String.init)
            let sig = try XCTUnwrap(Base64URL.decode(Substring(parts[2])))
            guard sig.first == 0 else { continue }
            found = true
            XCTAssertEqual(sig.count, 256)
            XCTAssertNoThrow(try TokenVerifier.verify(Substring(token), keys: keys, requirements: r, now: 1_800_000_000))
            let stripped = parts[0] + "." + parts[1] + "." + Base64URL.encode(Array(sig.dropFirst()))
            XCTAssertEqual(tokenError { _ = try TokenVerifier.verify(Substring(stripped), keys: keys, requirements: r, now: 1_800_000_000) }, .signature)
            break
        }
        XCTAssertTrue(found, "no PSS signature with a leading zero in 4000 tries")
    }

    func testRSASignatureWithExtraLeadingZeroIsRefused() throws {
        let key = try SigningKey.generate(for: .RS256)
        let keys = KeySet(keys: [key.verificationKey(keyID: "k1")])
        let token = try TokenFactory(key: key, algorithm: .RS256).token()
        let parts = token.split(separator: ".").map(String.init)
        let sig = try XCTUnwrap(Base64URL.decode(Substring(parts[2])))
        let padded = parts[0] + "." + parts[1] + "." + Base64URL.encode([0] + sig)
        XCTAssertEqual(tokenError { _ = try TokenVerifier.verify(Substring(padded), keys: keys, requirements: Fixtures.requirements([.RS256]), now: 1_800_000_000) }, .signature)
    }
}

final class TruncationTests: XCTestCase {
    /// Every proper prefix of a valid token, and the token with any one character changed
    /// or removed, is refused (and nothing crashes).
    func testEveryPrefixAndSingleCharacterEditIsRefused() throws {
        let key = try SigningKey.generate(for: .ES256)
        let keys = KeySet(keys: [key.verificationKey(keyID: "k1")])
        let r = Fixtures.requirements([.ES256])
        let token = Array(try TokenFactory(key: key, algorithm: .ES256).token().utf8)
        func accepted(_ bytes: [UInt8]) -> Bool {
            (try? TokenVerifier.verify(Substring(String(decoding: bytes, as: UTF8.self)), keys: keys, requirements: r, now: 1_800_000_000)) != nil
        }
        XCTAssertTrue(accepted(token))
        var acceptedPrefixes = 0, acceptedEdits = 0
        for n in 0..<token.count where accepted(Array(token.prefix(n))) { acceptedPrefixes += 1 }
        for i in 0..<token.count {
            var removed = token
            removed.remove(at: i)
            if accepted(removed) { acceptedEdits += 1 }
            var changed = token
            changed[i] = token[i] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            if accepted(changed) { acceptedEdits += 1 }
        }
        XCTAssertEqual(acceptedPrefixes, 0)
        XCTAssertEqual(acceptedEdits, 0)
    }

    func testEveryPrefixOfAJSONDocumentIsRefused() throws {
        let doc = Array(#"{"a":[1,-2.5e3,true,false,null,"x\u00e9\n"],"b":{"c":"d"}}"#.utf8)
        XCTAssertNoThrow(try JSONReader.parse(doc))
        for n in 0..<doc.count {
            XCTAssertNotNil(tokenError { _ = try JSONReader.parse(Array(doc.prefix(n))) }, "prefix \(n)")
        }
    }
}
