import Dispatch
import GatewayCore

/// The access-log lines of one loop, written in batches: one write(2) per batch instead of
/// one per request.
///
/// While the loop has no other request in flight, the lines are written before the next
/// response bytes a connection of the loop sends (`flush`, so a client never sees a
/// response before its line, as when each line was written at once), or else at the end of
/// the loop's turn. While other requests are in flight (`isBusy`), lines wait for a timer
/// `maximumDelay` (5 ms) after the batch began, so a busy loop writes about once per
/// `maximumDelay`; a batch reaching `flushBytes` is written at once. No line waits longer
/// than `maximumDelay` plus one turn (far below 100 ms). `flushAll()` writes every loop's
/// lines (graceful shutdown, before exit).
///
/// `@unchecked Sendable`: the buffer is touched on `queue` only (`flushAll` goes through it).
final class AccessLogBuffer: @unchecked Sendable {
    /// A batch this large is written at once, bytes (bounds the memory per loop).
    static let flushBytes = 64 * 1024
    /// Longest wait of a batch on a busy loop, seconds.
    static let maximumDelay = 0.005

    private let fd: Int32
    let queue: DispatchQueue
    /// The batch: `count` bytes of lines in memory for `capacity` bytes, owned by the buffer.
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var count = 0
    /// The `time` field's calendar part, formatted once per second.
    private var timestamp = LogTimestamp()
    /// A block at the end of the turn, or the timer, will look at the batch.
    private var flushScheduled = false
    private var timer: DispatchSourceTimer?
    /// Whether the loop has requests in flight (set by the loop; nil: never busy).
    var isBusy: (() -> Bool)?

    init(fd: Int32, queue: DispatchQueue) {
        self.fd = fd
        self.queue = queue
        capacity = Self.flushBytes + 16 * 1024
        storage = .allocate(capacity: capacity)
        Self.registry.add(self)
    }

    deinit {
        timer?.cancel()
        write()
        storage.deallocate()
    }

    /// Appends one line and schedules its write: `build` writes it (newline included, at
    /// most `maximumLength` bytes) at the pointer given, the time through the timestamp,
    /// and returns its length.
    @inline(__always)
    func append(maximumLength: Int, _ build: (UnsafeMutablePointer<UInt8>, inout LogTimestamp) -> Int) {
        if count + maximumLength > capacity { makeRoom(maximumLength) }
        let start = count
        var time = timestamp
        let length = build(storage + start, &time)
        precondition(length <= maximumLength, "an access-log line overran its bound")
        timestamp = time
        count = start + length
        if count >= Self.flushBytes {
            write()
        } else if start == 0 && !flushScheduled {
            flushScheduled = true
            // After the work the loop is doing now (the rest of this turn's events).
            queue.async { [weak self] in self?.endOfTurn() }
        }
    }

    /// Writes the buffered lines now (on `queue`).
    @inline(__always)
    func flush() {
        if count > 0 { write() }
    }

    /// Writes the batch, then grows the storage when one line could need more than it holds
    /// (a line far longer than usual; the memory stays bounded by the longest line).
    private func makeRoom(_ maximumLength: Int) {
        write()
        guard maximumLength > capacity else { return }
        storage.deallocate()
        capacity = maximumLength
        storage = .allocate(capacity: capacity)
    }

    private func endOfTurn() {
        guard count > 0 else {
            flushScheduled = false
            return
        }
        guard isBusy?() ?? false else {
            flushScheduled = false
            write()
            return
        }
        let t: DispatchSourceTimer
        if let timer { t = timer } else {
            t = DispatchSource.makeTimerSource(queue: queue)
            t.setEventHandler { [weak self] in
                guard let self else { return }
                flushScheduled = false
                write()
            }
            t.schedule(deadline: .distantFuture)
            t.resume()
            timer = t
        }
        t.schedule(deadline: .now() + .microseconds(Int(Self.maximumDelay * 1_000_000)), repeating: .never,
                   leeway: .milliseconds(1))
    }

    private func write() {
        guard count > 0 else { return }
        JSONLogHandler.writeAll(fd, UnsafeRawBufferPointer(start: storage, count: count))
        count = 0
    }

    /// Writes the buffered lines of every loop (each on its own queue, waiting for it).
    /// Call from outside the loops' queues, e.g. before the process exits.
    static func flushAll() {
        for buffer in registry.live() {
            buffer.queue.sync { buffer.flush() }
        }
    }

    /// Every buffer alive, weakly held.
    private static let registry = Registry()

    private final class Registry: @unchecked Sendable {
        private struct Entry { weak var buffer: AccessLogBuffer? }
        private let lock = Mutex()
        private var entries: [Entry] = []

        func add(_ b: AccessLogBuffer) {
            lock.withLock {
                entries.removeAll { $0.buffer == nil }
                entries.append(Entry(buffer: b))
            }
        }

        func live() -> [AccessLogBuffer] {
            lock.withLock { entries.compactMap(\.buffer) }
        }
    }
}
