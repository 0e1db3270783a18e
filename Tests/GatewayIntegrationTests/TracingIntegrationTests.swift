import Foundation
import GatewayHTTP
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// W3C Trace Context propagation and OTLP/HTTP span export by the real gateway process.
final class TracingIntegrationTests: XCTestCase {
    static let clientTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let clientSpan = "00f067aa0ba902b7"
    static let clientParent = "00-\(clientTrace)-\(clientSpan)-01"

    func config(upstreamPort: Int, tracing: String = "") -> String {
        """
        listen: {address: 127.0.0.1:0}
        admin: {address: 127.0.0.1:0}
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
            auth: {issuers: [test]}
          - name: open
            match: {path_prefix: /open}
            upstream: main
            auth: public
        \(tracing)
        """
    }

    func get(_ g: GatewayProcess, _ target: String, _ headers: [(String, String)] = []) throws -> RawResponse {
        let c = try RawHTTPClient(port: g.port)
        let extra = headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        try c.send("GET \(target) HTTP/1.1\r\nHost: a\r\n\(extra)Connection: close\r\n\r\n")
        return try c.readResponse()
    }

    /// Trace id and parent id of a valid `traceparent` (version 00, lowercase hex, 55 characters).
    func parts(_ traceparent: String?) -> (trace: String, span: String, flags: String)? {
        guard let t = traceparent else { return nil }
        let p = t.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        let hex = { (s: String) in s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) } }
        guard t.utf8.count == 55, p.count == 4, p[0] == "00", p[1].count == 32, p[2].count == 16, p[3].count == 2,
              hex(p[1]), hex(p[2]), hex(p[3]), p[1] != String(repeating: "0", count: 32), p[2] != String(repeating: "0", count: 16)
        else { return nil }
        return (p[1], p[2], p[3])
    }

    func testTraceparentIsContinuedCreatedOrReplacedAtTheUpstream() throws {
        let up = try RecordingUpstream { _ in .ok("ok") }
        defer { up.stop() }
        let g = try GatewayProcess(config: config(upstreamPort: up.port))
        defer { g.stop() }

        // Continued: same trace id, a new parent id, tracestate kept; one field each.
        XCTAssertEqual(try get(g, "/open/1", [("traceparent", Self.clientParent), ("tracestate", "congo=t61rcWkgMzE,rojo=1")]).status, 200)
        // Created: no traceparent.
        XCTAssertEqual(try get(g, "/open/2", [("tracestate", "congo=t61rcWkgMzE")]).status, 200)
        // Replaced: every invalid form starts a new trace, and its tracestate is dropped.
        let invalid = [
            "ff-\(Self.clientTrace)-\(Self.clientSpan)-01",
            "00-00000000000000000000000000000000-\(Self.clientSpan)-01",
            "00-\(Self.clientTrace)-0000000000000000-01",
            "00-\(Self.clientTrace)-\(Self.clientSpan)-1",
            "00-\(Self.clientTrace)-\(Self.clientSpan)-01-00",
            "00-\(Self.clientTrace.uppercased())-\(Self.clientSpan)-01",
        ]
        for (i, value) in invalid.enumerated() {
            XCTAssertEqual(try get(g, "/open/bad\(i)", [("traceparent", value), ("tracestate", "congo=t61rcWkgMzE")]).status, 200)
        }
        let requests = up.requests
        XCTAssertEqual(requests.count, 2 + invalid.count)
        guard requests.count == 2 + invalid.count else { return }
        for r in requests {
            XCTAssertEqual(r.values("traceparent").count, 1, r.target)
            XCTAssertNotNil(parts(r.values("traceparent").first), "\(r.target): \(r.values("traceparent"))")
        }
        let continued = try XCTUnwrap(parts(requests[0].values("traceparent").first))
        XCTAssertEqual(continued.trace, Self.clientTrace)
        XCTAssertNotEqual(continued.span, Self.clientSpan, "the gateway's own span id")
        XCTAssertEqual(continued.flags, "01")
        XCTAssertEqual(requests[0].values("tracestate"), ["congo=t61rcWkgMzE,rojo=1"])
        var seen: Set<String> = []
        for r in requests.dropFirst() {
            let p = try XCTUnwrap(parts(r.values("traceparent").first))
            XCTAssertNotEqual(p.trace, Self.clientTrace, r.target)
            XCTAssertTrue(seen.insert(p.trace).inserted, "each new trace has its own id")
            XCTAssertEqual(r.values("tracestate"), [], "\(r.target): a new trace carries no tracestate")
        }
        // The access log names each trace.
        let deadline = Date().addingTimeInterval(5)
        while !g.stdout.contains("/open/bad5"), Date() < deadline { usleep(20_000) }
        let lines = g.stdout.split(separator: "\n").filter { $0.contains(#""message":"request""#) }
        XCTAssertEqual(lines.count, requests.count)
        for (line, r) in zip(lines, requests) {
            let p = try XCTUnwrap(parts(r.values("traceparent").first))
            XCTAssertTrue(line.contains(#""trace_id":"\#(p.trace)""#), "\(line)")
        }
    }

    /// The client's trace fields in any case, and repeated, on a public route and on a protected
    /// one (the second request of a token is a verified-token cache hit): the upstream gets the
    /// gateway's one `traceparent`, never the client's as sent.
    func testClientTraceFieldsInAnyCaseOrRepeatedAreReplaced() throws {
        let up = try RecordingUpstream { _ in .ok("ok") }
        defer { up.stop() }
        let g = try GatewayProcess(config: config(upstreamPort: up.port))
        defer { g.stop() }
        let token = try TestTokens.rs256()
        for path in ["/open/a", "/orders/a", "/orders/b"] {
            let auth = path.hasPrefix("/orders") ? [("Authorization", "Bearer \(token)")] : []
            XCTAssertEqual(try get(g, path + "?one", auth + [("TRACEPARENT", Self.clientParent), ("TraceState", "k=1")]).status, 200)
            XCTAssertEqual(try get(g, path + "?two", auth + [("traceparent", Self.clientParent), ("TraceParent", Self.clientParent),
                                                          ("tracestate", "k=2")]).status, 200)
        }
        let requests = up.requests
        XCTAssertEqual(requests.count, 6)
        for r in requests {
            let parents = r.fields.filter { $0.name.lowercased() == "traceparent" }
            XCTAssertEqual(parents.map(\.name), ["traceparent"], r.target)
            let p = try XCTUnwrap(parts(parents.first?.value), r.target)
            XCTAssertNotEqual(p.span, Self.clientSpan, r.target)
            let states = r.fields.filter { $0.name.lowercased() == "tracestate" }
            if r.target.hasSuffix("?one") {
                XCTAssertEqual(p.trace, Self.clientTrace, r.target)
                XCTAssertEqual(states.map(\.name), ["tracestate"], r.target)
                XCTAssertEqual(states.map(\.value), ["k=1"], r.target)
            } else {
                XCTAssertNotEqual(p.trace, Self.clientTrace, "\(r.target): two traceparent fields start a new trace")
                XCTAssertEqual(states.count, 0, r.target)
            }
        }
    }

    /// Spans as a collector decodes them: `ExportTraceServiceRequest` in OTLP/JSON.
    struct Span {
        var traceID: String, spanID: String, parentSpanID: String?, kind: Int, name: String
        var attributes: [String: String]
        var statusCode: Int
    }

    func spans(_ bodies: [[UInt8]]) throws -> (spans: [Span], services: [String]) {
        var out: [Span] = []
        var services: [String] = []
        func value(_ v: Any?) -> String? {
            guard let v = v as? [String: Any] else { return nil }
            return (v["stringValue"] as? String) ?? (v["intValue"] as? String) ?? (v["intValue"] as? Int).map(String.init)
        }
        func attributes(_ list: Any?) -> [String: String] {
            var d: [String: String] = [:]
            for a in (list as? [[String: Any]]) ?? [] { if let k = a["key"] as? String { d[k] = value(a["value"]) } }
            return d
        }
        for body in bodies {
            let root = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
            for rs in (root["resourceSpans"] as? [[String: Any]]) ?? [] {
                let resource = rs["resource"] as? [String: Any]
                services.append(attributes(resource?["attributes"])["service.name"] ?? "")
                for ss in (rs["scopeSpans"] as? [[String: Any]]) ?? [] {
                    for s in (ss["spans"] as? [[String: Any]]) ?? [] {
                        let status = s["status"] as? [String: Any]
                        out.append(Span(traceID: s["traceId"] as? String ?? "", spanID: s["spanId"] as? String ?? "",
                                        parentSpanID: s["parentSpanId"] as? String, kind: s["kind"] as? Int ?? 0,
                                        name: s["name"] as? String ?? "", attributes: attributes(s["attributes"]),
                                        statusCode: status?["code"] as? Int ?? 0))
                    }
                }
            }
        }
        return (out, services)
    }

    func testServerAndClientSpansReachTheCollectorWithoutTheToken() throws {
        let collector = try RecordingUpstream { _ in .ok("{}", fields: [HTTPField(name: "Content-Type", value: "application/json")]) }
        defer { collector.stop() }
        let up = try RecordingUpstream { _ in .ok("ok") }
        defer { up.stop() }
        let g = try GatewayProcess(config: config(upstreamPort: up.port, tracing: """
            tracing: {otlp_endpoint: "http://127.0.0.1:\(collector.port)", service_name: edge-gw, sample_ratio: 1.0}
            """))
        defer { g.stop() }
        let token = try TestTokens.rs256(["email": .string("secret-mail@example.com")])
        XCTAssertEqual(try get(g, "/orders/7?access_token=hidden", [("Authorization", "Bearer \(token)"),
                                                                    ("traceparent", Self.clientParent)]).status, 200)
        XCTAssertEqual(try get(g, "/orders/8").status, 401)

        var found: [Span] = []
        var services: [String] = []
        let deadline = Date().addingTimeInterval(10)
        while found.count < 3, Date() < deadline {
            usleep(100_000)
            (found, services) = try spans(collector.requests.map(\.body))
        }
        XCTAssertEqual(found.count, 3, "a server and a client span for the forwarded request, a server span for the refused one")
        for r in collector.requests {
            XCTAssertEqual(r.method, "POST")
            XCTAssertEqual(r.target, "/v1/traces")
            XCTAssertEqual(r.values("Content-Type"), ["application/json"])
            let text = String(decoding: r.body, as: UTF8.self)
            XCTAssertFalse(text.contains(token), "never the token")
            XCTAssertFalse(text.contains(String(token.split(separator: ".")[1])), "never the token's payload")
            XCTAssertFalse(text.contains("hidden"), "never a token from the query")
            XCTAssertFalse(text.contains("secret-mail"), "never a claim other than sub")
            XCTAssertFalse(text.contains("Bearer"))
        }
        XCTAssertEqual(Set(services), ["edge-gw"])

        let server = try XCTUnwrap(found.first { $0.kind == 2 && $0.attributes["gateway.decision"] == "allow" })
        XCTAssertEqual(server.traceID, Self.clientTrace)
        XCTAssertEqual(server.parentSpanID, Self.clientSpan)
        XCTAssertEqual(server.attributes["gateway.route"], "orders")
        XCTAssertEqual(server.attributes["gateway.reason"], "ok")
        XCTAssertEqual(server.attributes["http.response.status_code"], "200")
        XCTAssertEqual(server.attributes["http.request.method"], "GET")
        XCTAssertEqual(server.attributes["url.path"], "/orders/7")
        XCTAssertEqual(server.attributes["enduser.id"], "user-42")
        let client = try XCTUnwrap(found.first { $0.kind == 3 })
        XCTAssertEqual(client.traceID, Self.clientTrace)
        XCTAssertEqual(client.parentSpanID, server.spanID)
        XCTAssertEqual(client.attributes["http.response.status_code"], "200")
        // The upstream's parent is the client span.
        let sent = try XCTUnwrap(parts(up.requests.first?.values("traceparent").first))
        XCTAssertEqual(sent.span, client.spanID)

        let denied = try XCTUnwrap(found.first { $0.attributes["gateway.decision"] == "deny" })
        XCTAssertEqual(denied.kind, 2)
        XCTAssertNil(denied.parentSpanID, "no traceparent: a new trace")
        XCTAssertNotEqual(denied.traceID, Self.clientTrace)
        XCTAssertEqual(denied.attributes["http.response.status_code"], "401")
        XCTAssertEqual(denied.attributes["gateway.route"], "orders")
        XCTAssertNotNil(denied.attributes["gateway.reason"])
        XCTAssertNil(denied.attributes["enduser.id"])
        XCTAssertEqual(up.requests.count, 1, "the refused request never reached the upstream")
    }

    func testUnreachableCollectorDropsSpansNeverRequests() throws {
        let up = try RecordingUpstream { _ in .ok("ok") }
        defer { up.stop() }
        let g = try GatewayProcess(config: config(upstreamPort: up.port, tracing: """
            tracing: {otlp_endpoint: "http://127.0.0.1:\(RecordingUpstream.unusedPort())"}
            """))
        defer { g.stop() }
        for i in 0..<20 {
            XCTAssertEqual(try get(g, "/open/\(i)").status, 200)
        }
        XCTAssertEqual(up.requests.count, 20)
        var dropped = 0.0
        let deadline = Date().addingTimeInterval(10)
        while dropped < 40, Date() < deadline {
            usleep(200_000)
            let c = try RawHTTPClient(port: g.adminPort)
            try c.send("GET /metrics HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
            let text = try c.readResponse().bodyText
            dropped = text.split(separator: "\n")
                .filter { $0.hasPrefix(#"gateway_tracing_spans_dropped_total{reason="export_failed"}"#) }
                .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.first ?? 0
        }
        XCTAssertEqual(dropped, 40, "20 requests, a server and a client span each, all dropped and counted")
        // Requests still work while the collector is away.
        XCTAssertEqual(try get(g, "/open/after").status, 200)
    }
}
