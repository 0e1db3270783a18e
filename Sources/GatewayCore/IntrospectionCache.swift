/// One issuer's introspection answers by token, and the calls in flight.
///
/// Keyed by a `RevocationKey` of the token's bytes (128 bits, seeded at random per process):
/// the token itself is never kept. An answer is reused until its deadline (the issuer's
/// `cache`, never past the token's `exp`); failures are never stored. A lookup is one
/// mutex acquisition and one hash probe.
///
/// Single flight: the first request for a token that is not cached `join`s and is told to
/// make the call; every request for the same token arriving while it runs joins it and is
/// woken by `finish` with the same answer.
///
/// Bounded by `maxEntries`: when full, the oldest entries go first (FIFO).
///
/// `@unchecked Sendable`: mutable state is guarded by `mutex`.
public final class IntrospectionCache: @unchecked Sendable {
    struct Entry {
        var active: Bool
        /// Seconds since the epoch; the entry is not used from then on.
        var until: Double
    }

    /// Most answers kept (about 100 bytes each).
    public let maxEntries: Int
    private let mutex = Mutex()
    private var entries: [RevocationKey: Entry] = [:]
    private var order: [RevocationKey] = []
    private var orderStart = 0
    private var waiters: [RevocationKey: [@Sendable (IntrospectionAnswer) -> Void]] = [:]
    private var calls = 0

    public init(maxEntries: Int = 100_000) {
        self.maxEntries = max(1, maxEntries)
    }

    /// The cached answer for `key` at `now` (seconds since the epoch), or nil.
    public func lookup(_ key: RevocationKey, now: Double) -> IntrospectionAnswer? {
        mutex.withLock {
            guard let e = entries[key], now < e.until else { return nil }
            return e.active ? .active(exp: nil) : .inactive
        }
    }

    /// Waits for the answer about `key`: `completion` runs exactly once, on the thread that
    /// calls `finish`.
    /// - Returns: true when no call for `key` is running: the caller must make it and then
    ///   call `finish` exactly once; false when the request joined a running call.
    public func join(_ key: RevocationKey, completion: @escaping @Sendable (IntrospectionAnswer) -> Void) -> Bool {
        mutex.withLock {
            if waiters[key] != nil {
                waiters[key]!.append(completion)
                return false
            }
            waiters[key] = [completion]
            calls += 1
            return true
        }
    }

    /// Ends the call `join` asked for: stores an active or inactive answer until `until`
    /// (when that is after `now`), then wakes every request waiting for it.
    public func finish(_ key: RevocationKey, answer: IntrospectionAnswer, until: Double, now: Double) {
        let woken: [@Sendable (IntrospectionAnswer) -> Void] = mutex.withLock {
            switch answer {
            case .active, .inactive:
                if until > now { store(key, Entry(active: answer != .inactive, until: until), now: now) }
            case .unavailable:
                break
            }
            return waiters.removeValue(forKey: key) ?? []
        }
        for w in woken { w(answer) }
    }

    /// Calls started so far (for tests and `gateway explain`).
    public var callsStarted: Int { mutex.withLock { calls } }

    /// Answers held now (expired ones included until they are pushed out).
    public var count: Int { mutex.withLock { entries.count } }

    /// Under `mutex`.
    private func store(_ key: RevocationKey, _ entry: Entry, now: Double) {
        if entries.updateValue(entry, forKey: key) == nil { order.append(key) }
        while entries.count > maxEntries, orderStart < order.count {
            entries.removeValue(forKey: order[orderStart])
            orderStart += 1
        }
        // Keys already removed stay in `order` until compacted here.
        if orderStart > 1024 && orderStart * 2 > order.count {
            order.removeFirst(orderStart)
            orderStart = 0
            order.removeAll { entries[$0] == nil }
        }
    }
}
