import GatewayCore
import GatewayJOSE
import XCTest

final class RevocationListTests: XCTestCase {
    let corp = "https://corp.example/"
    let other = "https://other.example/"

    var list: RevocationList {
        RevocationList(tokenIDs: [corp: ["t-1", "t-2"]], subjectCutOffs: [corp: ["alice": 1000]])
    }

    func token(_ claims: [(String, JSONValue)]) -> VerifiedToken {
        VerifiedToken(header: .object([("alg", .string("RS256"))]), claims: .object(claims), algorithm: .RS256)
    }

    func testJTIIsScopedByIssuer() {
        XCTAssertTrue(list.isRevoked(iss: corp, jti: "t-1", sub: "bob", iat: 5000))
        XCTAssertFalse(list.isRevoked(iss: other, jti: "t-1", sub: "bob", iat: 5000))
        XCTAssertFalse(list.isRevoked(iss: corp, jti: "t-3", sub: "bob", iat: 5000))
        XCTAssertFalse(list.isRevoked(iss: corp, jti: nil, sub: "bob", iat: 5000))
    }

    func testSubjectIsRevokedForTokensIssuedBeforeTheCutOff() {
        XCTAssertTrue(list.isRevoked(iss: corp, jti: nil, sub: "alice", iat: 999))
        XCTAssertTrue(list.isRevoked(iss: corp, jti: nil, sub: "alice", iat: 999.5))
        XCTAssertFalse(list.isRevoked(iss: corp, jti: nil, sub: "alice", iat: 1000))
        XCTAssertFalse(list.isRevoked(iss: corp, jti: nil, sub: "alice", iat: 2000))
        XCTAssertFalse(list.isRevoked(iss: other, jti: nil, sub: "alice", iat: 1))
        XCTAssertFalse(list.isRevoked(iss: corp, jti: nil, sub: "alicia", iat: 1))
    }

    func testSubjectWithoutIatIsRevoked() {
        XCTAssertTrue(list.isRevoked(iss: corp, jti: nil, sub: "alice", iat: nil))
        XCTAssertFalse(list.isRevoked(iss: corp, jti: nil, sub: "bob", iat: nil))
    }

    func testVerifiedTokenClaimsAreRead() {
        XCTAssertTrue(list.isRevoked(token([("sub", .string("bob")), ("jti", .string("t-2"))]), iss: corp))
        XCTAssertTrue(list.isRevoked(token([("sub", .string("alice")), ("iat", .number(JSONNumber(10)))]), iss: corp))
        XCTAssertTrue(list.isRevoked(token([("sub", .string("alice"))]), iss: corp))
        XCTAssertFalse(list.isRevoked(token([("sub", .string("alice")), ("iat", .number(JSONNumber(1000)))]), iss: corp))
        // A jti that is not a string is not a listed jti.
        XCTAssertFalse(list.isRevoked(token([("sub", .string("bob")), ("jti", .number(JSONNumber(1)))]), iss: corp))
        XCTAssertFalse(RevocationList.empty.isRevoked(token([("sub", .string("alice"))]), iss: corp))
    }

    func testMatchingIsByExactBytes() {
        let composed = "caf\u{E9}"          // é as one scalar
        let decomposed = "cafe\u{301}"      // e + combining acute: equal as Swift Strings
        XCTAssertEqual(composed, decomposed)
        let l = RevocationList(tokenIDs: [corp: [composed, String(repeating: "j", count: 200)]])
        XCTAssertTrue(l.lists(iss: corp, jti: composed))
        XCTAssertFalse(l.lists(iss: corp, jti: decomposed))
        XCTAssertTrue(l.lists(iss: corp, jti: String(repeating: "j", count: 200)))
        XCTAssertFalse(l.lists(iss: corp, jti: String(repeating: "j", count: 199)))
        XCTAssertFalse(l.lists(iss: corp, jti: ""))
    }

    func testMergingIsAUnionKeepingTheLaterCutOff() {
        let a = RevocationList(tokenIDs: [corp: ["x"]], subjectCutOffs: [corp: ["alice": 10, "bob": 50]])
        let b = RevocationList(tokenIDs: [corp: ["y"], other: ["x"]], subjectCutOffs: [corp: ["alice": 20, "bob": 40]])
        let m = a.merging(b)
        XCTAssertEqual(m.count, 5)
        XCTAssertTrue(m.lists(iss: corp, jti: "x"))
        XCTAssertTrue(m.lists(iss: corp, jti: "y"))
        XCTAssertTrue(m.lists(iss: other, jti: "x"))
        XCTAssertFalse(m.lists(iss: other, jti: "y"))
        XCTAssertEqual(m.cutOff(iss: corp, sub: "alice"), 20)
        XCTAssertEqual(m.cutOff(iss: corp, sub: "bob"), 50)
        XCTAssertTrue(a.merging(.empty) === a)
        XCTAssertTrue(RevocationList.empty.merging(b) === b)
    }
}
