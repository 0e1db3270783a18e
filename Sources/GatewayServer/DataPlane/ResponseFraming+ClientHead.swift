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
    /// but `close` and `keep-alive` is written in one pass into an exactly sized buffer: the
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
        guard head.framingChecked, !head.connectionOptions.contains(.other), status >= 200 && status <= 599 else {
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
        let bytes = head.lines.withUnsafeBytes { lines in
            head.index.withUnsafeBufferPointer { index in
                var kept = lines.count
                for line in index where !keeps(line.kind, dropLength: dropLength, dropClose: dropClose) {
                    kept -= Int(line.end - line.start)
                }
                // "HTTP/1.1 " code SP reason CRLF, fields, CRLF.
                var size = 9 + 3 + 1 + reason.utf8.count + 2 + kept + 2
                if transferEncoding { size += added.utf8CodeUnitCount }
                if let connection { size += connection.utf8CodeUnitCount }
                return [UInt8](unsafeUninitializedCapacity: size) { out, count in
                    let base = UnsafeMutableRawPointer(out.baseAddress!)
                    var at = 0
                    func put(_ bytes: UnsafeRawBufferPointer) {
                        guard let from = bytes.baseAddress else { return }
                        precondition(at + bytes.count <= size)
                        (base + at).copyMemory(from: from, byteCount: bytes.count)
                        at += bytes.count
                    }
                    func put(_ text: StaticString) {
                        put(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
                    }
                    put("HTTP/1.1 ")
                    precondition(at + 4 <= size)
                    out[at] = UInt8(0x30 + status / 100)
                    out[at + 1] = UInt8(0x30 + status / 10 % 10)
                    out[at + 2] = UInt8(0x30 + status % 10)
                    out[at + 3] = 0x20
                    at += 4
                    if reason.utf8.withContiguousStorageIfAvailable({ put(UnsafeRawBufferPointer($0)) }) == nil {
                        Array(reason.utf8).withUnsafeBytes { put($0) }
                    }
                    put("\r\n")
                    // Runs of kept lines are copied whole.
                    var run = 0
                    for line in index where !keeps(line.kind, dropLength: dropLength, dropClose: dropClose) {
                        put(UnsafeRawBufferPointer(rebasing: lines[run..<Int(line.start)]))
                        run = Int(line.end)
                    }
                    put(UnsafeRawBufferPointer(rebasing: lines[run...]))
                    if transferEncoding { put(added) }
                    if let connection { put(connection) }
                    put("\r\n")
                    precondition(at == size)
                    count = at
                }
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
