import GatewayCore

/// Seconds on a monotonic clock (for durations and deadlines): `SystemClock().monotonicSeconds`.
@inline(__always)
func monotonicSeconds() -> Double { SystemClock().monotonicSeconds }

/// Seconds since the Unix epoch (for token time checks): `SystemClock().wallSeconds`.
@inline(__always)
func wallClockSeconds() -> Double { SystemClock().wallSeconds }
