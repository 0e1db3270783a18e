import XCTest
@testable import GatewayServer

/// `ByteQueue`: FIFO order, water marks with hysteresis, taking back unsent bytes.
final class ByteQueueTests: XCTestCase {
    func bytes(_ n: Int, _ v: UInt8 = 7) -> [UInt8] { [UInt8](repeating: v, count: n) }

    func testBytesLeaveInOrderAndTheQueueEmpties() {
        var q = ByteQueue(highWater: 100, lowWater: 10)
        q.append(Array("hello ".utf8))
        q.append(Array("world".utf8))
        XCTAssertEqual(q.count, 11)
        XCTAssertEqual(q.withReadableBytes { Array($0) }, Array("hello world".utf8))
        q.consume(6)
        XCTAssertEqual(q.withReadableBytes { Array($0) }, Array("world".utf8))
        q.consume(5)
        XCTAssertTrue(q.isEmpty)
        XCTAssertEqual(q.appendedTotal, 11)
        XCTAssertEqual(q.consumedTotal, 11)
    }

    func testFullAtHighWaterAndNotFullOnlyAtLowWater() {
        var q = ByteQueue(highWater: 100, lowWater: 20)
        XCTAssertFalse(q.append(bytes(99)))
        XCTAssertFalse(q.isFull)
        XCTAssertTrue(q.append(bytes(1)), "reaching the high-water mark turns the queue full")
        XCTAssertTrue(q.isFull)
        XCTAssertFalse(q.append(bytes(5)), "already full: no second transition")
        // Hysteresis: draining below the high mark is not enough.
        XCTAssertFalse(q.consume(50))
        XCTAssertTrue(q.isFull, "55 bytes left, above the low-water mark: still full")
        XCTAssertFalse(q.consume(30))
        XCTAssertTrue(q.isFull, "25 bytes left: still full")
        XCTAssertTrue(q.consume(5), "20 bytes = the low-water mark: not full any more, exactly once")
        XCTAssertFalse(q.isFull)
        XCTAssertFalse(q.consume(10))
    }

    func testReserveRefusesWhatWouldPassTheHighWaterMark() {
        var q = ByteQueue(highWater: 64, lowWater: 16)
        XCTAssertTrue(q.reserve(1000), "an empty queue takes any chunk, so one large chunk always moves")
        q.append(bytes(40))
        XCTAssertTrue(q.reserve(24))
        XCTAssertFalse(q.reserve(25), "40 + 25 > 64")
        XCTAssertTrue(q.isFull, "a refused reservation pauses the producer")
        XCTAssertFalse(q.reserve(1), "paused until the low-water mark")
        XCTAssertFalse(q.consume(20))
        XCTAssertFalse(q.reserve(1), "20 left, above the low-water mark")
        XCTAssertTrue(q.consume(4), "16 left: resume")
        XCTAssertTrue(q.reserve(48))
    }

    func testTakeCopiesOutAndReportsTheLowWaterTransition() {
        var q = ByteQueue(highWater: 8, lowWater: 2)
        q.append(Array(0..<10))
        XCTAssertTrue(q.isFull)
        var out = [UInt8](repeating: 0, count: 4)
        let first = out.withUnsafeMutableBytes { q.take(into: $0) }
        XCTAssertEqual(first.count, 4)
        XCTAssertFalse(first.drained)
        XCTAssertEqual(out, [0, 1, 2, 3])
        let second = out.withUnsafeMutableBytes { q.take(into: $0) }
        XCTAssertEqual(out, [4, 5, 6, 7])
        XCTAssertTrue(second.drained)
    }

    func testTruncateTakesBackBytesNotYetConsumed() {
        var q = ByteQueue(highWater: 1000, lowWater: 10)
        q.append(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        q.consume(25)  // the interim response left
        let mark = q.appendedTotal
        q.append(Array("HTTP/1.1 200 OK\r\n\r\nbody".utf8))
        XCTAssertTrue(q.holds(position: mark))
        q.truncate(to: mark)
        XCTAssertTrue(q.isEmpty)
        q.append(Array("HTTP/1.1 502".utf8))
        XCTAssertEqual(q.withReadableBytes { Array($0) }, Array("HTTP/1.1 502".utf8))
    }

    func testAPositionPartlySentCannotBeTakenBack() {
        var q = ByteQueue(highWater: 1000, lowWater: 10)
        let mark = q.appendedTotal
        q.append(Array("HTTP/1.1 200 OK\r\n".utf8))
        q.consume(1)
        XCTAssertFalse(q.holds(position: mark), "a byte of it left: it cannot be taken back")
    }

    func testMemoryIsGivenBackWhenEmpty() {
        var q = ByteQueue(highWater: 1 << 20, lowWater: 1 << 10, retainedCapacity: 4096)
        q.append(bytes(512 * 1024))
        XCTAssertGreaterThanOrEqual(q.capacity, 512 * 1024)
        q.consume(512 * 1024)
        XCTAssertLessThanOrEqual(q.capacity, 4096, "a large buffer is released once it empties")
        q.append(bytes(100))
        q.removeAll()
        XCTAssertEqual(q.capacity, 0)
        XCTAssertFalse(q.isFull)
    }

    func testLongStreamsCompactTheConsumedPrefix() {
        var q = ByteQueue(highWater: 1 << 22, lowWater: 1 << 10)
        for i in 0..<200 {
            q.append(bytes(4096, UInt8(i & 0xFF)))
            q.consume(4000)
        }
        XCTAssertEqual(q.count, 200 * 96)
        XCTAssertLessThan(q.capacity, 256 * 1024, "the consumed prefix does not pile up")
    }
}
