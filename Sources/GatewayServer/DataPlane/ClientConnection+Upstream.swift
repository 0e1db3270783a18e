import GatewayCore
import GatewayHTTP
import GatewayUpstream

/// The upstream transfer's events, relayed to the client.
extension ClientConnection {
    func upstreamHead(_ ex: Exchange, _ head: UpstreamResponseHead) {
        guard exchange === ex, !closed else { return }
        let wanted = machine.offersKeepAlive(requested: ex.keepAlive, draining: loop.draining)
        let queuedBefore = outbound.appendedTotal
        let framed: ResponseFraming.Framed?
        if let cors = ex.cors {
            let fields = CORSPolicy.responseFields(head.fields, requestFields: ex.head.fields, cors: cors)
            framed = ResponseFraming.clientHead(status: head.status, fields: fields, requestMethod: ex.head.method,
                                                requestVersion: ex.head.version, keepAlive: wanted)
                .map { written in
                    outbound.append(written.bytes)
                    return ResponseFraming.Framed(body: written.body, keepAlive: written.keepAlive)
                }
        } else {
            framed = ResponseFraming.queueClientHead(for: head, requestMethod: ex.head.method,
                                                     requestVersion: ex.head.version, keepAlive: wanted, into: &outbound)
        }
        guard let framed else {
            answer(.upstreamFailed(.invalidResponse))
            return
        }
        ex.keepAlive = framed.keepAlive
        ex.responseBody = framed.body
        ex.responseStarted = true
        ex.status = head.status
        // The head may still be taken back (a clean 502/504) until its first byte leaves.
        ex.unsentResponseAt = queuedBefore
        ex.bytesOut += outbound.appendedTotal - queuedBefore
        apply(machine.upstreamHeadQueued())
    }

    /// - Returns: false to pause the transfer (it delivers the same bytes again on resume):
    ///   the machine keeps at most about `outboundHighWater` bytes of a response waiting for
    ///   the client, and resumes the transfer at `outboundLowWater`.
    func upstreamBody(_ ex: Exchange, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard exchange === ex, !closed else { return true }
        if bytes.isEmpty { return true }
        let framed = ex.responseBody == .chunked ? bytes.count + 24 : bytes.count
        let actions = machine.upstreamBodyOffered(bytes: framed, outputQueued: outbound.count)
        if actions.contains(.pauseReceiving) { return false }
        ex.bytesOut += UInt64(bytes.count)
        if ex.responseBody == .chunked {
            outbound.append(HTTPChunkedEncoding.chunkPrefix(length: bytes.count))
            outbound.append(bytes)
            outbound.append(HTTPChunkedEncoding.chunkSuffix)
        } else {
            outbound.append(bytes)
        }
        apply(actions)
        return true
    }

    func upstreamFill(_ ex: Exchange, _ buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk {
        // The client is gone: the upstream must see an incomplete request, never a complete one.
        guard exchange === ex, !closed else { return .abort }
        switch machine.upstreamNeedsBody(buffered: ex.requestBody.count) {
        case .end: return .end
        case .pause: return .pause  // `requestBodyBuffered` resumes it
        case .send: break
        }
        let (n, _) = ex.requestBody.take(into: buffer)
        let actions = machine.requestBodyBuffered(count: ex.requestBody.count)
        apply(actions)
        if actions.contains(.readOn) || !inbound.isEmpty {
            // Body bytes may wait unparsed (high-water mark, or after a half-close):
            // not from inside libcurl's read callback, parsing may resume the transfer.
            loop.queue.async { [weak self] in self?.process() }
        }
        return .data(n)
    }

    func upstreamComplete(_ ex: Exchange, _ error: UpstreamError?) {
        guard exchange === ex, !closed else { return }
        ex.transfer = nil
        if let started = ex.upstreamStarted { ex.upstreamSeconds = monotonicSeconds() - started }
        if let error {
            // A response not yet sent is taken back for a clean 502/504; one that started
            // leaving is cut (the machine closes), so a truncated body never looks complete.
            perform(machine.upstreamFailed(error, responseLeft: !takeBackUnsentResponse(ex)))
            return
        }
        if ex.responseBody == .chunked { enqueue(HTTPChunkedEncoding.lastChunk) }  // flushed by finishExchange
        perform(machine.upstreamFinished(responseKeepAlive: ex.keepAlive))
    }
}
