import GatewayEvents
import GatewayTLS
import GatewayTestSupport
import XCTest

/// Protocol versions, cipher suites and ALPN, with real clients over loopback TCP.
final class TLSHandshakeTests: TLSTestCase {
    func testTLS13AndTLS12ClientsAreServed() throws {
        let ctx = try context()
        for (flag, version) in [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")] {
            let r = try sClient([flag, "-servername", "a.example.com"], context: ctx)
            XCTAssertEqual(r.outcome.handshake, .ok, r.output)
            XCTAssertEqual(r.outcome.security?.protocolVersion, version)
            XCTAssertTrue(r.outcome.answered)
            XCTAssertTrue(r.outcome.request.hasPrefix("GET / HTTP/1.1\r\n"))
            XCTAssertTrue(r.output.contains("hello over \(version)"), r.output)
        }
        let c = try curl(curlHTTPS("a.example.com"), context: ctx)
        XCTAssertEqual(c.status, 0, c.output)
        XCTAssertTrue(c.output.hasPrefix("HTTP/1.1 200 OK"), c.output)
        XCTAssertEqual(c.outcome.security?.protocolVersion, "TLSv1.3")
    }

    func testTLS11IsRefused() throws {
        // SECLEVEL=0 so the client really offers TLS 1.1 (OpenSSL 3 clients refuse it themselves).
        let r = try sClient(["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"], context: try context())
        XCTAssertEqual(r.outcome.handshake, .protocolVersion, r.output)
        XCTAssertNil(r.outcome.security)
        XCTAssertFalse(r.outcome.answered)
        XCTAssertNotEqual(r.status, 0)
        XCTAssertFalse(r.output.contains("hello over"))
        let c = try curl(["--tlsv1.1", "--tls-max", "1.1", "--ciphers", "DEFAULT@SECLEVEL=0"] + curlHTTPS("a.example.com"),
                         context: try context())
        XCTAssertNotEqual(c.status, 0, c.output)
        XCTAssertEqual(c.outcome.handshake, .protocolVersion)
    }

    func testMinimumVersion13RefusesTLS12() throws {
        let ctx = try context(minimum: .tls13)
        let r = try sClient(["-tls1_2"], context: ctx)
        XCTAssertEqual(r.outcome.handshake, .protocolVersion, r.output)
        XCTAssertFalse(r.outcome.answered)
        let ok = try sClient(["-tls1_3"], context: ctx)
        XCTAssertEqual(ok.outcome.security?.protocolVersion, "TLSv1.3", ok.output)
    }

    func testTLS12WithOnlyCBCSuitesIsRefused() throws {
        let ctx = try context()
        let r = try sClient(["-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"],
                            context: ctx)
        XCTAssertEqual(r.outcome.handshake, .noSharedCipher, r.output)
        XCTAssertFalse(r.outcome.answered)
        XCTAssertNotEqual(r.status, 0)
        // Non-ECDHE AEAD suites (static RSA key exchange) are not offered either.
        let rsa = try sClient(["-tls1_2", "-cipher", "AES128-GCM-SHA256"], context: ctx)
        XCTAssertEqual(rsa.outcome.handshake, .noSharedCipher, rsa.output)
        let chacha = try sClient(["-tls1_2", "-cipher", "ECDHE-ECDSA-CHACHA20-POLY1305"], context: ctx)
        XCTAssertEqual(chacha.outcome.handshake, .ok, chacha.output)
        XCTAssertTrue(chacha.output.contains("ECDHE-ECDSA-CHACHA20-POLY1305"), chacha.output)
    }

    func testALPNSelectsHTTP11AndRefusesH2Only() throws {
        let ctx = try context()
        let h2 = try sClient(["-alpn", "h2"], context: ctx)
        XCTAssertEqual(h2.outcome.handshake, .noApplicationProtocol, h2.output)
        XCTAssertFalse(h2.outcome.answered)
        XCTAssertTrue(h2.output.contains("no application protocol"), h2.output)

        let both = try sClient(["-alpn", "h2,http/1.1"], context: ctx)
        XCTAssertEqual(both.outcome.handshake, .ok)
        XCTAssertTrue(both.output.contains("ALPN protocol: http/1.1"), both.output)

        let none = try sClient([], context: ctx)
        XCTAssertEqual(none.outcome.handshake, .ok)
        XCTAssertTrue(none.output.contains("No ALPN negotiated"), none.output)

        let c = try curl(["--http2"] + curlHTTPS("a.example.com"), context: ctx)
        XCTAssertEqual(c.status, 0, c.output)
        XCTAssertTrue(c.output.hasPrefix("HTTP/1.1 200 OK"), c.output)
    }

    func testPlainHTTPOnTheTLSPortIsAnsweredInClearText() throws {
        let c = try curl(["http://127.0.0.1:\(server.port)/orders"], context: try context())
        XCTAssertTrue(c.outcome.plainHTTP)
        XCTAssertEqual(c.outcome.handshake, .plainHTTP)
        XCTAssertEqual(c.outcome.error, .tls(TLSServerTransport.plainHTTPReason))
        XCTAssertTrue(c.outcome.request.hasPrefix("GET /orders HTTP/1.1\r\n"), c.outcome.request)
        XCTAssertTrue(c.output.hasPrefix("HTTP/1.1 400 Bad Request"), c.output)
        XCTAssertNil(c.outcome.security)
    }

    func testNonTLSBinaryIsRefusedWithoutAnAnswer() throws {
        let client = try Subprocess(["bash", "-c", "printf '\\x00\\x01garbage' > /dev/tcp/127.0.0.1/\(server.port); sleep 1"])
        let outcome = try XCTUnwrap(server.serveOne(try context()))
        _ = client.finish()
        XCTAssertEqual(outcome.handshake, .error)
        XCTAssertFalse(outcome.plainHTTP)
        XCTAssertFalse(outcome.answered)
        XCTAssertEqual(outcome.error, .tls("not a TLS handshake (first byte 0x0)"))
    }

    func testALargeResponseWaitsForWritabilityAndArrivesWhole() throws {
        let ctx = try context()
        let client = try Subprocess(["bash", "-c", "curl -sS --max-time 25 --cacert ca.pem --resolve a.example.com:\(server.port):127.0.0.1 "
                                        + "--limit-rate 10M https://a.example.com:\(server.port)/ | wc -c"], in: pki.directory)
        let outcome = try XCTUnwrap(server.serveOne(ctx, timeout: 30, bodyBytes: 16 << 20))
        let (status, output) = client.finish(timeout: 30)
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(outcome.answered)
        XCTAssertGreaterThan(outcome.writesBlocked, 0, "16 MiB cannot fit the socket buffers at once")
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), String("hello over TLSv1.3\n".utf8.count + (16 << 20)))
    }

    func testAnUnfinishedHandshakeWaitsWithoutBlocking() throws {
        // A TLS record header announcing a ClientHello that never comes.
        let client = try Subprocess(["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/\(server.port); printf '\\x16\\x03\\x01\\x00\\x80' >&3; sleep 2.5"])
        let started = Date()
        let outcome = try XCTUnwrap(server.serveOne(try context(), timeout: 1.5))
        let waited = Date().timeIntervalSince(started)
        _ = client.finish()
        XCTAssertNil(outcome.handshake, "still waiting for the rest of the ClientHello")
        XCTAssertNil(outcome.error)
        XCTAssertNil(outcome.security)
        XCTAssertFalse(outcome.answered)
        XCTAssertLessThan(waited, 2.4, "the pump gave up at its deadline: no call blocked until the client left")
    }
}
