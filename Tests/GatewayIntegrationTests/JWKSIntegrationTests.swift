import Foundation
import GatewayHTTP
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// What the loopback JWK Set server answers; changed by the tests while the gateway runs.
final class JWKSDocument: @unchecked Sendable {
    private let lock = NSLock()
    private var response: CannedResponse
    /// Seconds to wait before answering fetches after the first (the startup fetch).
    private var laterDelay: Double = 0
    private var fetches = 0

    init(kids: [String]) throws { response = .ok(body: try JWKSDocument.set(kids)) }

    /// `vectors/jwks.json` holding only the keys named (in that order).
    static func set(_ kids: [String]) throws -> [UInt8] {
        let doc = try JSONSerialization.jsonObject(with: Data(Fixtures.bytes("vectors/jwks.json"))) as! [String: Any]
        let all = doc["keys"] as! [[String: Any]]
        let keys = kids.map { kid in all.first { $0["kid"] as? String == kid }! }
        return Array(try JSONSerialization.data(withJSONObject: ["keys": keys]))
    }

    func publish(_ kids: [String]) throws {
        let body = try JWKSDocument.set(kids)
        lock.withLock { response = .ok(body: body) }
    }

    func fail(status: Int) { lock.withLock { response = .fixed(status: status, fields: [], body: Array("down".utf8)) } }
    func delayLaterFetches(_ seconds: Double) { lock.withLock { laterDelay = seconds } }

    func answer() -> CannedResponse {
        lock.withLock {
            fetches += 1
            return fetches > 1 && laterDelay > 0 ? .delayed(seconds: laterDelay, then: response) : response
        }
    }
}

/// Issuers with `jwks_url` end to end: the real gateway against a loopback server that
/// serves both the JWK Set (`/jwks.json`) and the upstream API.
final class JWKSIntegrationTests: XCTestCase {
    var server: RecordingUpstream!
    var document: JWKSDocument!
    var gateway: GatewayProcess?

    static let jwksAlgorithms = "[RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA]"

    static func config(port: Int) -> String {
        """
        listen:
          address: 127.0.0.1:0
        issuers:
          - name: remote
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: \(jwksAlgorithms)
            jwks_url: http://127.0.0.1:\(port)/jwks.json
        upstreams:
          main:
            url: http://127.0.0.1:\(port)
            connect_timeout: 2s
            timeout: 5s
        routes:
          - name: orders
            match: {path_prefix: /orders}
            upstream: main
            auth: {issuers: [remote], scopes: [read:orders]}
        """
    }

    func start(kids: [String]) throws -> GatewayProcess {
        let doc = try JWKSDocument(kids: kids)
        document = doc
        server = try RecordingUpstream { req in
            req.target == "/jwks.json" ? doc.answer() : .ok("api\n")
        }
        let g = try GatewayProcess(config: Self.config(port: server.port))
        gateway = g
        return g
    }

    override func tearDown() {
        gateway?.stop()
        server?.stop()
    }

    var jwksFetches: Int { server.requests.filter { $0.target == "/jwks.json" }.count }
    var apiRequests: Int { server.requests.filter { $0.target != "/jwks.json" }.count }

    func get(_ token: String) throws -> RawResponse {
        let c = try RawHTTPClient(port: gateway!.port)
        try c.send("GET /orders/1 HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer \(token)\r\n\r\n")
        return try c.readResponse()
    }

    /// A token for the vectors' issuer signed with `keys/KID.pem`.
    func token(kid: String, alg: JWSAlgorithm = .RS256) throws -> String {
        let key = try SigningKey.privateKeyPEM(Fixtures.bytes("vectors/keys/\(kid).pem"))
        let now = Double(Int(Date().timeIntervalSince1970))
        return try key.sign(claims: .object([
            ("iss", .string(TestTokens.issuer)), ("aud", .string(TestTokens.audience)), ("sub", .string("rotated")),
            ("iat", .number(now)), ("exp", .number(now + 600)), ("scope", .string("read:orders")),
        ]), algorithm: alg, keyID: kid)
    }

