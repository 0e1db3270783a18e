import GatewayHTTP
import GatewayUpstream

/// The response head a client is sent for an upstream's head, framed as `frame` frames it.
extension ResponseFraming {
    /// A framed head, ready to queue.
    struct ClientHead: Equatable {
        /// Status line, fields and the empty line (RFC 9112 §4).
        var bytes: [UInt8]
        var body: Body
        /// Whether the connection may carry another request after this response.
        var keepAlive: Bool
    }

    /// Frames and writes the client's head for `head` (arguments as for `frame`).
    ///
    /// A head the parser checked (`framingChecked`) whose `Connection` fields list nothing
    /// but `close` and `keep-alive`, and that has at most `UpstreamResponseHead.maxMarkedLines`
    /// framing and hop-by-hop fields, is written in one pass into an exactly sized buffer: the
    /// status line, the upstream's field lines copied as they are, except the hop-by-hop
    /// ones (RFC 9110 §7.6.1: `Connection`, the fields it names, `Keep-Alive`,
    /// `Proxy-Connection`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`) and a
    /// `Content-Length` that a 204 may not carry (RFC 9110 §8.6) or that `Transfer-Encoding`
    /// overrides (RFC 9112 §6.3), then the fields the gateway adds. Any other head takes
    /// `frame` and `HTTPResponseHead.serialized`; both ways give the same bytes.
    /// - Returns: nil when the upstream's framing is one the client could read differently:
    ///   answer 502 instead.
    static func clientHead(for head: UpstreamResponseHead, requestMethod: String, requestVersion: HTTPVersion,
                           keepAlive wanted: Bool) -> ClientHead? {
        let status = head.status
        guard head.framingChecked, !head.markedLinesOverflow, !head.connectionOptions.contains(.other),
              status >= 200 && status <= 599 else {
            return clientHead(status: status, fields: head.fields, requestMethod: requestMethod,
                              requestVersion: requestVersion, keepAlive: wanted)
        }
        // The parser let through at most one Content-Length (digits only) or one
        // `Transfer-Encoding: chunked`, never both.
        let dropLength = status == 204 || head.chunked
        let dropClose = head.connectionOptions.contains(.close)
        var keepAlive = wanted
        let body: Body
        var transferEncoding = false
        if requestMethod == "HEAD" || status == 204 || status == 304 {
            body = .none
        } else if head.contentLength != nil && !dropLength {
            body = .contentLength
        } else if requestVersion == .http11 {
            body = .chunked
            transferEncoding = true
        } else {
            body = .closeDelimited
            keepAlive = false
        }
        let connection: StaticString? = !keepAlive ? "Connection: close\r\n"
            : requestVersion == .http10 ? "Connection: keep-alive\r\n" : nil
        let added: StaticString = "Transfer-Encoding: chunked\r\n"
        let reason = HTTPResponseHead.reasonPhrase(status)
        let marked = head.markedLines
        let markedCount = head.markedLineCount
        let bytes = head.lines.withUnsafeBytes { lines in
            var kept = lines.count
            for k in 0..<markedCount where !keeps(marked[k].kind, dropLength: dropLength, dropClose: dropClose) {
                kept -= Int(marked[k].end - marked[k].start)
            }
            // "HTTP/1.1 " code SP reason CRLF, fields, CRLF.
            var size = 9 + 3 + 1 + reason.utf8.count + 2 + kept + 2
            if transferEncoding { size += added.utf8CodeUnitCount }
            if let connection { size += connection.utf8CodeUnitCount }
            return [UInt8](unsafeUninitializedCapacity: size) { out, count in
                var writer = HeadWriter(base: UnsafeMutableRawPointer(out.baseAddress!), size: size)
                writer.put("HTTP/1.1 ")
                writer.put(UInt8(0x30 + status / 100))
                writer.put(UInt8(0x30 + status / 10 % 10))
                writer.put(UInt8(0x30 + status % 10))
                writer.put(0x20)
                if reason.utf8.withContiguousStorageIfAvailable({ writer.put(UnsafeRawBufferPointer($0)) }) == nil {
                    Array(reason.utf8).withUnsafeBytes { writer.put($0) }
                }
                writer.put("\r\n")
                // Runs of kept lines are copied whole.
                var run = 0
                for k in 0..<markedCount where !keeps(marked[k].kind, dropLength: dropLength, dropClose: dropClose) {
                    writer.put(UnsafeRawBufferPointer(rebasing: lines[run..<Int(marked[k].start)]))
                    run = Int(marked[k].end)
                }
                writer.put(UnsafeRawBufferPointer(rebasing: lines[run...]))
                if transferEncoding { writer.put(added) }
                if let connection { writer.put(connection) }
                writer.put("\r\n")
                precondition(writer.at == size)
                count = size
            }
        }
        return ClientHead(bytes: bytes, body: body, keepAlive: keepAlive)
    }

    /// Frames `fields` with `frame` and serialises the result (`HTTPResponseHead.serialized`).
    /// - Returns: nil when `frame` does.
    static func clientHead(status: Int, fields: [HTTPField], requestMethod: String, requestVersion: HTTPVersion,
                           keepAlive wanted: Bool) -> ClientHead? {
        guard let framing = frame(status: status, upstreamFields: fields, requestMethod: requestMethod,
                                  requestVersion: requestVersion, keepAlive: wanted) else { return nil }
        return ClientHead(bytes: HTTPResponseHead(status: status, fields: framing.fields, version: .http11).serialized(),
                          body: framing.body, keepAlive: framing.keepAlive)
    }

    /// Writes into `size` bytes at `base`, every write checked against `size`.
    private struct HeadWriter {
        let base: UnsafeMutableRawPointer
        let size: Int
        private(set) var at = 0

        init(base: UnsafeMutableRawPointer, size: Int) {
            self.base = base
            self.size = size
        }

        mutating func put(_ bytes: UnsafeRawBufferPointer) {
            guard let from = bytes.baseAddress else { return }
            precondition(at + bytes.count <= size)
            (base + at).copyMemory(from: from, byteCount: bytes.count)
            at += bytes.count
        }

        mutating func put(_ text: StaticString) {
            put(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

        mutating func put(_ byte: UInt8) {
            precondition(at < size)
            base.storeBytes(of: byte, toByteOffset: at, as: UInt8.self)
            at += 1
        }
    }

    /// Whether a field of `kind` is passed on to the client.
    private static func keeps(_ kind: UpstreamResponseHead.FieldKind, dropLength: Bool, dropClose: Bool) -> Bool {
        switch kind {
        case .endToEnd: true
        case .connection, .hopByHop, .transferEncoding: false
        case .contentLength: !dropLength
        case .close: !dropClose
        }
    }
}
