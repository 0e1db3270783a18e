import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// Claims reach the decision and the identity headers exactly: numbers keep their value and
/// digits, `sub` must be a non-empty string unless the issuer opts out.
final class ClaimHardeningTests: XCTestCase {
    static func yaml(requireSub: String = "") -> String {
        """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: test
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
        \(requireSub)
        upstreams:
          orders: {url: "http://127.0.0.1:9"}
        identity:
          claims: {org_id: X-Auth-Org, ratio: X-Auth-Ratio, flags: X-Auth-Flags}
        routes:
          - name: org
            match: {path_prefix: /org}
            upstream: orders
            auth: {issuers: [test], claims: {org_id: 9007199254740993}}
          - name: any
            match: {path_prefix: /}
            upstream: orders
            auth: {issuers: [test]}
        """
    }

    func decide(_ target: String, _ claims: [String: JSONValue?], yaml: String = ClaimHardeningTests.yaml()) throws -> Decision {
        let runtime = try GatewayRuntime(config: try ConfigLoader.parse(yaml: yaml, path: "t.yml", environment: [:]), keyMaterial: .readingFiles())
        let token = try TestTokens.rs256(claims)
        let head = HTTPRequestHead(method: "GET", target: target, version: .http11,
                                   fields: [HTTPField(name: "Host", value: "api.test"),
                                            HTTPField(name: "Authorization", value: "Bearer " + token)],
                                   framing: .none, keepAlive: true, expectsContinue: false)
        let ctx = RequestContext(clientAddress: "192.0.2.7", now: Date().timeIntervalSince1970, makeRequestID: { "id" })
        return RequestPipeline.decide(head, context: ctx, runtime: runtime)
    }

    func number(_ text: String) -> JSONValue { .number(JSONNumber(text)!) }

    func header(_ d: Decision, _ name: String, file: StaticString = #filePath, line: UInt = #line) -> [String]? {
        guard case .forward(let p) = d else { XCTFail("refused", file: file, line: line); return nil }
        return p.fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    func refusal(_ d: Decision) -> Refusal? {
        if case .refuse(let r, _, _) = d { return r }
        return nil
    }

    func testNeighbouringIntegerClaimIsRefused() throws {
        // The reproducer: a route requiring 9007199254740993 accepted 9007199254740992.
        XCTAssertEqual(refusal(try decide("/org/1", ["org_id": number("9007199254740992")]))?.status, 403)
        XCTAssertEqual(try header(decide("/org/1", ["org_id": number("9007199254740993")]), "X-Auth-Org"), ["9007199254740993"])
        XCTAssertEqual(try header(decide("/org/1", ["org_id": .array([number("1"), number("9007199254740993")])]),
                                  "X-Auth-Org"), ["1,9007199254740993"])
        XCTAssertEqual(refusal(try decide("/org/1", ["org_id": .string("9007199254740993")]))?.status, 403,
                       "a string is not a number")
    }

    func testIdentityHeadersCarryExactDigitsAndFractionsAsWritten() throws {
        let d = try decide("/x", ["org_id": number("1234567890123456789"), "ratio": number("0.10"),
                                  "flags": .array([number("9007199254740993"), number("1e2"), .bool(true)])])
        XCTAssertEqual(header(d, "X-Auth-Org"), ["1234567890123456789"], "not 1.2345678901234568e+18")
        XCTAssertEqual(header(d, "X-Auth-Ratio"), ["0.10"])
        XCTAssertEqual(header(d, "X-Auth-Flags"), ["9007199254740993,1e2,true"])
        XCTAssertEqual(try header(decide("/x", ["org_id": number("9007199254740992")]), "X-Auth-Org"), ["9007199254740992"],
                       "not 9007199254740992.0")
    }
}

extension ClaimHardeningTests {
    func testSubMustBeANonEmptyString() throws {
        for bad: JSONValue? in [nil, .string(""), .number(42), .array([.string("a"), .string("b")]), .bool(true), .null,
                                .object([("id", .string("a"))])] {
            let d = try decide("/x", ["sub": bad])
            guard let r = refusal(d) else { XCTFail("forwarded with sub \(String(describing: bad))"); continue }
            XCTAssertEqual(r.status, 401)
            XCTAssertEqual(r.reason, .invalidToken(.invalidSubject))
            let body = String(decoding: r.body, as: UTF8.self)
            XCTAssertTrue(body.contains("claim sub"), body)
            XCTAssertTrue(r.fields.contains { $0.name == "WWW-Authenticate" && $0.value.contains("error=\"invalid_token\"")
                && $0.value.contains("sub") }, "\(r.fields)")
        }
        XCTAssertEqual(try header(decide("/x", ["sub": .string("u")]), "X-Auth-Subject"), ["u"])
    }

    func testIssuerMayWaiveTheSubject() throws {
        let yaml = ClaimHardeningTests.yaml(requireSub: "    require_sub: false")
        let d = try decide("/x", ["sub": nil], yaml: yaml)
        XCTAssertEqual(header(d, "X-Auth-Subject"), [])
        XCTAssertEqual(try header(decide("/x", ["sub": .string("svc")], yaml: yaml), "X-Auth-Subject"), ["svc"])
    }
}

extension ClaimHardeningTests {
    func testExplainNamesTheMissingSubject() throws {
        let runtime = try GatewayRuntime(config: try ConfigLoader.parse(yaml: Self.yaml(), path: "t.yml", environment: [:]), keyMaterial: .readingFiles())
        let head = HTTPRequestHead(method: "GET", target: "/x", version: .http11,
                                   fields: [HTTPField(name: "Host", value: "api.test"),
                                            HTTPField(name: "Authorization", value: "Bearer " + (try TestTokens.rs256(["sub": nil])))],
                                   framing: .none, keepAlive: true, expectsContinue: false)
        let ctx = RequestContext(clientAddress: "192.0.2.7", now: Date().timeIntervalSince1970, makeRequestID: { "id" })
        let (steps, decision) = DecisionExplainer.explain(head, context: ctx, runtime: runtime)
        guard case .refuse(let r, _, _) = decision else { return XCTFail("forwarded") }
        XCTAssertEqual(r.status, 401)
        let last = try XCTUnwrap(steps.last)
        XCTAssertEqual(last.check, "subject")
        XCTAssertFalse(last.passed)
        XCTAssertTrue(last.detail.contains("claim sub"), last.detail)
    }
}