    func testEveryVectorBehavesUnderJWKSURLAsUnderJWKSFile() throws {
        let g = try start(kids: ["rsa-1", "rsa-2", "ec-256", "ec-384", "ec-521", "ed-1"])
        XCTAssertEqual(jwksFetches, 1, "the first fetch happens before listening")
        let fileKeys = try KeySet.jwkSet(json: Fixtures.bytes("vectors/jwks.json"))
        var algorithms = Set<JWSAlgorithm>(JWSAlgorithm.allCases)
        algorithms.subtract([.HS256, .HS384, .HS512])
        let requirements = TokenRequirements(issuer: TestTokens.issuer, audiences: [TestTokens.audience],
                                             algorithms: algorithms)
        var checked = 0
        // HMAC vectors need a shared secret, never fetched from a URL (config refuses HS* there).
        for v in try Fixtures.tokenVectors().tokens where v.issuer == "jwks" {
            let r = try get(v.token)
            if v.expect == "valid" {
                XCTAssertEqual(r.status, 200, "\(v.name): \(r.bodyText)")
            } else {
                XCTAssertEqual(r.status, 401, "\(v.name): \(r.bodyText)")
                XCTAssertTrue(r.bodyText.contains("\"invalid_token\""), "\(v.name): \(r.bodyText)")
                // The same description as the same keys loaded from a file give.
                do {
                    _ = try TokenVerifier.verify(Substring(v.token), keys: fileKeys, requirements: requirements,
                                                 now: Date().timeIntervalSince1970)
                    XCTFail("\(v.name) verifies locally")
                } catch {
                    XCTAssertTrue(r.bodyText.contains(error.description), "\(v.name): \(r.bodyText) vs \(error.description)")
                }
            }
            checked += 1
        }
        XCTAssertGreaterThan(checked, 35)
        XCTAssertEqual(apiRequests, try Fixtures.tokenVectors().tokens.filter { $0.issuer == "jwks" && $0.expect == "valid" }.count)
        // `unknown-kid` caused exactly one refetch.
        XCTAssertEqual(jwksFetches, 2)
        XCTAssertEqual(server.requests.first?.values("Accept").first?.contains("json"), true)
        XCTAssertFalse((g.stderr + g.stdout).contains("eyJ"), "no token in the logs")
    }

    func testRotationWithoutRestart() throws {
        _ = try start(kids: ["rsa-1"])
        let old = try token(kid: "rsa-1")
        let new = try token(kid: "rsa-2")
        XCTAssertEqual(try get(old).status, 200)
        XCTAssertEqual(try get(old).status, 200)
        // The issuer rotates: rsa-2 published, rsa-1 withdrawn.
        try document.publish(["rsa-2"])
        XCTAssertEqual(try get(new).status, 200, "a token signed by the new key is accepted after the refetch")
        XCTAssertEqual(jwksFetches, 2)
        let refused = try get(old)
        XCTAssertEqual(refused.status, 401, "the removed key no longer verifies (even a token verified before)")
        XCTAssertTrue(refused.bodyText.contains("unknown signing key"), refused.bodyText)
        XCTAssertEqual(try get(new).status, 200)
        XCTAssertEqual(jwksFetches, 2)
        XCTAssertEqual(apiRequests, 4)
    }

    func testConcurrentUnknownKidsCauseExactlyOneRefetch() throws {
        _ = try start(kids: ["rsa-1"])
        try document.publish(["rsa-1", "rsa-2"])
        document.delayLaterFetches(1.0)
        let unknown = try token(kid: "rsa-2")
        // 20 requests in flight at once while the (slow) refetch runs.
        var clients: [RawHTTPClient] = []
        for _ in 0..<20 {
            let c = try RawHTTPClient(port: gateway!.port)
            try c.send("GET /orders/1 HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer \(unknown)\r\n\r\n")
            clients.append(c)
        }
        for c in clients { XCTAssertEqual(try c.readResponse().status, 200) }
        XCTAssertEqual(jwksFetches, 2, "one startup fetch and one shared refetch")
        // Another unknown kid within 30 s: no new fetch, refused.
        try document.publish(["rsa-1", "rsa-2", "ec-256"])
        let r = try get(try token(kid: "ec-256", alg: .ES256))
        XCTAssertEqual(r.status, 401)
        XCTAssertTrue(r.bodyText.contains("unknown signing key"), r.bodyText)
        XCTAssertEqual(jwksFetches, 2)
    }

