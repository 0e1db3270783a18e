import XCTest
import GatewayJOSE

/// The one RFC 3339 formatter: UTC with `Z`, milliseconds truncated.
final class RFC3339Tests: XCTestCase {
    func testEpochAndMilliseconds() {
        XCTAssertEqual(RFC3339.string(epochSeconds: 0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(RFC3339.string(epochSeconds: 1_700_000_000.123), "2023-11-14T22:13:20.123Z")
        XCTAssertEqual(RFC3339.string(epochSeconds: 1_700_000_000.0009), "2023-11-14T22:13:20.000Z")
        XCTAssertEqual(RFC3339.string(epochSeconds: 1_700_000_000.9999), "2023-11-14T22:13:20.999Z")
    }

    func testWithoutFraction() {
        XCTAssertEqual(RFC3339.string(epochSeconds: 1_796_291_531, milliseconds: false), "2026-12-03T09:52:11Z")
        XCTAssertEqual(RFC3339.string(epochSeconds: 1_796_291_531.75, milliseconds: false), "2026-12-03T09:52:11Z")
    }

    func testCalendarEdges() {
        // Leap day, end of a leap year, a century that is not a leap year, 2038.
        XCTAssertEqual(RFC3339.string(epochSeconds: 951_782_400), "2000-02-29T00:00:00.000Z")
        XCTAssertEqual(RFC3339.string(epochSeconds: 1_609_459_199.5), "2020-12-31T23:59:59.500Z")
        XCTAssertEqual(RFC3339.string(epochSeconds: 4_107_542_400, milliseconds: false), "2100-03-01T00:00:00Z")
        XCTAssertEqual(RFC3339.string(epochSeconds: 2_147_483_648, milliseconds: false), "2038-01-19T03:14:08Z")
        XCTAssertEqual(RFC3339.string(epochSeconds: 253_402_300_799, milliseconds: false), "9999-12-31T23:59:59Z")
    }

    func testBeforeTheEpochCountsBack() {
        XCTAssertEqual(RFC3339.string(epochSeconds: -1), "1969-12-31T23:59:59.000Z")
        XCTAssertEqual(RFC3339.string(epochSeconds: -0.25), "1969-12-31T23:59:59.750Z")
    }

    func testBytesEqualString() {
        var bytes: [UInt8] = [0x78]
        RFC3339.append(epochSeconds: 1_700_000_000.5, to: &bytes)
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self), "x2023-11-14T22:13:20.500Z")
    }
}
