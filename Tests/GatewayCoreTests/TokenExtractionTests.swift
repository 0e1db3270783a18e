import GatewayCore
import GatewayHTTP
import GatewayPolicy
import XCTest

/// Token extraction from a route's `token_from`: exactly one token, unlisted sources ignored,
/// and what is removed before forwarding.
final class TokenExtractionTests: XCTestCase {
    let jws = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln"
    let all: [TokenSource] = [.authorization, .cookie("access_token"), .header("X-Access-Token")]

    func head(_ fields: [(String, String)]) -> HTTPRequestHead {
        HTTPRequestHead(method: "POST", target: "/app", version: .http11,
                        fields: [HTTPField(name: "Host", value: "gw.test")] + fields.map { HTTPField(name: $0.0, value: $0.1) },
                        framing: .none, keepAlive: true, expectsContinue: false)
    }

    func extract(_ fields: [(String, String)], _ sources: [TokenSource]? = nil, forward: Bool = false) -> ExtractedToken {
        TokenExtraction.extract(head(fields), sources: sources ?? all, forwardToken: forward)
    }

    func forwarded(_ fields: [(String, String)], _ sources: [TokenSource]? = nil, forward: Bool = false) -> [String] {
        let h = head(fields)
        let edits: [TokenFieldEdit]
        switch TokenExtraction.extract(h, sources: sources ?? all, forwardToken: forward) {
        case .none(let e), .token(_, _, let e): edits = e
        case .invalid(let why):
            XCTFail("unexpected invalid: \(why)")
            return []
        }
        return TokenFieldEdit.apply(edits, to: h.fields).map { "\($0.name): \($0.value)" }
    }

    func testEachSourceAlone() {
        XCTAssertEqual(extract([("Authorization", "Bearer " + jws)]),
                       .token(Substring(jws), source: .authorization, edits: [.removeFields(named: "Authorization")]))
        XCTAssertEqual(extract([("Cookie", "theme=dark; access_token=\(jws)")]),
                       .token(Substring(jws), source: .cookie("access_token"),
                              edits: [.removeFields(named: "Authorization"), .removeCookie(named: "access_token")]))
        XCTAssertEqual(extract([("x-access-token", jws)]),
                       .token(Substring(jws), source: .header("X-Access-Token"),
                              edits: [.removeFields(named: "Authorization"), .removeFields(named: "X-Access-Token")]))
        XCTAssertEqual(extract([("Cookie", "access_token=\"\(jws)\"")]),
                       .token(Substring(jws), source: .cookie("access_token"),
                              edits: [.removeFields(named: "Authorization"), .removeCookie(named: "access_token")]))
    }

    func testNoTokenAtAll() {
        XCTAssertEqual(extract([]), .none(edits: [.removeFields(named: "Authorization")]))
        XCTAssertEqual(extract([("Cookie", "theme=dark")]), .none(edits: [.removeFields(named: "Authorization")]))
        // Another scheme is no Bearer token (RFC 6750 §3.1), and is not forwarded.
        XCTAssertEqual(extract([("Authorization", "Basic dTpw")]), .none(edits: [.removeFields(named: "Authorization")]))
    }

    func testTwoSourcesEvenIdenticalAreInvalid() {
        XCTAssertEqual(extract([("Authorization", "Bearer " + jws), ("Cookie", "access_token=" + jws)]),
                       .invalid("token sent in more than one way"))
        XCTAssertEqual(extract([("X-Access-Token", jws), ("Cookie", "access_token=other")]),
                       .invalid("token sent in more than one way"))
    }

    func testRepeatedCookieOrHeaderIsInvalid() {
        XCTAssertEqual(extract([("Cookie", "access_token=\(jws); access_token=\(jws)")]),
                       .invalid("cookie access_token sent more than once"))
        XCTAssertEqual(extract([("Cookie", "access_token=\(jws)"), ("Cookie", "a=1; access_token=x")]),
                       .invalid("cookie access_token sent more than once"))
        XCTAssertEqual(extract([("X-Access-Token", jws), ("X-Access-Token", jws)]),
                       .invalid("several X-Access-Token header fields"))
        // `_` reads as `-` to CGI-style upstreams: still two fields.
        XCTAssertEqual(extract([("X-Access-Token", jws), ("X_Access_Token", jws)]),
                       .invalid("several X-Access-Token header fields"))
    }

