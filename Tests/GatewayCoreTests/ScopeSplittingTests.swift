import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// The scope claim's space-separated words: split on the Character " " (so a space that
/// carries a combining mark separates nothing), empty words skipped, exact duplicates dropped.
final class ScopeSplittingTests: XCTestCase {
    let clock = ManualClock()

    func decide(_ scope: String) throws -> Decision {
        let rt = try GatewayRuntime(config: try ConfigLoader.parse(yaml: VerifiedTokenFactsTests.yaml, path: "t.yml", environment: [:]),
                                    keyMaterial: .readingFiles())
        let now = clock.wallSeconds
        let token = try TestTokens.rs256(["iat": .number(now), "exp": .number(now + 60), "scope": .string(scope)])
        let head = HTTPRequestHead(method: "GET", target: "/orders/1", version: .http11,
                                   fields: [HTTPField(name: "Host", value: "api.test"),
                                            HTTPField(name: "Authorization", value: "Bearer " + token)],
                                   framing: .none, keepAlive: true, expectsContinue: false)
        let ctx = RequestContext(clientAddress: "192.0.2.7", now: now, makeRequestID: { "id" })
        return RequestPipeline.decide(head, context: ctx, runtime: rt)
    }

    func scopesHeader(_ scope: String) throws -> [String]? {
        let d = try decide(scope)
        guard case .forward(let p) = d else { return nil }
        return p.fields.filter { $0.name == "X-Auth-Scopes" }.map(\.value)
    }

    func testASCIIWordsAreSplitOnSpacesWithoutEmptyOrRepeatedOnes() throws {
        XCTAssertEqual(try scopesHeader("  read:orders   admin read:orders "), ["read:orders admin"])
        XCTAssertEqual(try scopesHeader("read:orders"), ["read:orders"])
        XCTAssertEqual(try scopesHeader("read:orders\tadmin"), nil)  // a tab inside one scope: refused
    }

    func testNonASCIIScopesSplitOnCharacters() throws {
        XCTAssertEqual(try scopesHeader("read:orders caf\u{E9} caf\u{E9}"), ["read:orders caf\u{E9}"])
        // Canonically equivalent spellings are different scopes (exact bytes).
        XCTAssertEqual(try scopesHeader("read:orders caf\u{E9} cafe\u{301}"), ["read:orders caf\u{E9} cafe\u{301}"])
        // " \u{301}" is one Character, not a space: the word keeps it and cannot be forwarded.
        XCTAssertNil(try scopesHeader("read:orders x \u{301}y"))
        guard case .refuse(let r, _, _) = try decide("read:orders x \u{301}y") else { return XCTFail("not refused") }
        XCTAssertEqual(r.status, 401)
    }
}
