import GatewayJOSE
import XCTest

/// JSON numbers stay exact (RFC 8259 §6): integers of any size compare by value and are
/// written back as their digits; nothing goes through `Double` except time arithmetic.
final class JSONNumberTests: XCTestCase {
    private func number(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> JSONNumber {
        guard case .number(let n) = try JSONReader.parse(Array(text.utf8)) else {
            XCTFail("not a number: \(text)", file: file, line: line)
            throw TokenError.malformed("not a number")
        }
        return n
    }

    func testNeighbouringLargeIntegersDiffer() throws {
        // 2^53 + 1 rounds to 2^53 as a Double: the claim that let one user ID pass for another.
        XCTAssertNotEqual(try number("9007199254740993"), try number("9007199254740992"))
        XCTAssertEqual(try number("9007199254740993"), try number("9007199254740993"))
        XCTAssertNotEqual(try number("123456789012345678901234567890"), try number("123456789012345678901234567891"))
        XCTAssertNotEqual(try number("-9223372036854775809"), try number("-9223372036854775808"))
    }

    func testEqualityIsExactMathematicalValue() throws {
        XCTAssertEqual(try number("1"), try number("1.0"))
        XCTAssertEqual(try number("1"), try number("10e-1"))
        XCTAssertEqual(try number("1000"), try number("1e3"))
        XCTAssertEqual(try number("1000"), try number("0.001E+6"))
        XCTAssertEqual(try number("0"), try number("-0"))
        XCTAssertEqual(try number("0"), try number("0.000e5"))
        XCTAssertNotEqual(try number("1"), try number("-1"))
        XCTAssertNotEqual(try number("0.1"), try number("0.10000000000000001"), "equal as Doubles, not as values")
        XCTAssertEqual(Set([try number("1"), try number("1.0"), try number("1e0")]).count, 1, "hash agrees with ==")
    }

    func testTextIsKeptAsWritten() throws {
        XCTAssertEqual(try number("1234567890123456789").text, "1234567890123456789")
        XCTAssertEqual(try number("9007199254740993").text, "9007199254740993")
        XCTAssertEqual(try number("123456789012345678901234567890").text, "123456789012345678901234567890")
        XCTAssertEqual(try number("2.50").text, "2.50")
        XCTAssertEqual(try number("1E+2").text, "1E+2")
        XCTAssertEqual(try number("-0").text, "-0")
        XCTAssertTrue(try number("42").isIntegerLiteral)
        XCTAssertFalse(try number("4.2e1").isIntegerLiteral)
        let doc = #"{"a":9007199254740993,"b":0.1000,"c":-12e-3}"#
        XCTAssertEqual(JSONWriter.serialize(try JSONReader.parse(Array(doc.utf8))), doc)
    }

    func testOddAndHugeNumbers() throws {
        // Beyond the finite double range (RFC 7493 §2.2): malformed, as before.
        for bad in ["1e400", "-1e400", "1" + String(repeating: "0", count: 309), "00", "-", "1.0e+", "1.e1", "+1", "0x10",
                    "1e1234567890123456789"] {
            XCTAssertEqual(tokenError { _ = try JSONReader.parse(Array(bad.utf8)) }?.reasonCode, "malformed", bad)
        }
        // Within it, any number of digits stays exact.
        let big = "1" + String(repeating: "0", count: 300) + "1"
        XCTAssertEqual(try number(big).text, big)
        XCTAssertNotEqual(try number(big), try number("1" + String(repeating: "0", count: 300) + "2"))
        XCTAssertEqual(try number("1e-400"), try number("1e-400"))
        XCTAssertNotEqual(try number("1e-400"), try number("0"), "tiny but not zero")
        XCTAssertEqual(try number("1e00000000000000000000000001").text, "1e00000000000000000000000001")
        XCTAssertEqual(try number("1e00000000000000000000000001"), try number("10"))
    }

    func testLiteralsFromText() {
        XCTAssertNotNil(JSONNumber("-12.5e3"))
        for bad in ["", "01", "+1", "1.", ".5", "1e", "--1", "1 ", "0x1F", "NaN"] { XCTAssertNil(JSONNumber(bad), bad) }
        XCTAssertEqual(JSONNumber(4_102_444_800.0).text, "4102444800")
        XCTAssertEqual(JSONNumber(0.5).text, "0.5")
        XCTAssertEqual(JSONNumber(-3).text, "-3")
    }

    func testDoubleValueIsTheNearestDouble() {
        XCTAssertEqual(JSONNumber("4102444800")!.doubleValue, 4_102_444_800)
        XCTAssertEqual(JSONNumber("999999999999999")!.doubleValue, 999_999_999_999_999)
        XCTAssertEqual(JSONNumber("9007199254740993")!.doubleValue, 9_007_199_254_740_992)
        XCTAssertEqual(JSONNumber("-5")!.doubleValue, -5)
        XCTAssertEqual(JSONNumber("2.5e1")!.doubleValue, 25)
        XCTAssertEqual(JSONNumber("1e400")!.doubleValue, .infinity)
        XCTAssertEqual(JSONNumber("-0")!.doubleValue, 0)
    }

    func testTimeClaimsStillAcceptIntegersAndFractionsAndRefuseHugeValues() throws {
        let rs = try SigningKey.generate(for: .ES256)
        let keys = KeySet(keys: [rs.verificationKey(keyID: "k")])
        let req = TokenRequirements(issuer: "https://i.example/", audiences: [], algorithms: [.ES256])
        func verify(_ exp: String) throws -> TokenError? {
            let claims: JSONValue = .object([("iss", .string("https://i.example/")), ("sub", .string("u")),
                                             ("exp", .number(try XCTUnwrap(JSONNumber(exp))))])
            let token = try rs.sign(claims: claims, algorithm: .ES256, keyID: "k")
            return tokenError { _ = try TokenVerifier.verify(Substring(token), keys: keys, requirements: req, now: 1_000) }
        }
        XCTAssertNil(try verify("2000"))
        XCTAssertNil(try verify("2000.75"))
        XCTAssertNil(try verify("2e3"))
        XCTAssertEqual(try verify("960.5"), .expired)
        XCTAssertEqual(try verify("123456789012345678901234567890"), .malformedClaim("exp"), "past 9999-12-31")
        XCTAssertEqual(try verify("-0"), .expired)
    }
}
