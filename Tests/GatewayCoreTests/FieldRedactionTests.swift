import GatewayCore
import XCTest

/// Field values shown in output never hold a cookie value or a token, whatever field carried it.
final class FieldRedactionTests: XCTestCase {
    let jws = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"

    func shown(_ name: String, _ value: String, _ tokenHeaders: [String] = []) -> String {
        LogRedaction.redactedFieldValue(name: name, value: value, tokenHeaders: tokenHeaders)
    }

    func testCookieShowsOnlyNames() {
        XCTAssertEqual(shown("Cookie", "theme=dark; access_token=\(jws);sid=\"abc\""),
                       "theme=REDACTED; access_token=REDACTED; sid=REDACTED")
        XCTAssertEqual(shown("cookie", "loose"), "REDACTED")
        XCTAssertEqual(shown("Cookie", ""), "")
    }

    func testSetCookieKeepsAttributes() {
        XCTAssertEqual(shown("Set-Cookie", "sid=s3cret; Path=/; Secure; HttpOnly"), "sid=REDACTED; Path=/; Secure; HttpOnly")
        XCTAssertEqual(shown("set-cookie", "bare"), "REDACTED")
    }

    func testAuthorizationKeepsTheScheme() {
        XCTAssertEqual(shown("Authorization", "Bearer " + jws), "Bearer REDACTED")
        XCTAssertEqual(shown("Proxy-Authorization", "Basic dTpw"), "Basic REDACTED")
        XCTAssertEqual(shown("Authorization", jws), "REDACTED")
    }

    func testCustomTokenHeaders() {
        XCTAssertEqual(shown("X-Access-Token", "opaque-not-jws", ["X-Access-Token"]), "REDACTED")
        XCTAssertEqual(shown("x_access_token", "opaque-not-jws", ["X-Access-Token"]), "REDACTED")
        XCTAssertEqual(shown("X-Other", "plain"), "plain")
        // Any field: JWS-shaped text is still found.
        XCTAssertEqual(shown("X-Other", "t=" + jws), "t=REDACTED")
    }
}
