import Dispatch
import GatewayCore

/// The access-log lines of one loop, written in batches: one write(2) per batch instead of
/// one per request.
///
/// A batch is written when it reaches `flushBytes`, else at the end of the loop's current
/// turn (a block queued behind the work in progress): at once when the loop has no other
/// request in flight (`isBusy`) or its last write is `minimumInterval` old, otherwise by a
/// timer at `minimumInterval` after the last write. So a lone request's line appears as soon
/// as before and in request order, a busy loop writes about every `minimumInterval` (5 ms),
/// and no line waits longer than that plus one turn (well under 100 ms).
/// `flushAll()` writes every loop's lines (graceful shutdown, before exit).
///
final class AccessLogBuffer: @unchecked Sendable {
    /// A batch this large is written at once, bytes (bounds the memory per loop).
    static let flushBytes = 64 * 1024
    /// Shortest time between two writes of a busy loop, seconds.
    static let minimumInterval = 0.005

    private let fd: Int32
    let queue: DispatchQueue
    private var bytes: [UInt8] = []
    /// The `time` field's calendar part, formatted once per second.
    var timestamp = LogTimestamp()
    /// Monotonic seconds of the last write.
    private var lastWrite = -Double.infinity
    /// A flush is queued or its timer armed.
    private var flushScheduled = false
    private var timer: DispatchSourceTimer?
    /// Whether the loop has a request in flight (set by the loop; nil: never busy).
    var isBusy: (() -> Bool)?

    init(fd: Int32, queue: DispatchQueue) {
        self.fd = fd
        self.queue = queue
        bytes.reserveCapacity(Self.flushBytes + 1024)
        Self.registry.add(self)
    }

    deinit {
        timer?.cancel()
        write()
    }

    /// Appends one line (`build` writes it, newline included) and schedules its write.
    func append(_ build: (inout [UInt8], inout LogTimestamp) -> Void) {
        let wasEmpty = bytes.isEmpty
        build(&bytes, &timestamp)
        if bytes.count >= Self.flushBytes {
            write()
        } else if wasEmpty && !flushScheduled {
            schedule()
        }
    }

    /// Writes the buffered lines now (on `queue`).
    func flush() { write() }

    private func schedule() {
        flushScheduled = true
        // After the work the loop is doing now (the rest of this turn's events).
        queue.async { [weak self] in self?.endOfTurn() }
    }

    private func endOfTurn() {
        let wait = lastWrite + Self.minimumInterval - monotonicSeconds()
        if wait <= 0 || !(isBusy?() ?? false) {
            scheduledFlush()
            return
        }
        let t: DispatchSourceTimer
        if let timer { t = timer } else {
            t = DispatchSource.makeTimerSource(queue: queue)
            t.setEventHandler { [weak self] in self?.scheduledFlush() }
            t.schedule(deadline: .distantFuture)
            t.resume()
            timer = t
        }
        t.schedule(deadline: .now() + .microseconds(Int(wait * 1_000_000) + 1), repeating: .never,
                   leeway: .milliseconds(1))
    }

    private func scheduledFlush() {
        flushScheduled = false
        write()
    }

    private func write() {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { JSONLogHandler.writeAll(fd, $0) }
        bytes.removeAll(keepingCapacity: true)
        lastWrite = monotonicSeconds()
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
