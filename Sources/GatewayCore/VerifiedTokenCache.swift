import GatewayJOSE

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Tokens whose signature was verified, so that a repeated token skips base64url
/// decoding, JSON parsing and the signature check (README "Verified-token cache").
///
/// Keyed by a 64-bit keyed hash (Swift's `Hasher`: SipHash-1-3 with a per-process random
/// seed) of the token's length and its last `keyedBytes` bytes, read in place: for a JWS that
/// is the signature, which only the issuer's key can produce, so the tokens that get entries
/// (verified ones) cannot be chosen to collide. An entry keeps the whole token and a hit
/// compares it in full (`memcmp`), so a collision can never return another token's claims (it
/// is a miss, and the newer token's insert replaces the older). An entry names the issuer and the key-set generation that
/// verified it, and is used only while that issuer's `IssuerKeyStore` still holds that
/// generation (a key rotation therefore invalidates it). It never outlives the token's `exp`
/// (plus clock skew). Time-dependent claim checks are the caller's, on every hit.
///
/// Bounded by `maxEntries` and `maxBytes` (an estimate per entry: 3 × token length + 256
/// bytes, covering the decoded header and claims). When full, the oldest entries go
/// first (FIFO). Split into shards, each behind its own mutex, so the loops rarely
/// contend.
///
/// `@unchecked Sendable`: each shard's state is guarded by its mutex.
public final class VerifiedTokenCache: @unchecked Sendable {
    /// One cached verification.
    public struct Entry: Sendable {
        public var token: VerifiedToken
        /// `iss` of the token.
        public var iss: String
        /// Name of the issuer (`issuers[].name`) that verified it.
        public var issuerName: String
        /// `IssuerKeyStore.Snapshot.generation` of the keys that verified it.
        public var generation: UInt64
        /// Seconds since the epoch after which the entry is dropped (`exp` + skew; +∞ without exp).
        public var expiresAt: Double
        /// What a hit needs from the claims, derived at verification (nil: derive on use).
        var facts: VerifiedTokenFacts?
        var cost = 0
        /// The token itself, compared in full on a hit.
        var tokenBytes: [UInt8] = []
        public init(token: VerifiedToken, iss: String, issuerName: String, generation: UInt64, expiresAt: Double) {
            self.token = token
            self.iss = iss
            self.issuerName = issuerName
            self.generation = generation
            self.expiresAt = expiresAt
        }
    }

    /// Counters since creation.
    public struct Statistics: Sendable, Equatable {
        public var hits = 0
        /// Lookups that found nothing usable (absent, expired or from older keys).
        public var misses = 0
        public var entries = 0
        public var bytes = 0
        /// Entries dropped to stay under the caps.
        public var evictions = 0
    }

    final class Shard: @unchecked Sendable {
        let mutex = Mutex()
        var entries: [UInt64: Entry] = [:]
        /// Insertion order (may hold keys already removed; skipped when evicting).
        var order: [UInt64] = []
        var orderStart = 0
        var bytes = 0
        var stats = Statistics()
    }

    public let maxEntries: Int
    public let maxBytes: Int
    private let shards: [Shard]

    /// - Parameters:
    ///   - maxEntries: most entries (≥ 1).
    ///   - maxBytes: most estimated bytes (≥ 1).
    ///   - shardCount: independent parts; the caps are split evenly among them.
    public init(maxEntries: Int, maxBytes: Int, shardCount: Int = 8) {
        let n = max(1, min(shardCount, maxEntries))
        self.maxEntries = max(1, maxEntries)
        self.maxBytes = max(1, maxBytes)
        self.shards = (0..<n).map { _ in Shard() }
    }

    /// Estimated bytes an entry for this token costs.
    public static func cost(ofToken token: Substring) -> Int { 3 * token.utf8.count + 256 }

    /// How many trailing bytes of a token the key hashes.
    static let keyedBytes = 64

