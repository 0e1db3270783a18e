import Foundation
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// `discovery: true` end to end: the real gateway against a loopback OpenID Provider that
/// serves its configuration document, two JWK Sets and the upstream API.
final class DiscoveryIntegrationTests: XCTestCase {
    /// What the loopback provider answers; changed by the tests while the gateway runs.
    final class Provider: @unchecked Sendable {
        let lock = NSLock()
        var discovery: CannedResponse = .ok("{}")
        var discoveryReads = 0
        func set(_ r: CannedResponse) { lock.withLock { discovery = r } }
        func answer(_ target: String) throws -> CannedResponse {
            switch target {
            case "/.well-known/openid-configuration":
                return lock.withLock { discoveryReads += 1; return discovery }
            case "/keys-a.json": return .ok(body: try JWKSDocument.set(["rsa-1"]))
            case "/keys-b.json": return .ok(body: try JWKSDocument.set(["rsa-1", "rsa-2"]))
            default: return .ok("api\n")
            }
        }
        var reads: Int { lock.withLock { discoveryReads } }
    }

    var server: RecordingUpstream!
    let provider = Provider()
    var issuer: String { "http://127.0.0.1:\(server.port)/" }

    override func setUpWithError() throws {
        let p = provider
        server = try RecordingUpstream { req in (try? p.answer(req.target)) ?? .fixed(status: 500, fields: [], body: []) }
    }

    override func tearDown() { server?.stop() }

    func document(issuer: String? = nil, jwksURI: String?) -> CannedResponse {
        var members = ["\"issuer\": \"\(issuer ?? self.issuer)\"", "\"authorization_endpoint\": \"\(self.issuer)auth\""]
        if let jwksURI { members.append("\"jwks_uri\": \"\(jwksURI)\"") }
        return .ok("{" + members.joined(separator: ", ") + "}")
    }

    func config() -> String {
        """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: idp
            issuer: \(issuer)
            audiences: [orders-api]
            algorithms: [RS256]
            discovery: true
        upstreams:
          main: {url: "http://127.0.0.1:\(server.port)", connect_timeout: 2s, timeout: 5s}
        routes:
          - name: orders
            match: {path_prefix: /orders}
            upstream: main
            auth: {issuers: [idp], scopes: [read:orders]}
        """
    }

    func token(kid: String) throws -> String {
        let key = try SigningKey.privateKeyPEM(Fixtures.bytes("vectors/keys/\(kid).pem"))
        let now = Double(Int(Date().timeIntervalSince1970))
        return try key.sign(claims: .object([
            ("iss", .string(issuer)), ("aud", .string("orders-api")), ("sub", .string("d")),
            ("iat", .number(now)), ("exp", .number(now + 600)), ("scope", .string("read:orders")),
        ]), algorithm: .RS256, keyID: kid)
    }

    func get(_ g: GatewayProcess, _ token: String) throws -> RawResponse {
        let c = try RawHTTPClient(port: g.port)
        try c.send("GET /orders/1 HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer \(token)\r\n\r\n")
        return try c.readResponse()
    }

    func check() throws -> (status: Int32, err: String, path: String) {
        let dir = NSTemporaryDirectory() + "gw-discovery-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/gateway.yml"
        try config().write(toFile: path, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = ["check", "--config", path]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, e, path)
    }

    func testMatchingDocumentGivesTheKeysAndIsReReadOnRefetch() throws {
        provider.set(document(jwksURI: "http://127.0.0.1:\(server.port)/keys-a.json"))
        XCTAssertEqual(try check().status, 0)
        let g = try GatewayProcess(config: config())
        defer { g.stop() }
        XCTAssertEqual(try get(g, try token(kid: "rsa-1")).status, 200)
        // The provider rotates: its document now names another JWK Set holding rsa-2.
        provider.set(document(jwksURI: "http://127.0.0.1:\(server.port)/keys-b.json"))
        let readsBefore = provider.reads
        let rotated = try get(g, try token(kid: "rsa-2"))
        XCTAssertEqual(rotated.status, 200, "the unknown kid refetch re-read the document: \(rotated.bodyText)")
        XCTAssertEqual(provider.reads, readsBefore + 1)
        XCTAssertTrue(server.requests.contains { $0.target == "/keys-b.json" })
    }

    func testALaterMixedUpDocumentFailsTheRefetchAndKeepsTheLastGoodKeys() throws {
        provider.set(document(jwksURI: "http://127.0.0.1:\(server.port)/keys-a.json"))
        let g = try GatewayProcess(config: config())
        defer { g.stop() }
        XCTAssertEqual(try get(g, try token(kid: "rsa-1")).status, 200)
        provider.set(document(issuer: "https://evil.example/", jwksURI: "http://127.0.0.1:\(server.port)/keys-b.json"))
        let r = try get(g, try token(kid: "rsa-2"))
        XCTAssertEqual(r.status, 401, "the mixed-up document's keys are not used: \(r.bodyText)")
        XCTAssertFalse(server.requests.contains { $0.target == "/keys-b.json" })
        XCTAssertEqual(try get(g, try token(kid: "rsa-1")).status, 200, "the last good keys stay")
        XCTAssertTrue(g.stdout.contains("JWK Set refetch failed; keeping the last good keys"), g.stdout)
    }

    func testMixUpAndMissingJWKSURIAreConfigErrors() throws {
        // A document naming another issuer (even one differing only by the trailing slash).
        for other in ["https://evil.example/", String(issuer.dropLast())] {
            provider.set(document(issuer: other, jwksURI: "http://127.0.0.1:\(server.port)/keys-a.json"))
            let r = try check()
            XCTAssertEqual(r.status, 1, r.err)
            XCTAssertTrue(r.err.contains("\(r.path):7:5: issuer idp: cannot fetch the keys through discovery"), r.err)
            XCTAssertTrue(r.err.contains("names issuer `\(other)`, not the configured `\(issuer)`"), r.err)
            XCTAssertTrue(r.err.contains("RFC 8414"), r.err)
        }
        XCTAssertFalse(server.requests.contains { $0.target == "/keys-a.json" }, "a mixed-up document's keys are never fetched")
        provider.set(document(jwksURI: nil))
        var r = try check()
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("discovery document has no \"jwks_uri\""), r.err)
        // A jwks_uri in clear to a non-loopback host is refused like a jwks_url.
        provider.set(document(jwksURI: "http://keys.example/jwks.json"))
        r = try check()
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("must be https"), r.err)
        provider.set(.fixed(status: 404, fields: [], body: []))
        r = try check()
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("discovery document: HTTP status 404"), r.err)
    }

    func testServeStartsOnAMixedUpDocumentButNeverUsesItsKeys() throws {
        provider.set(document(issuer: "https://evil.example/", jwksURI: "http://127.0.0.1:\(server.port)/keys-a.json"))
        let g = try GatewayProcess(config: config())
        defer { g.stop() }
        let c = try RawHTTPClient(port: g.adminPort)
        try c.send("GET /readyz HTTP/1.1\r\nHost: admin\r\n\r\n")
        let ready = try c.readResponse()
        XCTAssertEqual(ready.status, 503)
        XCTAssertTrue(ready.bodyText.contains("\"idp\""), ready.bodyText)
        let r = try get(g, try token(kid: "rsa-1"))
        XCTAssertEqual(r.status, 503, r.bodyText)
        XCTAssertTrue(g.stdout.contains("mix-up protection"), g.stdout)
        XCTAssertFalse(server.requests.contains { $0.target == "/keys-a.json" })
    }
}
