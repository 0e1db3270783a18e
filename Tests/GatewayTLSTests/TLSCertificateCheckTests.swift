import Foundation
import GatewayTLS
import XCTest

/// What `gateway check` reports about the listener's certificates.
final class TLSCertificateCheckTests: TLSTestCase {
    func pair(_ cert: String, _ key: String) -> TLSServerConfiguration.CertificateFiles {
        .init(certificate: pki.path("\(cert).pem"), privateKey: pki.path("\(key).key"))
    }

    func testExpiredMismatchedAndSoonExpiringCertificates() throws {
        let now = Date().timeIntervalSince1970
        let findings = TLSCertificateCheck.findings(TLSServerConfiguration(certificates: [
            pair("a", "a"), pair("expired", "expired"), pair("soon", "soon"), pair("wild", "a"), pair("client", "client"),
        ]), now: now)
        XCTAssertEqual(findings.map(\.certificate), [1, 2, 3, 4], "\(findings)")
        XCTAssertEqual(findings.map(\.severity), [.error, .warning, .error, .warning])
        XCTAssertTrue(findings[0].message.hasPrefix("certificate \(pki.path("expired.pem")) (names: old.example.com) expired on 20"),
                      findings[0].message)
        XCTAssertTrue(findings[1].message.hasPrefix("certificate \(pki.path("soon.pem")) (names: soon.example.com) expires on 20"),
                      findings[1].message)
        XCTAssertTrue(findings[1].message.hasSuffix("(in 4 days)"), findings[1].message)
        XCTAssertEqual(findings[2].message, "\(pki.path("a.key")): private key does not match the certificate \(pki.path("wild.pem"))")
        XCTAssertTrue(findings[3].message.contains("has no subjectAltName DNS names"), findings[3].message)
    }

    func testValidCertificatesHaveNoFindingsAndABadClientCAIsAnError() throws {
        let now = Date().timeIntervalSince1970
        XCTAssertEqual(TLSCertificateCheck.findings(TLSServerConfiguration(
            certificates: [pair("a", "a"), pair("wild", "wild")], clientCAFile: pki.path("ca.pem")), now: now), [])
        let missingCA = TLSCertificateCheck.findings(TLSServerConfiguration(
            certificates: [pair("a", "a")], clientCAFile: pki.path("missing-ca.pem")), now: now)
        XCTAssertEqual(missingCA.map(\.severity), [.error])
        XCTAssertNil(missingCA.first?.certificate)
        XCTAssertEqual(missingCA.first?.message,
                       "\(pki.path("missing-ca.pem")): cannot read the client CA file: No such file or directory")
        // 20 days from now, the 30-day certificate is inside the warning window.
        let later = TLSCertificateCheck.findings(TLSServerConfiguration(certificates: [pair("a", "a")]), now: now + 20 * 86400)
        XCTAssertEqual(later.map(\.severity), [.warning])
    }
}