    /// The keyed hash of a token: its length and its last `keyedBytes` bytes.
    static func key(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hasher = Hasher()
        hasher.combine(bytes.count)
        hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: bytes[max(0, bytes.count - keyedBytes)...]))
        return UInt64(UInt(bitPattern: hasher.finalize()))
    }

    /// Whether two tokens are the same bytes.
    static func same(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        guard let pa = a.baseAddress, let pb = b.baseAddress else { return true }  // both empty
        return memcmp(pa, pb, a.count) == 0
    }

    /// Runs `body` with the token's UTF-8 bytes, in place when they are contiguous.
    @inline(__always)
    static func withBytes<R>(_ token: Substring, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let r = token.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) { return r }
        return Array(token.utf8).withUnsafeBytes(body)
    }

    private func shard(for key: UInt64) -> Shard { shards[Int((key >> 32) % UInt64(shards.count))] }

    /// The entry for `token` when it is present, not past `expiresAt` at `now`, and
    /// `isCurrent` accepts it (its key set is still the issuer's); otherwise a miss, and a
    /// stale entry is removed.
    /// - Parameter now: seconds since the Unix epoch.
    public func lookup(_ token: Substring, now: Double, isCurrent: (Entry) -> Bool) -> Entry? {
        Self.withBytes(token) { bytes in
            let key = Self.key(bytes)
            let s = shard(for: key)
            return s.mutex.withLock { () -> Entry? in
                guard let e = s.entries[key], e.tokenBytes.withUnsafeBytes({ Self.same($0, bytes) }) else {
                    s.stats.misses += 1
                    return nil
                }
                if now >= e.expiresAt || !isCurrent(e) {
                    s.entries[key] = nil
                    s.bytes -= e.cost
                    s.stats.misses += 1
                    return nil
                }
                s.stats.hits += 1
                return e
            }
        }
    }

    /// Remembers a verification. Oldest entries are evicted first to stay under the caps;
    /// an entry larger than a whole shard's byte budget is not kept.
    public func insert(_ token: Substring, entry: Entry) {
        var e = entry
        e.cost = VerifiedTokenCache.cost(ofToken: token)
        // One copy of the contiguous bytes (not an element-by-element walk of the view).
        e.tokenBytes = Self.withBytes(token) { Array(UnsafeBufferPointer(start: $0.baseAddress?.assumingMemoryBound(to: UInt8.self),
                                                                            count: $0.count)) }
        let key = e.tokenBytes.withUnsafeBytes(Self.key)
        let s = shard(for: key)
        let entryCap = max(1, maxEntries / shards.count)
        let byteCap = max(1, maxBytes / shards.count)
        guard e.cost <= byteCap else { return }
        s.mutex.withLock {
            if let old = s.entries[key] { s.bytes -= old.cost }
            s.entries[key] = e
            s.bytes += e.cost
            s.order.append(key)
            while s.entries.count > entryCap || s.bytes > byteCap, s.orderStart < s.order.count {
                let victim = s.order[s.orderStart]
                s.orderStart += 1
                if victim == key && s.entries.count == 1 { break }
                if let v = s.entries.removeValue(forKey: victim) {
                    s.bytes -= v.cost
                    s.stats.evictions += 1
                }
            }
            // Keep the order list bounded: drop consumed slots and keys no longer present.
            if s.orderStart > 64 && s.orderStart * 2 > s.order.count {
                s.order.removeFirst(s.orderStart)
                s.orderStart = 0
            }
            if s.order.count > 4 * entryCap + 64 {
                var seen = Set<UInt64>()
                s.order = s.order[s.orderStart...].reversed().filter { s.entries[$0] != nil && seen.insert($0).inserted }.reversed()
                s.orderStart = 0
            }
        }
    }

    /// Drops every entry (counters stay).
    public func removeAll() {
        for s in shards {
            s.mutex.withLock {
                s.entries.removeAll()
                s.order.removeAll()
                s.orderStart = 0
                s.bytes = 0
            }
        }
    }

    /// Hits, misses, evictions and current size, summed over the shards.
    public var statistics: Statistics {
        var total = Statistics()
        for s in shards {
            s.mutex.withLock {
                total.hits += s.stats.hits
                total.misses += s.stats.misses
                total.evictions += s.stats.evictions
                total.entries += s.entries.count
                total.bytes += s.bytes
            }
        }
        return total
    }
}
