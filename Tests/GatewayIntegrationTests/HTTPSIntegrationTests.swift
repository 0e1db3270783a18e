import Foundation
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// HTTPS on the listener, end to end: protocol versions and ALPN, SNI and 421, plain HTTP on
/// the TLS port, client certificates and their upstream fields, certificate-bound tokens, and
/// the header timeout covering the handshake.
final class HTTPSIntegrationTests: HTTPSTestCase {
    /// Fields at the upstream whose normalised name (lowercase, `_` as `-`) is `name`.
    func fields(_ request: RecordedRequest?, _ name: String) -> [String] {
        request?.fields.filter { $0.name.lowercased().replacingOccurrences(of: "_", with: "-") == name }.map(\.value) ?? []
    }

    func testHTTPSForwardsWithProtoAndInjectsOnlyVerifiedCertificateFields() throws {
        try start(config())
        // The startup line says the listener speaks HTTPS.
        XCTAssertTrue(gateway.stdout.contains(#""scheme":"https""#), gateway.stdout)
        let spoofed = ["-H", "X_Client_Cert_Subject: CN=admin", "-H", "x-client-cert-sha256: AAAA", "-H", "X-Forwarded-Proto: http"]
        let plain = curl("/status", spoofed)
        XCTAssertEqual(plain.status, 200, plain.output)
        XCTAssertTrue(plain.output.contains("hello over https"), plain.output)
        var seen = upstream.requests.last
        XCTAssertEqual(fields(seen, "x-forwarded-proto"), ["https"])
        XCTAssertEqual(fields(seen, "x-client-cert-subject"), [], "a client without a certificate cannot name one")
        XCTAssertEqual(fields(seen, "x-client-cert-sha256"), [])

        let withCertificate = curl("/status", ["--cert", pki.path("client.pem"), "--key", pki.path("client.key")] + spoofed)
        XCTAssertEqual(withCertificate.status, 200, withCertificate.output)
        seen = upstream.requests.last
        XCTAssertEqual(fields(seen, "x-client-cert-subject"), ["CN=client one,O=Example"])
        XCTAssertEqual(fields(seen, "x-client-cert-sha256"), [Base64URL.encode(try pki.fingerprint("client"))])
        XCTAssertEqual(upstream.requests.count, 2)

        let lines = accessLines
        XCTAssertEqual(lines.count, 2, gateway.stdout)
        XCTAssertTrue(lines[0].contains("\"client_cert\":false") && lines[0].contains("\"tls_version\":\"TLSv1.3\""), lines[0])
        XCTAssertTrue(lines[1].contains("\"client_cert\":true") && lines[1].contains("\"tls_version\":\"TLSv1.3\""), lines[1])
        XCTAssertFalse(gateway.stdout.contains("PRIVATE KEY") || gateway.stderr.contains("PRIVATE KEY"))
        XCTAssertEqual(try handshakes("ok", version: "TLSv1.3"), 2)
    }

    func testCertificateOnlyRouteAndOptionalClientCertificates() throws {
        try start(config())
        let without = curl("/mtls/x")
        XCTAssertEqual(without.status, 401, without.output)
        XCTAssertTrue(without.output.contains(
            #"WWW-Authenticate: Bearer realm="gateway", error="invalid_token", error_description="client certificate required""#),
            without.output)
        XCTAssertEqual(upstream.requests.count, 0)

        let with = curl("/mtls/x", ["--cert", pki.path("client.pem"), "--key", pki.path("client.key")])
        XCTAssertEqual(with.status, 200, with.output)
        XCTAssertEqual(upstream.requests.count, 1)

        // `optional` never treats an invalid certificate as absent: the handshake fails.
        let stranger = curl("/status", ["--cert", pki.path("stranger.pem"), "--key", pki.path("stranger.key")])
        XCTAssertEqual(stranger.status, 0, stranger.output)
        XCTAssertNotEqual(stranger.exit, 0)
        XCTAssertTrue(try eventually { try handshakes("client_certificate_invalid") == 1 })
        XCTAssertEqual(upstream.requests.count, 1)
    }

    func testRequiredClientCertificates() throws {
        try start(config(clientMode: "required"))
        let without = curl("/status")
        XCTAssertEqual(without.status, 0, without.output)
        XCTAssertNotEqual(without.exit, 0)
        XCTAssertTrue(try eventually { try handshakes("client_certificate_missing") == 1 })
        let with = curl("/status", ["--cert", pki.path("client.pem"), "--key", pki.path("client.key")])
        XCTAssertEqual(with.status, 200, with.output)
        XCTAssertEqual(upstream.requests.count, 1)
    }

    func testCertificateBoundTokens() throws {
        try start(config())
        let client = ["--cert", pki.path("client.pem"), "--key", pki.path("client.key")]
        func token(boundTo name: String?) throws -> [String] {
            var claims: [String: JSONValue?] = ["scope": .string("read:orders")]
            if let name {
                claims["cnf"] = .object([("x5t#S256", .string(Base64URL.encode(try pki.fingerprint(name))))])
            }
            return ["-H", "Authorization: Bearer \(try TestTokens.rs256(claims))"]
        }
        let bound = try token(boundTo: "client")
        XCTAssertEqual(curl("/orders/1", client + bound).status, 200)
        XCTAssertEqual(curl("/orders/1", client + bound).status, 200)  // a verified-token cache hit
        // The same (cached) token on a connection without the certificate.
        let stolen = curl("/orders/1", bound)
        XCTAssertEqual(stolen.status, 401, stolen.output)
        XCTAssertTrue(stolen.output.contains(#"error="invalid_token", error_description="certificate binding mismatch""#),
                      stolen.output)
        let other = curl("/orders/1", client + (try token(boundTo: "stranger")))
        XCTAssertEqual(other.status, 401, other.output)
        XCTAssertTrue(other.output.contains("certificate binding mismatch"), other.output)
        XCTAssertEqual(curl("/orders/1", try token(boundTo: nil)).status, 200, "a token without cnf needs no certificate")
        XCTAssertEqual(upstream.requests.count, 3)
    }

    func testProtocolVersionsCipherSuitesAndALPN() throws {
        try start(config())
        let v12 = try sClient(["-tls1_2", "-servername", "a.example.com"])
        XCTAssertTrue(v12.output.contains("HTTP/1.1 200") && v12.output.contains("TLSv1.2"), v12.output)
        let v13 = try sClient(["-tls1_3", "-servername", "a.example.com"])
        XCTAssertTrue(v13.output.contains("HTTP/1.1 200") && v13.output.contains("TLSv1.3"), v13.output)
        // SECLEVEL=0 so the client really offers TLS 1.1 (OpenSSL 3 clients refuse it themselves).
        let v11 = try sClient(["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        XCTAssertFalse(v11.output.contains("HTTP/1.1"), v11.output)
        let cbc = try sClient(["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA"])
        XCTAssertFalse(cbc.output.contains("HTTP/1.1"), cbc.output)
        let h2 = try sClient(["-alpn", "h2"])
        XCTAssertFalse(h2.output.contains("HTTP/1.1"), h2.output)
        let both = try sClient(["-alpn", "h2,http/1.1", "-servername", "a.example.com"])
        XCTAssertTrue(both.output.contains("ALPN protocol: http/1.1") && both.output.contains("HTTP/1.1 200"), both.output)
        let counted = try eventually {
            try handshakes("protocol_version") == 1 && handshakes("no_shared_cipher") == 1
                && handshakes("no_application_protocol") == 1
        }
        let metrics = try adminGet("/metrics").bodyText
        XCTAssertTrue(counted, metrics)
        XCTAssertEqual(try handshakes("ok", version: "TLSv1.2"), 1)
        XCTAssertEqual(upstream.requests.count, 3)
    }

    func testSNISelectsTheCertificateAndAnUncoveredHostIs421() throws {
        try start(config())
        let wildcard = try sClient(["-servername", "x.b.example.com"],
                                   request: "GET /status HTTP/1.1\r\nHost: x.b.example.com\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(wildcard.output.contains("CN = wildcard") || wildcard.output.contains("CN=wildcard"), wildcard.output)
        XCTAssertTrue(wildcard.output.contains("HTTP/1.1 200"), wildcard.output)

        // SNI picks the wildcard certificate; Host names a site only the other one covers.
        let misdirected = curl("/status", host: "x.b.example.com", ["-H", "Host: a.example.com"])
        XCTAssertEqual(misdirected.status, 421, misdirected.output)
        XCTAssertTrue(misdirected.output.lowercased().contains("connection: close"), misdirected.output)
        XCTAssertTrue(misdirected.output.contains("misdirected_request"), misdirected.output)
        // A port in Host is ignored; without SNI there is nothing to compare.
        XCTAssertEqual(curl("/status", host: "x.b.example.com", ["-H", "Host: X.B.example.com:443"]).status, 200)
        let noSNI = try sClient(["-noservername"],
                                request: "GET /status HTTP/1.1\r\nHost: elsewhere.example\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(noSNI.output.contains("HTTP/1.1 200"), noSNI.output)
        // An address sent as SNI (not a server name, RFC 6066 §3; wrk does it for https://IP/)
        // counts as no SNI: the default certificate answers, and nothing is misdirected.
        let addressSNI = try sClient(["-servername", "127.0.0.1"],
                                     request: "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        XCTAssertTrue(addressSNI.output.contains("HTTP/1.1 200"), addressSNI.output)
        XCTAssertEqual(upstream.requests.count, 4)
    }

    func testAClientThatDoesNotTrustTheCertificateIsCountedAsRejectingIt() throws {
        try start(config())
        // curl without the test CA: its verification fails and it answers with an alert.
        let p = try Subprocess(["curl", "-sS", "--max-time", "10", "--resolve", "a.example.com:\(gateway.port):127.0.0.1",
                                "https://a.example.com:\(gateway.port)/status"], in: pki.directory)
        let (exit, output) = p.finish(timeout: 20)
        XCTAssertNotEqual(exit, 0, output)
        XCTAssertTrue(try eventually { try handshakes("server_certificate_rejected") == 1 })
        XCTAssertEqual(try handshakes("error"), 0)
        XCTAssertEqual(upstream.requests.count, 0)
    }

    func testPlainHTTPOnTheTLSPortIsAnsweredInClearText() throws {
        try start(config())
        let p = try Subprocess(["curl", "-sS", "-i", "--max-time", "10", "http://127.0.0.1:\(gateway.port)/status"])
        let (exit, output) = p.finish(timeout: 20)
        XCTAssertEqual(exit, 0, output)
        XCTAssertEqual(Self.status(output), 400, output)
        XCTAssertTrue(output.contains("plain HTTP request sent to the HTTPS port"), output)
        XCTAssertTrue(output.lowercased().contains("connection: close"), output)
        XCTAssertTrue(try eventually { try handshakes("plain_http") == 1 })
        XCTAssertEqual(upstream.requests.count, 0)
    }

    func testASilentTLSConnectionIsClosedAfterTheHeaderTimeout() throws {
        try start(config(headerTimeout: "1s"))
        let started = Date()
        let silent = try RawHTTPClient(port: gateway.port)
        // Half a handshake: a TLS record header announcing a ClientHello that never comes.
        let stalled = try RawHTTPClient(port: gateway.port)
        try stalled.send([0x16, 0x03, 0x01, 0x00, 0x80])
        XCTAssertTrue(silent.isClosedByPeer(within: 5))
        XCTAssertTrue(stalled.isClosedByPeer(within: 5))
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.9)
        XCTAssertTrue(try eventually { try handshakes("incomplete") == 2 })
        XCTAssertEqual(accessLines.count, 0, "nothing was asked: no response, no request line")
    }

    func testLargeBodiesBothWaysOverTLS() throws {
        upstream.stop()
        upstream = try RecordingUpstream { _ in .generated(status: 200, fields: [], length: 4 << 20, chunked: false) }
        try start(config())
        let upload = pki.directory.appendingPathComponent("upload-\(UUID().uuidString).bin")
        try Data((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: upload)
        defer { try? FileManager.default.removeItem(at: upload) }
        let r = curl("/status", ["--data-binary", "@\(upload.path)", "-o", "/dev/null", "-w", "%{http_code} %{size_download}"])
        XCTAssertEqual(r.exit, 0, r.output)
        XCTAssertTrue(r.output.hasSuffix("200 \(4 << 20)"), r.output)
        XCTAssertEqual(upstream.requests.last?.body.count, 1 << 20)
        XCTAssertEqual(upstream.requests.last?.body, Array(try Data(contentsOf: upload)))
    }
}
