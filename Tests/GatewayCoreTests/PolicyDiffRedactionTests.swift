import GatewayHTTP
@testable import GatewayCore
@testable import GatewayPolicy
import XCTest

/// `gateway test` prints what differed; a credential the upstream received (a cookie, the
/// Authorization value, a route's custom token field) is named, never shown.
final class PolicyDiffRedactionTests: XCTestCase {
    func testCredentialFieldsInADiffAreRedacted() {
        var expected = PolicyFixture.Expectation()
        expected.upstreamHeaders = [("Cookie", "theme=dark"), ("Authorization", "Bearer expected-secret"),
                                    ("X-Access-Token", "expected-token"), ("X-Tenant", "acme")]
        let observed = PolicyCaseRunner.Observed(
            status: .forward, reason: "ok", route: "app", decision: "allow",
            upstreamFields: [HTTPField(name: "Cookie", value: "theme=dark; at=cookie-secret"),
                             HTTPField(name: "Authorization", value: "Bearer header-secret"),
                             HTTPField(name: "X-Access-Token", value: "custom-secret"),
                             HTTPField(name: "X-Tenant", value: "other")])
        let lines = PolicyCaseRunner.differences(expected, observed, tokenHeaders: ["x-access-token"])
        XCTAssertEqual(lines.count, 4, "\(lines)")
        let all = lines.joined(separator: "\n")
        for secret in ["cookie-secret", "header-secret", "custom-secret", "expected-secret", "expected-token"] {
            XCTAssertFalse(all.contains(secret), all)
        }
        XCTAssertTrue(all.contains("at=REDACTED"), all)
        XCTAssertTrue(all.contains("upstream header X-Tenant: expected \"acme\", got \"other\""), all)
    }
}
