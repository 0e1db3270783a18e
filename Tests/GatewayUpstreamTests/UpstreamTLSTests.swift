import Dispatch
import Foundation
import GatewayHTTP
import GatewayTestSupport
import GatewayUpstream
import XCTest

/// https upstreams against `openssl s_server` with throw-away certificates made by the
/// openssl command-line tool (skipped when it is missing).
final class UpstreamTLSTests: XCTestCase {
    private let queue = DispatchQueue(label: "upstream-tls-tests")
    private var directory: URL!
    private var server: Process?
    private var port = 0

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else {
            throw XCTSkip("openssl command-line tool not installed")
        }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("upstream-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // A CA, a server certificate for IP 127.0.0.1 and a client certificate, all P-256, valid 1 day.
        let script = """
        set -e
        printf 'subjectAltName=IP:127.0.0.1\\n' > server.ext
        printf 'extendedKeyUsage=clientAuth\\n' > client.ext
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca
        for n in server client; do
          openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout $n.key -out $n.csr -subj /CN=$n
          openssl x509 -req -in $n.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out $n.pem -days 1 -extfile $n.ext
        done
        """
        try runShell(script)
        port = RecordingUpstream.unusedPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        // -Verify 1: a client certificate signed by the CA is required.
        process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", "server.pem", "-key", "server.key",
                             "-CAfile", "ca.pem", "-Verify", "1", "-www", "-quiet"]
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        server = process
        try waitUntilListening()
    }

    override func tearDown() {
        if let server, server.isRunning {
            server.terminate()
            server.waitUntilExit()
        }
        if let directory { try? FileManager.default.removeItem(at: directory) }
        super.tearDown()
    }

    private func runShell(_ script: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw XCTSkip("could not make test certificates") }
    }

    /// Polls a TCP connect for up to 5 s.
    private func waitUntilListening() throws {
        for _ in 0..<100 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            close(fd)
            if connected { return }
            usleep(50_000)
        }
        XCTFail("openssl s_server did not start")
    }

    private func run(_ tls: UpstreamTLSOptions?) -> Recorder {
        let loop = queue.sync { UpstreamLoop(queue: queue) }
        let recorder = Recorder(queue: queue, done: expectation(description: "completion"))
        let request = UpstreamRequest(method: "GET", url: "https://127.0.0.1:\(port)/", fields: [], body: .none,
                                      connectTimeout: 5, timeout: 5, tls: tls)
        queue.async { recorder.transfer = loop.start(request, delegate: recorder) }
        wait(for: [recorder.done], timeout: 10)
        queue.sync { recorder.transfer = nil }
        return recorder
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    func testVerifiedServerWithClientCertificate() {
        let r = run(UpstreamTLSOptions(caFile: path("ca.pem"), clientCertificate: path("client.pem"),
                                       clientKey: path("client.key")))
        XCTAssertEqual(r.completions.count, 1)
        XCTAssertNil(r.completions.first ?? nil)
        XCTAssertEqual(r.status, 200)
        XCTAssertGreaterThan(r.bodyCount, 0)
    }

    func testANewConnectionResumesTheTLSSessionOfAnEarlierOne() {
        // s_server -www answers HTTP/1.0 and closes, so every request needs a new connection;
        // its status page says whether the TLS session was "New" or "Reused".
        let tls = UpstreamTLSOptions(caFile: path("ca.pem"), clientCertificate: path("client.pem"), clientKey: path("client.key"))
        for direct in [true, false] {
            let loop = queue.sync { UpstreamLoop(queue: queue, directExchanges: direct) }
            var pages: [String] = []
            for _ in 0..<2 {
                let recorder = Recorder(queue: queue, done: expectation(description: "completion"))
                let request = UpstreamRequest(method: "GET", url: "https://127.0.0.1:\(port)/", fields: [], body: .none,
                                              connectTimeout: 5, timeout: 5, tls: tls)
                queue.async { recorder.transfer = loop.start(request, delegate: recorder) }
                wait(for: [recorder.done], timeout: 10)
                queue.sync { recorder.transfer = nil }
                XCTAssertEqual(recorder.completions, [nil], "direct: \(direct)")
                pages.append(String(decoding: recorder.body, as: UTF8.self))
            }
            XCTAssertTrue(pages[0].contains("\nNew, TLS"), "direct: \(direct)")
            XCTAssertTrue(pages[1].contains("\nReused, TLS"), "direct: \(direct): \(pages[1].prefix(200))")
            // A session made with the client certificate never serves a request without it.
            let recorder = Recorder(queue: queue, done: expectation(description: "completion"))
            let request = UpstreamRequest(method: "GET", url: "https://127.0.0.1:\(port)/", fields: [], body: .none,
                                          connectTimeout: 5, timeout: 5, tls: UpstreamTLSOptions(caFile: path("ca.pem")))
            queue.async { recorder.transfer = loop.start(request, delegate: recorder) }
            wait(for: [recorder.done], timeout: 10)
            queue.sync { recorder.transfer = nil }
            XCTAssertNil(recorder.status, "direct: \(direct)")
            XCTAssertEqual(recorder.completions.count, 1, "direct: \(direct)")
        }
    }

    func testUntrustedServerCertificateFailsToConnect() {
        // Without the test CA, the system store does not trust the server.
        let r = run(UpstreamTLSOptions(clientCertificate: path("client.pem"), clientKey: path("client.key")))
        guard case .connectFailed? = r.completions.first ?? nil else {
            return XCTFail("expected connectFailed, got \(r.completions)")
        }
        XCTAssertNil(r.status)
    }

    func testMissingClientCertificateFails() {
        let r = run(UpstreamTLSOptions(caFile: path("ca.pem")))
        XCTAssertEqual(r.completions.count, 1)
        // TLS 1.3 reports the refused client certificate after the handshake, on the first read.
        switch r.completions.first ?? nil {
        case .connectFailed?, .invalidResponse?: break
        default: XCTFail("expected a 502 failure, got \(r.completions)")
        }
        XCTAssertNil(r.status)
    }

    func testWrongServerNameFailsToConnect() {
        // Same server, reached by a name its certificate does not hold.
        let loop = queue.sync { UpstreamLoop(queue: queue) }
        let recorder = Recorder(queue: queue, done: expectation(description: "completion"))
        let request = UpstreamRequest(
            method: "GET", url: "https://localhost:\(port)/", fields: [], body: .none, connectTimeout: 5, timeout: 5,
            tls: UpstreamTLSOptions(caFile: path("ca.pem"), clientCertificate: path("client.pem"), clientKey: path("client.key")))
        queue.async { recorder.transfer = loop.start(request, delegate: recorder) }
        wait(for: [recorder.done], timeout: 10)
        queue.sync {}
        guard case .connectFailed? = recorder.completions.first ?? nil else {
            return XCTFail("expected connectFailed, got \(recorder.completions)")
        }
    }
}
