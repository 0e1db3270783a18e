import Dispatch
import GatewayCore

/// The access-log lines of one loop, written in batches: one write(2) per batch instead of
/// one per request.
///
/// A batch is every line a loop finished in one turn (the events it handled at once): it is
/// written before the first response bytes a connection of the loop sends after it (so a
/// line is out before the client can see its response, as when each line was written at
/// once), else by a block queued behind the work in progress; no line waits longer than the
/// turn that finished it (far below 100 ms), and a batch reaching `flushBytes` is written at
/// once. `flushAll()` writes every loop's lines (graceful shutdown, before exit).
///
final class AccessLogBuffer: @unchecked Sendable {
    /// A batch this large is written at once, bytes (bounds the memory per loop).
    static let flushBytes = 64 * 1024

    private let fd: Int32
    let queue: DispatchQueue
    private var bytes: [UInt8] = []
    /// The `time` field's calendar part, formatted once per second.
    var timestamp = LogTimestamp()
    /// A write is queued behind the current turn.
    private var flushScheduled = false

    init(fd: Int32, queue: DispatchQueue) {
        self.fd = fd
        self.queue = queue
        bytes.reserveCapacity(Self.flushBytes + 1024)
        Self.registry.add(self)
    }

    deinit {
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
    @inline(__always)
    func flush() {
        if !bytes.isEmpty { write() }
    }

    private func schedule() {
        flushScheduled = true
        // After the work the loop is doing now (the rest of this turn's events).
        queue.async { [weak self] in
            guard let self else { return }
            flushScheduled = false
            write()
        }
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
