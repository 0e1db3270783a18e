import Foundation
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// The real nginx and Caddy asking the real gateway's decision listener over mutual TLS, all
/// started from deploy/examples/forward-auth (`gateway-mtls.yml`, `nginx-mtls.conf`,
/// `Caddyfile-mtls`) with the test PKI's files: the ingress presents the `client` certificate
/// and verifies the gateway's `localhost` certificate. A missing nginx or caddy fails the test.
final class IngressMutualTLSIntegrationTests: HTTPSTestCase {
    var ingress: IngressProcess?

    override func tearDown() {
        ingress?.stop()
        super.tearDown()
    }

    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy/examples/forward-auth")

    /// The example gateway-mtls.yml with the test vectors' keys and the test PKI's files.
    func startGateway() throws {
        let example = try String(contentsOf: Self.examples.appendingPathComponent("gateway-mtls.yml"), encoding: .utf8)
        XCTAssertTrue(example.contains("client_certificate: required"))
        let config = example
            .replacingOccurrences(of: "https://auth.example.com/.well-known/jwks.json", with: "")
            .replacingOccurrences(of: "jwks_url: ", with: "jwks_file: \(Fixtures.directory)/vectors/jwks.json")
            .replacingOccurrences(of: "https://auth.example.com/", with: TestTokens.issuer)
            .replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:0")
            .replacingOccurrences(of: "127.0.0.1:8081", with: "127.0.0.1:0")
            .replacingOccurrences(of: "127.0.0.1:9000", with: "127.0.0.1:\(upstream.port)")
            .replacingOccurrences(of: "/etc/gateway/tls/decision.pem", with: pki.path("localhost.pem"))
            .replacingOccurrences(of: "/etc/gateway/tls/decision.key", with: pki.path("localhost.key"))
            .replacingOccurrences(of: "/etc/gateway/tls/ingress-ca.pem", with: pki.path("ca.pem"))
        gateway = try GatewayProcess(config: config)
    }

    /// nginx with the example nginx-mtls.conf (its client certificate `certificate`), after `edit`.
    func startNginx(certificate: String = "client", edit: (String) -> String = { $0 }) throws {
        let nginx = try IngressProcess.binary("nginx")
        guard let decisionPort = gateway.decisionPort else { throw RawHTTPError.malformed("no decision port: \(gateway.stdout)") }
        let port = UInt16(RecordingUpstream.unusedPort())
        let example = try IngressProcess.example("nginx-mtls.conf", port: port, decisionPort: decisionPort, appPort: upstream.port)
        XCTAssertTrue(example.contains("proxy_ssl_certificate "))
        let config = edit(example
            .replacingOccurrences(of: "/etc/nginx/tls/ingress.pem", with: pki.path("\(certificate).pem"))
            .replacingOccurrences(of: "/etc/nginx/tls/ingress.key", with: pki.path("\(certificate).key"))
            .replacingOccurrences(of: "/etc/nginx/tls/gateway-ca.pem", with: pki.path("ca.pem"))
            .replacingOccurrences(of: "decision.gateway.internal", with: "localhost"))
        ingress = try IngressProcess(executable: nginx, configName: "nginx.conf", config: config, port: port) { dir in
            ["-p", dir, "-c", dir + "/nginx.conf", "-g", "daemon off; pid \(dir)/nginx.pid; error_log \(dir)/error.log;"]
        }
    }

