import Foundation
import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// Issuers with `jwks_url` in the pure decision: an unknown `kid` asks for one shared
/// refetch; the store coordinates it.
final class RemoteKeysTests: XCTestCase {
    static let yaml = """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: remote
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256, ES256]
            jwks_url: https://keys.test.example/jwks.json
        upstreams:
          orders: {url: "http://127.0.0.1:9"}
        routes:
          - name: orders
            match: {path_prefix: /orders}
            upstream: orders
            auth: {issuers: [remote], scopes: [read:orders]}
        """

    /// The fixture JWK Set without the keys named in `without`.
    static func keys(without: Set<String> = []) throws -> KeySet {
        let all = try KeySet.jwkSet(json: Fixtures.bytes("vectors/jwks.json"))
        return KeySet(keys: all.keys.filter { !without.contains($0.keyID ?? "") })
    }

    func runtime(_ store: IssuerKeyStore) throws -> GatewayRuntime {
        let config = try ConfigLoader.parse(yaml: Self.yaml, path: "test.yml", environment: [:])
        let asked = Asked()
        let rt = try GatewayRuntime(config: config, keyMaterial: .readingFiles(remoteKeys: { issuer throws(ConfigError) in
            if case .jwksURL(let url) = issuer.keySource { asked.add(issuer.name + " " + url) }
            return store
        }))
        XCTAssertEqual(asked.all, ["remote https://keys.test.example/jwks.json"])
        return rt
    }

    func decide(_ rt: GatewayRuntime, _ token: String, mayRefetch: Bool = true) -> Decision {
        let head = HTTPRequestHead(method: "GET", target: "/orders/1", version: .http11,
                                   fields: [HTTPField(name: "Host", value: "a"),
                                            HTTPField(name: "Authorization", value: "Bearer " + token)],
                                   framing: .none, keepAlive: true, expectsContinue: false)
        let ctx = RequestContext(clientAddress: "192.0.2.1", now: Date().timeIntervalSince1970,
                                 mayRefetchKeys: mayRefetch, makeRequestID: { "id" })
        return RequestPipeline.decide(head, context: ctx, runtime: rt)
    }

    func testJWKSURLWithoutAFetcherIsAConfigErrorAtTheKey() throws {
        let config = try ConfigLoader.parse(yaml: Self.yaml, path: "test.yml", environment: [:])
        XCTAssertThrowsError(try GatewayRuntime(config: config, keyMaterial: .readingFiles())) { error in
            let e = (error as? ConfigErrors)?.errors.first
            XCTAssertEqual(e?.location.line, 7)
            XCTAssertTrue(e?.message.contains("jwks_url") ?? false, "\(String(describing: e))")
        }
    }

    func testUnknownKidAsksForARefetchOnceThenRefuses() throws {
        let store = IssuerKeyStore(keys: try Self.keys(without: ["ec-256"]), jwksURL: "https://keys.test.example/jwks.json")
        let rt = try runtime(store)
        let token = Fixtures.token("valid-ES256")
        guard case .needsKeyRefresh(let name) = decide(rt, token) else { return XCTFail("expected needsKeyRefresh") }
        XCTAssertEqual(name, "remote")
        guard case .refuse(let r, _, _) = decide(rt, token, mayRefetch: false) else { return XCTFail("expected a refusal") }
        XCTAssertEqual(r.status, 401)
        XCTAssertTrue(String(decoding: r.body, as: UTF8.self).contains("unknown signing key"))
        // Known kids never ask: a bad signature is refused at once.
        guard case .refuse(let s, _, _) = decide(rt, Fixtures.token("payload-tampered")) else { return XCTFail() }
        XCTAssertEqual(s.status, 401)
        // After the key is published, the same token goes through.
        store.replace(try Self.keys())
        guard case .forward = decide(rt, token, mayRefetch: false) else { return XCTFail("expected forward") }
    }

    func testFileKeysNeverAskForARefetch() throws {
        let yaml = Self.yaml.replacingOccurrences(of: "jwks_url: https://keys.test.example/jwks.json",
                                                  with: "jwks_file: \(Fixtures.directory)/vectors/jwks.json")
        let rt = try GatewayRuntime(config: try ConfigLoader.parse(yaml: yaml, path: "t.yml", environment: [:]),
                                    keyMaterial: .readingFiles())
        guard case .refuse(let r, _, _) = decide(rt, Fixtures.token("unknown-kid")) else { return XCTFail() }
        XCTAssertEqual(r.status, 401)
    }

    final class Asked: @unchecked Sendable {
        let lock = NSLock()
        private var items: [String] = []
        func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
    }

