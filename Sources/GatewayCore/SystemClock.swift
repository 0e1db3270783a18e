#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The operating system's clocks (clock_gettime(2)); the only place the gateway reads them.
public struct SystemClock: GatewayClock {
    public init() {}

    public var monotonicSeconds: Double { Self.read(CLOCK_MONOTONIC) }

    public var wallSeconds: Double { Self.read(CLOCK_REALTIME) }

    /// `wallSeconds` truncated to whole seconds (what time(2) gives), for NumericDate claims
    /// and other integral times.
    public var wholeWallSeconds: Double { wallSeconds.rounded(.down) }

    @inline(__always)
    private static func read(_ id: clockid_t) -> Double {
        var ts = timespec()
        // Fails only for an unknown clock id; both ids above always exist on Linux.
        let rc = clock_gettime(id, &ts)
        precondition(rc == 0, "clock_gettime failed")
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
