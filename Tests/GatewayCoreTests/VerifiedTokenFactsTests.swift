import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// A verified-token cache hit answers from what was derived at verification (scopes,
/// identity header fields, `exp`/`nbf`), and still checks the time against the clock on
/// every request.
final class VerifiedTokenFactsTests: XCTestCase {
    static let yaml = """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: test
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
        upstreams:
          orders: {url: "http://127.0.0.1:9"}
        identity:
          claims: {org_id: X-Auth-Org}
        routes:
          - name: orders
            match: {path_prefix: /orders}
            upstream: orders
            auth: {issuers: [test], scopes: [read:orders]}
          - name: admin
            match: {path_prefix: /admin}
            upstream: orders
            auth: {issuers: [test], scopes: [admin]}
        """

    let clock = ManualClock()

    func runtime() throws -> GatewayRuntime {
        try GatewayRuntime(config: try ConfigLoader.parse(yaml: Self.yaml, path: "t.yml", environment: [:]),
                           keyMaterial: .readingFiles())
    }

    /// A token issued at the manual clock's time.
    func token(_ claims: [String: JSONValue?]) throws -> String {
        let now = clock.wallSeconds
        var all: [String: JSONValue?] = ["iat": .number(now), "exp": .number(now + 60)]
        all.merge(claims) { $1 }
        return try TestTokens.rs256(all)
    }

    func decide(_ rt: GatewayRuntime, _ token: String, path: String = "/orders/1") -> Decision {
        let head = HTTPRequestHead(method: "GET", target: path, version: .http11,
                                   fields: [HTTPField(name: "Host", value: "api.test"),
                                            HTTPField(name: "Authorization", value: "Bearer " + token)],
                                   framing: .none, keepAlive: true, expectsContinue: false)
        let ctx = RequestContext(clientAddress: "192.0.2.7", now: clock.wallSeconds, makeRequestID: { "id" })
        return RequestPipeline.decide(head, context: ctx, runtime: rt)
    }

    func identity(_ d: Decision) -> [String]? {
        guard case .forward(let p) = d else { return nil }
        return p.fields.filter { $0.name.hasPrefix("X-Auth-") }.map { "\($0.name): \($0.value)" }
    }

    func refusal(_ d: Decision) -> (status: Int, code: String)? {
        guard case .refuse(let r, _, _) = d else { return nil }
        return (r.status, r.reason.code)
    }

    func testAHitForwardsTheSameIdentityAndScopesAsTheVerification() throws {
        let rt = try runtime()
        let cache = try XCTUnwrap(rt.tokenCache)
        let t = try token(["scope": .string("read:orders  admin read:orders"), "scp": .array([.string("extra")]),
                           "org_id": .number(7)])
        let first = try XCTUnwrap(identity(decide(rt, t)))
        XCTAssertEqual(first, ["X-Auth-Subject: user-42", "X-Auth-Issuer: https://issuer.test.example/",
                               "X-Auth-Scopes: read:orders admin extra", "X-Auth-Org: 7"])
        XCTAssertEqual(cache.statistics.hits, 0)
        clock.advance(by: 10)
        XCTAssertEqual(identity(decide(rt, t)), first)
        // The scope set kept in the entry authorizes each route on its own.
        guard case .forward(let admin) = decide(rt, t, path: "/admin/x") else { return XCTFail("admin refused") }
        XCTAssertEqual(admin.subject, "user-42")
        XCTAssertEqual(cache.statistics.hits, 2)
        let noAdmin = try token(["scope": .string("read:orders")])
        XCTAssertEqual(identity(decide(rt, noAdmin)), ["X-Auth-Subject: user-42", "X-Auth-Issuer: https://issuer.test.example/",
                                                      "X-Auth-Scopes: read:orders"])
        XCTAssertEqual(refusal(decide(rt, noAdmin, path: "/admin/x"))?.status, 403)
        XCTAssertEqual(cache.statistics.hits, 3, "the refusal was a hit")
    }

    func testAHitChecksExpiryAgainstTheClockOnEveryRequest() throws {
        let rt = try runtime()
        let cache = try XCTUnwrap(rt.tokenCache)
        let t = try token(["scope": .string("read:orders")])  // exp = now + 60, skew 30 s
        XCTAssertNotNil(identity(decide(rt, t)))
        clock.advance(by: 89)
        XCTAssertNotNil(identity(decide(rt, t)), "inside exp + skew")
        XCTAssertEqual(cache.statistics.hits, 1)
        clock.advance(by: 1)
        let late = try XCTUnwrap(refusal(decide(rt, t)))
        XCTAssertEqual(late.status, 401)
        XCTAssertEqual(late.code, "expired")
        XCTAssertEqual(cache.statistics.entries, 0, "an expired entry is dropped")
    }

    func testAHitBeforeNotBeforeIsRefusedEvenWhenCachedLater() throws {
        let rt = try runtime()
        let cache = try XCTUnwrap(rt.tokenCache)
        let now = clock.wallSeconds
        // nbf 20 s ahead: inside the 30 s skew now, outside it once the clock is set back.
        let t = try token(["scope": .string("read:orders"), "nbf": .number(now + 20), "exp": .number(now + 600)])
        XCTAssertNotNil(identity(decide(rt, t)))
        clock.setWall(now - 15)
        let early = try XCTUnwrap(refusal(decide(rt, t)))
        XCTAssertEqual(early.code, "not_yet_valid")
        XCTAssertEqual(cache.statistics.hits, 1, "refused on a hit, from the kept nbf")
        clock.setWall(now)
        XCTAssertNotNil(identity(decide(rt, t)))
    }

    func testAnUnsafeIdentityClaimIsRefusedOnEveryHit() throws {
        let rt = try runtime()
        let cache = try XCTUnwrap(rt.tokenCache)
        let t = try token(["scope": .string("read:orders"), "org_id": .string("a\u{1}b")])
        for _ in 0..<3 {
            let r = try XCTUnwrap(refusal(decide(rt, t)))
            XCTAssertEqual(r.status, 401)
        }
        XCTAssertEqual(cache.statistics.hits, 2)
    }
}
