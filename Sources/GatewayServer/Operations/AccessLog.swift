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
    }

    /// Tells the batching whether the loop has requests in flight (then lines wait for a
    /// fuller batch, up to `AccessLogBuffer.maximumDelay`).
    func setBusyCheck(_ isBusy: @escaping () -> Bool) {
        buffer?.isBusy = isBusy
    }

    /// Writes the batched lines now (nothing when none is waiting).
    @inline(__always)
    func flush() { buffer?.flush() }

    func write(_ r: RequestRecord) {
        guard logger.logLevel <= .info else { return }
        if let buffer {
            let listener = listener
            buffer.append { out, time in Self.appendLine(r, listener: listener, time: &time, to: &out) }
            return
        }
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
        var time = LogTimestamp()
        appendLine(r, listener: listener, time: &time, to: &out)
        return out
    }

    /// `line(_:listener:)` appended to `out`, the time formatted through `time`.
    static func appendLine(_ r: RequestRecord, listener: String?, time: inout LogTimestamp, to out: inout [UInt8]) {
        appendLiteral(#"{"time":""#, to: &out)
        time.append(epochSeconds: SystemClock().wallSeconds, to: &out)
        appendLiteral(#"","level":"info","message":"request","bytes_in":"#, to: &out)
        appendDecimal(r.bytesIn, to: &out)
        appendLiteral(#","bytes_out":"#, to: &out)
        appendDecimal(r.bytesOut, to: &out)
        appendLiteral(#","client":"#, to: &out)
        appendString(r.client, to: &out)
        if let c = r.clientCertificate {
            appendLiteral(#","client_cert":"#, to: &out)
            appendLiteral(c ? "true" : "false", to: &out)
        }
        appendLiteral(#","decision":"#, to: &out)
        appendString(r.decision.rawValue, to: &out)
        if let listener {
            appendLiteral(#","listener":"#, to: &out)
            appendString(listener, to: &out)
        }
        appendLiteral(#","method":"#, to: &out)
        appendString(LogRedaction.redact(r.method), to: &out)
        appendLiteral(#","path":"#, to: &out)
        appendString(LogRedaction.redact(r.target), to: &out)
        appendLiteral(#","reason":"#, to: &out)
        appendString(r.reason, to: &out)
        appendLiteral(#","request_id":"#, to: &out)
        appendString(r.requestID, to: &out)
        appendLiteral(#","route":"#, to: &out)
        appendString(r.route ?? "-", to: &out)
        appendLiteral(#","status":"#, to: &out)
        if r.status < 0 { out.append(UInt8(ascii: "-")) }
        appendDecimal(UInt64(r.status.magnitude), to: &out)
        if let s = r.subject {
            appendLiteral(#","subject":"#, to: &out)
            appendString(s, to: &out)
        }
        if let v = r.tlsVersion {
            appendLiteral(#","tls_version":"#, to: &out)
            appendString(v, to: &out)
        }
        appendLiteral(#","total_ms":"#, to: &out)
        appendMilliseconds(r.totalSeconds, to: &out)
        if let t = r.trace {
            appendLiteral(#","trace_id":""#, to: &out)
            t.appendTraceIDHex(to: &out)
            out.append(UInt8(ascii: "\""))
        }
        if let u = r.upstreamSeconds {
            appendLiteral(#","upstream_ms":"#, to: &out)
            appendMilliseconds(u, to: &out)
        }
        appendLiteral("}\n", to: &out)
    }

    private static func writeLine(_ r: RequestRecord, listener: String?, fd: Int32) {
        line(r, listener: listener).withUnsafeBytes { JSONLogHandler.writeAll(fd, $0) }
    }

    /// `v` in decimal, as `String(v)` writes it.
    static func appendDecimal(_ v: UInt64, to out: inout [UInt8]) {
        if v < 10 {
            out.append(UInt8(ascii: "0") + UInt8(v))
            return
        }
        var digits: (UInt64, UInt64) = (0, 0)  // 16 bytes of scratch, filled from the end
        var n = v
        var count = 0
        withUnsafeMutableBytes(of: &digits) { scratch in
            while n > 0 && count < 16 {
                count += 1
                scratch[16 - count] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            }
            if n > 0 {
                out.append(contentsOf: String(v).utf8)  // over 16 digits: rare, the plain way
            } else {
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[(16 - count)...]))
            }
        }
    }

    /// `milliseconds(seconds)` written as `String(Double)` writes it, without building one:
    /// for whole microseconds `m` below 10^15 the shortest form of the Double `m / 1000` is
    /// the decimal `m / 1000` with its trailing zeros dropped (one digit after the point at
    /// least), since a decimal of at most 15 significant digits names exactly one Double.
    static func appendMilliseconds(_ seconds: Double, to out: inout [UInt8]) {
        let scaled = (seconds * 1_000_000).rounded()
        guard scaled.sign == .plus && scaled < 1e15 else { return appendDouble(milliseconds(seconds), to: &out) }
        let micros = UInt64(scaled)
        appendDecimal(micros / 1000, to: &out)
        out.append(UInt8(ascii: "."))
        var frac = Int(micros % 1000)
        if frac == 0 {
            out.append(UInt8(ascii: "0"))
            return
        }
        var width = 3
        while frac % 10 == 0 { frac /= 10; width -= 1 }
        var divisor = width == 3 ? 100 : (width == 2 ? 10 : 1)
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(frac / divisor % 10))
            divisor /= 10
        }
    }

    static func appendDouble(_ d: Double, to out: inout [UInt8]) {
        if d.isFinite { out.append(contentsOf: String(d).utf8) } else { out.append(contentsOf: "null".utf8) }
    }

    /// `JSONWriter.appendString`: the same escaping as `JSONText.appendString`, on bytes.
    /// A string with nothing to escape (no `"`, `\\`, control byte, DEL or 0xE2, the lead
    /// byte of U+2028/U+2029) is copied in one piece; any other goes through `JSONWriter`.
    static func appendString(_ s: String, to out: inout [UInt8]) {
        let copied: Bool? = s.utf8.withContiguousStorageIfAvailable { bytes in
            let plain = Self.plainJSONBytes.withUnsafeBufferPointer { table in
                var all: UInt8 = 1
                for b in bytes { all &= table[Int(b)] }
                return all != 0
            }
            if !plain { return false }
            out.append(0x22)
            out.append(contentsOf: bytes)
            out.append(0x22)
            return true
        }
        if copied != true { JSONWriter.appendString(s, to: &out) }
    }

    /// 1 for the bytes a JSON string can hold as they are (what `appendString` copies
    /// straight); 0 for control characters, `"`, `\\`, DEL and 0xE2 (the first byte of
    /// U+2028 / U+2029, which `JSONWriter` escapes).
    static let plainJSONBytes: [UInt8] = (0..<256).map { b in
        b < 0x20 || b == 0x22 || b == 0x5C || b == 0x7F || b == 0xE2 ? 0 : 1
    }

    /// Appends the bytes of a literal.
    @inline(__always)
    static func appendLiteral(_ s: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }
}
