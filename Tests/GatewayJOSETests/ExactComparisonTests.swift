import GatewayJOSE
import XCTest

/// Claims compare byte for byte: Swift's String `==` treats canonically equivalent strings
/// (KELVIN SIGN U+212A and "K") as equal, which must not let a token for another audience
/// or issuer through.
final class ExactComparisonTests: XCTestCase {
    let secret = [UInt8](repeating: 7, count: 64)

    func token(_ claims: [(String, JSONValue)]) throws -> Substring {
        Substring(try SigningKey.hmac(secret).sign(claims: .object(claims), algorithm: .HS256, keyID: "K1"))
    }

    func verify(_ t: Substring, issuer: String = "https://Kitchen.example/", audiences: [String] = ["Kitchen-api"],
                keyID: String? = nil) throws -> VerifiedToken {
        let keys = try KeySet.hmacSecret(secret, keyID: keyID, algorithms: [.HS256])
        return try TokenVerifier.verify(t, keys: keys, requirements: TokenRequirements(
            issuer: issuer, audiences: audiences, algorithms: [.HS256]), now: 1_000)
    }

    func testCanonicallyEquivalentAudienceIsRefused() throws {
        let ok = try token([("iss", .string("https://Kitchen.example/")), ("aud", .string("Kitchen-api")), ("exp", .number(2_000))])
        XCTAssertNoThrow(try verify(ok))
        let kelvin = try token([("iss", .string("https://Kitchen.example/")), ("aud", .string("\u{212A}itchen-api")),
                                ("exp", .number(2_000))])
        XCTAssertTrue("\u{212A}itchen-api" == "Kitchen-api", "premise: Swift's == folds canonical equivalents")
        XCTAssertThrowsError(try verify(kelvin)) { XCTAssertEqual($0 as? TokenError, .audience) }
        let kelvinArray = try token([("iss", .string("https://Kitchen.example/")), ("aud", .array([.string("\u{212A}itchen-api")])),
                                     ("exp", .number(2_000))])
        XCTAssertThrowsError(try verify(kelvinArray)) { XCTAssertEqual($0 as? TokenError, .audience) }
    }

    func testCanonicallyEquivalentIssuerAndKeyIDAreRefused() throws {
        let iss = try token([("iss", .string("https://\u{212A}itchen.example/")), ("aud", .string("Kitchen-api")),
                             ("exp", .number(2_000))])
        XCTAssertThrowsError(try verify(iss)) { XCTAssertEqual($0 as? TokenError, .issuer) }
        let ok = try token([("iss", .string("https://Kitchen.example/")), ("aud", .string("Kitchen-api")), ("exp", .number(2_000))])
        // The token's kid is "K1"; a key configured as "\u{212A}1" must not be selected by it.
        XCTAssertThrowsError(try verify(ok, keyID: "\u{212A}1")) { XCTAssertEqual($0 as? TokenError, .unknownKey) }
        XCTAssertNoThrow(try verify(ok, keyID: "K1"))
    }

    func testMemberLookupIsExact() throws {
        let v = JSONValue.object([("\u{212A}ey", .string("x"))])
        XCTAssertNil(v[member: "Key"])
        XCTAssertEqual(v[member: "\u{212A}ey"], .string("x"))
    }
}
