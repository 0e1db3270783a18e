import Foundation
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// The real nginx (auth_request) and Caddy (forward_auth), each started with its example
/// configuration from deploy/examples/forward-auth, in front of the recording upstream and
/// asking the real gateway's decision listener. A missing nginx or caddy fails the test.
final class IngressForwardAuthIntegrationTests: XCTestCase {
    var upstream: RecordingUpstream!
    var gateway: GatewayProcess!
    var ingress: IngressProcess?

    override func setUpWithError() throws {
        upstream = try RecordingUpstream { _ in .ok("from the app\n") }
        let example = try String(contentsOfFile: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("deploy/examples/forward-auth/gateway.yml").path, encoding: .utf8)
        // The example's issuer, with the test vectors' keys instead of the remote JWK Set.
        let config = example
            .replacingOccurrences(of: "https://auth.example.com/.well-known/jwks.json", with: "")
            .replacingOccurrences(of: "jwks_url: ", with: "jwks_file: \(Fixtures.directory)/vectors/jwks.json")
            .replacingOccurrences(of: "https://auth.example.com/", with: TestTokens.issuer)
            .replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:0")
            .replacingOccurrences(of: "127.0.0.1:8081", with: "127.0.0.1:0")
            .replacingOccurrences(of: "127.0.0.1:9000", with: "127.0.0.1:\(upstream.port)")
        gateway = try GatewayProcess(config: config)
    }

    override func tearDown() {
        ingress?.stop()
        gateway?.stop()
        upstream?.stop()
    }

    func decisionPort() throws -> UInt16 {
        guard let p = gateway.decisionPort else { throw RawHTTPError.malformed("no decision port: \(gateway.stdout)") }
        return p
    }

    func request(_ method: String, _ target: String, _ fields: [(String, String)]) throws -> RawResponse {
        guard let ingress else { throw RawHTTPError.closed }
        let c = try RawHTTPClient(port: ingress.port)
        c.timeout = 5
        var text = "\(method) \(target) HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n"
        for (n, v) in fields { text += "\(n): \(v)\r\n" }
        try c.send(text + "\r\n")
        return try c.readResponse(headRequest: method == "HEAD")
    }

    static let spoofed: [(String, String)] = [
        ("X-Auth-Subject", "admin"), ("X-Auth-Scopes", "write:orders"), ("X-Auth-Email", "ceo@example.test"),
        ("X-Auth-Issuer", "https://evil.example/"),
    ]

    /// What every ingress must show: identity from the gateway only, refusals with the
    /// gateway's status (and challenge), nothing refused at the app.
    func checkIngress(passesRefusalBody: Bool) throws {
        let reader = try TestTokens.rs256(["scope": .string("read:orders"), "email": .string("u@example.test")])

        // A valid token passes; the app sees the gateway's identity, not the client's.
        let ok = try request("GET", "/orders/42?page=2", [("Authorization", "Bearer " + reader)] + Self.spoofed)
        XCTAssertEqual(ok.status, 200, ok.bodyText)
        XCTAssertEqual(ok.bodyText, "from the app\n")
        var seen = upstream.requests
        XCTAssertEqual(seen.count, 1)
        if let r = seen.last {
            XCTAssertEqual(r.target, "/orders/42?page=2")
            XCTAssertEqual(r.values("X-Auth-Subject"), ["user-42"])
            XCTAssertEqual(r.values("X-Auth-Issuer"), [TestTokens.issuer])
            XCTAssertEqual(r.values("X-Auth-Scopes"), ["read:orders"])
            XCTAssertEqual(r.values("X-Auth-Email"), ["u@example.test"])
            XCTAssertEqual(r.values("Authorization"), [])
        }

        // A public route: allowed, and the client's identity fields are gone.
        let open = try request("GET", "/status", Self.spoofed)
        XCTAssertEqual(open.status, 200)
        seen = upstream.requests
        XCTAssertEqual(seen.count, 2)
        if let r = seen.last {
            XCTAssertEqual(r.target, "/status")
            for (name, _) in Self.spoofed { XCTAssertEqual(r.values(name), [], name) }
        }

        // No token: the gateway's 401 and challenge, through the ingress.
        let missing = try request("GET", "/orders/1", Self.spoofed)
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.header("WWW-Authenticate"), #"Bearer realm="gateway""#)
        if passesRefusalBody {
            XCTAssertEqual(missing.bodyText, #"{"error":"unauthorized","error_description":"bearer token required"}"#)
        }
        // Expired token: 401 invalid_token.
        let expired = try TestTokens.rs256(["scope": .string("read:orders"), "iat": .number(900), "exp": .number(1000)])
        let late = try request("GET", "/orders/1", [("Authorization", "Bearer " + expired)])
        XCTAssertEqual(late.status, 401)
        XCTAssertEqual(late.header("WWW-Authenticate"),
                       #"Bearer realm="gateway", error="invalid_token", error_description="token expired""#)
        // Insufficient scope: 403 (the DELETE route needs write:orders).
        let forbidden = try request("DELETE", "/orders/1", [("Authorization", "Bearer " + reader)])
        XCTAssertEqual(forbidden.status, 403)
        if passesRefusalBody {
            XCTAssertEqual(forbidden.header("WWW-Authenticate"),
                           #"Bearer realm="gateway", error="insufficient_scope", scope="write:orders""#)
        }
        // The client's own X-Forwarded-Uri / X-Original-URI do not change what is decided.
        let tricked = try request("GET", "/orders/1", [("X-Forwarded-Uri", "/status"), ("X-Forwarded-Method", "GET"),
                                                        ("X-Original-URI", "/status"), ("X-Original-Method", "GET")])
        XCTAssertEqual(tricked.status, 401)
        // Targets not in normal form are refused, whichever way normalisation would go: the
        // ingress passes them to the app as sent.
        let dotted = try request("GET", "/status/%2e%2e/orders/1", [])
        XCTAssertNotEqual(dotted.status, 200)
        let intoPublic = try request("GET", "/orders/%2e%2e/status", [("Authorization", "Bearer " + reader)])
        XCTAssertNotEqual(intoPublic.status, 200)

        // Nothing refused reached the app.
        XCTAssertEqual(upstream.requests.count, 2, "\(upstream.requests.map(\.target))")
    }

    func testNginxAuthRequest() throws {
        let nginx = try IngressProcess.binary("nginx")
        let port = UInt16(RecordingUpstream.unusedPort())
        let config = try IngressProcess.example("nginx.conf", port: port, decisionPort: try decisionPort(), appPort: upstream.port)
        ingress = try IngressProcess(executable: nginx, configName: "nginx.conf", config: config, port: port) { dir in
            ["-p", dir, "-c", dir + "/nginx.conf", "-g", "daemon off; pid \(dir)/nginx.pid; error_log \(dir)/error.log;"]
        }
        try checkIngress(passesRefusalBody: false)
    }

    func testCaddyForwardAuth() throws {
        let caddy = try IngressProcess.binary("caddy")
        let port = UInt16(RecordingUpstream.unusedPort())
        let config = try IngressProcess.example("Caddyfile", port: port, decisionPort: try decisionPort(), appPort: upstream.port)
        ingress = try IngressProcess(executable: caddy, configName: "Caddyfile", config: config, port: port, arguments: { dir in
            ["run", "--config", dir + "/Caddyfile", "--adapter", "caddyfile"]
        }, environment: { dir in ["HOME": dir, "XDG_DATA_HOME": dir + "/data", "XDG_CONFIG_HOME": dir + "/config"] })
        try checkIngress(passesRefusalBody: true)
    }
}
