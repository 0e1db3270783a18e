import XCTest
import GatewayHTTP

final class HTTPSyntaxTests: XCTestCase {
    func testTokenChars() {
        let tchars = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for b in UInt8.min...UInt8.max {
            XCTAssertEqual(HTTPSyntax.isTokenChar(b), tchars.contains(b), "byte \(b)")
        }
    }

    func testFieldNamesAndValues() {
        XCTAssertTrue(HTTPSyntax.isValidFieldName("X-Auth-Subject"))
        XCTAssertFalse(HTTPSyntax.isValidFieldName(""))
        XCTAssertFalse(HTTPSyntax.isValidFieldName("X Auth"))
        XCTAssertFalse(HTTPSyntax.isValidFieldName("X:Auth"))
        XCTAssertFalse(HTTPSyntax.isValidFieldName("X-Ä"))
        XCTAssertTrue(HTTPSyntax.isValidFieldValue(""))
        XCTAssertTrue(HTTPSyntax.isValidFieldValue("a b\tc"))
        XCTAssertTrue(HTTPSyntax.isValidFieldValue("Zoë"))
        XCTAssertFalse(HTTPSyntax.isValidFieldValue("a\r\nb"))
        XCTAssertFalse(HTTPSyntax.isValidFieldValue("a\nb"))
        XCTAssertFalse(HTTPSyntax.isValidFieldValue("a\u{00}"))
        XCTAssertFalse(HTTPSyntax.isValidFieldValue("a\u{7F}"))
        XCTAssertFalse(HTTPSyntax.isValidFieldValue(" a"))
        XCTAssertFalse(HTTPSyntax.isValidFieldValue("a\t"))
    }

    func testCaseInsensitiveHelpers() {
        XCTAssertTrue(HTTPSyntax.equalsIgnoringASCIICase("Content-Length", "content-LENGTH"))
        XCTAssertFalse(HTTPSyntax.equalsIgnoringASCIICase("Content-Length", "Content-Lengt"))
        XCTAssertFalse(HTTPSyntax.equalsIgnoringASCIICase("a-b", "a_b"))
        XCTAssertEqual(HTTPSyntax.asciiLowercased("X-Auth-Ä"), "x-auth-Ä")
        XCTAssertEqual(HTTPSyntax.listElements(" a, ,b ,\tc\t,"), ["a", "b", "c"])
    }

    func testHexDigits() {
        for b in Array("0123456789abcdefABCDEF".utf8) { XCTAssertTrue(HTTPSyntax.isHexDigit(b), String(UnicodeScalar(b))) }
        for b in Array("gG/:@`xX ".utf8) + [0x00, 0x7F, 0xFF] { XCTAssertFalse(HTTPSyntax.isHexDigit(b)) }
        XCTAssertEqual(HTTPSyntax.hexValue(UInt8(ascii: "f")), 15)
        XCTAssertEqual(HTTPSyntax.hexValue(UInt8(ascii: "A")), 10)
        XCTAssertNil(HTTPSyntax.hexValue(UInt8(ascii: "g")))
    }

    func testFieldValueBytes() {
        XCTAssertTrue(HTTPSyntax.isFieldValueByte(0x09))
        XCTAssertTrue(HTTPSyntax.isFieldValueByte(0x20))
        XCTAssertTrue(HTTPSyntax.isFieldValueByte(0x7E))
        XCTAssertTrue(HTTPSyntax.isFieldValueByte(0x80))
        XCTAssertFalse(HTTPSyntax.isFieldValueByte(0x7F))
        XCTAssertFalse(HTTPSyntax.isFieldValueByte(0x0A))
        XCTAssertFalse(HTTPSyntax.isFieldValueByte(0x00))
    }
}