    final class Calls: @unchecked Sendable {
        let lock = NSLock()
        var started = 0
        var results: [Bool] = []
        func start() { lock.lock(); started += 1; lock.unlock() }
        func done(_ b: Bool) { lock.lock(); results.append(b); lock.unlock() }
    }

    func testConcurrentUnknownKidsShareOneRefetchAndTheRateLimitHolds() throws {
        let store = IssuerKeyStore(keys: try Self.keys(without: ["ec-256"]), jwksURL: "https://k/jwks.json")
        let calls = Calls()
        DispatchQueue.concurrentPerform(iterations: 50) { _ in
            // `.fetch` tells exactly one caller to start the fetch (the server performs it).
            if store.refetchForUnknownKey(now: 1000, completion: { calls.done($0) }) == .fetch { calls.start() }
        }
        XCTAssertEqual(calls.started, 1)
        XCTAssertEqual(calls.results, [], "every request waits for the refetch")
        let before = store.snapshot.generation
        store.finishRefetch(try Self.keys())
        XCTAssertEqual(calls.results.count, 50)
        XCTAssertTrue(calls.results.allSatisfy { $0 })
        XCTAssertNotEqual(store.snapshot.generation, before)
        XCTAssertEqual(store.snapshot.keys.keys.count, 6)
        // Within 30 s of the last refetch: refused at once, nothing started.
        if store.refetchForUnknownKey(now: 1029, completion: { calls.done($0) }) == .fetch { calls.start() }
        XCTAssertEqual(calls.started, 1)
        XCTAssertEqual(calls.results.last, false)
        XCTAssertEqual(calls.results.count, 51)
        // A failed refetch keeps the last good set.
        if store.refetchForUnknownKey(now: 1030, completion: { calls.done($0) }) == .fetch { calls.start() }
        XCTAssertEqual(calls.started, 2)
        let kept = store.snapshot.generation
        store.finishRefetch(nil)
        XCTAssertEqual(calls.results.last, false)
        XCTAssertEqual(store.snapshot.generation, kept)
        XCTAssertEqual(store.snapshot.keys.keys.count, 6)
        XCTAssertEqual(store.refetchesStarted, 2)
    }

    func testAnIssuerWithoutKeysYetAnswers503WithRetryAfterNever401() throws {
        let store = IssuerKeyStore(awaitingKeysFrom: "https://keys.test.example/jwks.json")
        let rt = try runtime(store)
        XCTAssertEqual(rt.issuersWithoutKeys(), ["remote"])
        guard case .refuse(let r, let route, _) = decide(rt, Fixtures.token("valid-RS256")) else { return XCTFail() }
        XCTAssertEqual(r.status, 503)
        XCTAssertEqual(route, "orders")
        XCTAssertEqual(r.reason.code, "keys_unavailable")
        XCTAssertEqual(r.fields.first { $0.name == "Retry-After" }?.value, "5")
        XCTAssertNil(r.fields.first { $0.name == "WWW-Authenticate" })
        XCTAssertTrue(String(decoding: r.body, as: UTF8.self).hasPrefix("{\"error\":\"temporarily_unavailable\""))
        // A token that names no configured issuer is still the token's fault.
        guard case .refuse(let other, _, _) = decide(rt, Fixtures.token("wrong-issuer")) else { return XCTFail() }
        XCTAssertEqual(other.status, 401)
        // The first installed set ends the wait.
        store.replace(try Self.keys())
        XCTAssertEqual(rt.issuersWithoutKeys(), [])
        guard case .forward = decide(rt, Fixtures.token("valid-RS256")) else { return XCTFail("keys installed: forwarded") }
    }

    func testStartupRetriesDoubleFromOneSecondToSixty() {
        XCTAssertEqual((1...9).map { JWKSRefreshPolicy.startupRetryInterval(failures: $0) }, [1, 2, 4, 8, 16, 32, 60, 60, 60])
        XCTAssertEqual(JWKSRefreshPolicy.startupRetryInterval(failures: 10_000), 60)
    }

