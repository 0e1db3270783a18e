import Foundation
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// An identity provider that is down when the gateway starts: the gateway starts anyway,
/// answers that issuer's requests 503 (never 401) and is not ready until the keys arrive.
final class KeyAvailabilityIntegrationTests: XCTestCase {
    func adminGet(_ g: GatewayProcess, _ path: String) throws -> RawResponse {
        let c = try RawHTTPClient(port: g.adminPort)
        try c.send("GET \(path) HTTP/1.1\r\nHost: admin\r\n\r\n")
        return try c.readResponse()
    }

    func get(_ g: GatewayProcess, token: String) throws -> RawResponse {
        let c = try RawHTTPClient(port: g.port)
        try c.send("GET /orders/1 HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer \(token)\r\n\r\n")
        return try c.readResponse()
    }

    static func config(keysPort: Int, apiPort: Int) -> String {
        """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: remote
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256]
            jwks_url: http://127.0.0.1:\(keysPort)/jwks.json
          - name: local
            issuer: https://local.test.example/
            algorithms: [RS256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
        upstreams:
          main: {url: "http://127.0.0.1:\(apiPort)", connect_timeout: 2s, timeout: 5s}
        routes:
          - name: orders
            match: {path_prefix: /orders}
            upstream: main
            auth: {issuers: [remote, local], scopes: [read:orders]}
        """
    }

    static func token(issuer: String = TestTokens.issuer) throws -> String {
        let key = try SigningKey.privateKeyPEM(Fixtures.bytes("vectors/keys/rsa-1.pem"))
        let now = Double(Int(Date().timeIntervalSince1970))
        return try key.sign(claims: .object([
            ("iss", .string(issuer)), ("aud", .string(TestTokens.audience)), ("sub", .string("late")),
            ("iat", .number(now)), ("exp", .number(now + 600)), ("scope", .string("read:orders")),
        ]), algorithm: .RS256, keyID: "rsa-1")
    }

