import W3CTraceContext

/// Whether a new trace is sampled: the OpenTelemetry `TraceIdRatioBased` rule (the trace
/// id's last 8 bytes, read as a number, below `ratio` × 2⁶⁴), so every service with the
/// same ratio agrees on the same trace.
public struct TraceSampler: Sendable, Equatable {
    /// 0 (none) ... 1 (all).
    public let ratio: Double
    private let bound: UInt64

    public init(ratio: Double) {
        self.ratio = ratio
        if ratio >= 1 { bound = .max } else if ratio <= 0 || !ratio.isFinite { bound = 0 } else {
            bound = UInt64(ratio * 18_446_744_073_709_551_616.0)
        }
    }

    /// Never samples: the gateway propagates trace context but exports no span.
    public static let off = TraceSampler(ratio: 0)

    public func samples(_ trace: TraceID) -> Bool {
        if bound == .max { return true }
        if bound == 0 { return false }
        let low = withUnsafeBytes(of: trace.bytes) { raw in
            raw[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
        return low < bound
    }
}
