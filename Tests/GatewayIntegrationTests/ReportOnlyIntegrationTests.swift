import Foundation
import GatewayHTTP
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// `auth.mode: report_only` end to end: the real gateway in front of a recording upstream.
final class ReportOnlyIntegrationTests: XCTestCase {
    func config(upstreamPort: Int) -> String {
        """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: test
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
        upstreams:
          main: {url: "http://127.0.0.1:\(upstreamPort)"}
        identity:
          claims: {email: X-Auth-Email}
        routes:
          - name: orders
            match: {path_prefix: /orders}
            upstream: main
            auth: {issuers: [test], scopes: [read:orders], mode: report_only}
        """
    }

    func adminGet(_ g: GatewayProcess, _ path: String) throws -> RawResponse {
        let c = try RawHTTPClient(port: g.adminPort)
        try c.send("GET \(path) HTTP/1.1\r\nHost: admin\r\n\r\n")
        return try c.readResponse()
    }

    func get(_ g: GatewayProcess, _ target: String, _ headers: [(String, String)]) throws -> RawResponse {
        let c = try RawHTTPClient(port: g.port)
        var text = "GET \(target) HTTP/1.1\r\nHost: api.test\r\n"
        for (n, v) in headers { text += "\(n): \(v)\r\n" }
        try c.send(text + "\r\n")
        return try c.readResponse()
    }

    /// Access-log lines (JSON) once `count` have been written (logging trails the response).
    func accessLog(_ g: GatewayProcess, count: Int) throws -> [JSONValue] {
        var lines: [String] = []
        for _ in 0..<150 {
            lines = g.stdout.split(separator: "\n").map(String.init).filter { $0.contains("\"message\":\"request\"") }
            if lines.count >= count { break }
            usleep(20_000)
        }
        return try lines.map { try JSONReader.parse(Array($0.utf8)) }
    }

    func testRefusedRequestIsForwardedWithoutIdentityOrTokenAndLoggedAsWouldDeny() throws {
        let up = try RecordingUpstream { _ in .ok("from upstream") }
        defer { up.stop() }
        let g = try GatewayProcess(config: config(upstreamPort: up.port))
        defer { g.stop() }
        let expired = Fixtures.token("expired")
        let noScope = try TestTokens.rs256(["scope": .string("profile"), "sub": .string("bob")])
        let good = try TestTokens.rs256(["scope": .string("read:orders"), "sub": .string("alice")])

        // 1. Expired: forwarded, without the token and without (spoofed or real) identity.
        let r1 = try get(g, "/orders/1", [("Authorization", "Bearer " + expired), ("X-Auth-Subject", "admin")])
        XCTAssertEqual(r1.status, 200)
        XCTAssertEqual(r1.bodyText, "from upstream")
        // 2. Scope missing: forwarded likewise.
        XCTAssertEqual(try get(g, "/orders/2", [("Authorization", "Bearer " + noScope)]).status, 200)
        // 3. Allowed: identity headers as usual.
        XCTAssertEqual(try get(g, "/orders/3", [("Authorization", "Bearer " + good)]).status, 200)
        // 4. A path error is refused, report-only or not, and never reaches the upstream.
        let r4 = try get(g, "/orders%2F4", [("Authorization", "Bearer " + expired)])
        XCTAssertEqual(r4.status, 400)
        // 5. So is a request with two Authorization fields (invalid_request).
        let r5 = try get(g, "/orders/5", [("Authorization", "Bearer " + good), ("Authorization", "Bearer " + good)])
        XCTAssertEqual(r5.status, 400)

        let got = up.requests
        XCTAssertEqual(got.map(\.target), ["/orders/1", "/orders/2", "/orders/3"])
        for req in got.prefix(2) {
            XCTAssertEqual(req.values("Authorization"), [], req.target)
            XCTAssertEqual(req.fields.filter { $0.name.lowercased().hasPrefix("x-auth-") }, [], req.target)
            XCTAssertEqual(req.values("X-Forwarded-For"), ["127.0.0.1"], req.target)
        }
        if got.count == 3 {
            XCTAssertEqual(got[2].values("X-Auth-Subject"), ["alice"])
            XCTAssertEqual(got[2].values("X-Auth-Scopes"), ["read:orders"])
            XCTAssertEqual(got[2].values("Authorization"), [])
        }

        let log = try accessLog(g, count: 5)
        XCTAssertEqual(log.count, 5, g.stdout)
        guard log.count == 5 else { return }
        XCTAssertEqual(log.map { $0[member: "decision"] }, [
            .string("would_deny"), .string("would_deny"), .string("allow"), .string("deny"), .string("deny"),
        ])
        XCTAssertEqual(log.map { $0[member: "reason"] }, [
            .string("expired"), .string("insufficient_scope"), .string("ok"), .string("bad_path"), .string("invalid_request"),
        ])
        XCTAssertEqual(log.map { $0[member: "status"] }, [.number(200), .number(200), .number(200), .number(400), .number(400)])
        XCTAssertEqual(log[0][member: "route"], .string("orders"))
        XCTAssertEqual(log[2][member: "subject"], .string("alice"))

        let metrics = try adminGet(g, "/metrics").bodyText
        XCTAssertTrue(metrics.contains("gateway_auth_decisions_total{route=\"orders\",decision=\"would_deny\",reason=\"expired\"} 1"), metrics)
        XCTAssertTrue(metrics.contains("gateway_auth_decisions_total{route=\"orders\",decision=\"would_deny\",reason=\"insufficient_scope\"} 1"), metrics)
        XCTAssertTrue(metrics.contains("gateway_auth_decisions_total{route=\"orders\",decision=\"allow\",reason=\"ok\"} 1"), metrics)
        XCTAssertTrue(metrics.contains("gateway_requests_total{route=\"orders\",status=\"200\"} 3"), metrics)
        let logs = g.stdout + g.stderr + metrics
        for t in [expired, noScope, good] {
            for part in t.split(separator: ".") where part.count >= 8 {
                XCTAssertFalse(logs.contains(part), "a token part appears in the logs or metrics")
            }
        }
        // The route is listed as report-only when the gateway starts.
        XCTAssertTrue((g.stdout + g.stderr).contains("route `orders` is report-only"), g.stdout + g.stderr)
    }

    func testCheckListsReportOnlyRoutesAsAWarning() throws {
        let dir = NSTemporaryDirectory() + "gw-report-only-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/gateway.yml"
        try config(upstreamPort: 9).write(toFile: path, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = ["check", "--config", path]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, e)
        XCTAssertTrue(e.contains("\(path):13:5: warning: route `orders` is report-only (`auth.mode: report_only`)"), e)
        XCTAssertTrue(o.contains("mode=report_only"), o)

        // explain names the would-deny reason; --exit-code gives 0 (the request is forwarded).
        let x = Process()
        x.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        x.arguments = ["explain", "--exit-code", "--config", path, "--token", Fixtures.token("expired"),
                       "GET", "http://api.test/orders/1"]
        let xo = Pipe()
        x.standardOutput = xo
        x.standardError = FileHandle.nullDevice
        try x.run()
        let text = String(decoding: xo.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        x.waitUntilExit()
        XCTAssertEqual(x.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("decision: forward to http://127.0.0.1:9/orders/1 (route orders)"), text)
        XCTAssertTrue(text.contains("report-only route: would refuse 401 expired under `mode: enforce`"), text)
    }
}