    /// Caddy with the example Caddyfile-mtls (its client certificate `certificate`), after `edit`.
    func startCaddy(certificate: String = "client", edit: (String) -> String = { $0 }) throws {
        let caddy = try IngressProcess.binary("caddy")
        guard let decisionPort = gateway.decisionPort else { throw RawHTTPError.malformed("no decision port: \(gateway.stdout)") }
        let port = UInt16(RecordingUpstream.unusedPort())
        let example = try IngressProcess.example("Caddyfile-mtls", port: port, decisionPort: decisionPort, appPort: upstream.port)
        XCTAssertTrue(example.contains("tls_client_auth "))
        let config = edit(example
            .replacingOccurrences(of: "/etc/caddy/tls/ingress.pem", with: pki.path("\(certificate).pem"))
            .replacingOccurrences(of: "/etc/caddy/tls/ingress.key", with: pki.path("\(certificate).key"))
            .replacingOccurrences(of: "/etc/caddy/tls/gateway-ca.pem", with: pki.path("ca.pem"))
            .replacingOccurrences(of: "decision.gateway.internal", with: "localhost"))
        ingress = try IngressProcess(executable: caddy, configName: "Caddyfile", config: config, port: port, arguments: { dir in
            ["run", "--config", dir + "/Caddyfile", "--adapter", "caddyfile"]
        }, environment: { dir in ["HOME": dir, "XDG_DATA_HOME": dir + "/data", "XDG_CONFIG_HOME": dir + "/config"] })
    }

    func request(_ method: String, _ target: String, _ fields: [(String, String)]) throws -> RawResponse {
        guard let ingress else { throw RawHTTPError.closed }
        let c = try RawHTTPClient(port: ingress.port)
        c.timeout = 10
        var text = "\(method) \(target) HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n"
        for (n, v) in fields { text += "\(n): \(v)\r\n" }
        try c.send(text + "\r\n")
        return try c.readResponse()
    }

    static let spoofed: [(String, String)] = [("X-Auth-Subject", "admin"), ("X-Auth-Scopes", "write:orders")]

    func testNginxAuthRequestOverMutualTLS() throws {
        try startGateway()
        try startNginx()
        // nginx does not read the body of an auth subrequest's answer, so after the first
        // refusal (a JSON body) it opens a new decision connection.
        try checkDecisionsOverMutualTLS(passesRefusalBody: false, connections: 2)
    }

    func testCaddyForwardAuthOverMutualTLS() throws {
        try startGateway()
        try startCaddy()
        try checkDecisionsOverMutualTLS(passesRefusalBody: true, connections: 1)
    }

