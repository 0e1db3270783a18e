import XCTest
import GatewayCore

final class ClockTests: XCTestCase {
    func testManualClockMovesOnlyWhenTold() {
        let clock = ManualClock(monotonic: 10, wall: 1_700_000_000)
        XCTAssertEqual(clock.monotonicSeconds, 10)
        XCTAssertEqual(clock.wallSeconds, 1_700_000_000)
        XCTAssertEqual(clock.monotonicSeconds, 10)
        clock.advance(by: 2.5)
        XCTAssertEqual(clock.monotonicSeconds, 12.5)
        XCTAssertEqual(clock.wallSeconds, 1_700_000_002.5)
    }

    func testSettingWallTimeLeavesMonotonicAlone() {
        let clock = ManualClock()
        clock.advance(by: 1)
        clock.setWall(1_000)  // the system time set back
        XCTAssertEqual(clock.wallSeconds, 1_000)
        XCTAssertEqual(clock.monotonicSeconds, 1)
    }

    func testUsableThroughTheProtocol() {
        func elapsed(_ clock: some GatewayClock, _ body: () -> Void) -> Double {
            let start = clock.monotonicSeconds
            body()
            return clock.monotonicSeconds - start
        }
        let clock = ManualClock()
        XCTAssertEqual(elapsed(clock) { clock.advance(by: 30) }, 30)
    }

    func testSystemClockReadsTheOperatingSystem() {
        let clock = SystemClock()
        let a = clock.monotonicSeconds, b = clock.monotonicSeconds
        XCTAssertGreaterThanOrEqual(b, a)
        // Wall time is after 2023-11-14 and whole seconds are its truncation.
        let wall = clock.wallSeconds
        XCTAssertGreaterThan(wall, 1_700_000_000)
        let whole = clock.wholeWallSeconds
        XCTAssertEqual(whole, whole.rounded(.down))
        XCTAssertLessThan(abs(whole - wall), 5)
    }
}
