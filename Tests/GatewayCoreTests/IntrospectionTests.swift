import Foundation
import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// RFC 7662 introspection, pure parts: the request's bytes, the reading of answers, the
/// cache with single flight, and the step in the request decision.
final class IntrospectionTests: XCTestCase {
    // MARK: Request encoding

    func testFormBodyIsFormEncoded() {
        XCTAssertEqual(String(decoding: IntrospectionMessage.formBody(token: "aB9-_.x"), as: UTF8.self),
                       "token=aB9-_.x&token_type_hint=access_token")
        // b64token characters outside the unreserved set, and a space, are encoded.
        XCTAssertEqual(String(decoding: IntrospectionMessage.formBody(token: "a+b/c=~ d"), as: UTF8.self),
                       "token=a%2Bb%2Fc%3D%7E+d&token_type_hint=access_token")
    }

    func testBasicAuthorizationFormEncodesBothPartsThenBase64WithPadding() {
        // RFC 6749 §2.3.1: form-encode, join with ":", base64 (RFC 7617).
        XCTAssertEqual(IntrospectionMessage.basicAuthorization(clientID: "gateway", secret: "secret"),
                       "Basic " + Data("gateway:secret".utf8).base64EncodedString())
        XCTAssertEqual(IntrospectionMessage.basicAuthorization(clientID: "my:client", secret: "p@ss wörd"),
                       "Basic " + Data("my%3Aclient:p%40ss+w%C3%B6rd".utf8).base64EncodedString())
        // Lengths needing one and two padding characters.
        XCTAssertEqual(IntrospectionMessage.basicAuthorization(clientID: "a", secret: "b"), "Basic YTpi")
        XCTAssertEqual(IntrospectionMessage.basicAuthorization(clientID: "ab", secret: "c"), "Basic YWI6Yw==")
        XCTAssertEqual(IntrospectionMessage.basicAuthorization(clientID: "ab", secret: "cd"), "Basic YWI6Y2Q=")
    }

    func testSecretIsNotInTheDescription() {
        let config = IntrospectionConfig(url: "https://idp/i", clientID: "gw", clientSecretEnv: "S",
                                         location: ConfigLocation(path: "g.yml", line: 1, column: 1))
        let i = IssuerIntrospection(config: config, secret: "very-secret")
        XCTAssertFalse("\(i)".contains("very-secret"))
        XCTAssertFalse(i.authorization.contains("very-secret"))
    }

    // MARK: Answers

    func answer(_ status: Int, _ body: String) -> IntrospectionAnswer {
        IntrospectionMessage.answer(status: status, body: Array(body.utf8))
    }

