import Foundation
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// The admin listener, reloads and logs of the real gateway process.
final class OperationsIntegrationTests: XCTestCase {
    func adminGet(_ g: GatewayProcess, _ path: String, method: String = "GET") throws -> RawResponse {
        let c = try RawHTTPClient(port: g.adminPort)
        try c.send("\(method) \(path) HTTP/1.1\r\nHost: admin\r\nContent-Length: 0\r\n\r\n")
        return try c.readResponse()
    }

    func config(upstreamPort: Int, scope: String) -> String {
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
        routes:
          - name: orders
            match: {path_prefix: /orders}
            upstream: main
            auth: {issuers: [test], scopes: [\(scope)]}
        """
    }

    func testAdminEndpoints() throws {
        let up = try RecordingUpstream { _ in .ok("ok") }
        defer { up.stop() }
        let g = try GatewayProcess(config: config(upstreamPort: up.port, scope: "read:orders"))
        defer { g.stop() }
        XCTAssertEqual(try adminGet(g, "/healthz").status, 200)
        let ready = try adminGet(g, "/readyz")
        XCTAssertEqual(ready.status, 200)
        XCTAssertTrue(ready.bodyText.contains("ready"))
        let metrics = try adminGet(g, "/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
        XCTAssertTrue(metrics.bodyText.contains("gateway_config_reloads_total{result=\"success\"} 1"), metrics.bodyText)
        XCTAssertTrue(metrics.bodyText.contains("gateway_config_last_reload_success_timestamp_seconds"))
        XCTAssertEqual(try adminGet(g, "/nothing").status, 404)
        XCTAssertEqual(try adminGet(g, "/reload").status, 405)
        // The admin endpoints are not on the public listener.
        let c = try RawHTTPClient(port: g.port)
        try c.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 404)
    }

    func testSIGHUPReloadChangesTheDecisionAndABrokenFileKeepsTheOldConfig() throws {
        let up = try RecordingUpstream { _ in .ok("ok") }
        defer { up.stop() }
        let g = try GatewayProcess(config: config(upstreamPort: up.port, scope: "read:orders"))
        defer { g.stop() }
        let token = try TestTokens.rs256(["scope": .string("read:orders")])
        // A keep-alive connection opened before the reload keeps working across it.
        let kept = try RawHTTPClient(port: g.port)
        func get(_ c: RawHTTPClient) throws -> Int {
            try c.send("GET /orders/1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(token)\r\n\r\n")
            return try c.readResponse().status
        }
        XCTAssertEqual(try get(kept), 200)

        try config(upstreamPort: up.port, scope: "admin:orders")
            .write(toFile: g.directory + "/gateway.yml", atomically: true, encoding: .utf8)
        g.signal(SIGHUP)
        var status = 0
        for _ in 0..<100 {
            status = try get(RawHTTPClient(port: g.port))
            if status == 403 { break }
            usleep(50_000)
        }
        XCTAssertEqual(status, 403, "the new scope requirement applies after SIGHUP")
        XCTAssertEqual(try get(kept), 403, "the connection opened before the reload still works, on the new config")

        try "routes: [ this is not valid".write(toFile: g.directory + "/gateway.yml", atomically: true, encoding: .utf8)
        g.signal(SIGHUP)
        var logged = false
        for _ in 0..<100 where !logged {
            logged = g.stdout.contains("config reload refused")
            if !logged { usleep(50_000) }
        }
        XCTAssertTrue(logged, "the refused reload is logged")
        XCTAssertEqual(try get(RawHTTPClient(port: g.port)), 403, "the running config stays")
        let metrics = try adminGet(g, "/metrics").bodyText
        XCTAssertTrue(metrics.contains("gateway_config_reloads_total{result=\"failure\"} 1"), metrics)
        XCTAssertTrue(metrics.contains("gateway_config_reloads_total{result=\"success\"} 2"), metrics)
    }

    func testPOSTReloadAnswersWithTheOutcome() throws {
        let up = try RecordingUpstream { _ in .ok("ok") }
        defer { up.stop() }
        let g = try GatewayProcess(config: config(upstreamPort: up.port, scope: "read:orders"))
        defer { g.stop() }
        let ok = try adminGet(g, "/reload", method: "POST")
        XCTAssertEqual(ok.status, 200)
        XCTAssertTrue(ok.bodyText.contains("reloaded"), ok.bodyText)
        try "listen: {address: 127.0.0.1:0}\nroutes: []\nbogus: 1\n"
            .write(toFile: g.directory + "/gateway.yml", atomically: true, encoding: .utf8)
        let refused = try adminGet(g, "/reload", method: "POST")
        XCTAssertEqual(refused.status, 400)
        let body = try JSONReader.parse(refused.body)
        guard case .array(let errors)? = body[member: "errors"] else { return XCTFail(refused.bodyText) }
        XCTAssertFalse(errors.isEmpty)
        XCTAssertTrue(refused.bodyText.contains("gateway.yml:3:1"), refused.bodyText)
    }

    func testAccessLogAndMetricsNeverHoldTheToken() throws {
        let up = try RecordingUpstream { _ in .ok("ok") }
        defer { up.stop() }
        let g = try GatewayProcess(config: config(upstreamPort: up.port, scope: "read:orders"))
        defer { g.stop() }
        let good = try TestTokens.rs256(["scope": .string("read:orders"), "sub": .string("alice")])
        let tokens = [good, good, Fixtures.token("expired"), Fixtures.token("payload-tampered"), Fixtures.token("alg-none")]
        var statuses: [Int] = []
        for t in tokens {
            let c = try RawHTTPClient(port: g.port)
            try c.send("GET /orders/1?access_token=\(t)&x=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(t)\r\n"
                       + "Cookie: session=secret-cookie-value\r\n\r\n")
            statuses.append(try c.readResponse().status)
        }
        // Where else a client may put one: a percent-encoded parameter name, a path parameter.
        for (target, status) in [("/nothing?access%5Ftoken=\(good)", 404), ("/orders/1;access_token=\(good)", 400)] {
            let c = try RawHTTPClient(port: g.port)
            try c.send("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n")
            statuses.append(try c.readResponse().status)
            XCTAssertEqual(statuses.last, status, target)
        }
        let metrics = try adminGet(g, "/metrics").bodyText
        // One access-log line per request; poll briefly since logging is asynchronous to the response.
        var lines: [String] = []
        for _ in 0..<100 {
            lines = g.stdout.split(separator: "\n").map(String.init).filter { $0.contains("\"message\":\"request\"") }
            if lines.count >= statuses.count { break }
            usleep(20_000)
        }
        XCTAssertEqual(statuses.prefix(5), [200, 200, 401, 401, 401])
        XCTAssertEqual(lines.count, statuses.count, g.stdout)
        let logs = g.stdout + g.stderr + metrics
        for t in tokens {
            for part in t.split(separator: ".") where part.count >= 8 {
                XCTAssertFalse(logs.contains(part), "a token part appears in the logs or metrics")
            }
        }
        XCTAssertFalse(logs.contains("secret-cookie-value"))
        guard let first = lines.first, let allowed = try? JSONReader.parse(Array(first.utf8)) else {
            return XCTFail("access log line is not JSON")
        }
        XCTAssertEqual(allowed[member: "status"], .number(200))
        XCTAssertEqual(allowed[member: "route"], .string("orders"))
        XCTAssertEqual(allowed[member: "decision"], .string("allow"))
        XCTAssertEqual(allowed[member: "subject"], .string("alice"))
        XCTAssertEqual(allowed[member: "method"], .string("GET"))
        XCTAssertEqual(allowed[member: "path"], .string("/orders/1?access_token=REDACTED&x=1"))
        for key in ["time", "request_id", "client", "upstream_ms", "total_ms", "bytes_in", "bytes_out", "level"] {
            XCTAssertNotNil(allowed[member: key], key)
        }
        let refused = try JSONReader.parse(Array(lines[2].utf8))
        XCTAssertEqual(refused[member: "decision"], .string("deny"))
        XCTAssertEqual(refused[member: "reason"], .string("expired"))
        XCTAssertEqual(refused[member: "status"], .number(401))

        XCTAssertTrue(metrics.contains("gateway_requests_total{route=\"orders\",status=\"200\"} 2"), metrics)
        XCTAssertTrue(metrics.contains("gateway_requests_total{route=\"orders\",status=\"401\"} 3"), metrics)
        XCTAssertTrue(metrics.contains("gateway_auth_decisions_total{route=\"orders\",decision=\"deny\",reason=\"expired\"} 1"), metrics)
        XCTAssertTrue(metrics.contains("gateway_request_duration_seconds_bucket{route=\"orders\",le=\"0.001\"}"), metrics)
        XCTAssertTrue(metrics.contains("gateway_upstream_duration_seconds_count{route=\"orders\"} 2"), metrics)
        XCTAssertTrue(metrics.contains("gateway_token_cache_hits_total 1"), metrics)
        XCTAssertTrue(metrics.contains("gateway_open_connections"), metrics)
    }
}
