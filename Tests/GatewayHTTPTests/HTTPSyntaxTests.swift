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

    /// The buffer form of the Host check gives the same answer as the generic one, over
    /// host names, IP literals and ports both valid and not.
    func testHostValueOnBytesMatchesTheGenericCheck() {
        var values = ["", "a", ".", "a.", ".a", "a..b", "example.com", "EXAMPLE.com:8080", "127.0.0.1:18080", "h_1-x~y",
                      "host:", "host:0", "host:65535", "host:65536", "host:123456", "host:12a", ":80", "a:b:c",
                      "[::1]", "[::1]:443", "[::1]x", "[::1", "[1]", "[]", "[fe80::1%25eth0]", "[2001:db8::1]:8",
                      "exa mple.com", "ex@mple", "é.com", "host:+80", "a.b.c.d.e.f:1", "[::1]:"]
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("ab.-:[]09_~%@ ".utf8)
        for _ in 0..<3000 {
            let length = Int(rng.next() % 10)
            values.append(String(decoding: (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }, as: UTF8.self))
        }
        for v in values {
            let bytes = Array(v.utf8)
            let generic = HTTPSyntax.isValidHostValue(bytes)
            let buffered = bytes.withUnsafeBytes { HTTPSyntax.isValidHostValue($0) }
            XCTAssertEqual(buffered, generic, v)
        }
        XCTAssertTrue("127.0.0.1:18080".utf8.withContiguousStorageIfAvailable { HTTPSyntax.isValidHostValue(UnsafeRawBufferPointer($0)) } ?? false)
        XCTAssertFalse(Array("a..b".utf8).withUnsafeBytes { HTTPSyntax.isValidHostValue($0) })
    }
}
