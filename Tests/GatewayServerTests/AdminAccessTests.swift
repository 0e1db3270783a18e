import GatewayHTTP
import XCTest
@testable import GatewayServer

/// Who may `POST /reload`: loopback peers, or the admin token.
final class AdminAccessTests: XCTestCase {
    func auth(_ value: String) -> [HTTPField] { [HTTPField(name: "Authorization", value: value)] }

    func testLoopbackPeersMayReloadWithoutAToken() {
        for peer in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            XCTAssertTrue(AdminAccess.mayReload(peer: peer, fields: [], expectedToken: nil), peer)
        }
        for peer in ["10.0.0.5", "128.0.0.1", "::2", "::ffff:10.0.0.1", "1270.0.0.1", "127.0.0.1.5"] {
            XCTAssertFalse(AdminAccess.isLoopback(peer), peer)
        }
    }

    func testOtherPeersNeedExactlyTheToken() {
        let peer = "10.1.2.3"
        XCTAssertFalse(AdminAccess.mayReload(peer: peer, fields: [], expectedToken: "s3cret-value"))
        XCTAssertTrue(AdminAccess.mayReload(peer: peer, fields: auth("Bearer s3cret-value"), expectedToken: "s3cret-value"))
        XCTAssertTrue(AdminAccess.mayReload(peer: peer, fields: auth("bearer s3cret-value"), expectedToken: "s3cret-value"),
                      "the scheme name is case-insensitive (RFC 9110 §11.1)")
        XCTAssertFalse(AdminAccess.mayReload(peer: peer, fields: auth("Bearer s3cret-valuE"), expectedToken: "s3cret-value"))
        XCTAssertFalse(AdminAccess.mayReload(peer: peer, fields: auth("Bearer s3cret-value2"), expectedToken: "s3cret-value"))
        XCTAssertFalse(AdminAccess.mayReload(peer: peer, fields: auth("Bearer s3cret"), expectedToken: "s3cret-value"))
        XCTAssertFalse(AdminAccess.mayReload(peer: peer, fields: auth("Basic s3cret-value"), expectedToken: "s3cret-value"))
        XCTAssertFalse(AdminAccess.mayReload(peer: peer, fields: auth("Bearer s3cret-value") + auth("Bearer s3cret-value"),
                                             expectedToken: "s3cret-value"), "exactly one Authorization field")
    }

    func testNoConfiguredOrEmptyTokenAcceptsNoToken() {
        XCTAssertFalse(AdminAccess.mayReload(peer: "10.0.0.1", fields: auth("Bearer "), expectedToken: ""))
        XCTAssertFalse(AdminAccess.mayReload(peer: "10.0.0.1", fields: auth("Bearer x"), expectedToken: nil))
    }

    func testConstantTimeEquals() {
        XCTAssertTrue(AdminAccess.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        XCTAssertFalse(AdminAccess.constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        XCTAssertFalse(AdminAccess.constantTimeEquals(Array("abc".utf8), Array("abc\0".utf8)))
        XCTAssertFalse(AdminAccess.constantTimeEquals([], Array("a".utf8)))
    }
}
