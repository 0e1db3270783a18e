import GatewayEvents
import GatewayTLS
import GatewayTestSupport
import XCTest

/// Certificates chosen by SNI from their subjectAltName names, session resumption, and the
/// context's refusal of bad files.
final class TLSCertificateSelectionTests: TLSTestCase {
    func testSNIPicksTheCertificateNamingTheHost() throws {
        let ctx = try context(["a", "wild"])
        XCTAssertEqual(ctx.certificateNames, [["a.example.com", "www.a.example.com"], ["*.b.example.com"]])

        let wild = try sClient(["-servername", "X.B.Example.com"], context: ctx)
        XCTAssertEqual(wild.outcome.security?.serverName, "x.b.example.com", wild.output)
        XCTAssertEqual(wild.outcome.security?.certificateNames, ["*.b.example.com"])
        XCTAssertTrue(wild.output.contains("subject=CN = wildcard"), wild.output)

        let a = try sClient(["-servername", "www.a.example.com"], context: ctx)
        XCTAssertEqual(a.outcome.security?.certificateNames, ["a.example.com", "www.a.example.com"])
        XCTAssertTrue(a.output.contains("subject=CN = a.example.com"), a.output)

        // Two labels under the wildcard: no certificate names it, the first one answers.
        let deep = try sClient(["-servername", "x.y.b.example.com"], context: ctx)
        XCTAssertEqual(deep.outcome.security?.serverName, "x.y.b.example.com")
        XCTAssertEqual(deep.outcome.security?.certificateNames, ["a.example.com", "www.a.example.com"])

        let none = try sClient(["-noservername"], context: ctx)
        XCTAssertEqual(none.outcome.handshake, .ok, none.output)
        XCTAssertNil(none.outcome.security?.serverName)
        XCTAssertEqual(none.outcome.security?.certificateNames, ["a.example.com", "www.a.example.com"])

        // curl checks the name against the certificate it gets: success means the right one.
        let c = try curl(curlHTTPS("api.b.example.com"), context: ctx)
        XCTAssertEqual(c.status, 0, c.output)
        XCTAssertTrue(c.output.hasPrefix("HTTP/1.1 200 OK"), c.output)
        XCTAssertEqual(c.outcome.security?.certificateNames, ["*.b.example.com"])
        let wrong = try curl(curlHTTPS("b.example.com"), context: ctx)
        XCTAssertNotEqual(wrong.status, 0, "b.example.com is not covered by *.b.example.com: \(wrong.output)")
    }

    func testSessionsAreResumedFromTheServerCache() throws {
        let ctx = try context()
        for flag in ["-tls1_3", "-tls1_2"] {
            let session = pki.path("session\(flag).pem")
            let first = try sClient([flag, "-servername", "a.example.com", "-sess_out", session], context: ctx)
            XCTAssertEqual(first.outcome.security?.resumed, false, first.output)
            let second = try sClient([flag, "-servername", "a.example.com", "-sess_in", session], context: ctx)
            XCTAssertEqual(second.outcome.handshake, .ok, second.output)
            XCTAssertEqual(second.outcome.security?.resumed, true, second.output)
            XCTAssertTrue(second.output.contains("Reused, TLSv1."), second.output)
            XCTAssertEqual(second.outcome.security?.certificateNames, ["a.example.com", "www.a.example.com"])
            // A new context (a reload) starts with an empty cache: a full handshake.
            let fresh = try sClient([flag, "-servername", "a.example.com", "-sess_in", session], context: try context())
            XCTAssertEqual(fresh.outcome.security?.resumed, false, fresh.output)
        }
    }

    func testAnOpenConnectionKeepsItsContextWhenTheContextIsReplaced() throws {
        var ctx: TLSServerContext? = try context()
        weak let old = ctx
        let client = try Subprocess(["openssl", "s_client", "-connect", "127.0.0.1:\(server.port)", "-ign_eof"],
                                    input: TLSTestCase.request, in: pki.directory)
        // The transport holds the context; dropping the listener's reference (a reload) must not free it.
        let outcome = server.serveOne(ctx!)
        ctx = try context(["wild"])
        _ = client.finish()
        XCTAssertEqual(outcome?.handshake, .ok)
        XCTAssertTrue(outcome?.answered ?? false)
        XCTAssertNil(old, "the replaced context is freed once its last connection is gone")
    }

    func testBadFilesAreRefusedWithTheFileNamed() throws {
        func error(_ cert: String, _ key: String, ca: String? = nil) -> TLSConfigurationError? {
            do {
                _ = try TLSServerContext(configuration: TLSServerConfiguration(
                    certificates: [.init(certificate: pki.path(cert), privateKey: pki.path(key))],
                    clientCAFile: ca.map { pki.path($0) }))
                return nil
            } catch {
                return error
            }
        }
        let mismatch = try XCTUnwrap(error("a.pem", "wild.key"))
        XCTAssertEqual(mismatch.file, pki.path("wild.key"))
        XCTAssertEqual(mismatch.message, "private key does not match the certificate \(pki.path("a.pem"))")
        let missing = try XCTUnwrap(error("nope.pem", "a.key"))
        XCTAssertEqual(missing.description, "\(pki.path("nope.pem")): cannot read the certificate file: No such file or directory")
        let notCert = try XCTUnwrap(error("a.key", "a.key"))
        XCTAssertEqual(notCert.message, "no PEM certificate in the file")
        let notKey = try XCTUnwrap(error("a.pem", "a.pem"))
        XCTAssertTrue(notKey.message.hasPrefix("not an unencrypted PEM private key"), notKey.message)
        XCTAssertFalse(notKey.message.contains("BEGIN"), "no file content in messages")
        let noCA = try XCTUnwrap(error("a.pem", "a.key", ca: "a.key"))
        XCTAssertEqual(noCA.file, pki.path("a.key"))
        XCTAssertTrue(noCA.message.hasPrefix("no CA"), noCA.message)
        XCTAssertNil(error("a.pem", "a.key", ca: "ca.pem"))
    }
}