    func testRefreshIntervalHonoursMaxAgeWithinBounds() {
        XCTAssertEqual(JWKSRefreshPolicy.interval(configured: 600, maxAge: nil), 600)
        XCTAssertEqual(JWKSRefreshPolicy.interval(configured: 600, maxAge: 120), 120)
        XCTAssertEqual(JWKSRefreshPolicy.interval(configured: 600, maxAge: 3600), 600)
        XCTAssertEqual(JWKSRefreshPolicy.interval(configured: 600, maxAge: 5), 30)
        XCTAssertEqual(JWKSRefreshPolicy.interval(configured: 600, maxAge: 0), 30)
        XCTAssertEqual(JWKSRefreshPolicy.retryInterval(failures: 1, configured: 600), 30)
        XCTAssertEqual(JWKSRefreshPolicy.retryInterval(failures: 2, configured: 600), 60)
        XCTAssertEqual(JWKSRefreshPolicy.retryInterval(failures: 3, configured: 600), 120)
        XCTAssertEqual(JWKSRefreshPolicy.retryInterval(failures: 10, configured: 600), 600)
        XCTAssertEqual(JWKSRefreshPolicy.retryInterval(failures: 1000, configured: 600), 600)
        XCTAssertEqual(JWKSRefreshPolicy.maxAge(cacheControl: ["public, max-age=300"]), 300)
        XCTAssertEqual(JWKSRefreshPolicy.maxAge(cacheControl: ["max-age=\"90\", must-revalidate"]), 90)
        XCTAssertEqual(JWKSRefreshPolicy.maxAge(cacheControl: ["no-store"]), 0)
        XCTAssertNil(JWKSRefreshPolicy.maxAge(cacheControl: ["max-age=-1", "max-age=abc"]))
        XCTAssertNil(JWKSRefreshPolicy.maxAge(cacheControl: []))
    }

    func testJWKSURLConfigRules() throws {
        func errors(_ url: String, refresh: String = "") -> [String] {
            let yaml = Self.yaml.replacingOccurrences(of: "jwks_url: https://keys.test.example/jwks.json",
                                                      with: "jwks_url: \"\(url)\"\n    \(refresh)")
            do {
                _ = try ConfigLoader.parse(yaml: yaml, path: "t.yml", environment: [:])
                return []
            } catch {
                return error.errors.map(\.message)
            }
        }
        XCTAssertEqual(errors("https://keys.example/.well-known/jwks.json"), [])
        XCTAssertEqual(errors("http://127.0.0.1:8080/jwks.json"), [])
        XCTAssertEqual(errors("http://localhost:8080/jwks.json"), [])
        XCTAssertEqual(errors("http://[::1]:8080/jwks.json"), [])
        XCTAssertTrue(errors("http://keys.example/jwks.json").first?.contains("must be https") ?? false)
        XCTAssertFalse(errors("ftp://keys.example/jwks.json").isEmpty)
        XCTAssertTrue(errors("https://k.example/j", refresh: "jwks_refresh: 10s").first?.contains("at least 30s") ?? false)
        XCTAssertEqual(errors("https://k.example/j", refresh: "jwks_refresh: 30s"), [])
    }

    func testDiscoveryConfigRules() throws {
        func parse(issuer: String = "https://issuer.test.example/", _ source: String) -> Result<GatewayConfig, ConfigErrors> {
            let yaml = Self.yaml
                .replacingOccurrences(of: "issuer: https://issuer.test.example/", with: "issuer: \"\(issuer)\"")
                .replacingOccurrences(of: "jwks_url: https://keys.test.example/jwks.json", with: source)
            do { return .success(try ConfigLoader.parse(yaml: yaml, path: "t.yml", environment: [:])) } catch {
                return .failure(error)
            }
        }
        guard case .success(let config) = parse("discovery: true") else { return XCTFail() }
        XCTAssertEqual(config.issuers[0].keySource, .discovery("https://issuer.test.example/.well-known/openid-configuration"))
        XCTAssertEqual(config.issuers[0].keySourceLocation.line, 7)
        guard case .success(let noSlash) = parse(issuer: "https://id.example/realms/corp", "discovery: true") else { return XCTFail() }
        XCTAssertEqual(noSlash.issuers[0].keySource, .discovery("https://id.example/realms/corp/.well-known/openid-configuration"))
        guard case .success(let loopback) = parse(issuer: "http://127.0.0.1:8081/", "discovery: true") else { return XCTFail() }
        XCTAssertEqual(loopback.issuers[0].keySource, .discovery("http://127.0.0.1:8081/.well-known/openid-configuration"))
        func messages(_ r: Result<GatewayConfig, ConfigErrors>) -> [String] {
            if case .failure(let e) = r { return e.errors.map(\.description) }
            return []
        }
        let clear = messages(parse(issuer: "http://idp.example/", "discovery: true"))
        XCTAssertTrue(clear.first?.contains("t.yml:4:13: invalid discovery document URL `http://idp.example/.well-known/openid-configuration`") ?? false, "\(clear)")
        XCTAssertTrue(clear.first?.contains("must be https") ?? false, "\(clear)")
        XCTAssertTrue(messages(parse("discovery: false")).first?.contains("must be true") ?? false)
        XCTAssertTrue(messages(parse("discovery: yes please")).first?.contains("true or false") ?? false)
        let both = messages(parse("discovery: true\n    jwks_url: https://k.example/j"))
        XCTAssertTrue(both.first?.contains("several key sources") ?? false, "\(both)")
    }
}
