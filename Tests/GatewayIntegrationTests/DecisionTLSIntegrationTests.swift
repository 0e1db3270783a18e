import Foundation
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// HTTPS and mutual TLS on the decision listener (`decision.tls`, docs/forward-auth.md),
/// with real TLS clients (`curl`, `openssl s_client`, Python's `ssl`) playing the ingress:
/// the `client` certificate is the ingress's, `stranger` comes from another CA.
final class DecisionTLSIntegrationTests: HTTPSTestCase {
    var ingressCertificate: [String] { ["--cert", pki.path("client.pem"), "--key", pki.path("client.key")] }

    /// The test configuration (its proxy listener with `listen.tls`), and a decision listener
    /// with the `localhost` certificate (or `certificate`) and client certificates from the test
    /// CA (`clientMode`).
    func decisionConfig(clientMode: String = "required", certificate: String? = nil, headerTimeout: String = "10s") -> String {
        let pair = certificate ?? "certificate: \(pki.path("localhost.pem")), private_key: \(pki.path("localhost.key"))"
        return config(headerTimeout: headerTimeout, extra: """
            decision:
              address: 127.0.0.1:0
              tls: {\(pair), client_ca_file: \(pki.path("ca.pem")), client_certificate: \(clientMode)}
            """)
    }

    func decisionPort() throws -> UInt16 {
        guard let p = gateway.decisionPort else { throw RawHTTPError.malformed("no decision_port logged: \(gateway.stdout)") }
        return p
    }

    /// curl as the ingress asking about `GET target` (Traefik/Caddy convention fields).
    func ask(_ target: String, _ arguments: [String], method: String = "GET") throws -> (exit: Int32, status: Int, output: String) {
        curl("/auth", host: "localhost", port: try decisionPort(),
             ["-H", "X-Forwarded-Method: \(method)", "-H", "X-Forwarded-Proto: https", "-H", "X-Forwarded-Host: api.example.com",
              "-H", "X-Forwarded-Uri: \(target)"] + arguments)
    }

