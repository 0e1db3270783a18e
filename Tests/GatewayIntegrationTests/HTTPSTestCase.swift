import Foundation
import GatewayTestSupport
import XCTest

/// The real gateway with `listen.tls` in front of a recording upstream, and real TLS clients
/// (`curl`, `openssl s_client`, Python's `ssl`) as child processes. Certificates come from
/// `TestPKI` (made with the openssl command line in a temporary directory, removed after the
/// class): `a` (a.example.com, www.a.example.com), `wild` (*.b.example.com), a client
/// certificate `client` (O=Example, CN=client one) and `stranger` from another CA.
class HTTPSTestCase: XCTestCase {
    nonisolated(unsafe) static var sharedPKI: TestPKI?
    var pki: TestPKI!
    var upstream: RecordingUpstream!
    var gateway: GatewayProcess!

    override func setUpWithError() throws {
        if Self.sharedPKI == nil { Self.sharedPKI = try TestPKI() }
        pki = Self.sharedPKI
        upstream = try RecordingUpstream { _ in .ok("hello over https\n") }
    }

    override func tearDown() {
        gateway?.stop()
        upstream?.stop()
        super.tearDown()
    }

    override class func tearDown() {
        if let directory = sharedPKI?.directory { try? FileManager.default.removeItem(at: directory) }
        sharedPKI = nil
        super.tearDown()
    }

    /// `listen.tls` with the `a` then `wild` certificates (or `tls` as given), client
    /// certificates from the test CA (`clientMode`), three routes: `/status` public, `/mtls`
    /// certificate-only, `/orders` RS256 tokens with `read:orders`.
    func config(tls: String? = nil, clientMode: String = "optional", headerTimeout: String = "10s", extra: String = "") -> String {
        let listenTLS = tls ?? """
                certificates:
                  - {certificate: \(pki.path("a.pem")), private_key: \(pki.path("a.key"))}
                  - {certificate: \(pki.path("wild.pem")), private_key: \(pki.path("wild.key"))}
                client_ca_file: \(pki.path("ca.pem"))
                client_certificate: \(clientMode)
            """
        return """
            listen:
              address: 127.0.0.1:0
              tls:
            \(listenTLS)
            \(extra)
            limits:
              header_timeout: \(headerTimeout)
            issuers:
              - name: test
                issuer: https://issuer.test.example/
                audiences: [orders-api]
                algorithms: [RS256]
                jwks_file: \(Fixtures.directory)/vectors/jwks.json
            upstreams:
              main: {url: "http://127.0.0.1:\(upstream.port)"}
            routes:
              - {name: status, match: {path: /status}, upstream: main, auth: public}
              - {name: mtls, match: {path_prefix: /mtls}, upstream: main, auth: {client_certificate: required}}
              - name: orders
                match: {path_prefix: /orders}
                upstream: main
                auth: {issuers: [test], scopes: [read:orders]}
            """
    }

    func start(_ config: String, files: [String: String] = [:]) throws {
        gateway = try GatewayProcess(config: config, files: files)
    }

    /// `curl -i` to `https://HOST:PORT/path` resolved to the gateway, trusting the test CA.
    /// - Parameter port: the listener (default: the proxy listener).
    /// - Returns: curl's exit status, the HTTP status (0 when there was no response) and the output.
    func curl(_ path: String, host: String = "a.example.com", port: UInt16? = nil, _ arguments: [String] = [])
        -> (exit: Int32, status: Int, output: String) {
        let port = port ?? gateway.port
        let args = ["curl", "-sS", "-i", "--max-time", "10", "--cacert", pki.path("ca.pem"),
                    "--resolve", "\(host):\(port):127.0.0.1"] + arguments + ["https://\(host):\(port)\(path)"]
        guard let p = try? Subprocess(args, in: pki.directory) else { return (-1, 0, "curl did not start") }
        let (exit, output) = p.finish(timeout: 20)
        return (exit, Self.status(output), output)
    }

    /// The status of the first `HTTP/1.x NNN` line.
    static func status(_ output: String) -> Int {
        for line in output.split(separator: "\n") where line.hasPrefix("HTTP/1.") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let n = Int(parts[1]) { return n }
        }
        return 0
    }

    /// `openssl s_client` against the gateway (`port`, default the proxy listener) with
    /// `arguments`; sends `request`.
    func sClient(_ arguments: [String], request: String = "GET /status HTTP/1.1\r\nHost: a.example.com\r\nConnection: close\r\n\r\n",
                 port: UInt16? = nil) throws -> (exit: Int32, output: String) {
        let p = try Subprocess(["openssl", "s_client", "-connect", "127.0.0.1:\(port ?? gateway.port)", "-ign_eof"] + arguments,
                               input: request, in: pki.directory)
        let (exit, output) = p.finish(timeout: 20)
        return (exit, output)
    }

    /// Runs a Python 3 script (its `sys.argv[1:]` = `arguments`); returns exit status and output.
    func python(_ script: String, _ arguments: [String], timeout: Double = 60) throws -> (exit: Int32, output: String) {
        let file = pki.directory.appendingPathComponent("script-\(UUID().uuidString).py")
        try script.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let p = try Subprocess(["python3", file.path] + arguments, in: pki.directory)
        let (exit, output) = p.finish(timeout: timeout)
        return (exit, output)
    }

    func adminGet(_ path: String, method: String = "GET") throws -> RawResponse {
        let c = try RawHTTPClient(port: gateway.adminPort)
        try c.send("\(method) \(path) HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n")
        return try c.readResponse()
    }

    /// The value of the `gateway_tls_handshakes_total` series with these labels (0 when absent).
    /// - Parameter listener: the `listener` label (nil: the proxy listener's series, without it).
    func handshakes(_ result: String, version: String = "none", resumed: Bool = false, listener: String? = nil) throws -> Int {
        let text = try adminGet("/metrics").bodyText
        let label = listener.map { ",listener=\"\($0)\"" } ?? ""
        let series = "gateway_tls_handshakes_total{result=\"\(result)\",version=\"\(version)\",resumed=\"\(resumed)\"\(label)} "
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(series) }) else { return 0 }
        return Int(Double(line.dropFirst(series.count)) ?? 0)
    }

    /// Access-log lines (JSON) written so far.
    var accessLines: [String] {
        gateway.stdout.split(separator: "\n").map(String.init).filter { $0.contains("\"message\":\"request\"") }
    }

    /// Waits (≤ 5 s) until `condition` holds.
    func eventually(_ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(5)
        repeat {
            if try condition() { return true }
            usleep(50_000)
        } while Date() < deadline
        return false
    }
}
