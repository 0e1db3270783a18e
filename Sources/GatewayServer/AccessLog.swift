import Logging

/// Writes one access-log line per request (SPEC §5) through swift-log: message "request"
/// with the fields time, request_id, client, method, path (query values of
/// `access_token`/`token` redacted), status, route, decision, reason, subject,
/// upstream_ms, total_ms, bytes_in, bytes_out. Never the token, Authorization or Cookie.
struct AccessLog {
    let logger: Logger

    func write(_ r: RequestRecord) {
        guard logger.logLevel <= .info else { return }
        var m: Logger.Metadata = [
            "request_id": .string(r.requestID),
            "client": .string(r.client),
            "method": .string(r.method),
            "path": .string(LogRedaction.redactQuery(r.target)),
            "status": .stringConvertible(r.status),
            "route": .string(r.route ?? "-"),
            "decision": .string(r.decision.rawValue),
            "reason": .string(r.reason),
            "total_ms": .stringConvertible(Self.milliseconds(r.totalSeconds)),
            "bytes_in": .stringConvertible(r.bytesIn),
            "bytes_out": .stringConvertible(r.bytesOut),
        ]
        if let s = r.subject { m["subject"] = .string(s) }
        if let u = r.upstreamSeconds { m["upstream_ms"] = .stringConvertible(Self.milliseconds(u)) }
        logger.info("request", metadata: m)
    }

    /// Milliseconds with microsecond resolution.
    static func milliseconds(_ seconds: Double) -> Double {
        (seconds * 1_000_000).rounded() / 1000
    }
}
