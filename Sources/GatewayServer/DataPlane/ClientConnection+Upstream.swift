import GatewayCore
import GatewayHTTP
import GatewayUpstream

/// The upstream transfer's events, relayed to the client.
extension ClientConnection {
    func upstreamHead(_ ex: Exchange, status: Int, fields: [HTTPField]) {
        guard exchange === ex, !closed else { return }
        var fields = fields
        if let cors = ex.cors { fields = CORSPolicy.responseFields(fields, requestFields: ex.head.fields, cors: cors) }
        let wanted = ex.keepAlive && ex.requestComplete && !loop.draining  // draining: this is the last response
        guard let framing = ResponseFraming.frame(status: status, upstreamFields: fields, requestMethod: ex.head.method,
                                                  requestVersion: ex.head.version, keepAlive: wanted) else {
            answer(.upstreamFailed(.invalidResponse))
            return
        }
        ex.keepAlive = framing.keepAlive
        ex.responseBody = framing.body
        ex.responseStarted = true
        ex.status = status
        ex.unsentResponseAt = outbound.appendedTotal
        enqueue(HTTPResponseHead(status: status, fields: framing.fields, version: .http11).serialized())
        scheduleFlush()
    }

    /// - Returns: false to pause the transfer (it delivers the same bytes again on resume):
    ///   at most `outboundHighWater` bytes of a response wait for the client.
    func upstreamBody(_ ex: Exchange, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard exchange === ex, !closed else { return true }
        if bytes.isEmpty { return true }
        let framed = ex.responseBody == .chunked ? bytes.count + 24 : bytes.count
        guard outbound.reserve(framed) else {
            ex.receivePaused = true
            return false
        }
        ex.bytesOut += UInt64(bytes.count)
        if ex.responseBody == .chunked {
            outbound.append(HTTPChunkedEncoding.chunkPrefix(length: bytes.count))
            outbound.append(bytes)
            outbound.append(HTTPChunkedEncoding.chunkSuffix)
        } else {
            outbound.append(bytes)
        }
        scheduleFlush()
        return true
    }

    func upstreamFill(_ ex: Exchange, _ buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk {
        // The client is gone: the upstream must see an incomplete request, never a complete one.
        guard exchange === ex, !closed else { return .abort }
        if ex.requestBody.isEmpty {
            if ex.requestComplete { return .end }
            ex.sendPaused = true
            return .pause
        }
        let (n, _) = ex.requestBody.take(into: buffer)
        if readSuspended || !inbound.isEmpty {
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
            if !takeBackUnsentResponse(ex) {
                // Never let a truncated body look complete.
                ex.outcome = .upstreamFailed(.abortedMidBody)
                terminate(nil)
                return
            }
            answer(.upstreamFailed(UpstreamFailure(error, headSent: false)))
            return
        }
        if ex.responseBody == .chunked { enqueue(HTTPChunkedEncoding.lastChunk) }  // flushed by finishExchange
        finishExchange(keepAlive: ex.keepAlive && ex.requestComplete)
    }
}
