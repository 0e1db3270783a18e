import Dispatch
import XCTest
import GatewayCore

final class MutexTests: XCTestCase {
    /// Increments from many threads are never lost (bounded: 8 × 2,000).
    func testConcurrentIncrementsAreAllCounted() {
        final class Box: @unchecked Sendable { var n = 0 }
        let mutex = Mutex()
        let box = Box()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<2_000 { mutex.withLock { box.n += 1 } }
        }
        XCTAssertEqual(mutex.withLock { box.n }, 16_000)
    }

    /// A throwing body releases the lock: the next `withLock` does not deadlock.
    func testThrowingBodyReleasesTheLock() {
        struct Boom: Error {}
        let mutex = Mutex()
        XCTAssertThrowsError(try mutex.withLock { throw Boom() })
        XCTAssertEqual(mutex.withLock { 7 }, 7)
    }
}
