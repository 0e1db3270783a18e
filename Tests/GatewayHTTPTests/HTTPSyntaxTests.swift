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
}
