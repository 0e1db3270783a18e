import GatewayCore
import GatewayHTTP
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// Request-target forms in the decision (RFC 9112 §3.2): an absolute-form is routed and
/// forwarded by its normalised path; `*` and authority-form never reach an upstream.
final class RequestTargetDecisionTests: XCTestCase {
    static let yaml = """
        listen: {address: 127.0.0.1:0}
        upstreams:
          main: {url: "http://127.0.0.1:9/base"}
        routes:
          - name: api
            match: {host: api.test, path_prefix: /api}
            upstream: main
            auth: public
        """

    private func decide(_ method: String, _ target: String, host: String?) throws -> Decision {
        let config = try ConfigLoader.parse(yaml: Self.yaml, path: "test.yml", environment: [:])
        let runtime = try GatewayRuntime(config: config, keyMaterial: .readingFiles())
        let fields = host.map { [HTTPField(name: "Host", value: $0)] } ?? []
        let head = HTTPRequestHead(method: method, target: target, version: host == nil ? .http10 : .http11,
                                   fields: fields, framing: .none, keepAlive: false, expectsContinue: false)
        let ctx = RequestContext(clientAddress: "192.0.2.7", now: 0, makeRequestID: { "id" })
        return RequestPipeline.decide(head, context: ctx, runtime: runtime)
    }

    func testAbsoluteFormIsForwardedByItsNormalisedPath() throws {
        guard case .forward(let p) = try decide("GET", "http://api.test/api/./x/../y?q=1", host: "api.test") else {
            return XCTFail("not forwarded")
        }
        XCTAssertEqual(p.url, "http://127.0.0.1:9/base/api/y?q=1")
        XCTAssertEqual(p.fields.first { $0.name == "X-Forwarded-Host" }?.value, "api.test")
    }

    func testAbsoluteFormWithoutHostOnHTTP10UsesItsAuthorityForRouting() throws {
        guard case .forward(let p) = try decide("GET", "http://api.test/api", host: nil) else {
            return XCTFail("not forwarded")
        }
        XCTAssertEqual(p.url, "http://127.0.0.1:9/base/api")
    }

    func testAsteriskAndAuthorityFormsAreNotForwarded() throws {
        guard case .refuse(let star, _, _) = try decide("OPTIONS", "*", host: "api.test") else { return XCTFail() }
        XCTAssertEqual(star.status, 404)
        guard case .refuse(let authority, _, _) = try decide("GET", "api.test:80", host: "api.test") else { return XCTFail() }
        XCTAssertEqual(authority.status, 400)
        guard case .refuse(let escape, _, _) = try decide("GET", "http://api.test/api/../../x", host: "api.test") else {
            return XCTFail()
        }
        XCTAssertEqual(escape.status, 400)
    }
}
