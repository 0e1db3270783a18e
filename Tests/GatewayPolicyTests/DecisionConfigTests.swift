import GatewayPolicy
import XCTest

/// `decision:`: the forward-auth decision listener's address, loopback by default, distinct
/// from the other listeners, and a warning when it is not loopback.
final class DecisionConfigTests: XCTestCase {
    static let tail = """
        listen: {address: 127.0.0.1:8080}
        admin: {address: 127.0.0.1:9090}
        upstreams: {u: {url: "http://127.0.0.1:9000"}}
        routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
        """

    func parse(_ yaml: String) throws -> GatewayConfig {
        try ConfigLoader.parse(yaml: yaml + "\n" + Self.tail, path: "gw.yml", environment: [:])
    }

    func errors(_ yaml: String) -> [String] {
        do {
            _ = try parse(yaml)
            return []
        } catch {
            return (error as? ConfigErrors)?.errors.map(\.description) ?? ["\(error)"]
        }
    }

    func testAbsentMeansNoDecisionListener() throws {
        XCTAssertNil(try parse("").decision)
    }

    func testWithoutAddressItListensOnLoopback() throws {
        let config = try parse("decision: {}")
        XCTAssertEqual(config.decision, ListenAddress(host: "127.0.0.1", port: 8081))
        XCTAssertFalse(config.warnings.contains { $0.contains("decision") }, "\(config.warnings)")
    }

    func testLoopbackAddressHasNoWarning() throws {
        for address in ["127.0.0.1:7000", "127.0.0.5:7000", "\"[::1]:7000\""] {
            let config = try parse("decision: {address: \(address)}")
            XCTAssertNotNil(config.decision, address)
            XCTAssertFalse(config.warnings.contains { $0.contains("decision") }, "\(address): \(config.warnings)")
        }
    }

    func testNonLoopbackAddressWarnsAtTheAddress() throws {
        let config = try parse("decision: {address: 0.0.0.0:7000}")
        XCTAssertEqual(config.decision, ListenAddress(host: "0.0.0.0", port: 7000))
        let warning = config.warnings.first { $0.contains("decision.address") }
        XCTAssertNotNil(warning, "\(config.warnings)")
        XCTAssertTrue(warning?.hasPrefix("gw.yml:1:21: warning: decision.address 0.0.0.0:7000 is not a loopback address") ?? false,
                      warning ?? "")
    }

    func testMustDifferFromListenAndAdmin() {
        XCTAssertEqual(errors("decision: {address: 127.0.0.1:8080}"), [
            "gw.yml:1:21: `decision.address` 127.0.0.1:8080 and `listen.address` 127.0.0.1:8080 would listen on the same port; each listener needs its own address",
        ])
        XCTAssertEqual(errors("decision: {address: 0.0.0.0:9090}"), [
            "gw.yml:1:21: `decision.address` 0.0.0.0:9090 and `admin.address` 127.0.0.1:9090 would listen on the same port; each listener needs its own address",
        ])
    }

    func testUnknownKeyAndBadAddressAreErrors() {
        XCTAssertTrue(errors("decision: {adress: 127.0.0.1:7000}").joined().contains("adress"))
        XCTAssertTrue(errors("decision: {address: nowhere}").joined().contains("invalid address `nowhere` for `decision.address`"),
                      errors("decision: {address: nowhere}").joined())
    }
}
