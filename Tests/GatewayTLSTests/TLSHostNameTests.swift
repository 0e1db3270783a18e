import GatewayEvents
import GatewayTLS
import XCTest

/// Certificate name matching (RFC 6125 §6.4) used for SNI selection and the 421 check.
final class TLSHostNameTests: XCTestCase {
    func testExactNamesCompareCaseInsensitivelyWithoutTrailingDot() {
        XCTAssertTrue(TLSHostName.matches(pattern: "api.example.com", host: "API.Example.COM"))
        XCTAssertTrue(TLSHostName.matches(pattern: "api.example.com", host: "api.example.com."))
        XCTAssertFalse(TLSHostName.matches(pattern: "api.example.com", host: "www.example.com"))
        XCTAssertFalse(TLSHostName.matches(pattern: "api.example.com", host: ""))
    }

    func testWildcardCoversExactlyOneLeftMostLabel() {
        XCTAssertTrue(TLSHostName.matches(pattern: "*.example.com", host: "a.example.com"))
        XCTAssertTrue(TLSHostName.matches(pattern: "*.Example.com", host: "B.EXAMPLE.com"))
        XCTAssertFalse(TLSHostName.matches(pattern: "*.example.com", host: "example.com"))
        XCTAssertFalse(TLSHostName.matches(pattern: "*.example.com", host: "a.b.example.com"))
        XCTAssertFalse(TLSHostName.matches(pattern: "*.example.com", host: ".example.com"))
        XCTAssertFalse(TLSHostName.matches(pattern: "*.example.com", host: "aexample.com"))
    }

    func testOtherWildcardFormsMatchNothing() {
        XCTAssertFalse(TLSHostName.matches(pattern: "a*.example.com", host: "ab.example.com"))
        XCTAssertFalse(TLSHostName.matches(pattern: "*.com", host: "example.com"))
        XCTAssertFalse(TLSHostName.matches(pattern: "a.*.example.com", host: "a.b.example.com"))
        XCTAssertFalse(TLSHostName.matches(pattern: "*", host: "localhost"))
        XCTAssertFalse(TLSHostName.matches(pattern: "*.*.example.com", host: "a.b.example.com"))
    }

    func testCoversAnyName() {
        XCTAssertTrue(TLSHostName.covers(["a.example.com", "*.example.org"], host: "x.example.org"))
        XCTAssertFalse(TLSHostName.covers(["a.example.com", "*.example.org"], host: "example.org"))
        XCTAssertFalse(TLSHostName.covers([], host: "example.org"))
    }

    func testMisdirectedRequestsAreThoseWhoseHostTheSNICertificateDoesNotCover() {
        let sni = TransportSecurity(protocolVersion: "TLSv1.3", serverName: "a.example.com",
                                    certificateNames: ["a.example.com", "*.b.example.com"], clientCertificate: nil, resumed: false)
        XCTAssertFalse(sni.isMisdirected(host: "a.example.com"))
        XCTAssertFalse(sni.isMisdirected(host: "A.Example.com:8443"))
        XCTAssertFalse(sni.isMisdirected(host: "x.b.example.com:443"))
        XCTAssertTrue(sni.isMisdirected(host: "other.example.com"))
        XCTAssertTrue(sni.isMisdirected(host: "b.example.com"))
        XCTAssertTrue(sni.isMisdirected(host: "[::1]:8443"))
        XCTAssertTrue(sni.isMisdirected(host: ""))
        var noSNI = sni
        noSNI.serverName = nil
        XCTAssertFalse(noSNI.isMisdirected(host: "other.example.com"))
    }

    func testOnlyASCIILettersFoldCase() {
        // 0x2D "-" and 0x0D differ only in the 0x20 bit, as do "[" and "{": not letters, never equal.
        XCTAssertFalse(TLSHostName.matches(pattern: "a-b.example.com", host: "a\rb.example.com"))
        XCTAssertFalse(TLSHostName.matches(pattern: "a[b.example.com", host: "a{b.example.com"))
        XCTAssertFalse(TLSHostName.matches(pattern: "*.example.com", host: "a.example\u{0E}com"))
        XCTAssertTrue(TLSHostName.matches(pattern: "*.example.com", host: "a-1.EXAMPLE.com."))
    }

    func testCoversTheHostFieldWithoutItsPort() {
        XCTAssertTrue(TLSHostName.covers(["a.example.com"], hostField: "A.example.com:8443"))
        XCTAssertTrue(TLSHostName.covers(["*.example.com"], hostField: "x.example.com"))
        XCTAssertFalse(TLSHostName.covers(["a.example.com"], hostField: "b.example.com:443"))
        XCTAssertFalse(TLSHostName.covers(["a.example.com"], hostField: "[::1]:443"))
        XCTAssertFalse(TLSHostName.covers(["a.example.com"], hostField: ":443"))
    }

    func testAddressLiteralsAreNoServerNames() {
        XCTAssertTrue(TLSHostName.isIPAddressLiteral("127.0.0.1"))
        XCTAssertTrue(TLSHostName.isIPAddressLiteral("::1"))
        XCTAssertTrue(TLSHostName.isIPAddressLiteral("2001:db8::7"))
        XCTAssertFalse(TLSHostName.isIPAddressLiteral("localhost"))
        XCTAssertFalse(TLSHostName.isIPAddressLiteral("1.2.3.4.example.com"))
        XCTAssertFalse(TLSHostName.isIPAddressLiteral("[::1]"))
        XCTAssertFalse(TLSHostName.isIPAddressLiteral(""))
    }

    func testHostWithoutPort() {
        XCTAssertEqual(TLSHostName.withoutPort("a.example.com:8443"), "a.example.com")
        XCTAssertEqual(TLSHostName.withoutPort("a.example.com"), "a.example.com")
        XCTAssertEqual(TLSHostName.withoutPort("[::1]:8443"), "::1")
        XCTAssertEqual(TLSHostName.withoutPort("[::1]"), "::1")
    }
}