    func testAnswers() {
        XCTAssertEqual(answer(200, #"{"active":true}"#), .active(exp: nil))
        XCTAssertEqual(answer(200, #"{"active":true,"exp":1767225600,"scope":"a b","sub":"x"}"#), .active(exp: 1_767_225_600))
        XCTAssertEqual(answer(200, #"{"active":false}"#), .inactive)
        XCTAssertEqual(answer(200, #"{"active":false,"exp":"x"}"#), .inactive)
    }

    func testAnythingElseIsUnavailable() {
        for (status, body) in [(500, #"{"active":true}"#), (302, ""), (401, #"{"active":true}"#),
                               (200, ""), (200, "null"), (200, #"[{"active":true}]"#), (200, #"{"active":"true"}"#),
                               (200, #"{"active":1}"#), (200, #"{"scope":"a"}"#), (200, #"{"active":true"#),
                               (200, #"{"active":true,"active":false}"#)] {
            guard case .unavailable = answer(status, body) else {
                return XCTFail("\(status) \(body) gave \(answer(status, body))")
            }
        }
    }

    // MARK: Cache

    func testCacheStoresAnswersUntilTheirDeadlineAndNeverFailures() {
        let cache = IntrospectionCache()
        let a = RevocationKey("token-a"), b = RevocationKey("token-b"), c = RevocationKey("token-c")
        XCTAssertNil(cache.lookup(a, now: 100))
        XCTAssertTrue(cache.join(a) { _ in })
        cache.finish(a, answer: .active(exp: nil), until: 130, now: 100)
        XCTAssertEqual(cache.lookup(a, now: 129.9), .active(exp: nil))
        XCTAssertNil(cache.lookup(a, now: 130))
        XCTAssertTrue(cache.join(b) { _ in })
        cache.finish(b, answer: .inactive, until: 130, now: 100)
        XCTAssertEqual(cache.lookup(b, now: 110), .inactive)
        XCTAssertTrue(cache.join(c) { _ in })
        cache.finish(c, answer: .unavailable("down"), until: 130, now: 100)
        XCTAssertNil(cache.lookup(c, now: 101), "a failure is never reused")
        XCTAssertNil(cache.lookup(RevocationKey("token-a "), now: 101))
    }

    func testSingleFlight() {
        let cache = IntrospectionCache()
        let key = RevocationKey("t")
        let woken = Woken()
        XCTAssertTrue(cache.join(key) { woken.add($0) })
        XCTAssertFalse(cache.join(key) { woken.add($0) })
        XCTAssertFalse(cache.join(key) { woken.add($0) })
        XCTAssertEqual(cache.callsStarted, 1)
        XCTAssertEqual(woken.answers, [])
        cache.finish(key, answer: .inactive, until: 200, now: 100)
        XCTAssertEqual(woken.answers, [.inactive, .inactive, .inactive])
        XCTAssertTrue(cache.join(key) { woken.add($0) }, "after the call ended, a new one may start")
    }

    func testCacheIsBounded() {
        let cache = IntrospectionCache(maxEntries: 3)
        for i in 0..<10 {
            let k = RevocationKey("t\(i)")
            _ = cache.join(k) { _ in }
            cache.finish(k, answer: .active(exp: nil), until: 1000, now: 0)
        }
        XCTAssertEqual(cache.count, 3)
        XCTAssertNil(cache.lookup(RevocationKey("t0"), now: 1), "the oldest went first")
        XCTAssertNotNil(cache.lookup(RevocationKey("t9"), now: 1))
    }

    func testCacheDeadlineNeverPassesExp() {
        let config = IntrospectionConfig(url: "https://idp/i", clientID: "gw", clientSecretEnv: "S",
                                         location: ConfigLocation(path: "g.yml", line: 1, column: 1))
        let i = IssuerIntrospection(config: config, secret: "s")
        XCTAssertEqual(i.cacheDeadline(now: 100, tokenExpiry: nil, answer: .inactive), 130)
        XCTAssertEqual(i.cacheDeadline(now: 100, tokenExpiry: 110, answer: .inactive), 110)
        XCTAssertEqual(i.cacheDeadline(now: 100, tokenExpiry: 200, answer: .active(exp: 105)), 105)
    }

    // MARK: In the decision

    func runtime(environment: [String: String] = ["INTRO": "s"], mode: String = "enforce") throws -> GatewayRuntime {
        let yaml = """
            listen: {address: 127.0.0.1:0}
            issuers:
              - name: test
                issuer: \(TestTokens.issuer)
                audiences: [orders-api]
                algorithms: [RS256]
                jwks_file: \(Fixtures.directory)/vectors/jwks.json
                introspection: {url: "https://idp.test/introspect", client_id: gw, client_secret_env: INTRO}
            upstreams:
              orders: {url: "http://127.0.0.1:9"}
            routes:
              - name: pay
                match: {path_prefix: /pay}
                upstream: orders
                auth: {issuers: [test], introspect: true, scopes: [pay], mode: \(mode)}
              - name: plain
                match: {path_prefix: /plain}
                upstream: orders
                auth: {issuers: [test]}
            """
        let config = try ConfigLoader.parse(yaml: yaml, path: "/tmp/gateway.yml", environment: [:])
        return try GatewayRuntime(config: config, keyMaterial: .readingFiles(environment: environment))
    }

    func decide(_ rt: GatewayRuntime, _ token: String, path: String = "/pay/1", answer: IntrospectionAnswer? = nil) -> Decision {
        let head = HTTPRequestHead(method: "GET", target: path, version: .http11,
                                   fields: [HTTPField(name: "Host", value: "api.test"),
                                            HTTPField(name: "Authorization", value: "Bearer " + token)],
                                   framing: .none, keepAlive: true, expectsContinue: false)
        var ctx = RequestContext(clientAddress: "192.0.2.7", now: Date().timeIntervalSince1970, makeRequestID: { "id" })
        ctx.introspectionAnswer = answer
        return RequestPipeline.decide(head, context: ctx, runtime: rt)
    }

    func reason(_ d: Decision) -> String? {
        if case .refuse(let r, _, _) = d { return r.reason.code }
        return nil
    }

    func testDecisionAsksThenUsesTheAnswerAndTheCacheOnEveryRequest() throws {
        let rt = try runtime()
        let token = try TestTokens.rs256(["scope": .string("pay")])
        guard case .forward = decide(rt, token, path: "/plain/1") else { return XCTFail("plain route forwards") }
        // The token is now a verified-token cache hit: the introspect route still asks.
        guard case .needsIntrospection(let call) = decide(rt, token) else { return XCTFail("expected needsIntrospection") }
        XCTAssertEqual(call.issuerName, "test")
        XCTAssertEqual(call.token, token)
        XCTAssertFalse("\(call)".contains(token))
        guard case .forward = decide(rt, token, answer: .active(exp: nil)) else { return XCTFail("active forwards") }
        XCTAssertEqual(reason(decide(rt, token, answer: .inactive)), "inactive")
        XCTAssertEqual(reason(decide(rt, token, answer: .unavailable("down"))), "introspection_unavailable")

        // An answer in the cache is used without asking.
        let intro = try XCTUnwrap(rt.issuers["test"]?.introspection)
        XCTAssertTrue(intro.cache.join(call.key) { _ in })
        let now = Date().timeIntervalSince1970
        intro.cache.finish(call.key, answer: .inactive, until: now + 30, now: now)
        XCTAssertEqual(reason(decide(rt, token)), "inactive")
    }

    func testInactiveIsRefusedBeforeScopes() throws {
        let rt = try runtime()
        let token = try TestTokens.rs256(["scope": .string("other")])
        guard case .needsIntrospection = decide(rt, token) else { return XCTFail("introspection comes before scopes") }
        XCTAssertEqual(reason(decide(rt, token, answer: .inactive)), "inactive")
        XCTAssertEqual(reason(decide(rt, token, answer: .active(exp: nil))), "insufficient_scope")
    }

    func testReportOnlyRouteForwardsInactiveAndUnavailableAsWouldDeny() throws {
        let rt = try runtime(mode: "report_only")
        let token = try TestTokens.rs256(["scope": .string("pay")])
        for (answer, code) in [(IntrospectionAnswer.inactive, "inactive"), (.unavailable("down"), "introspection_unavailable")] {
            guard case .forward(let plan) = decide(rt, token, answer: answer) else { return XCTFail("\(code) not forwarded") }
            XCTAssertEqual(plan.wouldDeny?.code, code)
        }
        guard case .forward(let plan) = decide(rt, token, answer: .active(exp: nil)) else { return XCTFail("active") }
        XCTAssertNil(plan.wouldDeny)
    }

    func testRefusals() {
        let inactive = Refusal(.inactive)
        XCTAssertEqual(inactive.status, 401)
        XCTAssertEqual(String(decoding: inactive.body, as: UTF8.self),
                       #"{"error":"invalid_token","error_description":"token inactive"}"#)
        let down = Refusal(.introspectionUnavailable(issuer: "corp"))
        XCTAssertEqual(down.status, 503)
        XCTAssertEqual(down.fields.first { $0.name == "Retry-After" }?.value, "5")
        XCTAssertTrue(String(decoding: down.body, as: UTF8.self).hasPrefix(#"{"error":"temporarily_unavailable","#))
        XCTAssertNil(down.fields.first { $0.name == "WWW-Authenticate" })
    }

    func testMissingSecretIsAConfigErrorAtIntrospection() {
        XCTAssertThrowsError(try runtime(environment: [:])) { error in
            XCTAssertEqual("\(error)", "/tmp/gateway.yml:8:5: issuer test: environment variable INTRO (introspection.client_secret_env) is not set")
        }
    }
}

final class Woken: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [IntrospectionAnswer] = []
    func add(_ a: IntrospectionAnswer) { lock.withLock { list.append(a) } }
    var answers: [IntrospectionAnswer] { lock.withLock { list } }
}
