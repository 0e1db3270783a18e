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
    private var bytes: [UInt8] = []
    /// The `time` field's calendar part, formatted once per second.
    var timestamp = LogTimestamp()
    /// A block at the end of the turn, or the timer, will look at the batch.
    private var flushScheduled = false
    private var timer: DispatchSourceTimer?
    /// Whether the loop has requests in flight (set by the loop; nil: never busy).
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
            flushScheduled = true
            // After the work the loop is doing now (the rest of this turn's events).
            queue.async { [weak self] in self?.endOfTurn() }
        }
    }

    /// Writes the buffered lines now (on `queue`).
    @inline(__always)
    func flush() {
        if !bytes.isEmpty { write() }
    }

    private func endOfTurn() {
        guard !bytes.isEmpty else {
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
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { JSONLogHandler.writeAll(fd, $0) }
        bytes.removeAll(keepingCapacity: true)
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
