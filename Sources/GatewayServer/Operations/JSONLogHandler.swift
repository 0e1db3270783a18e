import GatewayCore
import GatewayJOSE
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A swift-log handler that writes one JSON object per line (JSON Lines) to a file
/// descriptor, stdout by default: `{"time":"…","level":"info","message":"…",…metadata}`.
///
/// Each line goes out in a single write(2) under a process-wide lock (shared with the
/// access log's batches), so lines from different queues never interleave. Metadata values that are numbers (`.stringConvertible` Int/Double/UInt64)
/// are written as JSON numbers. Nothing here redacts: callers never put tokens,
/// secrets or Authorization values into log metadata.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let fd: Int32

    public init(label: String, level: Logger.Level = .info, fd: Int32 = 1) {
        self.label = label
        self.logLevel = level
        self.fd = fd
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?,
                    source: String, file: String, function: String, line: UInt) {
        var out = "{\"time\":\""
        out += RFC3339.string(epochSeconds: SystemClock().wallSeconds)
        out += "\",\"level\":\""
        out += level.rawValue
        out += "\",\"message\":"
        JSONText.appendString(message.description, to: &out)
        var merged = self.metadata
        if let explicit { merged.merge(explicit) { _, new in new } }
        for key in merged.keys.sorted() {
            out += ","
            JSONText.appendString(key, to: &out)
            out += ":"
            JSONText.append(merged[key]!, to: &out)
        }
        out += "}\n"
        var bytes = Array(out.utf8)
        bytes.withUnsafeMutableBytes { Self.writeAll(fd, UnsafeRawBufferPointer($0)) }
    }

    /// Serialises every log write of the process (this handler's lines and the access log's
    /// batches): a write(2) of more than PIPE_BUF bytes to a pipe is not atomic, so without
    /// it lines from different queues could interleave.
    private static let writeLock = Mutex()

    /// Writes all of `bytes` to `fd` (retrying EINTR and short writes), under `writeLock`.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        writeLock.withLock {
            var offset = 0
            while offset < bytes.count {
                let n = write(fd, base + offset, bytes.count - offset)
                if n <= 0 { if n < 0 && errno == EINTR { continue }; break }
                offset += n
            }
        }
    }
}

/// JSON text building for log lines.
enum JSONText {
    static func appendString(_ s: String, to out: inout String) {
        out += JSONWriter.quotedString(s)
    }

    static func append(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case .string(let s):
            appendString(s, to: &out)
        case .stringConvertible(let c):
            if c is Int || c is UInt64 || c is Int64 || c is UInt16 {
                out += c.description
            } else if let d = c as? Double {
                out += d.isFinite ? String(d) : "null"
            } else if let b = c as? Bool {
                out += b ? "true" : "false"
            } else {
                appendString(c.description, to: &out)
            }
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                append(item, to: &out)
            }
            out += "]"
        case .dictionary(let dict):
            out += "{"
            for (i, key) in dict.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                appendString(key, to: &out)
                out += ":"
                append(dict[key]!, to: &out)
            }
            out += "}"
        }
    }
}