    func testMalformedOrEmptySourcesAreInvalid() {
        XCTAssertEqual(extract([("Cookie", "access_token =\(jws)")]), .invalid("malformed cookie access_token"))
        XCTAssertEqual(extract([("Cookie", "access_token=")]), .invalid("empty cookie access_token"))
        XCTAssertEqual(extract([("X-Access-Token", "")]), .invalid("empty X-Access-Token header field"))
        let many = (0..<300).map { "c\($0)=1" }.joined(separator: "; ")
        XCTAssertEqual(extract([("Cookie", many)]), .invalid("too many cookies"))
    }

    func testExistingBearerRulesAreKept() {
        XCTAssertEqual(extract([("Authorization", "bEaReR " + jws)], [.authorization]),
                       .token(Substring(jws), source: .authorization, edits: [.removeFields(named: "Authorization")]))
        XCTAssertEqual(extract([("Authorization", "Bearer a b")], [.authorization]), .invalid("malformed bearer credentials"))
        XCTAssertEqual(extract([("Authorization", "Bearer")], [.authorization]), .invalid("bearer token missing"))
        XCTAssertEqual(extract([("Authorization", "Bearer " + jws), ("Authorization", "Bearer " + jws)], [.authorization]),
                       .invalid("several Authorization header fields"))
    }

    func testEveryASCIIByteAnywhereInALongTokenIsJudgedByTheB64TokenRule() {
        // Long tokens are checked 8 bytes at a time: every byte value at positions inside
        // and across those blocks, and at the end (where "=" padding is allowed).
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/".utf8)
        for b in UInt8(0)...0x7F {
            for position in [1, 7, 15, 16, 17, 31, 32, 40, 47] {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 48)
                bytes[position] = b
                let token = String(decoding: bytes, as: UTF8.self)
                let valid = allowed.contains(b) || (b == UInt8(ascii: "=") && position == 47)
                let expected: ExtractedToken = valid
                    ? .token(Substring(token), source: .authorization, edits: [.removeFields(named: "Authorization")])
                    : .invalid("malformed bearer credentials")
                XCTAssertEqual(extract([("Authorization", "Bearer " + token)], [.authorization]), expected,
                               "byte \(b) at \(position)")
            }
        }
        let accented = String(repeating: "a", count: 20) + "é" + String(repeating: "a", count: 20)
        XCTAssertEqual(extract([("Authorization", "Bearer " + accented)], [.authorization]),
                       .invalid("malformed bearer credentials"))
    }

    func testSourcesNotListedAreIgnored() {
        // A cookie-only route: Authorization is not a token (even a malformed one), and is removed.
        XCTAssertEqual(extract([("Authorization", "Bearer a b"), ("Cookie", "access_token=" + jws)], [.cookie("access_token")]),
                       .token(Substring(jws), source: .cookie("access_token"),
                              edits: [.removeFields(named: "Authorization"), .removeCookie(named: "access_token")]))
        XCTAssertEqual(extract([("X-Access-Token", jws), ("X-Access-Token", "x")], [.authorization]),
                       .none(edits: [.removeFields(named: "Authorization")]))
        XCTAssertEqual(extract([("Cookie", "access_token=a; access_token=b")], [.header("X-Access-Token")]),
                       .none(edits: [.removeFields(named: "Authorization")]))
    }

    func testForwardedFieldsWithoutTheToken() {
        XCTAssertEqual(forwarded([("Cookie", "theme=dark; access_token=\(jws);lang=en"), ("Authorization", "Basic x")]),
                       ["Host: gw.test", "Cookie: theme=dark;lang=en"])
        XCTAssertEqual(forwarded([("Cookie", "access_token=\(jws)"), ("Cookie", "theme=dark")]),
                       ["Host: gw.test", "Cookie: theme=dark"])
        XCTAssertEqual(forwarded([("X-Access-Token", jws), ("Cookie", "theme=dark")]),
                       ["Host: gw.test", "Cookie: theme=dark"])
        XCTAssertEqual(forwarded([("Authorization", "Bearer " + jws), ("Cookie", "theme=dark")]),
                       ["Host: gw.test", "Cookie: theme=dark"])
    }

    func testForwardTokenKeepsOnlyTheSource() {
        XCTAssertEqual(forwarded([("Cookie", "theme=dark; access_token=\(jws)"), ("Authorization", "Basic x")], forward: true),
                       ["Host: gw.test", "Cookie: theme=dark; access_token=\(jws)"])
        XCTAssertEqual(forwarded([("X-Access-Token", jws)], forward: true), ["Host: gw.test", "X-Access-Token: \(jws)"])
        XCTAssertEqual(forwarded([("Authorization", "Bearer " + jws)], forward: true),
                       ["Host: gw.test", "Authorization: Bearer \(jws)"])
    }
}
