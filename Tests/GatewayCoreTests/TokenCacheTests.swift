import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// The verified-token cache: hits skip verification, never outlive `exp` or the
/// key set that verified them, and stay within their caps.
final class TokenCacheTests: XCTestCase {
    static func yaml(cache: String = "") -> String {
        """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: test
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256, ES256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
          - name: other
            issuer: https://other.test.example/
            algorithms: [RS256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
        upstreams:
          orders: {url: "http://127.0.0.1:9"}
        routes:
          - name: orders
            match: {path_prefix: /orders}
            upstream: orders
            auth: {issuers: [test], scopes: [read:orders]}
          - name: other
            match: {path_prefix: /other}
            upstream: orders
            auth: {issuers: [other]}
          - name: admin
            match: {path_prefix: /admin}
            upstream: orders
            auth: {issuers: [test], scopes: [admin]}
        \(cache)
        """
    }

    func runtime(cache: String = "") throws -> GatewayRuntime {
        let config = try ConfigLoader.parse(yaml: Self.yaml(cache: cache), path: "test.yml", environment: [:])
        return try GatewayRuntime(config: config, keyMaterial: .readingFiles())
    }

    func decide(_ runtime: GatewayRuntime, _ token: String, path: String = "/orders/1",
                now: Double = Date().timeIntervalSince1970) -> (status: Int, body: String) {
        let head = HTTPRequestHead(method: "GET", target: path, version: .http11,
                                   fields: [HTTPField(name: "Host", value: "api.test"),
                                            HTTPField(name: "Authorization", value: "Bearer " + token)],
                                   framing: .none, keepAlive: true, expectsContinue: false)
        let ctx = RequestContext(clientAddress: "192.0.2.7", now: now, makeRequestID: { "id" })
        switch RequestPipeline.decide(head, context: ctx, runtime: runtime) {
        case .forward: return (200, "")
        case .refuse(let r, _, _): return (r.status, String(decoding: r.body, as: UTF8.self))
        case .needsKeyRefresh: return (0, "needs key refresh")
        case .preflight: return (204, "")
        case .needsIntrospection: return (0, "needs introspection")
        }
    }

    func testRepeatedTokenIsAHitAndStillAuthorizedPerRoute() throws {
        let rt = try runtime()
        let cache = try XCTUnwrap(rt.tokenCache, "the cache is on by default")
        let token = Fixtures.token("valid-RS256")
        XCTAssertEqual(decide(rt, token).status, 200)
        XCTAssertEqual(cache.statistics.misses, 1)
        XCTAssertEqual(cache.statistics.hits, 0)
        XCTAssertEqual(cache.statistics.entries, 1)
        XCTAssertEqual(decide(rt, token).status, 200)
        XCTAssertEqual(decide(rt, token).status, 200)
        XCTAssertEqual(cache.statistics.hits, 2)
        XCTAssertEqual(cache.statistics.misses, 1)
        // A hit still goes through the route's authorization: no `admin` scope.
        XCTAssertEqual(decide(rt, token, path: "/admin").status, 403)
        XCTAssertEqual(cache.statistics.hits, 3)
        // A route that does not accept the token's issuer refuses a hit as it refuses a miss.
        let otherRoute = decide(rt, token, path: "/other/1")
        XCTAssertEqual(otherRoute.status, 401)
        XCTAssertTrue(otherRoute.body.contains("issuer not accepted"), otherRoute.body)
        XCTAssertEqual(decide(rt, token).status, 200)
        XCTAssertEqual(cache.statistics.hits, 5)
        // Refused tokens are never cached.
        XCTAssertEqual(decide(rt, Fixtures.token("payload-tampered")).status, 401)
        XCTAssertEqual(decide(rt, Fixtures.token("payload-tampered")).status, 401)
        XCTAssertEqual(cache.statistics.entries, 1)
    }

    func testExpiredTokenIsRefusedAfterHavingBeenCached() throws {
        let rt = try runtime()
        let cache = try XCTUnwrap(rt.tokenCache)
        let now = Date().timeIntervalSince1970
        let token = try TestTokens.rs256(["scope": .string("read:orders"), "exp": .number(Double(Int(now)) + 60)])
        XCTAssertEqual(decide(rt, token, now: now).status, 200)
        XCTAssertEqual(decide(rt, token, now: now + 10).status, 200)
        XCTAssertEqual(cache.statistics.hits, 1)
        // exp + 30 s skew passed: refused, and the entry is gone.
        let late = decide(rt, token, now: now + 60 + 31)
        XCTAssertEqual(late.status, 401)
        XCTAssertTrue(late.body.contains("token expired"), late.body)
        XCTAssertEqual(cache.statistics.entries, 0)
    }

    func testKeySetChangeInvalidatesCachedVerifications() throws {
        let rt = try runtime()
        let cache = try XCTUnwrap(rt.tokenCache)
        let issuer = try XCTUnwrap(rt.issuers["test"])
        let token = Fixtures.token("valid-ES256")
        XCTAssertEqual(decide(rt, token).status, 200)
        XCTAssertEqual(decide(rt, token).status, 200)
        XCTAssertEqual(cache.statistics.hits, 1)
        // Same keys, new generation: the entry is not used (a miss, verified again).
        issuer.store.replace(issuer.keys)
        XCTAssertEqual(decide(rt, token).status, 200)
        XCTAssertEqual(cache.statistics.hits, 1)
        XCTAssertEqual(cache.statistics.misses, 2)
        // The signing key removed: the cached verification must not let the token through.
        XCTAssertEqual(decide(rt, token).status, 200)
        XCTAssertEqual(cache.statistics.hits, 2)
        issuer.store.replace(KeySet(keys: issuer.keys.keys.filter { $0.keyID != "ec-256" }))
        let refused = decide(rt, token)
        XCTAssertEqual(refused.status, 401)
        XCTAssertTrue(refused.body.contains("unknown signing key"), refused.body)
    }

