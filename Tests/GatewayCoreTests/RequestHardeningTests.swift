import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// Request forms some upstreams read differently than the gateway: refused, or the fields
/// removed, before anything is forwarded.
final class RequestHardeningTests: XCTestCase {
    static let yaml = """
        listen: {address: 127.0.0.1:0}
        upstreams:
          u: {url: "http://127.0.0.1:9"}
        routes:
          - name: search
            match: {path_prefix: /search}
            upstream: u
            allow_body_on_get: true
            auth: public
          - name: all
            match: {path_prefix: /}
            upstream: u
            auth: public
        """

    var runtime: GatewayRuntime!

    override func setUpWithError() throws {
        runtime = try GatewayRuntime(config: try ConfigLoader.parse(yaml: Self.yaml, path: "t.yml", environment: [:]), keyMaterial: .readingFiles())
    }

    func decide(_ method: String, _ target: String, framing: RequestBodyFraming = .none,
                fields: [(String, String)] = []) -> Decision {
        let head = HTTPRequestHead(method: method, target: target, version: .http11,
                                   fields: [HTTPField(name: "Host", value: "api.test")] + fields.map { HTTPField(name: $0.0, value: $0.1) },
                                   framing: framing, keepAlive: true, expectsContinue: false)
        let ctx = RequestContext(clientAddress: "192.0.2.7", now: 1_000, makeRequestID: { "id" })
        return RequestPipeline.decide(head, context: ctx, runtime: runtime)
    }

    func status(_ d: Decision) -> Int {
        switch d {
        case .forward: 200
        case .refuse(let r, _, _): r.status
        case .needsKeyRefresh: 0
        case .preflight: 204
        case .needsIntrospection: 0
        }
    }

    func testGetAndHeadWithContentAre400UnlessTheRouteAllowsIt() {
        for method in ["GET", "HEAD"] {
            XCTAssertEqual(status(decide(method, "/a", framing: .contentLength(5))), 400, method)
            XCTAssertEqual(status(decide(method, "/a", framing: .chunked)), 400, method)
            XCTAssertEqual(status(decide(method, "/a")), 200, method)
            XCTAssertEqual(status(decide(method, "/search", framing: .contentLength(5))), 200, "\(method) allow_body_on_get")
            XCTAssertEqual(status(decide(method, "/search", framing: .chunked)), 200, "\(method) allow_body_on_get")
        }
        for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
            XCTAssertEqual(status(decide(method, "/a", framing: .chunked)), 200, method)
        }
        if case .refuse(let r, _, _) = decide("GET", "/a", framing: .chunked) {
            XCTAssertEqual(r.reason, .contentNotAllowed)
            XCTAssertTrue(String(decoding: r.body, as: UTF8.self).contains("bad_request"))
        }
    }

    func testTrackIsRefusedLikeTrace() {
        for method in ["TRACE", "TRACK"] {
            guard case .refuse(let r, _, _) = decide(method, "/a") else { XCTFail(method); continue }
            XCTAssertEqual(r.status, 405, method)
            XCTAssertTrue(r.fields.contains { $0.name == "Allow" }, method)
        }
    }

    func testPathsThatDecodeToSomethingElseAre400() {
        for target in ["/%C0%AE%C0%AE/admin", "/%FF", "/a/%252e%252e/admin", "/%252F", "/caf%C3"] {
            XCTAssertEqual(status(decide("GET", target)), 400, target)
        }
        XCTAssertEqual(status(decide("GET", "/caf%C3%A9")), 200)
    }

    func testProxyControlFieldsAreNeverForwarded() {
        let hostile = [
            "Front-End-Https", "X-Url-Scheme", "X-Host", "X-Method", "X-Original-Host", "X-Original-Method",
            "x-original-forwarded-for", "X_Original_URL", "CF-Connecting-IP", "Fastly-Client-IP", "X-Cluster-Client-IP",
            "True-Client-IP", "Akamai-Client-IP", "x_cluster_client_ip", "X-Envoy-Original-Path", "x-envoy-upstream-rq-timeout-ms",
            "X_Envoy_Retry_On", "X-ENVOY-INTERNAL",
        ]
        guard case .forward(let p) = decide("GET", "/a", fields: hostile.map { ($0, "evil") } + [("X-Hostname", "ok"),
                                                                                             ("Accept", "*/*")]) else {
            return XCTFail("refused")
        }
        let names = p.fields.map { $0.name.lowercased() }
        for name in hostile { XCTAssertFalse(names.contains(name.lowercased()), name) }
        XCTAssertFalse(p.fields.contains { $0.value == "evil" })
        XCTAssertTrue(names.contains("x-hostname"), "only the listed names and families go")
        XCTAssertTrue(names.contains("accept"))
    }
}
