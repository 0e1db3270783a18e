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

    /// How a head queued by `queueClientHead` frames the response.
    struct Framed: Equatable {
        var body: Body
        /// Whether the connection may carry another request after this response.
        var keepAlive: Bool
    }

    /// Frames the client's head for `head` (arguments as for `frame`) and appends its bytes
    /// to `queue`.
    ///
    /// A head the parser checked (`framingChecked`) whose `Connection` fields list nothing
    /// but `close` and `keep-alive`, and that has at most `UpstreamResponseHead.maxMarkedLines`
    /// framing and hop-by-hop fields, goes to the queue in a few copies and no allocation:
    /// the status line, the upstream's field lines as they are, except the hop-by-hop ones
    /// (RFC 9110 §7.6.1: `Connection`, the fields it names, `Keep-Alive`, `Proxy-Connection`,
    /// `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`) and a `Content-Length` that a 204 may
    /// not carry (RFC 9110 §8.6) or that `Transfer-Encoding` overrides (RFC 9112 §6.3), then
    /// the fields the gateway adds. Any other head takes `frame` and
    /// `HTTPResponseHead.serialized`; both ways give the same bytes.
    /// - Returns: nil, with nothing queued, when the upstream's framing is one the client
    ///   could read differently: answer 502 instead.
    static func queueClientHead(for head: UpstreamResponseHead, requestMethod: String, requestVersion: HTTPVersion,
                                keepAlive wanted: Bool, into queue: inout ByteQueue) -> Framed? {
        let status = head.status
        guard head.framingChecked, !head.markedLinesOverflow, !head.connectionOptions.contains(.other),
              status >= 200 && status <= 599 else {
            guard let written = clientHead(status: status, fields: head.fields, requestMethod: requestMethod,
                                           requestVersion: requestVersion, keepAlive: wanted) else { return nil }
            queue.append(written.bytes)
            return Framed(body: written.body, keepAlive: written.keepAlive)
        }
        // The parser let through at most one Content-Length (digits only) or one
        // `Transfer-Encoding: chunked`, never both.
        let dropLength = status == 204 || head.chunked
        let dropClose = head.connectionOptions.contains(.close)
        var keepAlive = wanted
        let body: Body
        if requestMethod == "HEAD" || status == 204 || status == 304 {
            body = .none
        } else if head.contentLength != nil && !dropLength {
            body = .contentLength
        } else if requestVersion == .http11 {
            body = .chunked
        } else {
            body = .closeDelimited
            keepAlive = false
        }
        // The fields the gateway adds, and the empty line: `Transfer-Encoding` for a
        // re-chunked body, then `Connection` when closing, or keeping an HTTP/1.0 client.
        let end: StaticString = switch (body == .chunked, !keepAlive, requestVersion == .http10) {
        case (true, true, _): "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        case (true, false, true): "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
        case (true, false, false): "Transfer-Encoding: chunked\r\n\r\n"
        case (false, true, _): "Connection: close\r\n\r\n"
        case (false, false, true): "Connection: keep-alive\r\n\r\n"
        case (false, false, false): "\r\n"
        }
        queueStatusLine(status, into: &queue)
        let marked = head.markedLines
        let markedCount = head.markedLineCount
        head.lines.withUnsafeBytes { lines in
            // Runs of kept lines are copied whole.
            var run = 0
            for k in 0..<markedCount where !keeps(marked[k].kind, dropLength: dropLength, dropClose: dropClose) {
                let start = Int(marked[k].start)
                if start > run { queue.append(UnsafeRawBufferPointer(rebasing: lines[run..<start])) }
                run = Int(marked[k].end)
            }
            if lines.count > run { queue.append(UnsafeRawBufferPointer(rebasing: lines[run...])) }
        }
        queue.append(UnsafeRawBufferPointer(start: end.utf8Start, count: end.utf8CodeUnitCount))
        return Framed(body: body, keepAlive: keepAlive)
    }

    /// "HTTP/1.1 " code SP reason CRLF (RFC 9112 §4), `status` in 100...999, assembled on
    /// the stack and queued in one copy.
    private static func queueStatusLine(_ status: Int, into queue: inout ByteQueue) {
        if status == 200 {
            let ok: StaticString = "HTTP/1.1 200 OK\r\n"
            queue.append(UnsafeRawBufferPointer(start: ok.utf8Start, count: ok.utf8CodeUnitCount))
            return
        }
        let reason = HTTPResponseHead.reasonPhrase(status)
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { line in
            var writer = HeadWriter(base: line.baseAddress!, size: line.count)
            writer.put("HTTP/1.1 ")
            writer.put(UInt8(0x30 + status / 100))
            writer.put(UInt8(0x30 + status / 10 % 10))
            writer.put(UInt8(0x30 + status % 10))
            writer.put(0x20)
            if reason.utf8.withContiguousStorageIfAvailable({ writer.put(UnsafeRawBufferPointer($0)) }) == nil {
                Array(reason.utf8).withUnsafeBytes { writer.put($0) }
            }
            writer.put("\r\n")
            queue.append(UnsafeRawBufferPointer(rebasing: line[0..<writer.at]))
        }
    }

    /// The client's head for `head` as `queueClientHead` queues it, as bytes.
    /// - Returns: nil when `queueClientHead` does.
    static func clientHead(for head: UpstreamResponseHead, requestMethod: String, requestVersion: HTTPVersion,
                           keepAlive wanted: Bool) -> ClientHead? {
        var queue = ByteQueue(highWater: .max, lowWater: 0)
        guard let framed = queueClientHead(for: head, requestMethod: requestMethod, requestVersion: requestVersion,
                                           keepAlive: wanted, into: &queue) else { return nil }
        return ClientHead(bytes: queue.withReadableBytes { Array($0) }, body: framed.body, keepAlive: framed.keepAlive)
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