    func testCacheCanBeDisabledAndConfigured() throws {
        XCTAssertNil(try runtime(cache: "token_cache: {enabled: false}").tokenCache)
        let rt = try runtime(cache: "token_cache: {max_entries: 7, max_bytes: 64KiB}")
        XCTAssertEqual(rt.tokenCache?.maxEntries, 7)
        XCTAssertEqual(rt.tokenCache?.maxBytes, 65536)
        XCTAssertEqual(decide(rt, Fixtures.token("valid-RS256")).status, 200)
        XCTAssertThrowsError(try runtime(cache: "token_cache: {max_entries: 0}"))
        XCTAssertThrowsError(try runtime(cache: "token_cache: {size: 3}"))
    }

    func entry(exp: Double = .infinity) -> VerifiedTokenCache.Entry {
        VerifiedTokenCache.Entry(token: VerifiedToken(header: .object([]), claims: .object([]), algorithm: .RS256),
                                 iss: "i", issuerName: "n", generation: 1, expiresAt: exp)
    }

    func testEntryCapEvictsOldestFirst() {
        let cache = VerifiedTokenCache(maxEntries: 4, maxBytes: 1 << 20, shardCount: 1)
        for i in 0..<10 { cache.insert(Substring("token-\(i)"), entry: entry()) }
        XCTAssertEqual(cache.statistics.entries, 4)
        XCTAssertEqual(cache.statistics.evictions, 6)
        XCTAssertNil(cache.lookup("token-0", now: 0, isCurrent: { _ in true }))
        XCTAssertNil(cache.lookup("token-5", now: 0, isCurrent: { _ in true }))
        for i in 6..<10 { XCTAssertNotNil(cache.lookup(Substring("token-\(i)"), now: 0, isCurrent: { _ in true }), "\(i)") }
    }

    func testByteCapBoundsTheCache() {
        let token = String(repeating: "a", count: 1000)
        let cost = VerifiedTokenCache.cost(ofToken: Substring(token))
        let cache = VerifiedTokenCache(maxEntries: 1000, maxBytes: 3 * cost, shardCount: 1)
        for i in 0..<20 { cache.insert(Substring(token + "\(i)"), entry: entry()) }
        let stats = cache.statistics
        XCTAssertLessThanOrEqual(stats.bytes, 3 * cost + 3 * 2)
        XCTAssertLessThanOrEqual(stats.entries, 3)
        XCTAssertGreaterThan(stats.entries, 0)
        // Larger than the whole budget: not kept at all.
        let tiny = VerifiedTokenCache(maxEntries: 10, maxBytes: 100, shardCount: 1)
        tiny.insert(Substring(token), entry: entry())
        XCTAssertEqual(tiny.statistics.entries, 0)
    }

    func testEntryNeverOutlivesItsExpiryOrItsKeys() {
        let cache = VerifiedTokenCache(maxEntries: 10, maxBytes: 1 << 20)
        cache.insert("t", entry: entry(exp: 100))
        XCTAssertNotNil(cache.lookup("t", now: 99, isCurrent: { _ in true }))
        XCTAssertNil(cache.lookup("t", now: 100, isCurrent: { _ in true }))
        XCTAssertNil(cache.lookup("t", now: 50, isCurrent: { _ in true }), "removed when found expired")
        cache.insert("u", entry: entry())
        XCTAssertNil(cache.lookup("u", now: 0, isCurrent: { $0.generation == 2 }))
        XCTAssertNil(cache.lookup("u", now: 0, isCurrent: { _ in true }), "removed when found stale")
        XCTAssertEqual(cache.statistics.hits, 1)
        XCTAssertEqual(cache.statistics.misses, 4)
    }

    func testTokensWithTheSameKeyNeverShareAnEntry() throws {
        // Same length and the same last 64 bytes: the same key, different tokens.
        let tail = String(repeating: "s", count: 64)
        let first = "aaaa." + tail, second = "bbbb." + tail
        let cache = VerifiedTokenCache(maxEntries: 10, maxBytes: 1 << 20, shardCount: 1)
        var a = entry()
        a.issuerName = "first"
        cache.insert(Substring(first), entry: a)
        XCTAssertEqual(cache.lookup(Substring(first), now: 0, isCurrent: { _ in true })?.issuerName, "first")
        XCTAssertNil(cache.lookup(Substring(second), now: 0, isCurrent: { _ in true }), "another token's entry")
        var b = entry()
        b.issuerName = "second"
        cache.insert(Substring(second), entry: b)
        XCTAssertEqual(cache.lookup(Substring(second), now: 0, isCurrent: { _ in true })?.issuerName, "second")
        XCTAssertNil(cache.lookup(Substring(first), now: 0, isCurrent: { _ in true }), "another token's entry")
        // A token that differs in its last bytes only is a different token too.
        XCTAssertNil(cache.lookup(Substring("bbbb." + String(tail.dropLast()) + "t"), now: 0, isCurrent: { _ in true }))
    }
}
