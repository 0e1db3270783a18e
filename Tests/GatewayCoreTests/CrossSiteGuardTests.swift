import GatewayCore
import GatewayHTTP
import GatewayPolicy
import XCTest

/// The cross-site request guard for cookie-borne tokens on unsafe methods.
final class CrossSiteGuardTests: XCTestCase {
    let listed = [Origin.parse("https://app.example.com")!]

    func check(_ fields: [(String, String)], method: String = "POST", host: String? = "gw.example.com",
               source: TokenSource = .cookie("access_token"), tls: Bool = true) -> DenialReason? {
        var all = fields.map { HTTPField(name: $0.0, value: $0.1) }
        if let host { all.insert(HTTPField(name: "Host", value: host), at: 0) }
        return CrossSiteGuard.check(method: method, fields: all, source: source, listenerIsTLS: tls, allowedOrigins: listed)
    }

    func testNoOriginNoFetchMetadataIsRefused() {
        XCTAssertEqual(check([]), .crossSiteRequest)
    }

    func testForeignOriginIsRefused() {
        XCTAssertEqual(check([("Origin", "https://evil.example")]), .crossSiteRequest)
        // Sec-Fetch-Site does not override a foreign Origin.
        XCTAssertEqual(check([("Origin", "https://evil.example"), ("Sec-Fetch-Site", "same-origin")]), .crossSiteRequest)
    }

    func testListedOriginIsAccepted() {
        XCTAssertNil(check([("Origin", "https://app.example.com")]))
        XCTAssertNil(check([("Origin", "HTTPS://APP.example.com:443")]))
    }

    func testPortMismatchIsRefused() {
        XCTAssertEqual(check([("Origin", "https://app.example.com:8443")]), .crossSiteRequest)
        XCTAssertEqual(check([("Origin", "https://gw.example.com:8443")]), .crossSiteRequest)
        XCTAssertEqual(check([("Origin", "https://gw.example.com")], host: "gw.example.com:8443"), .crossSiteRequest)
        XCTAssertNil(check([("Origin", "https://gw.example.com:8443")], host: "gw.example.com:8443"))
    }

    func testOwnOriginIsAcceptedWithTheListenerScheme() {
        XCTAssertNil(check([("Origin", "https://gw.example.com")]))
        XCTAssertNil(check([("Origin", "https://gw.example.com")], host: "GW.example.com:443"))
        XCTAssertEqual(check([("Origin", "http://gw.example.com")]), .crossSiteRequest)
        XCTAssertNil(check([("Origin", "http://gw.example.com")], tls: false))
        XCTAssertEqual(check([("Origin", "https://gw.example.com")], tls: false), .crossSiteRequest)
        // No Host: no own origin to compare with.
        XCTAssertEqual(check([("Origin", "https://gw.example.com")], host: nil), .crossSiteRequest)
    }

    func testNullSeveralOrMalformedOriginsAreRefused() {
        XCTAssertEqual(check([("Origin", "null")]), .crossSiteRequest)
        XCTAssertEqual(check([("Origin", "https://gw.example.com"), ("Origin", "https://gw.example.com")]), .crossSiteRequest)
        XCTAssertEqual(check([("Origin", "https://gw.example.com https://app.example.com")]), .crossSiteRequest)
        XCTAssertEqual(check([("Origin", "https://gw.example.com/")]), .crossSiteRequest)
    }

    func testSecFetchSiteWithoutOrigin() {
        XCTAssertNil(check([("Sec-Fetch-Site", "same-origin")]))
        for value in ["same-site", "cross-site", "none", "Same-Origin", ""] {
            XCTAssertEqual(check([("Sec-Fetch-Site", value)]), .crossSiteRequest, value)
        }
        XCTAssertEqual(check([("Sec-Fetch-Site", "same-origin"), ("Sec-Fetch-Site", "same-origin")]), .crossSiteRequest)
    }

    func testSafeMethodsAndOtherSourcesAreNotGuarded() {
        for method in ["GET", "HEAD", "OPTIONS"] {
            XCTAssertNil(check([("Origin", "https://evil.example")], method: method), method)
        }
        for method in ["POST", "PUT", "PATCH", "DELETE", "PROPFIND"] {
            XCTAssertEqual(check([], method: method), .crossSiteRequest, method)
        }
        XCTAssertNil(check([("Origin", "https://evil.example")], source: .authorization))
        XCTAssertNil(check([("Origin", "https://evil.example")], source: .header("X-Access-Token")))
    }

    func testRefusalResponse() {
        let r = Refusal(.crossSiteRequest)
        XCTAssertEqual(r.status, 403)
        XCTAssertEqual(r.reason.code, "csrf")
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), #"{"error":"csrf","error_description":"cross-site request refused"}"#)
        XCTAssertEqual(r.fields, [HTTPField(name: "Content-Type", value: "application/json")])
    }
}
