import GatewayJOSE
import GatewayPolicy

#if canImport(Glibc)
import Glibc
#endif

/// Process-wide source of key-set generation numbers: every `KeySet` installed in any
/// `IssuerKeyStore` gets a new one, so a cached verification names exactly the set that
/// made it.
enum KeySetGeneration {
    private static let mutex = Mutex()
    nonisolated(unsafe) private static var last: UInt64 = 0
    static func next() -> UInt64 { mutex.withLock { last += 1; return last } }
}

/// What the caller of `IssuerKeyStore.refetchForUnknownKey` must do next.
public enum KeyRefetchAction: Sendable, Equatable {
    /// Nothing: the request joined a refetch already running, or was refused at once
    /// (its completion then already ran with false).
    case none
    /// Fetch the issuer's JWK Set now, then call `finishRefetch(_:)` exactly once.
    case fetch
}

/// The current keys of one issuer, shared by every loop and swapped when a remote JWK Set
/// (`jwks_url`, or the `jwks_uri` of a discovery document) is refetched. Reading is one
/// uncontended mutex acquisition and a copy of the `KeySet` reference.
///
/// For a remote issuer it also coordinates the refetch on an unknown `kid`: at most one every
/// `minimumRefetchInterval` seconds, shared by every request that asks while it runs. The
/// store does no I/O and calls nobody back for it: `refetchForUnknownKey` answers `.fetch`
/// to the one caller that must start the fetch (the server's JWKS service performs it).
///
/// A remote store can start without keys (`awaitingKeys`: the identity provider was down at
/// startup); its first installed set ends that state.
///
/// `@unchecked Sendable`: mutable state is guarded by `mutex`.
public final class IssuerKeyStore: @unchecked Sendable {
    /// The keys and the generation number they were installed under.
    public struct Snapshot: Sendable {
        public var keys: KeySet
        /// Unique in the process; changes whenever the set is replaced.
        public var generation: UInt64
        /// True until a first set is installed in a store created with `awaitingKeysFrom:`.
        public var awaitingKeys: Bool
    }

    /// Least time between two unknown-`kid` refetches of one issuer, seconds.
    public static let minimumRefetchInterval: Double = IssuerConfig.minimumJWKSRefresh

    /// Where the keys come from when remote (the JWK Set URL, or the discovery document URL);
    /// nil for files and secrets.
    public let jwksURL: String?
    private let mutex = Mutex()
    private var current: Snapshot
    private var waiters: [@Sendable (Bool) -> Void] = []
    private var refetchRunning = false
    private var lastRefetch = -Double.infinity
    private var refetchCount = 0

    /// - Parameters:
    ///   - keys: the first set (for a remote source, the one fetched at startup).
    ///   - jwksURL: where the keys come from when remote.
    public init(keys: KeySet, jwksURL: String? = nil) {
        self.jwksURL = jwksURL
        self.current = Snapshot(keys: keys, generation: KeySetGeneration.next(), awaitingKeys: false)
    }

    /// A remote store with no keys yet: requests naming its issuer are answered 503 until a
    /// fetch installs a first set.
    public init(awaitingKeysFrom jwksURL: String) {
        self.jwksURL = jwksURL
        self.current = Snapshot(keys: KeySet(keys: []), generation: KeySetGeneration.next(), awaitingKeys: true)
    }

    /// The current keys and their generation.
    public var snapshot: Snapshot { mutex.withLock { current } }

    /// Installs a new set (a successful refresh): requests from now on verify with it, and
    /// verifications cached under the previous generation are no longer used.
    public func replace(_ keys: KeySet) {
        let generation = KeySetGeneration.next()
        mutex.withLock { current = Snapshot(keys: keys, generation: generation, awaitingKeys: false) }
    }

    /// Unknown-`kid` refetches started so far (for tests and metrics).
    public var refetchesStarted: Int { mutex.withLock { refetchCount } }

    /// Asks for a refetch because a token named a `kid` not in the set.
    ///
    /// Joins a refetch already running; else asks the caller to start one (`.fetch`) unless
    /// one started less than `minimumRefetchInterval` seconds ago or the keys are not remote.
    /// - Parameters:
    ///   - now: a monotonic clock reading, seconds.
    ///   - completion: called exactly once, on an arbitrary thread (possibly at once, on
    ///     the caller's), with true when a new set was installed.
    /// - Returns: `.fetch` when the caller must fetch the JWK Set and then call
    ///   `finishRefetch(_:)`; `.none` otherwise.
    public func refetchForUnknownKey(now: Double, completion: @escaping @Sendable (Bool) -> Void) -> KeyRefetchAction {
        enum Step { case joined, refused, start }
        let step: Step = mutex.withLock {
            if refetchRunning {
                waiters.append(completion)
                return .joined
            }
            guard jwksURL != nil, now - lastRefetch >= IssuerKeyStore.minimumRefetchInterval else { return .refused }
            refetchRunning = true
            lastRefetch = now
            refetchCount += 1
            waiters.append(completion)
            return .start
        }
        switch step {
        case .joined: return .none
        case .refused:
            completion(false)
            return .none
        case .start: return .fetch
        }
    }

    /// Ends the refetch `refetchForUnknownKey` asked for: installs `keys` when the fetch
    /// succeeded (nil: the last good set stays), then wakes every waiting request.
    public func finishRefetch(_ keys: KeySet?) {
        let generation = KeySetGeneration.next()
        let woken: [@Sendable (Bool) -> Void] = mutex.withLock {
            if let keys { current = Snapshot(keys: keys, generation: generation, awaitingKeys: false) }
            refetchRunning = false
            let w = waiters
            waiters = []
            return w
        }
        for w in woken { w(keys != nil) }
    }
}
