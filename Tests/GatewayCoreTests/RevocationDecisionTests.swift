import Foundation
import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// The revocation check in the request decision: every request, verified-token cache hits
/// included; a new list is seen by the next request.
final class RevocationDecisionTests: XCTestCase {
    let iss = TestTokens.issuer
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "revocation-decision-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: dir)
    }

    func yaml(revocation: String) -> String {
        """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: test
            issuer: \(iss)
            audiences: [orders-api]
            algorithms: [RS256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
        upstreams:
          orders: {url: "http://127.0.0.1:9"}
        routes:
          - name: orders
            match: {path_prefix: /orders}
            upstream: orders
            auth: {issuers: [test], scopes: [read:orders]}
        \(revocation)
        """
    }

    /// A runtime whose revocation loader gives `document` as the file's contents (the
    /// runtime reads no files; the server's loader does, see the integration tests).
    func runtime(document: String = "{}") throws -> GatewayRuntime {
        let config = try ConfigLoader.parse(yaml: yaml(revocation: "revocation: {file: \(dir)/revoked.json}"),
                                            path: dir + "/gateway.yml", environment: [:])
        let now = Date().timeIntervalSince1970
        return try GatewayRuntime(config: config, keyMaterial: .readingFiles(), revocation: { r throws(ConfigError) in
            do {
                let list = try RevocationDocument.parse(Array(document.utf8), now: now, maxEntries: r.maxEntries)
                return RevocationStore(config: r, file: list, now: now)
            } catch {
                throw ConfigError(location: r.location, message: "revocation file: \(error)")
            }
        })
    }

    func decide(_ runtime: GatewayRuntime, _ token: String) -> (status: Int, reason: String, refusal: Refusal?) {
        let head = HTTPRequestHead(method: "GET", target: "/orders/1", version: .http11,
                                   fields: [HTTPField(name: "Host", value: "api.test"),
                                            HTTPField(name: "Authorization", value: "Bearer " + token)],
                                   framing: .none, keepAlive: true, expectsContinue: false)
        let ctx = RequestContext(clientAddress: "192.0.2.7", now: Date().timeIntervalSince1970, makeRequestID: { "id" })
        switch RequestPipeline.decide(head, context: ctx, runtime: runtime) {
        case .forward: return (200, "", nil)
        case .refuse(let r, _, _): return (r.status, r.reason.code, r)
        case .needsKeyRefresh: return (0, "needs key refresh", nil)
        case .preflight: return (204, "cors_preflight", nil)
        case .needsIntrospection: return (0, "needs introspection", nil)
        }
    }

    func list(_ json: String) throws -> RevocationList {
        try RevocationDocument.parse(Array(json.utf8), now: Date().timeIntervalSince1970, maxEntries: 100)
    }

    func testCachedValidTokenIsRefusedOnceRevoked() throws {
        let rt = try runtime()
        let store = try XCTUnwrap(rt.revocation)
        let cache = try XCTUnwrap(rt.tokenCache)
        let token = try TestTokens.rs256(["jti": .string("tok-1"), "scope": .string("read:orders")])
        XCTAssertEqual(decide(rt, token).status, 200)
        XCTAssertEqual(decide(rt, token).status, 200)
        XCTAssertEqual(cache.statistics.hits, 1, "the second request was a cache hit")

        store.replaceFile(try list(#"{"tokens": [{"iss": "\#(iss)", "jti": "tok-1"}]}"#))
        let refused = decide(rt, token)
        XCTAssertEqual(refused.status, 401)
        XCTAssertEqual(refused.reason, "revoked")
        XCTAssertEqual(cache.statistics.hits, 2, "refused on a cache hit")
        let r = try XCTUnwrap(refused.refusal)
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), #"{"error":"invalid_token","error_description":"token revoked"}"#)
        XCTAssertEqual(r.fields.first { $0.name == "WWW-Authenticate" }?.value,
                       #"Bearer realm="gateway", error="invalid_token", error_description="token revoked""#)

        // Another token of the same subject is not affected; lifting the entry lets the token in.
        XCTAssertEqual(decide(rt, try TestTokens.rs256(["jti": .string("tok-2"), "scope": .string("read:orders")])).status, 200)
        store.replaceFile(.empty)
        XCTAssertEqual(decide(rt, token).status, 200)
    }

    func testFirstVerificationIsCheckedToo() throws {
        let rt = try runtime(document: #"{"tokens": [{"iss": "\#(iss)", "jti": "tok-9"}]}"#)
        let token = try TestTokens.rs256(["jti": .string("tok-9"), "scope": .string("read:orders")])
        XCTAssertEqual(decide(rt, token).reason, "revoked")
        XCTAssertEqual(rt.tokenCache?.statistics.hits, 0)
    }

    func testRevokedBeatsInsufficientScope() throws {
        let rt = try runtime(document: #"{"tokens": [{"iss": "\#(iss)", "jti": "tok-9"}]}"#)
        let token = try TestTokens.rs256(["jti": .string("tok-9")])
        XCTAssertEqual(decide(rt, token).status, 401)
    }

    func testSubjectCutOff() throws {
        let now = Double(Int(Date().timeIntervalSince1970))
        let rt = try runtime(document: """
            {"subjects": [{"iss": "\(iss)", "sub": "user-42", "issued_before": \(now - 10)}]}
            """)
        func token(_ iat: JSONValue?, sub: String = "user-42") throws -> String {
            try TestTokens.rs256(["iat": iat, "sub": .string(sub), "scope": .string("read:orders")])
        }
        XCTAssertEqual(decide(rt, try token(.number(JSONNumber(now - 60)))).reason, "revoked")
        XCTAssertEqual(decide(rt, try token(nil)).reason, "revoked")
        XCTAssertEqual(decide(rt, try token(.number(JSONNumber(now - 10)))).status, 200)
        XCTAssertEqual(decide(rt, try token(.number(JSONNumber(now)))).status, 200)
        XCTAssertEqual(decide(rt, try token(.number(JSONNumber(now - 60)), sub: "user-43")).status, 200)
    }

    func testJTIOfAnotherIssuerDoesNotMatch() throws {
        let rt = try runtime(document: #"{"tokens": [{"iss": "https://elsewhere.example/", "jti": "tok-1"}]}"#)
        XCTAssertEqual(decide(rt, try TestTokens.rs256(["jti": .string("tok-1"), "scope": .string("read:orders")])).status, 200)
    }

    func testLoaderErrorIsAConfigErrorAtTheRevocationLine() throws {
        XCTAssertThrowsError(try runtime(document: #"{"tokens": [{"iss": "x"}]}"#)) { error in
            XCTAssertEqual((error as? ConfigErrors)?.errors.map(\.description),
                           ["\(self.dir)/gateway.yml:15:1: revocation file: revocation document: `tokens[0].jti` is required"])
        }
    }

    func testRevocationNeedsTheServersLoader() throws {
        let config = try ConfigLoader.parse(yaml: yaml(revocation: "revocation: {url: \"http://127.0.0.1:9/r.json\"}"),
                                            path: "g.yml", environment: [:])
        XCTAssertThrowsError(try GatewayRuntime(config: config, keyMaterial: .readingFiles())) { error in
            XCTAssertEqual((error as? ConfigErrors)?.errors.map(\.description),
                           ["g.yml:15:1: revocation needs the gateway's revocation loader"])
        }
    }

    func testReadinessFollowsMaxStale() throws {
        var config = RevocationConfig(url: "http://127.0.0.1:9/r.json", location: ConfigLocation(path: "g", line: 1, column: 1))
        config.maxStale = 60
        let store = RevocationStore(config: config, url: .empty, now: 1000)
        XCTAssertNil(store.readinessProblem(now: 1060))
        XCTAssertNotNil(store.readinessProblem(now: 1061))
        store.urlConfirmed(now: 1050)
        XCTAssertNil(store.readinessProblem(now: 1100))
        store.replaceURL(.empty, now: 1200)
        XCTAssertNil(store.readinessProblem(now: 1250))
        XCTAssertNotNil(RevocationStore(config: config, now: 0).readinessProblem(now: 0), "never loaded")
    }
}
