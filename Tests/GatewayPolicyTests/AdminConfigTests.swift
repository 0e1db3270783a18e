import GatewayPolicy
import XCTest

/// `admin.token_env`: the variable whose value authorizes `POST /reload` from other hosts.
final class AdminConfigTests: XCTestCase {
    static let tail = """
        listen: {address: 127.0.0.1:8080}
        upstreams: {u: {url: "http://127.0.0.1:9000"}}
        routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
        """

    func testTokenEnvIsKeptAsTheVariableName() throws {
        let config = try ConfigLoader.parse(yaml: "admin: {address: 0.0.0.0:9090, token_env: GATEWAY_ADMIN_TOKEN}\n" + Self.tail,
                                            path: "gw.yml", environment: [:])
        XCTAssertEqual(config.adminTokenEnv, "GATEWAY_ADMIN_TOKEN")
        XCTAssertEqual(config.admin, ListenAddress(host: "0.0.0.0", port: 9090))
    }

    func testWithoutTokenEnvReloadIsLoopbackOnly() throws {
        let config = try ConfigLoader.parse(yaml: "admin: {address: 127.0.0.1:9090}\n" + Self.tail, path: "gw.yml", environment: [:])
        XCTAssertNil(config.adminTokenEnv)
    }

    func testInvalidVariableNameIsAnError() {
        for bad in ["\"1TOKEN\"", "\"A-B\"", "\"A B\""] {
            XCTAssertThrowsError(try ConfigLoader.parse(yaml: "admin: {token_env: \(bad)}\n" + Self.tail, path: "gw.yml",
                                                        environment: [:]), bad) { error in
                let text = (error as? ConfigErrors)?.errors.map(\.description).joined() ?? ""
                XCTAssertTrue(text.contains("invalid environment variable name"), text)
                XCTAssertTrue(text.contains("admin.token_env"), text)
            }
        }
        XCTAssertThrowsError(try ConfigLoader.parse(yaml: "admin: {token_env: \"\"}\n" + Self.tail, path: "gw.yml",
                                                    environment: [:])) { error in
            XCTAssertEqual((error as? ConfigErrors)?.errors.map(\.description), ["gw.yml:1:20: `admin.token_env` must not be empty"])
        }
    }
}
