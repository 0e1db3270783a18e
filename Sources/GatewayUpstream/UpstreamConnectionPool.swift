/// A loop's idle upstream connections, by `UpstreamPoolKey`, most recently used first
/// (a warm connection is reused before a colder one the upstream may be about to close).
///
/// Bounded: at most `capacity` idle connections in all; when full, the connection idle
/// longest (whatever its upstream) makes room for the one offered, as libcurl's connection
/// cache does: otherwise connections to one upstream that never closes idle ones would
/// keep every other upstream from reusing any. A connection idle for longer than `maxIdleNanoseconds`
/// is not handed out (upstreams commonly close idle connections after 60 s or more; the
/// readiness watch catches most closes, this catches a close still in flight).
///
/// Only touched on the loop's queue.
struct UpstreamConnectionPool {
    static let capacity = 256
    static let maxIdleNanoseconds: UInt64 = 50_000_000_000

    private var idle: [UpstreamPoolKey: [UpstreamConnection]] = [:]
    private(set) var count = 0

    /// The most recently pooled connection for `key` that is young enough. Older ones met
    /// on the way are returned in `expired` for the caller to close.
    mutating func take(_ key: UpstreamPoolKey, now: UInt64, expired: inout [UpstreamConnection]) -> UpstreamConnection? {
        guard count > 0 else { return nil }
        return Self.take(from: &idle[key, default: []], now: now, expired: &expired, count: &count)
    }

    private static func take(from list: inout [UpstreamConnection], now: UInt64, expired: inout [UpstreamConnection],
                             count: inout Int) -> UpstreamConnection? {
        while let connection = list.popLast() {
            count -= 1
            if now &- connection.idleSince <= maxIdleNanoseconds { return connection }
            expired.append(connection)
        }
        return nil
    }

    /// Keeps an idle connection.
    /// - Returns: the connection that made room for it (the caller closes it), if the pool was full.
    mutating func put(_ connection: UpstreamConnection, now: UInt64) -> UpstreamConnection? {
        let evicted = count < Self.capacity ? nil : removeOldest()
        connection.idleSince = now
        idle[connection.key, default: []].append(connection)
        count += 1
        return evicted
    }

    /// Takes out the connection idle longest: the first of some key's list (each list is
    /// in the order the connections went idle).
    private mutating func removeOldest() -> UpstreamConnection? {
        var oldest: (key: UpstreamPoolKey, since: UInt64)?
        for (key, list) in idle {
            guard let first = list.first, first.idleSince < oldest?.since ?? .max else { continue }
            oldest = (key, first.idleSince)
        }
        guard let key = oldest?.key else { return nil }
        count -= 1
        return idle[key]?.removeFirst()
    }

    /// Takes `connection` out (it is closing). - Returns: whether it was pooled.
    mutating func remove(_ connection: UpstreamConnection) -> Bool {
        guard let index = idle[connection.key]?.firstIndex(where: { $0 === connection }) else { return false }
        idle[connection.key]?.remove(at: index)
        count -= 1
        return true
    }

    /// Every pooled connection, leaving the pool empty.
    mutating func removeAll() -> [UpstreamConnection] {
        let all = idle.values.flatMap { $0 }
        idle = [:]
        count = 0
        return all
    }
}
