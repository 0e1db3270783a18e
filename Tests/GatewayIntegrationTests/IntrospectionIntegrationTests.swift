import Foundation
import GatewayHTTP
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// What the loopback introspection endpoint answers; changed by each test.
final class IntrospectionScript: @unchecked Sendable {
    private let lock = NSLock()
    private var response: CannedResponse = .ok(#"{"active":true}"#)

    func answer(_ r: CannedResponse) { lock.withLock { response = r } }
    var current: CannedResponse { lock.withLock { response } }
}

/// RFC 7662 introspection end to end: the real gateway, a recording API upstream, and a
/// recording introspection endpoint that checks the client's Basic credentials and form body.
final class IntrospectionIntegrationTests: XCTestCase {
    static let clientID = "gateway"
    /// Holds `:` and a space: both must be form-encoded before the Basic header is built.
    static let secret = "s3cr:t value"
    static let expectedAuthorization = "Basic " + Data("gateway:s3cr%3At+value".utf8).base64EncodedString()

    var api: RecordingUpstream!
    var idp: RecordingUpstream!
    var script: IntrospectionScript!
    var gateway: GatewayProcess?

    override func setUpWithError() throws {
        let script = IntrospectionScript()
        self.script = script
        api = try RecordingUpstream { _ in .ok("hello\n") }
        idp = try RecordingUpstream { r in
            // A wrong client authentication or body gets 401/400, which the gateway must turn into 503.
            guard r.method == "POST", r.target == "/introspect",
                  r.values("Authorization") == [IntrospectionIntegrationTests.expectedAuthorization] else {
                return .fixed(status: 401, fields: [], body: Array(#"{"error":"invalid_client"}"#.utf8))
            }
            let body = String(decoding: r.body, as: UTF8.self)
            guard body.hasPrefix("token="), body.hasSuffix("&token_type_hint=access_token"),
                  r.values("Content-Type") == ["application/x-www-form-urlencoded"] else {
                return .fixed(status: 400, fields: [], body: Array(#"{"error":"invalid_request"}"#.utf8))
            }
            return script.current
        }
    }

    override func tearDown() {
        gateway?.stop()
        api.stop()
        idp.stop()
    }

    func start(introspectionURL: String? = nil) throws -> GatewayProcess {
        let url = introspectionURL ?? idp.url("/introspect")
        let config = """
            listen: {address: 127.0.0.1:0}
            issuers:
              - name: test
                issuer: \(TestTokens.issuer)
                audiences: [orders-api]
                algorithms: [RS256]
                jwks_file: \(Fixtures.directory)/vectors/jwks.json
                introspection: {url: "\(url)", client_id: \(Self.clientID), client_secret_env: INTROSPECTION_SECRET, cache: 30s}
            upstreams:
              main: {url: "http://127.0.0.1:\(api.port)"}
            routes:
              - name: local
                match: {path_prefix: /local}
                upstream: main
                auth: {issuers: [test]}
              - name: payments
                match: {path_prefix: /payments}
                upstream: main
                auth: {issuers: [test], introspect: true, scopes: [pay]}
            """
        let g = try GatewayProcess(config: config, environment: ["INTROSPECTION_SECRET": Self.secret])
        gateway = g
        return g
    }

    func token(_ jti: String) throws -> String {
        try TestTokens.rs256(["jti": .string(jti), "scope": .string("pay")])
    }

    func send(_ g: GatewayProcess, _ token: String, path: String = "/payments/1") throws -> RawResponse {
        try Self.send(port: g.port, token, path: path)
    }

    static func send(port: UInt16, _ token: String, path: String = "/payments/1") throws -> RawResponse {
        let c = try RawHTTPClient(port: port)
        try c.send("GET \(path) HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer \(token)\r\n\r\n")
        return try c.readResponse()
    }

    func metrics(_ g: GatewayProcess) throws -> String {
        let c = try RawHTTPClient(port: g.adminPort)
        try c.send("GET /metrics HTTP/1.1\r\nHost: admin\r\n\r\n")
        return try c.readResponse().bodyText
    }

    func testActiveTokenIsForwardedWithBasicCredentialsAndFormBodyAndTheAnswerIsCached() throws {
        let g = try start()
        let token = try token("active-1")
        // Verified locally first (a verified-token cache entry), then on the introspect route:
        // the introspection still runs on the cache hit.
        XCTAssertEqual(try send(g, token, path: "/local/1").status, 200)
        XCTAssertEqual(idp.requests.count, 0, "a route without introspect makes no call")
        XCTAssertEqual(try send(g, token).status, 200)
        XCTAssertEqual(api.requests.count, 2)
        let call = try XCTUnwrap(idp.requests.first)
        XCTAssertEqual(call.method, "POST")
        XCTAssertEqual(call.values("Authorization"), [Self.expectedAuthorization])
        XCTAssertEqual(String(decoding: call.body, as: UTF8.self), "token=\(token)&token_type_hint=access_token")

        XCTAssertEqual(try send(g, token).status, 200)
        XCTAssertEqual(idp.requests.count, 1, "the second request used the cached answer")
        XCTAssertEqual(api.requests.count, 3)
        XCTAssertEqual(try send(g, try self.token("active-2")).status, 200)
        XCTAssertEqual(idp.requests.count, 2, "another token is asked about")

        let m = try metrics(g)
        XCTAssertTrue(m.contains(#"gateway_introspection_requests_total{issuer="test",result="active"} 2"#), m)
        XCTAssertFalse(g.stdout.contains(token), "the token is never logged")
        XCTAssertFalse(g.stdout.contains(Self.secret), "the client secret is never logged")
    }

    func testInactiveTokenIsRefusedAndNeverForwarded() throws {
        script.answer(.ok(#"{"active":false}"#))
        let g = try start()
        let token = try token("inactive-1")
        for _ in 0..<2 {
            let r = try send(g, token)
            XCTAssertEqual(r.status, 401)
            XCTAssertEqual(r.bodyText, #"{"error":"invalid_token","error_description":"token inactive"}"#)
            XCTAssertEqual(r.header("WWW-Authenticate"),
                           #"Bearer realm="gateway", error="invalid_token", error_description="token inactive""#)
        }
        XCTAssertEqual(api.requests.count, 0)
        XCTAssertEqual(idp.requests.count, 1, "an inactive answer is cached too")
        XCTAssertTrue(g.stdout.contains(#""reason":"inactive""#), g.stdout)
        let m = try metrics(g)
        XCTAssertTrue(m.contains(#"gateway_introspection_requests_total{issuer="test",result="inactive"} 1"#), m)
    }

    func testConcurrentRequestsWithOneTokenShareOneCall() throws {
        script.answer(.delayed(seconds: 1, then: .ok(#"{"active":true,"scope":"pay"}"#)))
        let g = try start()
        let token = try token("concurrent-1")
        let n = 8
        let statuses = StatusBox()
        let group = DispatchGroup()
        let port = g.port
        for _ in 0..<n {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                let status = (try? Self.send(port: port, token).status) ?? -1
                statuses.append(status)
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 15), .success)
        XCTAssertEqual(statuses.values, Array(repeating: 200, count: n))
        XCTAssertEqual(idp.requests.count, 1, "\(n) concurrent requests, one call")
        XCTAssertEqual(api.requests.count, n)
    }

    func testEndpointFailuresAre503WithRetryAfterAndNeverForwarded() throws {
        let g = try start()
        func expect503(_ jti: String, _ why: String) throws {
            let r = try send(g, try token(jti))
            XCTAssertEqual(r.status, 503, why)
            XCTAssertEqual(r.header("Retry-After"), "5", why)
            XCTAssertTrue(r.bodyText.hasPrefix(#"{"error":"temporarily_unavailable","#), r.bodyText)
        }
        script.answer(.fixed(status: 500, fields: [], body: Array("oops".utf8)))
        try expect503("e-500", "a 500")
        script.answer(.ok(#"{"active":"true"}"#))
        try expect503("e-string", "active not a boolean")
        script.answer(.ok(#"[{"active":true}]"#))
        try expect503("e-array", "not a JSON object")
        script.answer(.fixed(status: 302, fields: [HTTPField(name: "Location", value: "/introspect")], body: []))
        try expect503("e-302", "redirects are not followed")
        let before = idp.requests.count
        script.answer(.ok(#"{"active":true}"#))
        XCTAssertEqual(try send(g, try token("e-500")).status, 200, "a failure is not cached")
        XCTAssertEqual(idp.requests.count, before + 1)

        script.answer(.delayed(seconds: 8, then: .ok(#"{"active":true}"#)))
        let started = Date()
        try expect503("e-slow", "a slow endpoint")
        let took = Date().timeIntervalSince(started)
        XCTAssertGreaterThan(took, 4.5)
        XCTAssertLessThan(took, 7, "the call times out after 5 s")
        XCTAssertEqual(api.requests.count, 1, "only the request after the endpoint recovered was forwarded")
        XCTAssertTrue(g.stdout.contains("introspection failed"), g.stdout)
        let m = try metrics(g)
        XCTAssertTrue(m.contains(#"gateway_introspection_requests_total{issuer="test",result="error"} 5"#), m)
    }

    func testUnreachableEndpointIs503() throws {
        let g = try start(introspectionURL: "http://127.0.0.1:\(RecordingUpstream.unusedPort())/introspect")
        let r = try send(g, try token("down-1"))
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual(r.header("Retry-After"), "5")
        XCTAssertEqual(api.requests.count, 0)
    }

    /// Runs the gateway binary with `args`; its exit status and standard output plus error.
    func runGateway(_ args: [String], env: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testExplainShowsTheIntrospectionStepWithoutCalling() throws {
        let g = try start()
        let token = try token("explain-1")
        let path = g.directory + "/gateway.yml"
        let result = try runGateway(["explain", "--config", path, "--token", token, "GET", "http://api.test/payments/1"],
                                    env: ["INTROSPECTION_SECRET": Self.secret])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("[pass] introspection: would POST the token to \(idp.url("/introspect"))"),
                      result.output)
        XCTAssertTrue(result.output.contains("decision: forward"), result.output)
        XCTAssertFalse(result.output.contains(token))
        XCTAssertEqual(idp.requests.count, 0, "explain never sends the token")
    }

    func testMissingClientSecretIsAConfigError() throws {
        let dir = NSTemporaryDirectory() + "introspect-\(getpid())-\(Int.random(in: 0..<1_000_000))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/gateway.yml"
        try """
            listen: {address: 127.0.0.1:0}
            issuers:
              - name: test
                issuer: \(TestTokens.issuer)
                algorithms: [RS256]
                jwks_file: \(Fixtures.directory)/vectors/jwks.json
                introspection: {url: "http://127.0.0.1:9/i", client_id: gw, client_secret_env: GATEWAY_TEST_UNSET_SECRET}
            upstreams:
              main: {url: "http://127.0.0.1:9"}
            routes:
              - {name: p, match: {path: /}, upstream: main, auth: {issuers: [test], introspect: true}}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try runGateway(["check", "--config", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.output.contains("gateway.yml:7:5: issuer test: environment variable GATEWAY_TEST_UNSET_SECRET (introspection.client_secret_env) is not set"),
                      result.output)
    }
}

final class StatusBox: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [Int] = []
    func append(_ v: Int) { lock.withLock { list.append(v) } }
    var values: [Int] { lock.withLock { list } }
}
