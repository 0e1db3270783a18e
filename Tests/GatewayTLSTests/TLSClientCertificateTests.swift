import GatewayEvents
import GatewayTLS
import XCTest

/// Mutual TLS: client certificates verified against `client_ca_file` (chain, dates, key usage).
final class TLSClientCertificateTests: TLSTestCase {
    func withCertificate(_ name: String) -> [String] { ["-cert", pki.path("\(name).pem"), "-key", pki.path("\(name).key")] }

    func testRequiredRefusesAClientWithoutAValidCertificate() throws {
        let ctx = try context(clientCA: "ca.pem", mode: .required)
        for flag in ["-tls1_3", "-tls1_2"] {
            let none = try sClient([flag], context: ctx)
            XCTAssertEqual(none.outcome.handshake, .clientCertificateMissing, none.output)
            XCTAssertFalse(none.outcome.answered)
            XCTAssertFalse(none.output.contains("hello over"))

            let ok = try sClient([flag] + withCertificate("client"), context: ctx)
            XCTAssertEqual(ok.outcome.handshake, .ok, ok.output)
            let client = try XCTUnwrap(ok.outcome.security?.clientCertificate)
            XCTAssertEqual(client.subject, "CN=client one,O=Example")
            XCTAssertEqual(client.sha256, try pki.fingerprint("client"))
            XCTAssertEqual(client.sha256.count, 32)
            XCTAssertTrue(ok.output.contains("hello over"), ok.output)
        }
        for name in ["stranger", "client-expired", "client-server-usage"] {
            let r = try sClient(withCertificate(name), context: ctx)
            XCTAssertEqual(r.outcome.handshake, .clientCertificateInvalid, "\(name): \(r.output)")
            XCTAssertFalse(r.outcome.answered, name)
            XCTAssertNil(r.outcome.security, name)
        }
        let c = try curl(["--cert", pki.path("client.pem"), "--key", pki.path("client.key")] + curlHTTPS("a.example.com"),
                         context: ctx)
        XCTAssertEqual(c.status, 0, c.output)
        XCTAssertEqual(c.outcome.security?.clientCertificate?.subject, "CN=client one,O=Example")
        let bare = try curl(curlHTTPS("a.example.com"), context: ctx)
        XCTAssertNotEqual(bare.status, 0, bare.output)
        XCTAssertEqual(bare.outcome.handshake, .clientCertificateMissing)
    }

    func testOptionalAcceptsAClientWithoutOneAndVerifiesAPresentedOne() throws {
        let ctx = try context(clientCA: "ca.pem", mode: .optional)
        let none = try sClient([], context: ctx)
        XCTAssertEqual(none.outcome.handshake, .ok, none.output)
        XCTAssertNotNil(none.outcome.security)
        XCTAssertNil(none.outcome.security?.clientCertificate)
        XCTAssertTrue(none.output.contains("Acceptable client certificate CA names"), none.output)

        let ok = try sClient(withCertificate("client"), context: ctx)
        XCTAssertEqual(ok.outcome.security?.clientCertificate?.subject, "CN=client one,O=Example", ok.output)

        // Presented but not valid: refused, also when certificates are optional.
        let stranger = try sClient(withCertificate("stranger"), context: ctx)
        XCTAssertEqual(stranger.outcome.handshake, .clientCertificateInvalid, stranger.output)
        XCTAssertFalse(stranger.outcome.answered)
    }

    func testResumedSessionKeepsTheVerifiedClientCertificate() throws {
        let ctx = try context(clientCA: "ca.pem", mode: .required)
        let session = pki.path("client-session.pem")
        let first = try sClient(["-tls1_2", "-sess_out", session] + withCertificate("client"), context: ctx)
        XCTAssertEqual(first.outcome.security?.resumed, false, first.output)
        let second = try sClient(["-tls1_2", "-sess_in", session] + withCertificate("client"), context: ctx)
        XCTAssertEqual(second.outcome.security?.resumed, true, second.output)
        XCTAssertEqual(second.outcome.security?.clientCertificate?.sha256, try pki.fingerprint("client"))
    }

    func testWithoutAClientCAFileNoCertificateIsAskedFor() throws {
        let r = try sClient(withCertificate("client"), context: try context())
        XCTAssertEqual(r.outcome.handshake, .ok, r.output)
        XCTAssertNil(r.outcome.security?.clientCertificate)
        XCTAssertTrue(r.output.contains("No client certificate CA names sent"), r.output)
    }
}
