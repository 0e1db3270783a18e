import XCTest
@testable import GatewayServer

/// One deadline per role: arming one never cancels another; expiry is in deadline order.
final class ConnectionTimersTests: XCTestCase {
    func testRolesDoNotClobberEachOther() {
        var t = ConnectionTimers()
        t.schedule(.body, at: 30)
        t.schedule(.writeProgress, at: 60)
        t.schedule(.body, at: 35)  // body progress moves only the body deadline
        XCTAssertEqual(t[.body], 35)
        XCTAssertEqual(t[.writeProgress], 60)
        XCTAssertNil(t[.header])
        t.cancel(.body)
        XCTAssertNil(t[.body])
        XCTAssertEqual(t[.writeProgress], 60, "cancelling one role leaves the others")
    }

    func testExpiryReturnsEachExpiredRoleOnceEarliestFirst() {
        var t = ConnectionTimers()
        t.schedule(.idle, at: 10)
        t.schedule(.header, at: 5)
        t.schedule(.linger, at: 20)
        XCTAssertNil(t.takeExpired(now: 4.999))
        XCTAssertEqual(t.earliest, 5)
        XCTAssertEqual(t.takeExpired(now: 12), .header)
        XCTAssertEqual(t.takeExpired(now: 12), .idle)
        XCTAssertNil(t.takeExpired(now: 12), "each fires once")
        XCTAssertEqual(t.takeExpired(now: 20), .linger)
        XCTAssertEqual(t.earliest, .infinity)
    }

    func testCancelAll() {
        var t = ConnectionTimers()
        for (i, role) in ConnectionTimers.Role.allCases.enumerated() { t.schedule(role, at: Double(i)) }
        t.cancelAll()
        XCTAssertNil(t.takeExpired(now: 1e9))
    }
}
