import GatewayCore
import GatewayHTTP
import GatewayPolicy
import XCTest

/// Per-route CORS: preflight detection and answers, and the actual-response fields.
final class CORSPolicyTests: XCTestCase {
    var cors: CORSConfig {
        var c = CORSConfig()
        c.allowedOrigins = [Origin.parse("https://app.example.com")!, Origin.parse("http://localhost:3000")!]
        c.allowedMethods = ["GET", "POST"]
        c.allowedHeaders = ["Authorization", "Content-Type"]
        c.exposeHeaders = ["X-Request-Id"]
        c.maxAge = 600
        c.allowCredentials = true
        return c
    }

    func fields(_ pairs: [(String, String)]) -> [HTTPField] { pairs.map { HTTPField(name: $0.0, value: $0.1) } }

    func preflight(_ pairs: [(String, String)], cors: CORSConfig? = nil) -> CORSPreflightOutcome {
        CORSPolicy.evaluatePreflight(fields: fields(pairs), cors: cors ?? self.cors)
    }

    func testPreflightDetection() {
        let f = fields([("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "POST")])
        XCTAssertTrue(CORSPolicy.isPreflight(method: "OPTIONS", fields: f))
        XCTAssertFalse(CORSPolicy.isPreflight(method: "POST", fields: f))
        XCTAssertFalse(CORSPolicy.isPreflight(method: "OPTIONS", fields: Array(f.prefix(1))))
        XCTAssertFalse(CORSPolicy.isPreflight(method: "OPTIONS", fields: Array(f.suffix(1))))
    }

    func testAllowedPreflight() {
        XCTAssertEqual(preflight([("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "POST"),
                                  ("Access-Control-Request-Headers", "content-type,authorization")]),
                       .allowed(fields: fields([
                           ("Access-Control-Allow-Origin", "https://app.example.com"),
                           ("Access-Control-Allow-Credentials", "true"),
                           ("Access-Control-Allow-Methods", "GET, POST"),
                           ("Access-Control-Allow-Headers", "Authorization, Content-Type"),
                           ("Access-Control-Max-Age", "600"),
                           ("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
                       ])))
        // Default port written out, other case: still the same origin; echoed as sent.
        guard case .allowed(let f) = preflight([("Origin", "http://LOCALHOST:3000"), ("Access-Control-Request-Method", "GET")])
        else { return XCTFail("expected allowed") }
        XCTAssertEqual(f.first, HTTPField(name: "Access-Control-Allow-Origin", value: "http://LOCALHOST:3000"))
    }

    func testRefusedPreflights() {
        XCTAssertEqual(preflight([("Origin", "https://evil.example"), ("Access-Control-Request-Method", "GET")]),
                       .refused(.corsPreflightRefused("origin not allowed")))
        XCTAssertEqual(preflight([("Origin", "https://app.example.com:444"), ("Access-Control-Request-Method", "GET")]),
                       .refused(.corsPreflightRefused("origin not allowed")))
        XCTAssertEqual(preflight([("Origin", "null"), ("Access-Control-Request-Method", "GET")]),
                       .refused(.corsPreflightRefused("origin not allowed")))
        XCTAssertEqual(preflight([("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "DELETE")]),
                       .refused(.corsPreflightRefused("method not allowed")))
        XCTAssertEqual(preflight([("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "post")]),
                       .refused(.corsPreflightRefused("method not allowed")))
        XCTAssertEqual(preflight([("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "GET"),
                                  ("Access-Control-Request-Headers", "content-type, x-secret")]),
                       .refused(.corsPreflightRefused("header not allowed")))
        let r = Refusal(.corsPreflightRefused("origin not allowed"))
        XCTAssertEqual(r.status, 403)
        XCTAssertFalse(r.fields.contains { $0.name.lowercased().hasPrefix("access-control-") || $0.name == "WWW-Authenticate" })
    }

    func testAnyOriginNeverMatchesNull() {
        var c = CORSConfig()
        c.anyOrigin = true
        XCTAssertEqual(preflight([("Origin", "https://x.test"), ("Access-Control-Request-Method", "GET")], cors: c),
                       .allowed(fields: fields([("Access-Control-Allow-Origin", "https://x.test"),
                                                ("Access-Control-Allow-Methods", "GET, HEAD, POST"),
                                                ("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")])))
        XCTAssertEqual(preflight([("Origin", "null"), ("Access-Control-Request-Method", "GET")], cors: c),
                       .refused(.corsPreflightRefused("origin not allowed")))
    }

    func testActualResponseFieldsForAnAllowedOrigin() {
        let upstream = fields([("Content-Type", "text/plain"), ("Access-Control-Allow-Origin", "*"),
                               ("access-control-allow-methods", "PUT"), ("X-Request-Id", "r1")])
        XCTAssertEqual(CORSPolicy.responseFields(upstream, requestFields: fields([("Origin", "https://app.example.com")]), cors: cors),
                       fields([("Content-Type", "text/plain"), ("X-Request-Id", "r1"), ("Vary", "Origin"),
                               ("Access-Control-Allow-Origin", "https://app.example.com"),
                               ("Access-Control-Allow-Credentials", "true"),
                               ("Access-Control-Expose-Headers", "X-Request-Id")]))
    }

    func testActualResponseFieldsForOtherOriginsOnlyLoseTheUpstreams() {
        let upstream = fields([("Access-Control-Allow-Origin", "https://evil.example"), ("Vary", "Accept-Encoding")])
        for request in [fields([("Origin", "https://evil.example")]), fields([]), fields([("Origin", "null")])] {
            XCTAssertEqual(CORSPolicy.responseFields(upstream, requestFields: request, cors: cors),
                           fields([("Vary", "Accept-Encoding"), ("Vary", "Origin")]))
        }
    }

    func testVaryIsNotRepeated() {
        for vary in ["origin", "Accept, Origin", "*"] {
            XCTAssertEqual(CORSPolicy.responseFields(fields([("Vary", vary)]), requestFields: [], cors: cors),
                           fields([("Vary", vary)]), vary)
        }
    }

    func testNeverAStarWithCredentials() {
        var c = cors
        c.allowedOrigins = []
        c.anyOrigin = true
        let out = CORSPolicy.responseFields([], requestFields: fields([("Origin", "https://x.test")]), cors: c)
        XCTAssertTrue(out.contains(HTTPField(name: "Access-Control-Allow-Origin", value: "https://x.test")))
        XCTAssertFalse(out.contains { $0.value == "*" })
    }
}
