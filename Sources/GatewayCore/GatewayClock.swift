/// Where the gateway reads the time: `SystemClock` in the server, `ManualClock` in tests,
/// so pure code takes a clock (or a time read from one) instead of calling the OS.
public protocol GatewayClock: Sendable {
    /// Seconds on a clock that never goes back and does not follow wall-clock changes
    /// (`CLOCK_MONOTONIC`): for durations, deadlines and timeouts only.
    var monotonicSeconds: Double { get }
    /// Seconds since the Unix epoch, UTC (`CLOCK_REALTIME`): for token times (RFC 7519
    /// NumericDate), log timestamps and key-set ages. May jump when the system time is set.
    var wallSeconds: Double { get }
}
