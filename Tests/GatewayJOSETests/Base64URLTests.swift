import XCTest
import GatewayJOSE

final class Base64URLTests: XCTestCase {
    func testRFC4648Vectors() {
        // RFC 4648 §10, without padding, URL alphabet.
        let cases = ["": "", "f": "Zg", "fo": "Zm8", "foo": "Zm9v", "foob": "Zm9vYg", "fooba": "Zm9vYmE", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in cases {
            XCTAssertEqual(Base64URL.encode(Array(plain.utf8)), encoded)
            XCTAssertEqual(Base64URL.decode(Substring(encoded)), Array(plain.utf8))
        }
        XCTAssertEqual(Base64URL.encode([0xFB, 0xFF, 0xBF]), "-_-_")
        XCTAssertEqual(Base64URL.decode("-_-_"), [0xFB, 0xFF, 0xBF])
    }

    func testEveryByteLengthRoundTrips() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + length) & 0xFF) }
            XCTAssertEqual(Base64URL.decode(Substring(Base64URL.encode(bytes))), bytes, "length \(length)")
        }
    }

    func testStrictDecodingRefusals() {
        for bad in ["Zg==", "Zg=", "Zm8=", "Z", "Zm9vY", "+/+/", "ab/c", "Zm 9v", "Zm9v\n", "Zm9v.", "Zm9\u{e9}",
                    "Zh", "Zm9", "Zm-", "AB", "AAB"] {
            XCTAssertNil(Base64URL.decode(Substring(bad)), bad)
        }
        // Zero unused bits are fine: "Zg" is 'f'; "Zh" differs only in the unused bits.
        XCTAssertEqual(Base64URL.decode("Zg"), [0x66])
        XCTAssertEqual(Base64URL.decode("Zm8"), [0x66, 0x6F])
        XCTAssertEqual(Base64URL.decode("AA"), [0])
        XCTAssertEqual(Base64URL.decode("AAA"), [0, 0])
    }

    func testDecodesASubstringInsideALargerString() {
        let token = "xx.Zm9vYmFy.yy"
        let middle = token.split(separator: ".")[1]
        XCTAssertEqual(Base64URL.decode(middle), Array("foobar".utf8))
    }
}