    static func header(_ name: String, in output: String) -> [String] {
        output.split(whereSeparator: \.isNewline).compactMap { line -> String? in
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == name.lowercased() else { return nil }
            return parts[1].trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    func bearer(_ claims: [String: JSONValue?] = ["scope": .string("read:orders")]) throws -> [String] {
        ["-H", "Authorization: Bearer \(try TestTokens.rs256(claims))"]
    }

    func testTrustedIngressCertificateGetsDecisionsWithIdentity() throws {
        try start(decisionConfig())
        XCTAssertTrue(gateway.stdout.contains(#""decision_scheme":"https""#), gateway.stdout)
        let allowed = try ask("/orders/42", ingressCertificate + (try bearer()) + ["-H", "X-Auth-Subject: admin"])
        XCTAssertEqual(allowed.exit, 0, allowed.output)
        XCTAssertEqual(allowed.status, 200, allowed.output)
        XCTAssertEqual(Self.header("X-Auth-Subject", in: allowed.output), ["user-42"])
        XCTAssertEqual(Self.header("X-Auth-Issuer", in: allowed.output), [TestTokens.issuer])
        XCTAssertEqual(Self.header("X-Auth-Scopes", in: allowed.output), ["read:orders"])
        // The ingress's certificate is not the client's: no certificate fields in the answer.
        XCTAssertEqual(Self.header("X-Client-Cert-Subject", in: allowed.output), [])
        XCTAssertEqual(Self.header("X-Client-Cert-SHA256", in: allowed.output), [])

        let refused = try ask("/orders/42", ingressCertificate)
        XCTAssertEqual(refused.status, 401, refused.output)
        XCTAssertEqual(Self.header("WWW-Authenticate", in: refused.output), [#"Bearer realm="gateway""#])
        XCTAssertEqual(Self.header("X-Auth-Subject", in: refused.output), [])
        XCTAssertEqual(upstream.requests.count, 0, "a decision never contacts the upstream")

        // Access log and metrics: listener="decision", with the connection's TLS facts.
        XCTAssertTrue(eventually { accessLines.count == 2 }, gateway.stdout)
        for line in accessLines {
            XCTAssertTrue(line.contains("\"listener\":\"decision\"") && line.contains("\"tls_version\":\"TLSv1.3\"")
                && line.contains("\"client_cert\":true"), line)
        }
        XCTAssertTrue(accessLines.first?.contains("\"path\":\"/orders/42\"") == true, accessLines.first ?? "")
        XCTAssertEqual(try handshakes("ok", version: "TLSv1.3", listener: "decision"), 2)
        XCTAssertEqual(try handshakes("ok", version: "TLSv1.3"), 0, "the proxy listener's series are its own")
        let metrics = try adminGet("/metrics").bodyText
        XCTAssertTrue(metrics.contains(#"gateway_requests_total{route="orders",status="200",listener="decision"} 1"#), metrics)
    }

    func testIngressWithoutOrWithAnUntrustedCertificateIsRefusedAtTheHandshake() throws {
        try start(decisionConfig())
        let token = try bearer()
        let without = try ask("/orders/1", token)
        XCTAssertEqual(without.status, 0, without.output)
        XCTAssertNotEqual(without.exit, 0)
        XCTAssertTrue(try eventually { try handshakes("client_certificate_missing", listener: "decision") == 1 })

        let stranger = try ask("/orders/1", ["--cert", pki.path("stranger.pem"), "--key", pki.path("stranger.key")] + token)
        XCTAssertEqual(stranger.status, 0, stranger.output)
        XCTAssertNotEqual(stranger.exit, 0)
        XCTAssertTrue(try eventually { try handshakes("client_certificate_invalid", listener: "decision") == 1 })

        // openssl s_client: the same request, with and without the ingress's certificate.
        let request = "GET /auth HTTP/1.1\r\nHost: localhost\r\nX-Original-Method: GET\r\nX-Original-URI: /orders/7\r\n"
            + "Authorization: Bearer \(try TestTokens.rs256(["scope": .string("read:orders")]))\r\nConnection: close\r\n\r\n"
        let noCertificate = try sClient(["-servername", "localhost", "-CAfile", pki.path("ca.pem")], request: request,
                                        port: try decisionPort())
        XCTAssertFalse(noCertificate.output.contains("HTTP/1.1"), noCertificate.output)
        let trusted = try sClient(["-servername", "localhost", "-CAfile", pki.path("ca.pem"), "-cert", pki.path("client.pem"),
                                   "-key", pki.path("client.key")], request: request, port: try decisionPort())
        XCTAssertTrue(trusted.output.contains("HTTP/1.1 200"), trusted.output)
        XCTAssertTrue(trusted.output.contains("X-Auth-Subject: user-42"), trusted.output)
        XCTAssertTrue(trusted.output.contains("Verify return code: 0 (ok)"), trusted.output)
        XCTAssertTrue(try eventually { try handshakes("client_certificate_missing", listener: "decision") == 2 })

        // Refused handshakes are never decisions: one access-log line (the trusted one).
        XCTAssertTrue(eventually { accessLines.count == 1 }, gateway.stdout)
        XCTAssertEqual(accessLines.count, 1, gateway.stdout)
        XCTAssertEqual(upstream.requests.count, 0)
    }

    /// The ingress's certificate never stands for the client's: a route requiring a client
    /// certificate, and a token bound to a certificate (RFC 8705) — even the ingress's own —
    /// are refused, as the proxy listener refuses them on a connection without a certificate.
    func testIngressCertificateIsNotTheClientCertificate() throws {
        try start(decisionConfig())
        let mtlsRoute = try ask("/mtls/x", ingressCertificate + ["-H", "X-Client-Cert-Subject: CN=client one,O=Example"])
        XCTAssertEqual(mtlsRoute.status, 401, mtlsRoute.output)
        XCTAssertEqual(Self.header("WWW-Authenticate", in: mtlsRoute.output),
                       [#"Bearer realm="gateway", error="invalid_token", error_description="client certificate required""#])
        XCTAssertEqual(Self.header("X-Client-Cert-Subject", in: mtlsRoute.output), [])

        let boundToIngress = try bearer(["scope": .string("read:orders"),
                                         "cnf": .object([("x5t#S256", .string(Base64URL.encode(try pki.fingerprint("client"))))])])
        let bound = try ask("/orders/1", ingressCertificate + boundToIngress)
        XCTAssertEqual(bound.status, 401, bound.output)
        XCTAssertEqual(Self.header("WWW-Authenticate", in: bound.output),
                       [#"Bearer realm="gateway", error="invalid_token", error_description="certificate binding mismatch""#])
        XCTAssertEqual(upstream.requests.count, 0)
    }

    func testHandshakeCountsAgainstTheHeaderTimeoutAndPlainHTTPGets400() throws {
        try start(decisionConfig(headerTimeout: "1s"))
        let port = try decisionPort()
        let started = Date()
        let silent = try RawHTTPClient(port: port)
        let stalled = try RawHTTPClient(port: port)
        try stalled.send([0x16, 0x03, 0x01, 0x00, 0x80])  // a ClientHello record header, then nothing
        XCTAssertTrue(silent.isClosedByPeer(within: 5))
        XCTAssertTrue(stalled.isClosedByPeer(within: 5))
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.9)
        XCTAssertTrue(try eventually { try handshakes("incomplete", listener: "decision") == 2 })

        let plain = try RawHTTPClient(port: port)
        try plain.send("GET /auth HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Uri: /status\r\n\r\n")
        let answer = try plain.readResponse()
        XCTAssertEqual(answer.status, 400)
        XCTAssertTrue(answer.bodyText.contains("plain HTTP request sent to the HTTPS port"), answer.bodyText)
        XCTAssertTrue(try eventually { try handshakes("plain_http", listener: "decision") == 1 })
        XCTAssertEqual(upstream.requests.count, 0)
    }

    /// `optional`: an ingress without a certificate is answered (TLS only); an invalid
    /// certificate still fails the handshake.
    func testOptionalClientCertificate() throws {
        try start(decisionConfig(clientMode: "optional"))
        let without = try ask("/orders/1", try bearer())
        XCTAssertEqual(without.status, 200, without.output)
        XCTAssertEqual(Self.header("X-Auth-Subject", in: without.output), ["user-42"])
        let stranger = try ask("/status", ["--cert", pki.path("stranger.pem"), "--key", pki.path("stranger.key")])
        XCTAssertEqual(stranger.status, 0, stranger.output)
        XCTAssertTrue(try eventually { try handshakes("client_certificate_invalid", listener: "decision") == 1 })
        XCTAssertTrue(eventually { accessLines.count == 1 }, gateway.stdout)
        XCTAssertTrue(accessLines.first?.contains("\"client_cert\":false") == true, accessLines.first ?? "")
    }

    func testReloadSwapsTheDecisionCertificateAndABadPairRefusesTheReload() throws {
        let files = ["decision.pem": try String(contentsOfFile: pki.path("localhost.pem"), encoding: .utf8),
                     "decision.key": try String(contentsOfFile: pki.path("localhost.key"), encoding: .utf8)]
        try start(decisionConfig(certificate: "certificate: decision.pem, private_key: decision.key"), files: files)
        let script = HTTPSOperationsIntegrationTests.pythonHelpers + #"""

            port, admin, gdir, pdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]

            def ingress(name):
                ctx = ssl.create_default_context(cafile=pdir + "/ca.pem")
                ctx.load_cert_chain(pdir + "/client.pem", pdir + "/client.key")
                return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=name)

            old = ingress("localhost")
            print("before", get(old, "localhost"), cn(old))
            shutil.copy(pdir + "/a.pem", gdir + "/decision.pem")
            shutil.copy(pdir + "/a.key", gdir + "/decision.key")
            print("reload", reload(admin))
            new = ingress("a.example.com")
            print("new", get(new, "localhost"), cn(new))
            print("old", get(old, "localhost"), cn(old))
            shutil.copy(pdir + "/localhost.key", gdir + "/decision.key")  # not the certificate's key
            print("refused", reload(admin))
            newer = ingress("a.example.com")
            print("kept", get(newer, "localhost"), cn(newer))
            """#
        let r = try python(script, [String(try decisionPort()), String(gateway.adminPort), gateway.directory, pki.directory.path])
        XCTAssertEqual(r.exit, 0, r.output)
        XCTAssertEqual(r.output.split(separator: "\n").map(String.init), [
            "before 200 localhost", "reload 200", "new 200 a.example.com", "old 200 localhost",
            "refused 400", "kept 200 a.example.com",
        ], r.output + gateway.stdout)
        XCTAssertTrue(gateway.stdout.contains("decision.key"), "the refused reload names the file")
        XCTAssertFalse(gateway.stdout.contains("PRIVATE KEY"))
        XCTAssertEqual(upstream.requests.count, 0)
    }
}