    func testFailedRefetchKeepsTheLastGoodKeys() throws {
        let g = try start(kids: ["rsa-1"])
        document.fail(status: 503)
        let r = try get(try token(kid: "rsa-2"))
        XCTAssertEqual(r.status, 401)
        XCTAssertEqual(jwksFetches, 2)
        XCTAssertEqual(try get(try token(kid: "rsa-1")).status, 200, "the last good set still verifies")
        let deadline = Date().addingTimeInterval(5)
        while !g.stdout.contains("refetch failed") && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(g.stdout.contains("JWK Set refetch failed; keeping the last good keys"), g.stdout)
        XCTAssertTrue(g.stdout.contains("HTTP status 503"), g.stdout)
    }

    /// The one slow test (~31 s): the periodic refresh, its `max-age` clamped to the 30 s floor.
    func testPeriodicRefreshDropsARemovedKey() throws {
        let doc = try JWKSDocument(kids: ["rsa-1", "rsa-2"])
        document = doc
        let cacheControl = [HTTPField(name: "Cache-Control", value: "max-age=1")]
        server = try RecordingUpstream { req in
            guard req.target == "/jwks.json" else { return .ok("api\n") }
            if case .fixed(let status, _, let body) = doc.answer() {
                return .fixed(status: status, fields: cacheControl, body: body)
            }
            return .close
        }
        gateway = try GatewayProcess(config: Self.config(port: server.port))
        let old = try token(kid: "rsa-1")
        XCTAssertEqual(try get(old).status, 200)
        try doc.publish(["rsa-2"])
        let started = Date()
        while jwksFetches < 2 && Date().timeIntervalSince(started) < 45 { usleep(200_000) }
        XCTAssertEqual(jwksFetches, 2)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 25, "never more often than every 30 s")
        usleep(200_000)
        XCTAssertEqual(try get(old).status, 401)
        XCTAssertEqual(try get(try token(kid: "rsa-2")).status, 200)
    }

    func check(_ config: String) throws -> (status: Int32, err: String, path: String) {
        let dir = NSTemporaryDirectory() + "gw-jwks-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/gateway.yml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = ["check", "--config", path]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: e, as: UTF8.self), path)
    }

    func testFirstFetchMustSucceedAtStartup() throws {
        // Nothing listening.
        var r = try check(Self.config(port: RecordingUpstream.unusedPort()))
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("\(r.path):8:5: issuer remote: cannot fetch the JWK Set from jwks_url"), r.err)
        // Not 200, not a JWK Set, over 1 MiB.
        for (answer, message) in [
            (CannedResponse.fixed(status: 404, fields: [], body: []), "HTTP status 404"),
            (.ok("{\"keys\": []}"), "no usable signature verification key"),
            (.generated(status: 200, fields: [], length: 2 << 20, chunked: true), "over 1048576 bytes"),
        ] {
            let s = try RecordingUpstream { _ in answer }
            defer { s.stop() }
            r = try check(Self.config(port: s.port))
            XCTAssertEqual(r.status, 1, message)
            XCTAssertTrue(r.err.contains(":8:5: issuer remote: cannot fetch") && r.err.contains(message), r.err)
        }
        // And a good one passes.
        let doc = try JWKSDocument(kids: ["ec-256"])
        let s = try RecordingUpstream { _ in doc.answer() }
        defer { s.stop() }
        r = try check(Self.config(port: s.port))
        XCTAssertEqual(r.status, 0, r.err)
    }
}
