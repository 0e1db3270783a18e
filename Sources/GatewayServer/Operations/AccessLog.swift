import Dispatch
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
/// (about a tenth of the gateway's CPU per request when profiled). Given the loop's queue,
/// those lines go into the loop's `AccessLogBuffer` and are written in batches.
struct AccessLog {
    let logger: Logger
    /// The handler for the direct path; nil = through swift-log.
    private let direct: JSONLogHandler?
    /// The loop's batch of direct lines; nil = one write per line.
    private let buffer: AccessLogBuffer?
    /// `buffer`, to call without a retain and release per line (the buffer has weak
    /// references, so each costs a side-table update); `buffer` keeps it alive.
    private let bufferReference: Unmanaged<AccessLogBuffer>?
    /// Whether the direct handler's level lets `info` through (its level is a value fixed
    /// when it was copied in here).
    private let directEnabled: Bool

    /// `listener` field: nil on the proxy listener (its lines are unchanged), "decision" on
    /// the decision listener.
    let listener: String?

    /// - Parameter queue: the loop's queue, where `write` is called: the direct lines are
    ///   batched on it (nil: each written at once).
    init(logger: Logger, listener: String? = nil, queue: DispatchQueue? = nil) {
        self.logger = logger
        self.listener = listener
        if let h = logger.handler as? JSONLogHandler, h.metadata.isEmpty { direct = h } else { direct = nil }
        if let direct, let queue { buffer = AccessLogBuffer(fd: direct.fd, queue: queue) } else { buffer = nil }
        bufferReference = buffer.map { Unmanaged.passUnretained($0) }
        directEnabled = direct.map { $0.logLevel <= .info } ?? false
    }

    /// Tells the batching whether the loop has requests in flight (then lines wait for a
    /// fuller batch, up to `AccessLogBuffer.maximumDelay`).
    func setBusyCheck(_ isBusy: @escaping () -> Bool) {
        buffer?.isBusy = isBusy
    }

    /// Writes the batched lines now (nothing when none is waiting).
    @inline(__always)
    func flush() { bufferReference?._withUnsafeGuaranteedRef { $0.flush() } }

