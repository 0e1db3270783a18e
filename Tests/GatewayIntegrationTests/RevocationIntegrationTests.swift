import Foundation
import GatewayHTTP
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// What the loopback revocation server answers at `/revoked.json`; changed while the gateway runs.
final class RevocationFeed: @unchecked Sendable {
    private let lock = NSLock()
    private var body: [UInt8] = Array("{}".utf8)
    private var etag = "\"v0\""
    private var version = 0
    private var failing = false
    private(set) var conditional: [String] = []
    private(set) var notModified = 0

    func publish(_ text: String) {
        lock.withLock {
            version += 1
            body = Array(text.utf8)
            etag = "\"v\(version)\""
            failing = false
        }
    }

    func fail() { lock.withLock { failing = true } }

    var counts: (conditional: Int, notModified: Int) { lock.withLock { (conditional.count, notModified) } }

    func answer(_ r: RecordedRequest) -> CannedResponse {
        lock.withLock {
            if failing { return .fixed(status: 503, fields: [], body: Array("down".utf8)) }
            if let tag = r.values("If-None-Match").first {
                conditional.append(tag)
                if tag == etag {
                    notModified += 1
                    return .fixed(status: 304, fields: [HTTPField(name: "ETag", value: etag)], body: [])
                }
            }
            return .fixed(status: 200, fields: [HTTPField(name: "ETag", value: etag),
                                                HTTPField(name: "Content-Type", value: "application/json")], body: body)
        }
    }
}

/// `revocation:` end to end: the real gateway, a loopback server for both the API and the
/// revocation document, and a revocation file it watches.
final class RevocationIntegrationTests: XCTestCase {
    let iss = TestTokens.issuer
    var server: RecordingUpstream!
    var feed: RevocationFeed!
    var gateway: GatewayProcess?

    override func setUpWithError() throws {
        let feed = RevocationFeed()
        self.feed = feed
        server = try RecordingUpstream { r in
            r.target.hasPrefix("/revoked.json") ? feed.answer(r) : .ok("hello\n")
        }
    }

    override func tearDown() {
        gateway?.stop()
        server.stop()
    }

    func config(_ revocation: String) -> String {
        """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: test
            issuer: \(iss)
            audiences: [orders-api]
            algorithms: [RS256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
        upstreams:
          main: {url: "http://127.0.0.1:\(server.port)"}
        routes:
          - name: orders
            match: {path_prefix: /orders}
            upstream: main
            auth: {issuers: [test], scopes: [read:orders]}
        revocation:
        \(revocation)
        """
    }

    func start(_ revocation: String, files: [String: String] = [:]) throws -> GatewayProcess {
        let g = try GatewayProcess(config: config(revocation), files: files)
        gateway = g
        return g
    }

    func token(jti: String) throws -> String {
        try TestTokens.rs256(["jti": .string(jti), "scope": .string("read:orders")])
    }

    func status(_ g: GatewayProcess, _ token: String) throws -> RawResponse {
        let c = try RawHTTPClient(port: g.port)
        try c.send("GET /orders/1 HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer \(token)\r\n\r\n")
        return try c.readResponse()
    }

    func admin(_ g: GatewayProcess, _ path: String) throws -> RawResponse {
        let c = try RawHTTPClient(port: g.adminPort)
        try c.send("GET \(path) HTTP/1.1\r\nHost: admin\r\n\r\n")
        return try c.readResponse()
    }

    /// Polls (every 100 ms, at most `seconds`) until the token gets `expected`; returns the seconds it took.
    func waitForStatus(_ g: GatewayProcess, _ token: String, _ expected: Int, seconds: Double) throws -> Double? {
        let start = Date()
        for _ in 0..<Int(seconds * 10) {
            if try status(g, token).status == expected { return Date().timeIntervalSince(start) }
            usleep(100_000)
        }
        return nil
    }

