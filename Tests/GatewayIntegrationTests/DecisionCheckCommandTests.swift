import Foundation
import GatewayTestSupport
import XCTest

/// `gateway check` on a config with a decision listener (and `decision.tls`).
final class DecisionCheckCommandTests: XCTestCase {
    func check(_ decision: String, command: String = "check") throws -> (status: Int32, err: String) {
        let dir = NSTemporaryDirectory() + "decision-check-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            listen: {address: 127.0.0.1:8080}
            \(decision)
            upstreams: {u: {url: "http://127.0.0.1:9000"}}
            routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
            """.write(toFile: dir + "/gw.yml", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = [command, "--config", dir + "/gw.yml"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    func testNonLoopbackDecisionAddressIsWarnedAbout() throws {
        let open = try check("decision: {address: 0.0.0.0:8081}")
        XCTAssertEqual(open.status, 0)
        XCTAssertTrue(open.err.contains("gw.yml:2:21: warning: decision.address 0.0.0.0:8081 is not a loopback address"), open.err)
        let loopback = try check("decision: {address: 127.0.0.1:8081}")
        XCTAssertEqual(loopback.status, 0)
        XCTAssertFalse(loopback.err.contains("decision"), loopback.err)
        let clash = try check("decision: {address: 127.0.0.1:8080}")
        XCTAssertEqual(clash.status, 1)
        XCTAssertTrue(clash.err.contains("`decision.address` 127.0.0.1:8080 and `listen.address` 127.0.0.1:8080"), clash.err)
    }

    func testDecisionCertificatesAreCheckedLikeTheListenersAndRequiredMutualTLSIsNotWarnedAbout() throws {
        let pki = try TestPKI()
        func pair(_ certificate: String, _ key: String) -> String {
            "{certificate: \(pki.path(certificate + ".pem")), private_key: \(pki.path(key + ".key"))}"
        }
        let mutual = ", client_ca_file: \(pki.path("ca.pem")), client_certificate:"
        let required = try check("decision: {address: 0.0.0.0:8081, tls: {certificates: [\(pair("localhost", "localhost"))]\(mutual) required}}")
        XCTAssertEqual(required.status, 0, required.err)
        XCTAssertEqual(required.err, "", "the ingress must present a certificate from client_ca_file: no loopback warning")
        let optional = try check("decision: {address: 0.0.0.0:8081, tls: {certificates: [\(pair("localhost", "localhost"))]\(mutual) optional}}")
        XCTAssertEqual(optional.status, 0, optional.err)
        XCTAssertTrue(optional.err.contains("warning: decision.address 0.0.0.0:8081 is not a loopback address"), optional.err)

        let bad = try check("""
            decision:
              tls:
                certificates:
                  - \(pair("soon", "soon"))
                  - \(pair("expired", "expired"))
                  - \(pair("localhost", "a"))
            """)
        XCTAssertEqual(bad.status, 1, bad.err)
        let lines = bad.err.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, bad.err)
        guard lines.count == 3 else { return }
        XCTAssertTrue(lines[0].contains("gw.yml:5:9: warning: certificate \(pki.path("soon.pem")) (names: soon.example.com) expires on "),
                      bad.err)
        XCTAssertTrue(lines[1].contains("gw.yml:6:9: certificate \(pki.path("expired.pem")) (names: old.example.com) expired on "), bad.err)
        XCTAssertTrue(lines[2].hasSuffix("gw.yml:7:9: \(pki.path("a.key")): private key does not match the certificate \(pki.path("localhost.pem"))"),
                      bad.err)
        XCTAssertFalse(bad.err.contains("PRIVATE KEY"))

        // `serve` refuses to start with a decision certificate and key that do not match.
        let serve = try check("decision: {address: 127.0.0.1:0, tls: {certificates: [\(pair("localhost", "a"))]}}\nadmin: {address: 127.0.0.1:0}",
                              command: "serve")
        XCTAssertEqual(serve.status, 1, serve.err)
        XCTAssertTrue(serve.err.contains("gw.yml:2:"), serve.err)
        XCTAssertTrue(serve.err.contains(pki.path("a.key")), serve.err)
        XCTAssertFalse(serve.err.contains("PRIVATE KEY"))
    }
}
