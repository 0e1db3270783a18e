import XCTest
import GatewayJOSE
import GatewayTestSupport

/// The gateway's path for a token seen the first time: one split and one payload parse
/// (`TokenVerifier.parseUnverified`) for choosing the issuer and verifying, refusing
/// exactly what `TokenVerifier.verify(_:keys:requirements:now:)` refuses.
final class SinglePassVerificationTests: XCTestCase {
    private func parse(_ bytes: [UInt8]) -> TokenError? { tokenError { _ = try JSONReader.parse(bytes) } }

    func testEveryVectorHasTheSameOutcomeThroughTheParsedPath() throws {
        let vectors = try Fixtures.tokenVectors()
        let jwks = try Fixtures.jwksKeySet()
        let hmac = try Fixtures.hmacKeySet()
        XCTAssertGreaterThan(vectors.tokens.count, 30)
        for v in vectors.tokens {
            let keys = v.issuer == "hmac" ? hmac : jwks
            let requirements = Fixtures.requirements(v.issuer == "hmac" ? Fixtures.hmacAlgorithms : Fixtures.jwksAlgorithms)
            var whole: VerifiedToken?, split: VerifiedToken?
            let wholeError = tokenError {
                whole = try TokenVerifier.verify(Substring(v.token), keys: keys, requirements: requirements, now: Fixtures.now)
            }
            let splitError = tokenError {
                let parsed = try TokenVerifier.parseUnverified(Substring(v.token))
                XCTAssertEqual(parsed.issuer, try TokenVerifier.unverifiedIssuer(Substring(v.token)), v.name)
                split = try TokenVerifier.verify(parsed, keys: keys, requirements: requirements, now: Fixtures.now)
            }
            XCTAssertEqual(splitError?.reasonCode, wholeError?.reasonCode, v.name)
            XCTAssertEqual(split?.claims, whole?.claims, v.name)
            XCTAssertEqual(split?.header, whole?.header, v.name)
            XCTAssertEqual(split?.algorithm, whole?.algorithm, v.name)
            if v.expect == "valid" { XCTAssertNotNil(split, v.name) } else { XCTAssertEqual(splitError?.reasonCode, v.reason, v.name) }
        }
    }

    func testParsedTokenInsideALargerStringVerifiesItsOwnBytes() throws {
        let vectors = try Fixtures.tokenVectors()
        let valid = try XCTUnwrap(vectors.tokens.first { $0.expect == "valid" && $0.issuer != "hmac" })
        let line = "Bearer " + valid.token + " trailing"
        let token = line.dropFirst(7).prefix(valid.token.utf8.count)
        let parsed = try TokenVerifier.parseUnverified(token)
        let verified = try TokenVerifier.verify(parsed, keys: try Fixtures.jwksKeySet(),
                                                requirements: Fixtures.requirements(Fixtures.jwksAlgorithms), now: Fixtures.now)
        XCTAssertEqual(verified.claims[member: "iss"], .string(Fixtures.issuer))
    }

    func testDuplicateNamesAreRefusedInSmallAndLargeObjects() {
        for count in [1, 2, 15, 16, 17, 40] {
            let names = (0..<count).map { "\"m\($0)\":\($0)" }
            XCTAssertNil(parse(Array(("{" + names.joined(separator: ",") + "}").utf8)), "\(count) distinct members")
            for dup in [0, count / 2, count - 1] {
                let text = "{" + (names + ["\"m\(dup)\":true"]).joined(separator: ",") + "}"
                XCTAssertEqual(parse(Array(text.utf8))?.reasonCode, "malformed", "\(count) members, m\(dup) repeated")
            }
        }
    }

    func testCanonicallyEquivalentNamesAreDuplicates() {
        // KELVIN SIGN is canonically equivalent to "K"; both spellings stay refused, also
        // in an object past the size where names are kept in a set.
        XCTAssertEqual(parse(Array("{\"K\":1,\"\u{212A}\":2}".utf8))?.reasonCode, "malformed")
        XCTAssertEqual(parse(Array(#"{"K":1,"\u212A":2}"#.utf8))?.reasonCode, "malformed")
        XCTAssertEqual(parse(Array("{\"e\u{301}\":1,\"\u{E9}\":2}".utf8))?.reasonCode, "malformed")
        let many = (0..<20).map { "\"m\($0)\":\($0)" }.joined(separator: ",")
        XCTAssertEqual(parse(Array("{\"K\":1,\(many),\"\u{212A}\":2}".utf8))?.reasonCode, "malformed")
    }

    func testStringsKeepTheirExactBytesAndRefuseInvalidUTF8() throws {
        let decomposed = "e\u{301}"
        let value = try JSONReader.parse(Array("[\"\(decomposed)\",\"\\u00e9x\"]".utf8))
        guard case .array(let items) = value, case .string(let a) = items[0], case .string(let b) = items[1] else {
            return XCTFail("not two strings")
        }
        XCTAssertEqual(Array(a.utf8), [0x65, 0xCC, 0x81])
        XCTAssertEqual(Array(b.utf8), [0xC3, 0xA9, 0x78])
        // Invalid UTF-8 with and without an escape before it.
        for bad: [UInt8] in [[0x22, 0x61, 0xFF, 0x22], [0x22, 0x5C, 0x6E, 0xFF, 0x22], [0x22, 0x5C, 0x6E, 0xC3, 0x22],
                             [0x22, 0xE0, 0x80, 0x80, 0x22], [0x22, 0x5C, 0x74, 0xED, 0xB0, 0x80, 0x22],
                             [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]] {
            XCTAssertEqual(parse(bad)?.reasonCode, "malformed", "\(bad)")
        }
        XCTAssertNil(parse([0x22, 0x5C, 0x6E, 0xF0, 0x9F, 0x98, 0x80, 0x22]))
    }

    func testBase64URLDecodingRefusesEveryByteOutsideTheAlphabet() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        for length in [2, 3, 4, 6, 7, 8] {
            for position in 0..<length {
                for byte in 0...255 {
                    var text = [UInt8](repeating: UInt8(ascii: "A"), count: length)
                    text[position] = UInt8(byte)
                    let decoded = Base64URL.decode(Substring(decoding: text, as: UTF8.self))
                    let inAlphabet = alphabet.firstIndex(of: UInt8(byte))
                    guard let value = inAlphabet, byte < 0x80 else {
                        XCTAssertNil(decoded, "byte \(byte) at \(position) of \(length)")
                        continue
                    }
                    // The last character of a 2- or 3-character group carries unused bits.
                    let last = position == length - 1
                    let unused = length % 4 == 2 ? 0x0F : length % 4 == 3 ? 0x03 : 0
                    if last && value & unused != 0 {
                        XCTAssertNil(decoded, "unused bits of byte \(byte) at \(position) of \(length)")
                    } else {
                        XCTAssertEqual(decoded?.count, length / 4 * 3 + max(0, length % 4 - 1), "byte \(byte) at \(position)")
                        XCTAssertEqual(decoded.map(Base64URL.encode), String(decoding: text, as: UTF8.self))
                    }
                }
            }
        }
    }
}
