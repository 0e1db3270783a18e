import Foundation
import GatewayTestSupport
import GatewayEvents
import GatewayTLS
import XCTest

/// Shared setup: one PKI per test class run, a loopback server per test, and the real
/// clients (`openssl s_client`, `curl`) as child processes.
class TLSTestCase: XCTestCase {
    nonisolated(unsafe) static var sharedPKI: TestPKI?
    var pki: TestPKI!
    var server: LoopbackTLSServer!

    override func setUpWithError() throws {
        if Self.sharedPKI == nil { Self.sharedPKI = try TestPKI() }
        pki = Self.sharedPKI
        server = try LoopbackTLSServer()
    }

    /// The temporary directory (with its test-only private keys) goes with the last test of the class.
    override class func tearDown() {
        // Removed here: XCTest keeps the test instances (and their `pki`) alive until the end.
        if let directory = sharedPKI?.directory { try? FileManager.default.removeItem(at: directory) }
        sharedPKI = nil
        super.tearDown()
    }

    override func tearDown() {
        server = nil
        super.tearDown()
    }

    static let request = "GET / HTTP/1.1\r\nHost: a.example.com\r\n\r\n"

    func context(_ names: [String] = ["a"], minimum: TLSServerConfiguration.MinimumVersion = .tls12,
                 clientCA: String? = nil, mode: TLSServerConfiguration.ClientCertificateMode = .optional)
        throws -> TLSServerContext {
        let files = names.map { TLSServerConfiguration.CertificateFiles(certificate: pki.path("\($0).pem"),
                                                                         privateKey: pki.path("\($0).key")) }
        return try TLSServerContext(configuration: TLSServerConfiguration(
            certificates: files, minimumVersion: minimum, clientCAFile: clientCA.map { pki.path($0) },
            clientCertificate: mode))
    }

    /// Runs `openssl s_client` with `arguments` against the server while it serves one connection.
    func sClient(_ arguments: [String], context: TLSServerContext, request: String = TLSTestCase.request,
                 file: StaticString = #filePath, line: UInt = #line)
        throws -> (outcome: LoopbackTLSServer.Outcome, status: Int32, output: String) {
        let client = try Subprocess(["openssl", "s_client", "-connect", "127.0.0.1:\(server.port)", "-ign_eof"]
                                        + arguments, input: request, in: pki.directory)
        let outcome = server.serveOne(context)
        let (status, output) = client.finish()
        let served = try XCTUnwrap(outcome, "no connection from s_client: \(output)", file: file, line: line)
        return (served, status, output)
    }

    /// Runs `curl` with `arguments` (URL included) while the server serves one connection.
    func curl(_ arguments: [String], context: TLSServerContext, file: StaticString = #filePath, line: UInt = #line)
        throws -> (outcome: LoopbackTLSServer.Outcome, status: Int32, output: String) {
        let client = try Subprocess(["curl", "-sS", "-i", "--max-time", "10"] + arguments, in: pki.directory)
        let outcome = server.serveOne(context)
        let (status, output) = client.finish()
        let served = try XCTUnwrap(outcome, "no connection from curl: \(output)", file: file, line: line)
        return (served, status, output)
    }

    /// `https://NAME:PORT/` resolved to the loopback server, trusting the test CA.
    func curlHTTPS(_ name: String) -> [String] {
        ["--cacert", pki.path("ca.pem"), "--resolve", "\(name):\(server.port):127.0.0.1", "https://\(name):\(server.port)/"]
    }
}
