import GatewayCore
import GatewayJOSE
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Writes one access-log line per request through swift-log: message "request"
/// with the fields time, request_id, client, method, path (redacted by `LogRedaction`:
/// credential parameters in query, fragment and path parameters, and anything JWS-shaped),
/// status, route, decision, reason, subject, upstream_ms, total_ms, bytes_in, bytes_out,
/// trace_id (W3C trace id); over TLS also tls_version and client_cert (whether a verified
/// client certificate was presented). Never the token, Authorization, Cookie or key material.
///
/// When the logger's handler is the gateway's own `JSONLogHandler` (and carries no metadata
/// of its own), the line is built directly as bytes: the same JSON object, keys in the same
/// (sorted) order, values formatted the same way, one write(2), without the
/// `Logger.Metadata` dictionary, the key sort and the String building of the generic path
/// (about a tenth of the gateway's CPU per request when profiled).
struct AccessLog {
    let logger: Logger
    /// The handler for the direct path; nil = through swift-log.
    private let direct: JSONLogHandler?

    /// `listener` field: nil on the proxy listener (its lines are unchanged), "decision" on
    /// the decision listener.
    let listener: String?

    init(logger: Logger, listener: String? = nil) {
        self.logger = logger
        self.listener = listener
        if let h = logger.handler as? JSONLogHandler, h.metadata.isEmpty { direct = h } else { direct = nil }
    }

    func write(_ r: RequestRecord) {
        guard logger.logLevel <= .info else { return }
        if let direct {
            Self.writeLine(r, listener: listener, fd: direct.fd)
            return
        }
        var m = Self.metadata(r)
        if let listener { m["listener"] = .string(listener) }
        logger.info("request", metadata: m)
    }

    /// The fields of the line, for the swift-log path.
    static func metadata(_ r: RequestRecord) -> Logger.Metadata {
        var m: Logger.Metadata = [
            "request_id": .string(r.requestID),
            "client": .string(r.client),
            "method": .string(LogRedaction.redact(r.method)),
            "path": .string(LogRedaction.redact(r.target)),
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
        if let t = r.trace { m["trace_id"] = .string(t.traceIDHex) }
        if let v = r.tlsVersion { m["tls_version"] = .string(v) }
        if let c = r.clientCertificate { m["client_cert"] = .stringConvertible(c) }
        return m
    }

    /// Milliseconds with microsecond resolution.
    static func milliseconds(_ seconds: Double) -> Double {
        (seconds * 1_000_000).rounded() / 1000
    }

    /// The line `JSONLogHandler` writes for `logger.info("request", metadata:)` above, built
    /// as bytes: keys in sorted order, strings escaped as `JSONText.appendString` does,
    /// integers as decimal, milliseconds as `String(Double)`.
    static func line(_ r: RequestRecord, listener: String? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(384 + r.target.utf8.count)
        out.append(contentsOf: #"{"time":""#.utf8)
        RFC3339.append(epochSeconds: SystemClock().wallSeconds, to: &out)
        out.append(contentsOf: #"","level":"info","message":"request","bytes_in":"#.utf8)
        appendDecimal(r.bytesIn, to: &out)
        out.append(contentsOf: #","bytes_out":"#.utf8)
        appendDecimal(r.bytesOut, to: &out)
        out.append(contentsOf: #","client":"#.utf8)
        appendString(r.client, to: &out)
        if let c = r.clientCertificate {
            out.append(contentsOf: #","client_cert":"#.utf8)
            out.append(contentsOf: (c ? "true" : "false").utf8)
        }
        out.append(contentsOf: #","decision":"#.utf8)
        appendString(r.decision.rawValue, to: &out)
        if let listener {
            out.append(contentsOf: #","listener":"#.utf8)
            appendString(listener, to: &out)
        }
        out.append(contentsOf: #","method":"#.utf8)
        appendString(LogRedaction.redact(r.method), to: &out)
        out.append(contentsOf: #","path":"#.utf8)
        appendString(LogRedaction.redact(r.target), to: &out)
        out.append(contentsOf: #","reason":"#.utf8)
        appendString(r.reason, to: &out)
        out.append(contentsOf: #","request_id":"#.utf8)
        appendString(r.requestID, to: &out)
        out.append(contentsOf: #","route":"#.utf8)
        appendString(r.route ?? "-", to: &out)
        out.append(contentsOf: #","status":"#.utf8)
        if r.status < 0 { out.append(UInt8(ascii: "-")) }
        appendDecimal(UInt64(r.status.magnitude), to: &out)
        if let s = r.subject {
            out.append(contentsOf: #","subject":"#.utf8)
            appendString(s, to: &out)
        }
        if let v = r.tlsVersion {
            out.append(contentsOf: #","tls_version":"#.utf8)
            appendString(v, to: &out)
        }
        out.append(contentsOf: #","total_ms":"#.utf8)
        appendDouble(milliseconds(r.totalSeconds), to: &out)
        if let t = r.trace {
            out.append(contentsOf: #","trace_id":""#.utf8)
            t.appendTraceIDHex(to: &out)
            out.append(UInt8(ascii: "\""))
        }
        if let u = r.upstreamSeconds {
            out.append(contentsOf: #","upstream_ms":"#.utf8)
            appendDouble(milliseconds(u), to: &out)
        }
        out.append(contentsOf: "}\n".utf8)
        return out
    }

    private static func writeLine(_ r: RequestRecord, listener: String?, fd: Int32) {
        let bytes = line(r, listener: listener)
        bytes.withUnsafeBytes { buf in
            var offset = 0
            while offset < buf.count {
                let n = Glibc.write(fd, buf.baseAddress! + offset, buf.count - offset)
                if n <= 0 { if n < 0 && errno == EINTR { continue }; break }
                offset += n
            }
        }
    }

    static func appendDecimal(_ v: UInt64, to out: inout [UInt8]) {
        out.append(contentsOf: String(v).utf8)  // small string: no allocation
    }

    static func appendDouble(_ d: Double, to out: inout [UInt8]) {
        if d.isFinite { out.append(contentsOf: String(d).utf8) } else { out.append(contentsOf: "null".utf8) }
    }

    /// `JSONWriter.appendString`: the same escaping as `JSONText.appendString`, on bytes.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        JSONWriter.appendString(s, to: &out)
    }
}