    func testKeyServerThatAppearsLaterMakesTheGatewayReady() throws {
        let api = try RecordingUpstream { _ in .ok("api\n") }
        defer { api.stop() }
        let keysPort = RecordingUpstream.unusedPort()
        let g = try GatewayProcess(config: Self.config(keysPort: keysPort, apiPort: api.port))
        defer { g.stop() }
        XCTAssertTrue(g.stdout.contains("cannot fetch the issuer's keys"), g.stdout)

        // Not ready, naming the issuer without keys.
        let notReady = try adminGet(g, "/readyz")
        XCTAssertEqual(notReady.status, 503)
        XCTAssertTrue(notReady.bodyText.contains("\"remote\""), notReady.bodyText)
        XCTAssertFalse(notReady.bodyText.contains("\"local\""), notReady.bodyText)

        // That issuer's requests: 503 temporarily_unavailable with Retry-After, never 401.
        let token = try Self.token()
        let refused = try get(g, token: token)
        XCTAssertEqual(refused.status, 503, refused.bodyText)
        XCTAssertEqual(refused.header("Retry-After"), "5")
        XCTAssertTrue(refused.bodyText.contains("\"error\":\"temporarily_unavailable\""), refused.bodyText)
        XCTAssertTrue(refused.bodyText.contains("error_description"), refused.bodyText)
        XCTAssertNil(refused.header("WWW-Authenticate"), "the token is not at fault")
        XCTAssertEqual(api.requests.count, 0, "a refused request never reaches the upstream")
        // Another issuer of the same route is unaffected.
        XCTAssertEqual(try get(g, token: try Self.token(issuer: "https://local.test.example/")).status, 200)
        XCTAssertEqual(api.requests.count, 1)

        // The key server comes up on the configured port.
        let doc = try JWKSDocument(kids: ["rsa-1", "ec-256"])
        let keys = try RecordingUpstream(port: keysPort) { _ in doc.answer() }
        defer { keys.stop() }
        var ready = notReady
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            ready = try adminGet(g, "/readyz")
            if ready.status == 200 { break }
            usleep(200_000)
        }
        XCTAssertEqual(ready.status, 200, ready.bodyText)
        let allowed = try get(g, token: token)
        XCTAssertEqual(allowed.status, 200, allowed.bodyText)
        XCTAssertEqual(api.requests.count, 2)
        XCTAssertTrue(g.stdout.contains("the issuer has keys now"), g.stdout)
        let metrics = try adminGet(g, "/metrics")
        XCTAssertTrue(metrics.bodyText.contains("gateway_jwks_age_seconds{issuer=\"remote\"}"), metrics.bodyText)
        XCTAssertFalse(g.stdout.contains(token), "the token is never logged")
    }

    /// Starting without keys is for startup only: a reload whose new key URL cannot be
    /// fetched is refused, and `gateway check` fails on it.
    func testReloadAndCheckStillRefuseAnUnfetchableKeyURL() throws {
        let api = try RecordingUpstream { _ in .ok("api\n") }
        defer { api.stop() }
        let doc = try JWKSDocument(kids: ["rsa-1"])
        let keys = try RecordingUpstream { _ in doc.answer() }
        defer { keys.stop() }
        let g = try GatewayProcess(config: Self.config(keysPort: keys.port, apiPort: api.port))
        defer { g.stop() }
        XCTAssertEqual(try adminGet(g, "/readyz").status, 200)
        let deadPort = RecordingUpstream.unusedPort()
        let path = g.directory + "/gateway.yml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "127.0.0.1:\(keys.port)/jwks.json", with: "127.0.0.1:\(deadPort)/jwks.json")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let c = try RawHTTPClient(port: g.adminPort)
        try c.send("POST /reload HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n")
        let reload = try c.readResponse()
        XCTAssertEqual(reload.status, 400, reload.bodyText)
        XCTAssertTrue(reload.bodyText.contains("cannot fetch the JWK Set"), reload.bodyText)
        // The running config (and its keys) stay.
        XCTAssertEqual(try adminGet(g, "/readyz").status, 200)
        XCTAssertEqual(try get(g, token: try Self.token()).status, 200)

        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = ["check", "--config", path]
        p.standardOutput = Pipe()
        let err = Pipe()
        p.standardError = err
        try p.run()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 1, e)
        XCTAssertTrue(e.contains("issuer remote: cannot fetch the JWK Set"), e)
    }

    /// The first fetches of several issuers run together: the key server answers the first
    /// request only once the second one has arrived (a fetcher going one issuer at a time
    /// would get 503 after 5 s and `check` would fail).
    func testFirstFetchesOfSeveralIssuersRunTogether() throws {
        final class Seen: @unchecked Sendable {
            let lock = NSCondition()
            var targets: Set<String> = []
            func saw(_ t: String) { lock.lock(); targets.insert(t); lock.broadcast(); lock.unlock() }
            func waitFor(_ t: String, seconds: Double) -> Bool {
                lock.lock(); defer { lock.unlock() }
                let deadline = Date().addingTimeInterval(seconds)
                while !targets.contains(t) { if !lock.wait(until: deadline) { return targets.contains(t) } }
                return true
            }
        }
        let seen = Seen()
        let body = try JWKSDocument.set(["rsa-1"])
        let keys = try RecordingUpstream { req in
            seen.saw(req.target)
            let other = req.target == "/a.json" ? "/b.json" : "/a.json"
            return seen.waitFor(other, seconds: 5) ? .ok(body: body) : .fixed(status: 503, fields: [], body: [])
        }
        defer { keys.stop() }
        let (config, cleanup) = try writeConfig("""
            listen: {address: 127.0.0.1:0}
            issuers:
              - {name: a, issuer: "https://a.example/", algorithms: [RS256], jwks_url: "http://127.0.0.1:\(keys.port)/a.json"}
              - {name: b, issuer: "https://b.example/", algorithms: [RS256], jwks_url: "http://127.0.0.1:\(keys.port)/b.json"}
            upstreams:
              main: {url: "http://127.0.0.1:9"}
            routes:
              - {name: r, match: {path_prefix: /}, upstream: main, auth: {issuers: [a, b]}}
            """)
        defer { cleanup() }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = ["check", "--config", config]
        p.standardOutput = Pipe()
        let err = Pipe()
        p.standardError = err
        try p.run()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, e)
        XCTAssertEqual(Set(keys.requests.map(\.target)), ["/a.json", "/b.json"])
    }

    func writeConfig(_ text: String) throws -> (String, () -> Void) {
        let dir = NSTemporaryDirectory() + "gw-keys-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try text.write(toFile: dir + "/gateway.yml", atomically: true, encoding: .utf8)
        return (dir + "/gateway.yml", { try? FileManager.default.removeItem(atPath: dir) })
    }
}
