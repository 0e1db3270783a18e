import GatewayPolicy
import XCTest

/// `log.level` in gateway.yml.
final class LogConfigTests: XCTestCase {
    let base = "listen: {address: 127.0.0.1:0}\nupstreams:\n  u: {url: \"http://127.0.0.1:9\"}\nroutes:\n  - {name: r, match: {path: /}, upstream: u, auth: public}\n"

    func testLevelIsReadAndDefaultsToNil() throws {
        XCTAssertNil(try ConfigLoader.parse(yaml: base, path: "g.yml", environment: [:]).logLevel)
        let c = try ConfigLoader.parse(yaml: base + "log: {level: debug}\n", path: "g.yml", environment: [:])
        XCTAssertEqual(c.logLevel, "debug")
    }

    func testUnknownLevelIsAnErrorAtItsPlace() throws {
        XCTAssertThrowsError(try ConfigLoader.parse(yaml: base + "log: {level: loud}\n", path: "g.yml", environment: [:])) { e in
            let text = "\(e)"
            XCTAssertTrue(text.hasPrefix("g.yml:6:14: unknown log level `loud`"), text)
        }
    }
}
