/// A clock that moves only when told to, for tests of timeouts, expiry and refresh
/// schedules without sleeping. Safe to read and move from several threads.
public final class ManualClock: GatewayClock, @unchecked Sendable {
    private let lock = Mutex()
    private var monotonic: Double
    private var wall: Double

    /// - Parameters:
    ///   - monotonic: the starting monotonic reading, seconds.
    ///   - wall: the starting wall time, seconds since the Unix epoch
    ///     (default 2023-11-14T22:13:20Z).
    public init(monotonic: Double = 0, wall: Double = 1_700_000_000) {
        self.monotonic = monotonic
        self.wall = wall
    }

    public var monotonicSeconds: Double { lock.withLock { monotonic } }

    public var wallSeconds: Double { lock.withLock { wall } }

    /// Moves both clocks forward by `seconds` (not negative: a monotonic clock never goes back).
    public func advance(by seconds: Double) {
        precondition(seconds >= 0, "a monotonic clock cannot go back")
        lock.withLock { monotonic += seconds; wall += seconds }
    }

    /// Sets the wall clock only (as when the system time is changed); monotonic is unchanged.
    public func setWall(_ seconds: Double) {
        lock.withLock { wall = seconds }
    }
}
