import GatewayCore
import GatewayHTTP
import XCTest

/// `login_url`: browser navigations without a token are redirected; everything else keeps 401.
final class LoginRedirectTests: XCTestCase {
    let login = "https://login.example.com/start?rd={url}"

    func decide(_ fields: [(String, String)], method: String = "GET", target: String = "/app/x?y=1&z=%2F",
                scheme: String = "https", loginURL: String? = "https://login.example.com/start?rd={url}") -> DenialReason? {
        LoginRedirect.decide(method: method, target: target, fields: fields.map { HTTPField(name: $0.0, value: $0.1) },
                             scheme: scheme, loginURL: loginURL)
    }

    let browser = [("Host", "gw.example.com"), ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")]

    func testBrowserNavigationIsRedirectedWithTheEncodedURL() {
        XCTAssertEqual(decide(browser), .loginRequired(
            location: "https://login.example.com/start?rd=https%3A%2F%2Fgw.example.com%2Fapp%2Fx%3Fy%3D1%26z%3D%252F"))
        XCTAssertEqual(decide(browser, scheme: "http", loginURL: "https://l.test/{url}/{url}"),
                       .loginRequired(location: "https://l.test/http%3A%2F%2Fgw.example.com%2Fapp%2Fx%3Fy%3D1%26z%3D%252F/http%3A%2F%2Fgw.example.com%2Fapp%2Fx%3Fy%3D1%26z%3D%252F"))
        XCTAssertEqual(decide(browser, loginURL: "https://l.test/login"), .loginRequired(location: "https://l.test/login"))
        XCTAssertEqual(decide([("Host", "gw.example.com:8443"), ("Accept", "TEXT/HTML")], target: "/"),
                       .loginRequired(location: "https://login.example.com/start?rd=https%3A%2F%2Fgw.example.com%3A8443%2F"))
    }

    func testRedirectResponse() {
        let r = Refusal(.loginRequired(location: "https://l.test/x"))
        XCTAssertEqual(r.status, 302)
        XCTAssertEqual(r.reason.code, "login_redirect")
        XCTAssertTrue(r.fields.contains(HTTPField(name: "Location", value: "https://l.test/x")))
        XCTAssertTrue(r.fields.contains(HTTPField(name: "Cache-Control", value: "no-store")))
        XCTAssertFalse(r.fields.contains { $0.name == "WWW-Authenticate" })
    }

    func testOtherRequestsKeepTheir401() {
        XCTAssertNil(decide(browser, loginURL: nil))
        XCTAssertNil(decide(browser, method: "POST"))
        XCTAssertNil(decide(browser, method: "HEAD"))
        XCTAssertNil(decide([("Host", "gw.example.com")]))
        XCTAssertNil(decide([("Host", "gw.example.com"), ("Accept", "application/json")]))
        XCTAssertNil(decide([("Host", "gw.example.com"), ("Accept", "*/*")]))
        XCTAssertNil(decide([("Host", "gw.example.com"), ("Accept", "text/html;q=0, application/json")]))
        XCTAssertNil(decide([("Host", "gw.example.com"), ("Accept", "text/htmlx")]))
        XCTAssertNil(decide([("Accept", "text/html")]))
        XCTAssertNil(decide([("Host", "a"), ("Host", "b"), ("Accept", "text/html")]))
    }

    func testAcceptParsing() {
        func accepts(_ v: String...) -> Bool { LoginRedirect.acceptsHTML(v.map { HTTPField(name: "Accept", value: $0) }) }
        XCTAssertTrue(accepts("application/json", "text/html"))
        XCTAssertTrue(accepts("text/html ; q=0.5"))
        XCTAssertTrue(accepts("text/html;level=1"))
        XCTAssertFalse(accepts("text/html; q=0.000"))
        XCTAssertFalse(accepts("text/*"))
    }

    func testPercentEncoding() {
        XCTAssertEqual(LoginRedirect.percentEncoded("aZ09-._~"), "aZ09-._~")
        XCTAssertEqual(LoginRedirect.percentEncoded("/?#[]@!$&'()*+,;= %é"), "%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%20%25%C3%A9")
    }
}
