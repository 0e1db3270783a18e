/// A first-in first-out byte buffer for one direction of a connection: bytes are appended
/// at the end and consumed from a reader index, so consuming never moves memory; the
/// consumed prefix is dropped when the queue empties (or once it is the larger part).
///
/// Water marks with hysteresis: the queue turns *full* when it reaches `highWater` bytes and
/// stays full until it drains to `lowWater` or below, so a producer paused at the high mark
/// is resumed once, at the low mark, instead of on every write that makes a little room.
///
/// Positions (`appendedTotal`, `consumedTotal`) count bytes since the queue was made; a
/// position not yet consumed can be truncated back to (taking back a queued response that
/// has not started leaving).
struct ByteQueue {
    private var storage: [UInt8] = []
    private var readIndex = 0
    /// Bytes at which the queue turns full.
    let highWater: Int
    /// Bytes at or below which a full queue turns not full again.
    let lowWater: Int
    /// Capacity kept when the queue empties; a larger buffer is released.
    let retainedCapacity: Int
    /// Whether the queue is full (reached `highWater`, not yet back to `lowWater`).
    private(set) var isFull = false
    private(set) var appendedTotal: UInt64 = 0
    var consumedTotal: UInt64 { appendedTotal - UInt64(count) }

    /// - Precondition: `0 <= lowWater < highWater`.
    init(highWater: Int, lowWater: Int, retainedCapacity: Int = 16 * 1024) {
        precondition(lowWater >= 0 && lowWater < highWater, "ByteQueue needs 0 <= lowWater < highWater")
        self.highWater = highWater
        self.lowWater = lowWater
        self.retainedCapacity = retainedCapacity
    }

    /// Bytes queued and not consumed.
    var count: Int { storage.count - readIndex }
    var isEmpty: Bool { readIndex == storage.count }
    /// Bytes of memory the queue holds (for measuring).
    var capacity: Int { storage.capacity }

    /// Appends bytes.
    /// - Returns: true when this append made the queue full.
    @discardableResult
    mutating func append(_ bytes: UnsafeRawBufferPointer) -> Bool {
        makeRoom(bytes.count)
        storage.append(contentsOf: bytes)
        return appended(bytes.count)
    }

    /// Appends bytes.
    /// - Returns: true when this append made the queue full.
    @discardableResult
    mutating func append(_ bytes: [UInt8]) -> Bool {
        makeRoom(bytes.count)
        storage.append(contentsOf: bytes)
        return appended(bytes.count)
    }

    /// Drops the consumed prefix instead of letting the buffer grow: the memory held stays
    /// near the bytes queued (at most `highWater` for a producer that uses `reserve`), not
    /// twice that after a doubling.
    private mutating func makeRoom(_ n: Int) {
        if readIndex > 0 && storage.count + n > storage.capacity {
            storage.removeFirst(readIndex)
            readIndex = 0
        }
    }

    private mutating func appended(_ n: Int) -> Bool {
        appendedTotal += UInt64(n)
        if !isFull && count >= highWater {
            isFull = true
            return true
        }
        return false
    }

    /// Whether `n` more bytes fit under `highWater` (an empty queue takes any amount, so a
    /// single large chunk always moves). When they do not, the queue turns full: the
    /// producer pauses and is resumed once the queue drains to `lowWater`.
    mutating func reserve(_ n: Int) -> Bool {
        if isFull && !isEmpty { return false }
        if isEmpty || count + n <= highWater { return true }
        isFull = true
        return false
    }

    /// Calls `body` with the queued bytes (valid only inside `body`).
    func withReadableBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[readIndex...])) }
    }

    /// The queued bytes in `range` (relative to the first queued byte) as an array.
    func bytes(_ range: Range<Int>) -> ArraySlice<UInt8> {
        storage[(readIndex + range.lowerBound)..<(readIndex + range.upperBound)]
    }

    /// Removes `n` bytes from the front.
    /// - Returns: true when this made a full queue not full (at or below `lowWater`).
    /// - Precondition: `n <= count`.
    @discardableResult
    mutating func consume(_ n: Int) -> Bool {
        precondition(n >= 0 && n <= count, "ByteQueue.consume past the queued bytes")
        readIndex += n
        if readIndex == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= retainedCapacity)
            readIndex = 0
        } else if readIndex >= 32 * 1024 && readIndex >= storage.count / 2 {
            storage.removeFirst(readIndex)
            readIndex = 0
        }
        if isFull && count <= lowWater {
            isFull = false
            return true
        }
        return false
    }

    /// Copies up to `buffer.count` bytes out and consumes them.
    /// - Returns: bytes copied, and whether the queue stopped being full.
    mutating func take(into buffer: UnsafeMutableRawBufferPointer) -> (count: Int, drained: Bool) {
        let n = min(buffer.count, count)
        guard n > 0 else { return (0, false) }
        withReadableBytes { src in buffer.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: n) }
        return (n, consume(n))
    }

    /// Whether the byte at absolute position `position` is still queued (not consumed).
    func holds(position: UInt64) -> Bool { position >= consumedTotal && position <= appendedTotal }

    /// Drops every byte appended at or after absolute position `position`.
    /// - Precondition: `holds(position:)`.
    mutating func truncate(to position: UInt64) {
        precondition(holds(position: position), "ByteQueue.truncate to a consumed position")
        let drop = Int(appendedTotal - position)
        storage.removeLast(drop)
        appendedTotal = position
        if isFull && count <= lowWater { isFull = false }
        if isEmpty { storage.removeAll(keepingCapacity: storage.capacity <= retainedCapacity); readIndex = 0 }
    }

    /// Empties the queue and gives its memory back.
    mutating func removeAll() {
        appendedTotal -= UInt64(count)
        storage = []
        readIndex = 0
        isFull = false
    }
}
