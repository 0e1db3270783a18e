import GatewayHTTP
import XCTest

/// Origins (RFC 6454): parsing the serialization, comparison and the gateway's own origin.
final class OriginTests: XCTestCase {
    func testParseAndSerialize() {
        XCTAssertEqual(Origin.parse("https://app.example.com")?.description, "https://app.example.com")
        XCTAssertEqual(Origin.parse("http://127.0.0.1:8080")?.description, "http://127.0.0.1:8080")
        XCTAssertEqual(Origin.parse("http://[::1]:8080")?.description, "http://[::1]:8080")
        XCTAssertEqual(Origin.parse("https://app.example.com")?.port, 443)
        XCTAssertEqual(Origin.parse("http://app.example.com")?.port, 80)
    }

    func testSchemeAndHostAreCaseInsensitive() {
        XCTAssertEqual(Origin.parse("HTTPS://App.Example.COM"), Origin.parse("https://app.example.com"))
        XCTAssertEqual(Origin.parse("HTTPS://App.Example.COM")?.description, "https://app.example.com")
    }

    func testDefaultPortEqualsExplicitOtherPortsDiffer() {
        XCTAssertEqual(Origin.parse("https://a.test:443"), Origin.parse("https://a.test"))
        XCTAssertEqual(Origin.parse("http://a.test:80"), Origin.parse("http://a.test"))
        XCTAssertEqual(Origin.parse("https://a.test:443")?.description, "https://a.test")
        XCTAssertNotEqual(Origin.parse("https://a.test:8443"), Origin.parse("https://a.test"))
        XCTAssertNotEqual(Origin.parse("http://a.test:443"), Origin.parse("https://a.test"))
        XCTAssertNotEqual(Origin.parse("http://a.test"), Origin.parse("https://a.test"))
    }

    func testNullAndNonOriginsAreRefused() {
        for text in ["null", "", "https://", "app.example.com", "ftp://a.test", "https://a.test/", "https://a.test/path",
                     "https://user@a.test", "https://a.test:", "https://a.test:0", "https://a.test:65536",
                     "https://a.test:+80", " https://a.test", "https://a.test https://b.test", "https://a b",
                     "https://a.test?x", "https://a.test#f", "https://a..test", "https://[::1"] {
            XCTAssertNil(Origin.parse(text), text)
        }
    }

    func testOwnOriginFromHostField() {
        XCTAssertEqual(Origin(scheme: "https", hostField: "gw.test"), Origin.parse("https://gw.test"))
        XCTAssertEqual(Origin(scheme: "http", hostField: "GW.test:8080"), Origin.parse("http://gw.test:8080"))
        XCTAssertEqual(Origin(scheme: "https", hostField: "gw.test:443"), Origin.parse("https://gw.test"))
        XCTAssertEqual(Origin(scheme: "http", hostField: "[::1]:9"), Origin.parse("http://[::1]:9"))
        XCTAssertNil(Origin(scheme: "http", hostField: ""))
        XCTAssertNil(Origin(scheme: "http", hostField: "a b"))
        XCTAssertNil(Origin(scheme: "ftp", hostField: "gw.test"))
    }
}
