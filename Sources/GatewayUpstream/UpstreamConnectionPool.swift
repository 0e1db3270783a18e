/// A loop's idle upstream connections, by `UpstreamPoolKey`, most recently used first
/// (a warm connection is reused before a colder one the upstream may be about to close).
///
/// Each key has one `IdleConnectionList`, made on its first use and kept while the pool
/// lives (one per upstream origin and TLS files the loop reached: a handful, set by the
/// configuration); requests and connections hold their key's list, so taking and keeping
/// a connection hashes nothing.
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

    private var lists: [UpstreamPoolKey: IdleConnectionList] = [:]
    private(set) var count = 0

    /// The list of `key`'s idle connections (made on first use).
    mutating func list(for key: UpstreamPoolKey) -> IdleConnectionList {
        if let list = lists[key] { return list }
        let made = IdleConnectionList(key: key)
        lists[key] = made
        return made
    }

    /// The most recently pooled connection of `list` that is young enough. Older ones met
    /// on the way are returned in `expired` for the caller to close.
    mutating func take(from list: IdleConnectionList, now: UInt64, expired: inout [UpstreamConnection]) -> UpstreamConnection? {
        while let connection = list.connections.popLast() {
            count -= 1
            if now &- connection.idleSince <= Self.maxIdleNanoseconds { return connection }
            expired.append(connection)
        }
        return nil
    }

    /// Keeps an idle connection (in its own `idleList`).
    /// - Returns: the connection that made room for it (the caller closes it), if the pool was full.
    mutating func put(_ connection: UpstreamConnection, now: UInt64) -> UpstreamConnection? {
        let evicted = count < Self.capacity ? nil : removeOldest()
        connection.idleSince = now
        connection.idleList.connections.append(connection)
        count += 1
        return evicted
    }

    /// Takes out the connection idle longest: the first of some key's list (each list is
    /// in the order the connections went idle).
    private mutating func removeOldest() -> UpstreamConnection? {
        var oldest: IdleConnectionList?
        var since = UInt64.max
        for list in lists.values {
            guard let first = list.connections.first, first.idleSince < since else { continue }
            oldest = list
            since = first.idleSince
        }
        guard let oldest else { return nil }
        count -= 1
        return oldest.connections.removeFirst()
    }

    /// Takes `connection` out (it is closing). - Returns: whether it was pooled.
    mutating func remove(_ connection: UpstreamConnection) -> Bool {
        let list = connection.idleList
        guard let index = list.connections.firstIndex(where: { $0 === connection }) else { return false }
        list.connections.remove(at: index)
        count -= 1
        return true
    }

    /// Every pooled connection, leaving the pool empty.
    mutating func removeAll() -> [UpstreamConnection] {
        var all: [UpstreamConnection] = []
        for list in lists.values {
            all += list.connections
            list.connections = []
        }
        count = 0
        return all
    }
}
