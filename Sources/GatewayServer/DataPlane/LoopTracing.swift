import GatewayCore
import GatewayHTTP
import GatewayTracing

#if canImport(Glibc)
import Glibc
#endif

/// One event loop's part of tracing: derives each request's trace context (ids from this
/// loop's own generator) and hands the finished exchanges of sampled requests to the exporter.
///
/// Confined to its loop's queue, like the loop's other state.
final class LoopTracing {
    private var ids = TraceIDGenerator()
    private let sampler: TraceSampler
    private let exporter: OTLPExporter?

    init(exporter: OTLPExporter?) {
        self.exporter = exporter
        sampler = exporter.map { TraceSampler(ratio: $0.settings.sampleRatio) } ?? .off
    }

    /// The trace of a request with these header fields (see `RequestTrace.derive`).
    func begin(_ fields: [HTTPField]) -> RequestTrace {
        RequestTrace.derive(from: fields, ids: &ids, sampler: sampler)
    }

    /// Queues the spans of a finished, sampled request.
    func finish(_ r: RequestRecord) {
        guard let exporter, let trace = r.trace, trace.sampled else { return }
        let now = UInt64(SystemClock().wallSeconds * 1e9)
        func nanos(_ seconds: Double) -> UInt64 { UInt64(max(0, seconds) * 1e9) }
        let start = now &- min(now, nanos(r.totalSeconds))
        let upstreamStart = r.upstreamStartOffset.map { start + nanos($0) }
        let upstreamEnd = upstreamStart.map { $0 + nanos(r.upstreamSeconds ?? 0) }
        exporter.record(FinishedExchange(
            trace: trace, method: LogRedaction.redact(r.method), target: LogRedaction.redact(r.target), status: r.status,
            route: r.route, decision: r.decision.rawValue, reason: r.reason, subject: r.subject, requestID: r.requestID,
            clientAddress: r.client, startNanos: start, endNanos: now, upstreamStartNanos: upstreamStart,
            upstreamEndNanos: upstreamEnd))
    }
}
