import GatewayPolicy
import XCTest

/// `limits.body_timeout`: a duration like the other timeouts, default 30 s.
final class BodyTimeoutConfigTests: XCTestCase {
    private func yaml(_ limits: String) -> String {
        """
        listen: {address: 127.0.0.1:0}
        \(limits)
        upstreams: {u: {url: "http://127.0.0.1:9000"}}
        routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
        """
    }

    func testDefaultAndConfiguredValue() throws {
        XCTAssertEqual(try ConfigLoader.parse(yaml: yaml(""), path: "gw.yml", environment: [:]).limits.bodyTimeout, 30)
        let config = try ConfigLoader.parse(yaml: yaml("limits: {body_timeout: 1500ms}"), path: "gw.yml", environment: [:])
        XCTAssertEqual(config.limits.bodyTimeout, 1.5)
    }

    func testInvalidValuesAreLocatedErrors() {
        for bad in ["0s", "soon", "-1s"] {
            do {
                _ = try ConfigLoader.parse(yaml: yaml("limits: {body_timeout: \(bad)}"), path: "gw.yml", environment: [:])
                XCTFail("accepted body_timeout: \(bad)")
            } catch {
                let text = error.errors.map(\.description).joined(separator: "\n")
                XCTAssertTrue(text.hasPrefix("gw.yml:2:"), text)
            }
        }
    }
}