    /// What every ingress shows over mutual TLS: identity from the gateway only, refusals
    /// with the gateway's status and challenge, nothing refused at the app, and every decision
    /// asked on a mutual-TLS connection.
    /// - Parameter connections: the decision connections (full TLS handshakes) the ingress opens.
    func checkDecisionsOverMutualTLS(passesRefusalBody: Bool, connections: Int) throws {
        let reader = try TestTokens.rs256(["scope": .string("read:orders"), "email": .string("u@example.test")])

        // Allowed: the app sees the gateway's identity, not the client's.
        for i in 0..<3 {
            let ok = try request("GET", "/orders/\(i)", [("Authorization", "Bearer " + reader)] + Self.spoofed)
            XCTAssertEqual(ok.status, 200, ok.bodyText)
            XCTAssertEqual(ok.bodyText, "hello over https\n")
        }
        XCTAssertEqual(upstream.requests.count, 3)
        if let r = upstream.requests.last {
            XCTAssertEqual(r.target, "/orders/2")
            XCTAssertEqual(r.values("X-Auth-Subject"), ["user-42"])
            XCTAssertEqual(r.values("X-Auth-Issuer"), [TestTokens.issuer])
            XCTAssertEqual(r.values("X-Auth-Scopes"), ["read:orders"])
            XCTAssertEqual(r.values("X-Auth-Email"), ["u@example.test"])
            XCTAssertEqual(r.values("Authorization"), [])
            XCTAssertEqual(r.values("X-Client-Cert-Subject"), [], "nginx's certificate is not the client's")
        }

        // Refused with the gateway's status and challenge; nothing refused reaches the app.
        let missing = try request("GET", "/orders/1", Self.spoofed)
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.header("WWW-Authenticate"), #"Bearer realm="gateway""#)
        if passesRefusalBody {
            XCTAssertEqual(missing.bodyText, #"{"error":"unauthorized","error_description":"bearer token required"}"#)
        }
        let forbidden = try request("DELETE", "/orders/1", [("Authorization", "Bearer " + reader)])
        XCTAssertEqual(forbidden.status, 403)
        XCTAssertEqual(upstream.requests.count, 3, "\(upstream.requests.map(\.target))")

        // Every decision came over mutual TLS: the access log says so, the handshakes are counted.
        var decisions: [String] { accessLines.filter { $0.contains("\"listener\":\"decision\"") } }
        XCTAssertTrue(eventually { decisions.count == 5 }, gateway.stdout)
        XCTAssertTrue(decisions.allSatisfy { $0.contains("\"client_cert\":true") && $0.contains("\"tls_version\":\"TLSv1.") },
                      "\(decisions)")
        let metrics = try adminGet("/metrics").bodyText
        XCTAssertTrue(metrics.contains(#"gateway_tls_handshakes_total{result="ok""#) && metrics.contains(#"listener="decision"} "#),
                      metrics)
        XCTAssertFalse(metrics.contains(#"gateway_tls_handshakes_total{result="client_certificate_missing""#), metrics)
        // The ingress keeps its decision connection open: five decisions, `connections` full handshakes.
        let handshakes = metrics.split(separator: "\n").filter {
            $0.hasPrefix("gateway_tls_handshakes_total{") && $0.contains(#"listener="decision""#)
        }
        XCTAssertEqual(handshakes.map { $0.split(separator: " ").last.map(String.init) ?? "" }, ["\(connections)"], "\(handshakes)")
    }

    /// nginx without its client certificate, or with one from another CA: the handshake is
    /// refused, so there is no decision and nginx answers 500 for every request (public
    /// routes too); the app sees nothing.
    func testNginxWithoutATrustedCertificateGetsNoDecision() throws {
        try startGateway()
        let token = try TestTokens.rs256(["scope": .string("read:orders")])
        try startNginx { config in
            config.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.contains("proxy_ssl_certificate") }.joined(separator: "\n")
        }
        XCTAssertEqual(try request("GET", "/status", []).status, 500)
        XCTAssertEqual(try request("GET", "/orders/1", [("Authorization", "Bearer " + token)]).status, 500)
        XCTAssertTrue(try eventually { try handshakes("client_certificate_missing", listener: "decision") >= 2 },
                      (try? adminGet("/metrics").bodyText) ?? "")
        ingress?.stop()

        try startNginx(certificate: "stranger")
        XCTAssertEqual(try request("GET", "/orders/1", [("Authorization", "Bearer " + token)]).status, 500)
        XCTAssertTrue(try eventually { try handshakes("client_certificate_invalid", listener: "decision") >= 1 },
                      (try? adminGet("/metrics").bodyText) ?? "")
        XCTAssertEqual(upstream.requests.count, 0)
        XCTAssertEqual(accessLines.filter { $0.contains("\"listener\":\"decision\"") }.count, 0, gateway.stdout)
    }

    /// Caddy without its client certificate: no decision, so no request passes (Caddy answers
    /// 502 when forward_auth cannot get an answer); the app sees nothing.
    func testCaddyWithoutItsCertificateGetsNoDecision() throws {
        try startGateway()
        try startCaddy { config in
            config.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.contains("tls_client_auth") }.joined(separator: "\n")
        }
        let token = try TestTokens.rs256(["scope": .string("read:orders")])
        for target in ["/status", "/orders/1"] {
            let r = try request("GET", target, [("Authorization", "Bearer " + token)])
            XCTAssertEqual(r.status, 502, "\(target): \(r.bodyText)")
        }
        XCTAssertTrue(try eventually { try handshakes("client_certificate_missing", listener: "decision") >= 2 },
                      (try? adminGet("/metrics").bodyText) ?? "")
        XCTAssertEqual(upstream.requests.count, 0)
    }
}