    func write(_ text: String, to path: String) throws {
        // Written in place (not renamed): the watcher must see a change of size or modification time.
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    func testCachedTokenIsRefusedWithinTwoSecondsOfAFileChangeAndAMalformedUpdateKeepsTheList() throws {
        let g = try start("  file: revoked.json", files: ["revoked.json": "{}"])
        let path = g.directory + "/revoked.json"
        let token = try token(jti: "stolen-1")
        XCTAssertEqual(try status(g, token).status, 200)
        XCTAssertEqual(try status(g, token).status, 200)  // now a verified-token cache hit
        XCTAssertEqual(server.requests.count, 2)

        try write(#"{"tokens": [{"iss": "\#(iss)", "jti": "stolen-1", "exp": 4102444800}]}"#, to: path)
        let took = try XCTUnwrap(try waitForStatus(g, token, 401, seconds: 5), "the file change was not applied")
        XCTAssertLessThan(took, 2.5, "checked every second")
        let forwarded = server.requests.count
        let refused = try status(g, token)
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(refused.bodyText, #"{"error":"invalid_token","error_description":"token revoked"}"#)
        XCTAssertEqual(refused.header("WWW-Authenticate"),
                       #"Bearer realm="gateway", error="invalid_token", error_description="token revoked""#)
        XCTAssertEqual(try status(g, try self.token(jti: "other")).status, 200)
        XCTAssertEqual(server.requests.count, forwarded + 1, "a revoked token never reaches the upstream")

        try write(#"{"tokens": [{"iss": "\#(iss)"}]}"#, to: path)  // shape error: refused whole
        usleep(2_500_000)
        XCTAssertEqual(try status(g, token).status, 401, "the last good list stays")
        XCTAssertTrue(g.stdout.contains("revocation file refused; keeping the last good list"), g.stdout)
        let metrics = try admin(g, "/metrics").bodyText
        XCTAssertTrue(metrics.contains(#"gateway_revocation_refresh_total{source="file",result="failure"} 1"#), metrics)
        XCTAssertTrue(metrics.contains("gateway_revocation_entries 1"), metrics)
        XCTAssertTrue(g.stdout.contains(#""reason":"revoked""#))
        XCTAssertTrue(metrics.contains(#"reason="revoked""#), metrics)

        try write("{}", to: path)
        XCTAssertNotNil(try waitForStatus(g, token, 200, seconds: 5), "lifting the entry lets the token in again")
    }

    func testURLChangeIsAppliedAnd304KeepsTheList() throws {
        let g = try start("  url: http://127.0.0.1:\(server.port)/revoked.json\n  refresh: 1s")
        let token = try token(jti: "stolen-2")
        XCTAssertEqual(try status(g, token).status, 200)
        usleep(1_500_000)
        XCTAssertGreaterThan(feed.counts.notModified, 0, "an unchanged list answers 304 to If-None-Match")

        feed.publish(#"{"tokens": [{"iss": "\#(iss)", "jti": "stolen-2"}], "generated_by": "idp"}"#)
        let took = try XCTUnwrap(try waitForStatus(g, token, 401, seconds: 5), "the URL change was not applied")
        XCTAssertLessThan(took, 3, "polled every second")
        let before = feed.counts.notModified
        usleep(2_500_000)
        XCTAssertGreaterThan(feed.counts.notModified, before, "polls go on with the new ETag")
        XCTAssertEqual(try status(g, token).status, 401, "304 keeps the list")
        XCTAssertTrue(feed.conditional.contains("\"v1\""))

        feed.publish("[1, 2]")  // malformed: the last good list stays
        usleep(2_500_000)
        XCTAssertEqual(try status(g, token).status, 401)
        let metrics = try admin(g, "/metrics").bodyText
        XCTAssertTrue(metrics.contains(#"gateway_revocation_refresh_total{source="url",result="not_modified"}"#), metrics)
        XCTAssertTrue(metrics.contains(#"gateway_revocation_refresh_total{source="url",result="failure"}"#), metrics)
        XCTAssertEqual(try admin(g, "/readyz").status, 200)
    }

    func testReadyzFailsWhenTheURLHasNotLoadedForMaxStale() throws {
        let g = try start("  url: http://127.0.0.1:\(server.port)/revoked.json\n  refresh: 1s\n  max_stale: 2s")
        XCTAssertEqual(try admin(g, "/readyz").status, 200)
        feed.fail()
        var ready = try admin(g, "/readyz")
        for _ in 0..<60 where ready.status == 200 {
            usleep(100_000)
            ready = try admin(g, "/readyz")
        }
        XCTAssertEqual(ready.status, 503)
        XCTAssertTrue(ready.bodyText.contains("revocation list not loaded from its url"), ready.bodyText)
        feed.publish("{}")
        for _ in 0..<60 where ready.status != 200 {
            usleep(100_000)
            ready = try admin(g, "/readyz")
        }
        XCTAssertEqual(ready.status, 200, "ready again once the url loads")
    }

    func testStartupIsRefusedWhenTheURLCannotLoadOrTheDocumentIsInvalid() throws {
        let closed = RecordingUpstream.unusedPort()
        XCTAssertThrowsError(try start("  url: http://127.0.0.1:\(closed)/revoked.json")) { error in
            XCTAssertTrue("\(error)".contains("gateway.yml:15:1: revocation url: cannot load http://127.0.0.1:\(closed)/revoked.json"),
                          "\(error)")
        }
        feed.publish(#"{"tokens": "all"}"#)
        XCTAssertThrowsError(try start("  url: http://127.0.0.1:\(server.port)/revoked.json")) { error in
            XCTAssertTrue("\(error)".contains("revocation url: revocation document: `tokens` must be an array"), "\(error)")
        }
        XCTAssertThrowsError(try start("  file: revoked.json", files: ["revoked.json": "{"])) { error in
            XCTAssertTrue("\(error)".contains("revocation document is not valid JSON"), "\(error)")
        }
    }

    func testStartsWithAURLListAndRefusesItsTokens() throws {
        feed.publish(#"{"subjects": [{"iss": "\#(iss)", "sub": "user-42", "issued_before": 4102444800}]}"#)
        let g = try start("  url: http://127.0.0.1:\(server.port)/revoked.json")
        let refused = try status(g, try token(jti: "any"))
        XCTAssertEqual(refused.status, 401)
        XCTAssertTrue(refused.bodyText.contains("token revoked"))
        XCTAssertTrue(try admin(g, "/metrics").bodyText.contains("gateway_revocation_entries 1"))
    }

    func post(_ g: GatewayProcess, _ path: String) throws -> RawResponse {
        let c = try RawHTTPClient(port: g.adminPort)
        try c.send("POST \(path) HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n")
        return try c.readResponse()
    }

    func testReloadRereadsTheFileAndRefusesAnInvalidOne() throws {
        let g = try start("  file: revoked.json", files: ["revoked.json": "{}"])
        let path = g.directory + "/revoked.json"
        let token = try token(jti: "stolen-3")
        XCTAssertEqual(try status(g, token).status, 200)
        try write(#"{"tokens": [{"iss": "\#(iss)", "jti": "stolen-3"}]}"#, to: path)
        XCTAssertEqual(try post(g, "/reload").status, 200)
        XCTAssertEqual(try status(g, token).status, 401, "the reload read the file")

        try write(#"{"subjects": [{"iss": "\#(iss)", "sub": "x"}]}"#, to: path)
        let refused = try post(g, "/reload")
        XCTAssertEqual(refused.status, 400)
        XCTAssertTrue(refused.bodyText.contains("`subjects[0].issued_before` is required"), refused.bodyText)
        XCTAssertEqual(try status(g, token).status, 401, "the running list stays")
    }

    func run(_ args: [String]) throws -> (status: Int32, out: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self))
    }

    func testCheckValidatesTheDocumentAndExplainShowsTheRevocationStep() throws {
        let dir = NSTemporaryDirectory() + "revocation-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try config("  file: revoked.json").write(toFile: dir + "/gateway.yml", atomically: true, encoding: .utf8)
        try #"{"tokens": [{"iss": "\#(iss)", "jti": 42}]}"#.write(toFile: dir + "/revoked.json", atomically: true, encoding: .utf8)
        let bad = try run(["check", "--config", dir + "/gateway.yml"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.out.contains("gateway.yml:15:1: revocation file \(dir)/revoked.json: revocation document: `tokens[0].jti` must be a non-empty string"), bad.out)

        try #"{"tokens": [{"iss": "\#(iss)", "jti": "stolen-4"}]}"#.write(toFile: dir + "/revoked.json", atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(["check", "--config", dir + "/gateway.yml"]).status, 0)
        let revoked = try run(["explain", "--config", dir + "/gateway.yml", "--token", try token(jti: "stolen-4"),
                               "GET", "http://api.test/orders/1"])
        XCTAssertTrue(revoked.out.contains("401"), revoked.out)
        XCTAssertTrue(revoked.out.contains("[FAIL] revocation: token revoked"), revoked.out)
        let fine = try run(["explain", "--config", dir + "/gateway.yml", "--token", try token(jti: "fine"),
                            "GET", "http://api.test/orders/1"])
        XCTAssertTrue(fine.out.contains("[pass] revocation: not listed (1 entries)"), fine.out)
    }
}