    func write(_ r: RequestRecord) {
        if let bufferReference {
            guard directEnabled else { return }
            let listener = listener
            bufferReference._withUnsafeGuaranteedRef { buffer in
                buffer.append(maximumLength: Self.maximumLineLength(r, listener: listener)) { at, time in
                    Self.writeLine(r, listener: listener, time: &time, at: at)
                }
            }
            return
        }
        guard logger.logLevel <= .info else { return }
        if let direct {
            Self.line(r, listener: listener).withUnsafeBytes { JSONLogHandler.writeAll(direct.fd, $0) }
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
        var time = LogTimestamp()
        return [UInt8](unsafeUninitializedCapacity: maximumLineLength(r, listener: listener)) { buffer, count in
            count = writeLine(r, listener: listener, time: &time, at: buffer.baseAddress!)
        }
    }

    /// Bytes of everything in a line but the strings' contents: the literal text (keys,
    /// punctuation: under 300), the time (24), three integers (at most 21 each), two
    /// milliseconds (at most 32 each), the trace id (34) and the strings' quotes (2 each):
    /// under 530, doubled for margin.
    private static let maximumFixedLength = 1024

    /// An upper bound of the bytes `writeLine` writes for `r`: each byte of a string becomes
    /// at most 6 (`\u00xx`); redaction at most 2.6 times as many (`REDACTED` for a value as
    /// short as `?jwt=`), none escaped.
    @inline(__always)
    static func maximumLineLength(_ r: RequestRecord, listener: String?) -> Int {
        var strings = r.client.utf8.count + r.method.utf8.count + r.target.utf8.count + r.requestID.utf8.count
        strings += (r.route?.utf8.count ?? 1) + r.reason.utf8.count + r.decision.rawValue.utf8.count
        strings += (r.subject?.utf8.count ?? 0) + (r.tlsVersion?.utf8.count ?? 0) + (listener?.utf8.count ?? 0)
        return maximumFixedLength + 6 * strings
    }

    /// `line(_:listener:)` written at `start` (at least `maximumLineLength` bytes), the
    /// time formatted through `time`.
    /// - Returns: the bytes written.
    static func writeLine(_ r: RequestRecord, listener: String?, time: inout LogTimestamp,
                          at start: UnsafeMutablePointer<UInt8>) -> Int {
        var w = AccessLogWriter(at: start)
        w.literal(#"{"time":""#)
        w.time(SystemClock().wallSeconds, through: &time)
        w.literal(#"","level":"info","message":"request","bytes_in":"#)
        w.decimal(r.bytesIn)
        w.literal(#","bytes_out":"#)
        w.decimal(r.bytesOut)
        w.literal(#","client":"#)
        w.string(r.client)
        if let c = r.clientCertificate {
            w.literal(#","client_cert":"#)
            if c { w.literal("true") } else { w.literal("false") }
        }
        switch r.decision {
        case .allow: w.literal(#","decision":"allow""#)
        case .deny: w.literal(#","decision":"deny""#)
        case .wouldDeny: w.literal(#","decision":"would_deny""#)
        case .error: w.literal(#","decision":"error""#)
        }
        if let listener {
            w.literal(#","listener":"#)
            w.string(listener)
        }
        w.literal(#","method":"#)
        w.redactedString(r.method)
        w.literal(#","path":"#)
        w.redactedString(r.target)
        w.literal(#","reason":"#)
        w.string(r.reason)
        w.literal(#","request_id":"#)
        w.string(r.requestID)
        w.literal(#","route":"#)
        if let route = r.route { w.string(route) } else { w.literal(#""-""#) }
        w.literal(#","status":"#)
        if r.status < 0 { w.byte(UInt8(ascii: "-")) }
        w.decimal(UInt64(r.status.magnitude))
        if let s = r.subject {
            w.literal(#","subject":"#)
            w.string(s)
        }
        if let v = r.tlsVersion {
            w.literal(#","tls_version":"#)
            w.string(v)
        }
        w.literal(#","total_ms":"#)
        w.milliseconds(r.totalSeconds)
        if let t = r.trace {
            w.literal(#","trace_id":""#)
            w.hex(t.traceID.bytes)
            w.byte(UInt8(ascii: "\""))
        }
        if let u = r.upstreamSeconds {
            w.literal(#","upstream_ms":"#)
            w.milliseconds(u)
        }
        w.literal("}\n")
        return w.position - start
    }

    /// `v` in decimal, as `String(v)` writes it.
    static func appendDecimal(_ v: UInt64, to out: inout [UInt8]) {
        append(AccessLogWriter.maximumDecimalLength, to: &out) { $0.decimal(v) }
    }

    /// `milliseconds(seconds)` written as `String(Double)` writes it (`AccessLogWriter`).
    static func appendMilliseconds(_ seconds: Double, to out: inout [UInt8]) {
        append(AccessLogWriter.maximumMillisecondsLength, to: &out) { $0.milliseconds(seconds) }
    }

    /// `JSONWriter.appendString`: the same escaping as `JSONText.appendString`, on bytes.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        append(AccessLogWriter.maximumLength(s), to: &out) { $0.string(s) }
    }

    /// What `body` writes (at most `maximumLength` bytes) appended to `out`.
    private static func append(_ maximumLength: Int, to out: inout [UInt8], _ body: (inout AccessLogWriter) -> Void) {
        let text = [UInt8](unsafeUninitializedCapacity: maximumLength) { buffer, count in
            var w = AccessLogWriter(at: buffer.baseAddress!)
            body(&w)
            count = w.position - buffer.baseAddress!
        }
        out.append(contentsOf: text)
    }

    /// 1 for the bytes a JSON string can hold as they are (what `appendString` copies
    /// straight); 0 for control characters, `"`, `\\`, DEL and 0xE2 (the first byte of
    /// U+2028 / U+2029, which `JSONWriter` escapes).
    static let plainJSONBytes: [UInt8] = (0..<256).map { b in
        b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F || b == 0xE2 ? 0 : 1
    }
}
