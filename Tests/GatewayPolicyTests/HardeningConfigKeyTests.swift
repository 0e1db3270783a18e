import GatewayPolicy
import XCTest

/// Config keys that relax a hardening rule: off unless set, booleans only.
final class HardeningConfigKeyTests: XCTestCase {
    func parse(issuerExtra: String = "", routeExtra: String = "") throws -> GatewayConfig {
        try ConfigLoader.parse(yaml: """
            listen: {address: 0.0.0.0:80}
            issuers:
              - name: corp
                issuer: "https://corp"
                algorithms: [RS256]
                jwks_file: j.json
            \(issuerExtra)
            upstreams: {orders: {url: "http://orders"}}
            routes:
              - name: a
                match: {path: /a}
                upstream: orders
                auth: public
            \(routeExtra)
            """, path: "gw.yml", environment: [:])
    }

    func errorText(_ body: () throws -> GatewayConfig) -> String {
        do {
            _ = try body()
            return ""
        } catch {
            return (error as? ConfigErrors)?.errors.map(\.description).joined(separator: "\n") ?? "\(error)"
        }
    }

    func testRequireSubDefaultsToTrue() throws {
        XCTAssertTrue(try parse().issuers[0].requireSub)
        XCTAssertFalse(try parse(issuerExtra: "    require_sub: false").issuers[0].requireSub)
        XCTAssertTrue(errorText { try parse(issuerExtra: "    require_sub: maybe") }.contains("require_sub"))
    }

    func testAllowBodyOnGetDefaultsToFalse() throws {
        XCTAssertFalse(try parse().routes[0].allowBodyOnGet)
        XCTAssertTrue(try parse(routeExtra: "    allow_body_on_get: true").routes[0].allowBodyOnGet)
        XCTAssertTrue(errorText { try parse(routeExtra: "    allow_body_on_get: yes please") }.contains("allow_body_on_get"))
    }
}
