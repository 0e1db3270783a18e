import Dispatch
import GatewayCore
import GatewayEvents
import GatewayHTTP
import GatewayPolicy
import GatewayTracing
import GatewayUpstream

#if canImport(Glibc)
import Glibc
#endif

/// One client connection, driven by its registration in the loop's `ReadinessPoller` (one
/// Dispatch read source per loop, on the loop's serial queue). Requests on it are handled
/// one at a time, in order (pipelined bytes wait in `inbound` until the current exchange
/// finishes).
///
/// Buffers are bounded: `inbound` holds at most one request head plus `inboundSlack`;
/// a request body is buffered up to `requestBodyHighWater` before reading pauses;
/// response bytes up to `outboundHighWater` before the upstream transfer pauses.
///
/// `@unchecked Sendable`: every property is touched on `loop.queue` only.
final class ClientConnection: @unchecked Sendable {
    static let readChunk = 64 * 1024
    static let outboundHighWater = 256 * 1024
    static let outboundLowWater = 64 * 1024
    static let requestBodyHighWater = 256 * 1024
    static let inboundSlack = 64 * 1024

    let fd: Int32
    let peer: String
    unowned let loop: ServerLoop
    let server: ServerHooks
    /// Readiness of `fd`; interest follows `readSuspended`, `readStopped` and `writeArmed`.
    private var io: PollRegistration?
    private var writeArmed = false
    /// Reading paused while buffers are full.
    private var readSuspended = false
    /// Reading over for good (end of input).
    private var readStopped = false
    /// Monotonic time of the last send(2) that made progress (write-progress timeouts).
    private var lastWriteProgress = 0.0

    private var inbound: [UInt8] = []
    private var inboundStart = 0
    private var parser: HTTPRequestParser
    private var outbound: [UInt8] = []
    private var outboundStart = 0
    private var closeAfterFlush = false
    private var flushScheduled = false
    private(set) var closed = false
    private var clientEOF = false
    private var exchange: Exchange?
    private var headStarted = false

    init(fd: Int32, peer: String, loop: ServerLoop, server: ServerHooks) {
        self.fd = fd
        self.peer = peer
        self.loop = loop
        self.server = server
        let limits = loop.runtime.config.limits
        self.parser = HTTPRequestParser(limits: HTTPParserLimits(maxHeaderBytes: limits.maxHeaderBytes))
    }

    /// Starts reading. Call on `loop.queue`.
    func start() {
        io = loop.poller.register(fd: fd) { [weak self] ready in self?.onReady(ready) }
        updateIO()
        armFirstRequestTimer()
    }

    /// A new connection must start its first request within `header_timeout` (like nginx's
    /// client_header_timeout): a client that connects and stays silent holds a connection
    /// slot that long, not `idle_timeout`. Closed without a response (nothing was asked).
    private func armFirstRequestTimer() {
        let limits = loop.runtime.config.limits
        armTimer(min(limits.headerTimeout, limits.idleTimeout), onFire: { [weak self] in self?.close() })
    }

    /// Whether the connection has no request in progress (for draining).
    var isIdle: Bool {
        exchange == nil && inboundStart == inbound.count && outboundStart == outbound.count && !closeAfterFlush
    }

    /// Makes the poller's interest match what the connection waits for.
    private func updateIO() {
        guard !closed, let io else { return }
        var interest: Readiness = []
        if !readSuspended && !readStopped { interest.insert(.readable) }
        if writeArmed { interest.insert(.writable) }
        io.setInterest(interest)
    }

    private func onReady(_ ready: Readiness) {
        if ready.contains(.readable) { onReadable() }
        if ready.contains(.writable) && writeArmed && !closed { flush() }
    }

    // MARK: Reading

    private func onReadable() {
        guard !closed else { return }
        if lingering { discardInput(); return }
        var total = 0
        while total < 4 * ClientConnection.readChunk {
            let n = appendRead()
            if n > 0 {
                total += n
                // A short read drained the socket: no second read(2) just to see EAGAIN
                // (readiness is level-triggered, so more data or the EOF is reported again).
                if n < ClientConnection.readChunk { break }
                continue
            }
            if n == 0 {
                clientEOF = true
                break
            }
            if errno == EAGAIN || errno == EWOULDBLOCK { break }
            if errno == EINTR { continue }
            abort()
            return
        }
        if !headStarted && exchange == nil && inbound.count > inboundStart {
            headStarted = true
            armTimer(loop.runtime.config.limits.headerTimeout, onFire: { [weak self] in self?.headerTimedOut() })
        }
        process()
        if clientEOF && !closed {
            readStopped = true  // no more read events; finish what is in flight then close
            updateIO()
            if exchange == nil { closeWhenFlushed() }
        }
    }

    /// Reads once (into the loop's scratch buffer) and appends to `inbound`.
    /// Returns read(2)'s result.
    private func appendRead() -> Int {
        let scratch = loop.readBuffer
        let n = read(fd, scratch.baseAddress, scratch.count)
        if n > 0 { inbound.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<n])) }
        return n
    }

    /// Parses as far as the current state allows.
    private func process() {
        // Once a response is the last one (a refusal, an error), nothing more is parsed:
        // requests pipelined behind it are never forwarded.
        while !closed && !closeAfterFlush {
            if let ex = exchange {
                if ex.requestComplete { break }  // pipelined bytes wait for the response
                if ex.requestBody.count >= ClientConnection.requestBodyHighWater { break }
            }
            let result: (event: HTTPParserEvent?, consumed: Int)
            do {
                result = try inbound.withUnsafeBytes { buf in
                    try parser.parse(UnsafeRawBufferPointer(rebasing: buf[inboundStart...]))
                }
            } catch let error as HTTPParseError {
                parseFailed(error)
                return
            } catch {
                parseFailed(.badRequest("malformed request"))
                return
            }
            let base = inboundStart
            inboundStart += result.consumed
            if let ex = exchange, !ex.requestComplete {
                // Chunk framing (sizes, extensions, trailers) counts too, with an allowance
                // for normal overhead: 1-byte chunks with 4 KiB extensions must not turn
                // max_body_bytes into gigabytes on the wire.
                var payload = 0
                if case .body(let range)? = result.event { payload = range.count }
                ex.framing += UInt64(result.consumed - payload)
                if ex.framing > UInt64(ex.maxBody / 8 + 64 * 1024) {
                    bodyTooLarge()
                    return
                }
            }
            guard let event = result.event else {
                if result.consumed == 0 { break }
                continue
            }
            switch event {
            case .head(let head):
                headReceived(head)
            case .body(let range):
                guard let ex = exchange else { continue }
                ex.received += UInt64(range.count)
                if ex.received > UInt64(ex.maxBody) {
                    bodyTooLarge()
                    return
                }
                ex.requestBody.append(contentsOf: inbound[(base + range.lowerBound)..<(base + range.upperBound)])
                armBodyTimer()  // progress: the body timeout starts again
                ex.wakeSender()
            case .end:
                guard let ex = exchange else { continue }
                ex.requestComplete = true
                cancelTimer()
                ex.wakeSender()
            }
        }
        compactInbound()
        updateReadInterest()
    }

    private func compactInbound() {
        if inboundStart == inbound.count {
            inbound.removeAll(keepingCapacity: inbound.capacity <= 2 * ClientConnection.readChunk)
            inboundStart = 0
        } else if inboundStart > 32 * 1024 {
            inbound.removeFirst(inboundStart)
            inboundStart = 0
        }
    }

    /// Pauses reading while buffers are full: pipelined requests behind an in-flight one,
    /// or a request body the upstream has not taken yet.
    private func updateReadInterest() {
        guard !closed, !clientEOF, !lingering else { return }
        let pending = inbound.count - inboundStart
        var full = closeAfterFlush || pending > ClientConnection.inboundSlack + loop.runtime.config.limits.maxHeaderBytes
        if let ex = exchange, ex.requestBody.count >= ClientConnection.requestBodyHighWater { full = true }
        if full != readSuspended {
            readSuspended = full
            updateIO()
        }
    }

    // MARK: Lingering close

    /// After the last response: FIN the sending side, then read and discard what the client
    /// still sends (an upload refused with 413, say) for a short while before closing.
    /// Closing with unread input would send a TCP reset that can destroy the response before
    /// the client reads it (RFC 9112 §9.6; nginx's lingering_close).
    private var lingering = false
    private var lingerDiscarded = 0
    static let lingerSeconds = 2.0
    static let lingerMaxBytes = 1024 * 1024

    private func lingeringClose() {
        guard !closed, !lingering else { return }
        if clientEOF { close(); return }  // nothing more will come: no reset to fear
        lingering = true
        shutdown(fd, Int32(SHUT_WR))
        armTimer(ClientConnection.lingerSeconds, onFire: { [weak self] in self?.close() })
        if readSuspended {
            readSuspended = false
            updateIO()
        }
        discardInput()
    }

    private func discardInput() {
        let scratch = loop.readBuffer
        while !closed {
            let n = read(fd, scratch.baseAddress, scratch.count)
            if n > 0 {
                lingerDiscarded += n
                if lingerDiscarded > ClientConnection.lingerMaxBytes { close() }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            close()  // EOF or error: the client is done
            return
        }
    }

    // MARK: Requests

    private func headReceived(_ head: HTTPRequestHead) {
        cancelTimer()
        headStarted = false
        let runtime = loop.runtime
        let start = monotonicSeconds()
        let ex = Exchange(head: head, maxBody: runtime.config.limits.maxBodyBytes, started: start)
        ex.trace = loop.tracing.begin(head.fields)
        exchange = ex
        decide(ex, runtime: runtime, mayRefetchKeys: true)
    }

    /// Decides the exchange's request; an unknown `kid` of a remote JWK Set first waits
    /// (without blocking the queue) for the issuer's shared refetch, then decides again.
    private func decide(_ ex: Exchange, runtime: GatewayRuntime, mayRefetchKeys: Bool) {
        let head = ex.head
        let context = RequestContext(clientAddress: peer, scheme: "http", now: wallClockSeconds(),
                                     mayRefetchKeys: mayRefetchKeys, makeRequestID: { [loop] in loop.nextRequestID() })
        switch RequestPipeline.decide(head, context: context, runtime: runtime) {
        case .needsKeyRefresh(let issuer):
            let queue = loop.queue
            let resume: @Sendable (Bool) -> Void = { [weak self] _ in
                queue.async { [weak self] in
                    guard let self, self.exchange === ex, !self.closed else { return }
                    self.decide(ex, runtime: runtime, mayRefetchKeys: false)
                }
            }
            if let store = runtime.issuers[issuer]?.store, let jwks = loop.jwks {
                jwks.refetchForUnknownKey(store, completion: resume)
            } else {
                resume(false)
            }
        case .refuse(let refusal, let route, let requestID):
            ex.requestID = requestID
            ex.routeName = route
            ex.outcome = .deny
            ex.reason = refusal.reason.code
            respond(status: refusal.status, fields: refusal.fields, body: refusal.body, version: head.version)
            // A refused request may still have body bytes in flight: never try to resync.
            finishExchange(keepAlive: false)
        case .forward(let plan):
            ex.requestID = plan.requestID
            ex.routeName = plan.routeName
            ex.subject = plan.subject
            ex.outcome = .allow
            ex.reason = "ok"
            if case .contentLength(let n) = head.framing, n > UInt64(ex.maxBody) {
                ex.outcome = .error
                ex.reason = "body_too_large"
                let r = Refusal.jsonBody(error: "payload_too_large", description: "request body too large")
                respond(status: 413, fields: [HTTPField(name: "Content-Type", value: "application/json")], body: r, version: head.version)
                finishExchange(keepAlive: false)
                return
            }
            if head.expectsContinue && head.version == .http11 && head.framing != .none {
                write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                guard !closed else { return }  // the write failed: nothing to forward for
            }
            let body: UpstreamRequestBody
            switch head.framing {
            case .none: body = .none
            case .contentLength(let n): body = .length(n)
            case .chunked: body = .chunked
            }
            var tls: UpstreamTLSOptions?
            if let t = plan.upstream.tls {
                tls = UpstreamTLSOptions(caFile: t.caFile, clientCertificate: t.clientCertificate, clientKey: t.clientKey)
            }
            let fields = ex.trace?.replacingTraceFields(in: plan.fields) ?? plan.fields
            let request = UpstreamRequest(method: head.method, url: plan.url, fields: fields, body: body,
                                          connectTimeout: plan.upstream.connectTimeout, timeout: plan.upstream.timeout,
                                          tls: tls)
            ex.keepAlive = head.keepAlive
            ex.delegate = TransferDelegate(connection: self, exchange: ex)
            ex.upstreamStarted = monotonicSeconds()
            ex.transfer = loop.upstream.start(request, delegate: ex.delegate!)
            if head.framing != .none { armBodyTimer() }
        }
    }

    private func parseFailed(_ error: HTTPParseError) {
        if exchange == nil { startHeadlessExchange() }
        exchange?.outcome = .error
        if let ex = exchange, ex.transfer != nil || ex.responseStarted {
            // Mid-body framing error: the upstream exchange cannot complete.
            ex.transfer?.cancel()
            ex.transfer = nil
            if retractUnsentResponse(ex) { abort(); return }
        }
        cancelTimer()
        let code: String
        var fields = [HTTPField(name: "Content-Type", value: "application/json")]
        switch error {
        case .badRequest: code = "bad_request"
        case .headerTooLarge: code = "request_header_fields_too_large"
        case .uriTooLong: code = "uri_too_long"
        case .versionNotSupported: code = "http_version_not_supported"
        case .notImplemented: code = "not_implemented"
        case .expectationFailed: code = "expectation_failed"
        case .methodNotAllowed:
            code = "method_not_allowed"
            // RFC 9110 §15.5.6: a 405 lists what is allowed; everything but CONNECT may be routed.
            fields.append(HTTPField(name: "Allow", value: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"))
        }
        exchange?.reason = code
        let body = Refusal.jsonBody(error: code, description: error.reason)
        respond(status: error.status, fields: fields, body: body, version: .http11)
        finishExchange(keepAlive: false)
    }

    private func bodyTooLarge() {
        guard let ex = exchange else { return }
        ex.outcome = .error
        ex.reason = "body_too_large"
        ex.transfer?.cancel()
        ex.transfer = nil
        if retractUnsentResponse(ex) { abort(); return }
        let body = Refusal.jsonBody(error: "payload_too_large", description: "request body too large")
        respond(status: 413, fields: [HTTPField(name: "Content-Type", value: "application/json")], body: body,
                version: ex.head.version)
        finishExchange(keepAlive: false)
    }

    /// No request body progress within `limits.body_timeout` while the gateway was ready to
    /// read: 408 (or an abort once the response started) and the upstream exchange cancelled.
    private func bodyTimedOut() {
        guard !closed, let ex = exchange, !ex.requestComplete else { return }
        if readSuspended || ex.requestBody.count >= ClientConnection.requestBodyHighWater {
            // The gateway is the one not reading (upstream backpressure): not the client's fault.
            armBodyTimer()
            return
        }
        ex.outcome = .error
        ex.reason = "body_timeout"
        ex.transfer?.cancel()
        ex.transfer = nil
        if retractUnsentResponse(ex) { abort(); return }
        let body = Refusal.jsonBody(error: "request_timeout", description: "request body not received in time")
        respond(status: 408, fields: [HTTPField(name: "Content-Type", value: "application/json")], body: body,
                version: ex.head.version)
        finishExchange(keepAlive: false)
    }

    private func headerTimedOut() {
        guard !closed, exchange == nil else { return }
        startHeadlessExchange()
        exchange?.outcome = .error
        exchange?.reason = "header_timeout"
        let body = Refusal.jsonBody(error: "request_timeout", description: "request head not received in time")
        respond(status: 408, fields: [HTTPField(name: "Content-Type", value: "application/json")], body: body,
                version: .http11)
        finishExchange(keepAlive: false)
    }

    /// An answer before a request head existed (parse error, header timeout) still gets its
    /// access-log line and metrics: an exchange with method and target `-`.
    private func startHeadlessExchange() {
        let ex = Exchange(head: HTTPRequestHead(method: "-", target: "-", version: .http11, fields: [], framing: .none,
                                               keepAlive: false, expectsContinue: false),
                          maxBody: 0, started: monotonicSeconds())
        ex.requestID = loop.nextRequestID()
        exchange = ex
    }

    /// The response being written is the last: stop reading, close once it is out, and
    /// abort if the client reads nothing of it for `idle_timeout` (it must not hold the
    /// connection by not reading).
    private func closeWhenFlushed() {
        closeAfterFlush = true
        updateReadInterest()
        lastWriteProgress = monotonicSeconds()
        armLingerTimer()
        flush()
    }

    private func armLingerTimer() {
        let limit = loop.runtime.config.limits.idleTimeout
        armTimer(limit, onFire: { [weak self] in
            guard let self, !self.closed else { return }
            let stalled = monotonicSeconds() - self.lastWriteProgress
            if stalled >= limit { self.abort() } else { self.armLingerTimer() }
        })
    }

    /// Queues a complete response (head + fixed body) for a request the gateway answers itself.
    /// Not flushed here: every caller ends the exchange (`finishExchange`, which logs the
    /// request first and then flushes) or flushes itself, so head and body leave in one
    /// send(2) and the access-log line is written before the client can see the response.
    private func respond(status: Int, fields: [HTTPField], body: [UInt8], version: HTTPVersion, close: Bool = true) {
        exchange?.status = status
        var all = fields
        all.append(HTTPField(name: "Content-Length", value: String(body.count)))
        if close { all.append(HTTPField(name: "Connection", value: "close")) }
        write(HTTPResponseHead(status: status, fields: all, version: .http11).serialized(), flush: false)
        // RFC 9110 §9.3.2: a response to HEAD has no body (Content-Length still says how long it would be).
        if exchange?.head.method != "HEAD" { write(body, flush: false) }
    }

    /// Ends the current exchange: keep the connection for the next request, or close once
    /// everything is written.
    fileprivate func finishExchange(keepAlive: Bool) {
        if let ex = exchange { record(ex) }
        exchange?.delegate = nil
        exchange = nil
        if !keepAlive || loop.draining || (clientEOF && inboundStart == inbound.count) {
            closeWhenFlushed()
            return
        }
        flush()  // what the exchange queued last (response head, chunked terminator)
        guard !closed else { return }
        armIdleTimer()
        process()
        if clientEOF && exchange == nil && !closed {
            // Half-closed: the pipelined requests that were complete are answered; a
            // partial one can never complete.
            closeWhenFlushed()
            return
        }
        if !closed && exchange == nil && !headStarted && inboundStart < inbound.count {
            // Part of a pipelined head is already here: it gets header_timeout, not idle_timeout.
            headStarted = true
            armTimer(loop.runtime.config.limits.headerTimeout, onFire: { [weak self] in self?.headerTimedOut() })
        }
    }

    // MARK: Upstream events

    fileprivate func upstreamHead(_ ex: Exchange, status: Int, fields upstreamFields: [HTTPField]) {
        guard exchange === ex, !closed else { return }
        var hadLength = false
        var hadTransferEncoding = false
        for f in upstreamFields {
            if HeaderName.equals(f.name, "content-length") { hadLength = true }
            if HeaderName.equals(f.name, "transfer-encoding") { hadTransferEncoding = true }
        }
        var fields = HopByHop.removing(from: upstreamFields)
        let noBody = ex.head.method == "HEAD" || status == 204 || status == 304 || (100..<200).contains(status)
        if status == 204 || (100..<200).contains(status) {
            // RFC 9110 §8.6: no Content-Length in a 1xx or 204 response.
            fields.removeAll { HeaderName.equals($0.name, "content-length") }
            hadLength = false
        }
        if hadLength, !fields.contains(where: { HeaderName.equals($0.name, "content-length")
            && !$0.value.isEmpty && $0.value.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }) {
            // "2, 2" and the like: framing the client could read differently. 502.
            ex.transfer?.cancel()
            ex.transfer = nil
            ex.outcome = .error
            ex.reason = "upstream_invalid"
            let body = Refusal.jsonBody(error: "bad_gateway", description: "upstream unavailable or invalid response")
            respond(status: 502, fields: [HTTPField(name: "Content-Type", value: "application/json")], body: body,
                    version: ex.head.version)
            finishExchange(keepAlive: false)
            return
        }
        if hadTransferEncoding {
            // RFC 9112 §6.3: Transfer-Encoding overrides Content-Length.
            fields.removeAll { HeaderName.equals($0.name, "content-length") }
            hadLength = false
        }
        var keepAlive = ex.keepAlive
        if noBody {
            ex.responseChunked = false
        } else if hadLength {
            ex.responseChunked = false
        } else if ex.head.version == .http11 {
            ex.responseChunked = true
            fields.append(HTTPField(name: "Transfer-Encoding", value: "chunked"))
        } else {
            keepAlive = false  // close-delimited body for HTTP/1.0
        }
        if !ex.requestComplete || loop.draining { keepAlive = false }  // draining: this is the last response
        ex.keepAlive = keepAlive
        if !keepAlive {
            fields.append(HTTPField(name: "Connection", value: "close"))
        } else if ex.head.version == .http10 {
            fields.append(HTTPField(name: "Connection", value: "keep-alive"))
        }
        ex.responseStarted = true
        ex.status = status
        ex.unsentResponseAt = outbound.count
        write(HTTPResponseHead(status: status, fields: fields, version: .http11).serialized(), flush: false)
        scheduleFlush()
    }

    fileprivate func upstreamBody(_ ex: Exchange, _ bytes: UnsafeRawBufferPointer) -> Bool {
        guard exchange === ex, !closed else { return true }
        if outbound.count - outboundStart >= ClientConnection.outboundHighWater {
            ex.receivePaused = true
            return false
        }
        if bytes.isEmpty { return true }
        ex.bytesOut += UInt64(bytes.count)
        if ex.responseChunked {
            outbound.append(contentsOf: String(bytes.count, radix: 16).utf8)
            outbound.append(0x0D); outbound.append(0x0A)
            outbound.append(contentsOf: bytes)
            outbound.append(0x0D); outbound.append(0x0A)
        } else {
            outbound.append(contentsOf: bytes)
        }
        scheduleFlush()
        return true
    }

    fileprivate func upstreamFill(_ ex: Exchange, _ buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk {
        // The client is gone: the upstream must see an incomplete request, never a complete one.
        guard exchange === ex, !closed else { return .abort }
        if ex.requestBody.isEmpty {
            if ex.requestComplete { return .end }
            ex.sendPaused = true
            return .pause
        }
        let n = min(buffer.count, ex.requestBody.count)
        ex.requestBody.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: n)
        }
        ex.requestBody.removeFirst(n)
        if readSuspended || inboundStart < inbound.count {
            // Body bytes may wait unparsed (high-water mark, or after a half-close):
            // not from inside libcurl's read callback, parsing may resume the transfer.
            loop.queue.async { [weak self] in self?.process() }
        }
        return .data(n)
    }

    fileprivate func upstreamComplete(_ ex: Exchange, _ error: UpstreamError?) {
        guard exchange === ex, !closed else { return }
        ex.transfer = nil
        if let started = ex.upstreamStarted { ex.upstreamSeconds = monotonicSeconds() - started }
        if let error {
            ex.outcome = .error
            ex.reason = error.status == 504 ? "upstream_timeout" : (ex.responseStarted ? "upstream_aborted" : "upstream_error")
            if retractUnsentResponse(ex) {
                // Never let a truncated body look complete.
                abort()
                return
            }
            let (code, text) = error.status == 504 ? ("gateway_timeout", "upstream timed out")
                : ("bad_gateway", "upstream unavailable or invalid response")
            let body = Refusal.jsonBody(error: code, description: text)
            respond(status: error.status, fields: [HTTPField(name: "Content-Type", value: "application/json")],
                    body: body, version: ex.head.version)
            finishExchange(keepAlive: false)
            return
        }
        if ex.responseChunked { write(Array("0\r\n\r\n".utf8), flush: false) }  // flushed by finishExchange
        finishExchange(keepAlive: ex.keepAlive && ex.requestComplete)
    }

    /// Whether the upstream's response has started reaching the client. When it is only
    /// queued (not one byte sent: sending happens once per queue turn), it is taken back, so
    /// the caller can still answer with a clean error (502/504, 408, 413, 400) instead of
    /// cutting the connection.
    private func retractUnsentResponse(_ ex: Exchange) -> Bool {
        guard ex.responseStarted else { return false }
        guard let at = ex.unsentResponseAt else { return true }
        outbound.removeSubrange(at...)
        ex.unsentResponseAt = nil
        ex.responseStarted = false
        ex.bytesOut = 0
        return false
    }

    /// One access-log line and the metrics for a finished (or cut short) exchange.
    private func record(_ ex: Exchange) {
        let now = monotonicSeconds()
        loop.observe(RequestRecord(
            requestID: ex.requestID, client: peer, method: ex.head.method, target: ex.head.target, status: ex.status,
            route: ex.routeName, decision: ex.outcome, reason: ex.reason, subject: ex.subject,
            upstreamSeconds: ex.upstreamSeconds ?? ex.upstreamStarted.map { now - $0 },
            totalSeconds: now - ex.started, bytesIn: ex.received, bytesOut: ex.bytesOut,
            trace: ex.trace ?? loop.tracing.begin([]), upstreamStartOffset: ex.upstreamStarted.map { $0 - ex.started }))
    }

    // MARK: Writing

    /// Sends what is queued on the next queue turn, i.e. after the current libcurl call.
    ///
    /// Upstream head and body bytes wait for it: when the whole response arrives in one
    /// libcurl call (the common case), the transfer completes in that same call, the
    /// access-log line is written, and head and body leave in one send(2), after the log
    /// line. Otherwise they leave a moment later, on the next turn.
    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.queue.async { [weak self] in
            guard let self else { return }
            self.flushScheduled = false
            self.flush()
        }
    }

    /// Queues bytes for the client; sends them now unless `flushNow` is false.
    private func write(_ bytes: [UInt8], flush flushNow: Bool = true) {
        guard !closed else { return }
        exchange?.bytesOut += UInt64(bytes.count)
        outbound.append(contentsOf: bytes)
        if flushNow { flush() }
    }

    private func flush() {
        guard !closed else { return }
        while outboundStart < outbound.count {
            let n = outbound.withUnsafeBytes { buf in
                send(fd, buf.baseAddress! + outboundStart, buf.count - outboundStart, Int32(MSG_NOSIGNAL))
            }
            if n > 0 {
                outboundStart += n
                lastWriteProgress = monotonicSeconds()
                if let ex = exchange, let at = ex.unsentResponseAt, outboundStart > at { ex.unsentResponseAt = nil }
                continue
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                armWrite()
                return
            }
            abort()
            return
        }
        outbound.removeAll(keepingCapacity: outbound.capacity <= 4 * ClientConnection.outboundHighWater)
        outboundStart = 0
        disarmWrite()
        if let ex = exchange, ex.receivePaused {
            ex.receivePaused = false
            ex.transfer?.resumeReceiving()
        }
        if closeAfterFlush { lingeringClose() }
    }

    private func armWrite() {
        if !writeArmed {
            writeArmed = true
            updateIO()
        }
    }

    private func disarmWrite() {
        if writeArmed {
            writeArmed = false
            updateIO()
        }
    }

    // MARK: Timers

    /// Monotonic time at which `deadlineAction` runs (checked by the loop's sweep timer,
    /// so a connection costs no Dispatch timer of its own).
    private(set) var deadline = Double.infinity
    private var deadlineAction: (() -> Void)?

    private func armIdleTimer() {
        let limit = loop.runtime.config.limits.idleTimeout
        armTimer(limit, onFire: { [weak self] in
            guard let self, !self.closed, self.exchange == nil else { return }
            if self.outboundStart < self.outbound.count
                && monotonicSeconds() - self.lastWriteProgress < limit {
                self.armIdleTimer()  // still writing the last response: wait for it
                return
            }
            if self.inboundStart == self.inbound.count { self.close() } else { self.abort() }
        })
    }

    private func armBodyTimer() {
        armTimer(loop.runtime.config.limits.bodyTimeout, onFire: { [weak self] in self?.bodyTimedOut() })
    }

    private func armTimer(_ seconds: Double, onFire: @escaping () -> Void) {
        deadline = monotonicSeconds() + seconds
        deadlineAction = onFire
    }

    private func cancelTimer() {
        deadline = .infinity
        deadlineAction = nil
    }

    /// Called by the loop's sweep with the current monotonic time.
    func checkDeadline(_ now: Double) {
        guard now >= deadline, let action = deadlineAction else { return }
        cancelTimer()
        action()
    }

    // MARK: Closing

    /// Closes at once, cancelling any upstream transfer (the client sees a reset/EOF).
    func abort() {
        closeAfterFlush = false
        close()
    }

    /// Closes the socket and releases every source. Idempotent.
    func close() {
        guard !closed else { return }
        closed = true
        cancelTimer()
        if let ex = exchange {
            record(ex)
            ex.transfer?.cancel()
            ex.transfer = nil
            ex.delegate = nil
            exchange = nil
        }
        // Out of the epoll set first (at once, unlike a Dispatch source's cancel), so the
        // number can be closed now and reused by the next accepted connection.
        io?.cancel()
        io = nil
        Glibc.close(fd)
        server.connectionClosed(self)
    }
}

/// State of one request/response exchange on a connection.
final class Exchange: @unchecked Sendable {
    let head: HTTPRequestHead
    let maxBody: Int
    let started: Double
    var transfer: UpstreamTransfer?
    var delegate: TransferDelegate?
    /// Request body bytes received from the client and not yet taken by libcurl.
    var requestBody: [UInt8] = []
    var received: UInt64 = 0
    /// Request bytes that were chunk framing, not payload.
    var framing: UInt64 = 0
    var requestComplete = false
    var sendPaused = false
    var receivePaused = false
    var responseStarted = false
    /// Where the response head starts in `outbound` while none of it has been sent; nil
    /// once a byte of it left (or before it was queued).
    var unsentResponseAt: Int?
    var responseChunked = false
    var keepAlive = false
    // For the access log and metrics (one `RequestRecord` per exchange).
    var requestID = ""
    var routeName: String?
    var outcome = RequestRecord.Decision.error
    var reason = "aborted"
    var subject: String?
    var status = 0
    var upstreamStarted: Double?
    var upstreamSeconds: Double?
    var bytesOut: UInt64 = 0
    /// W3C trace context (set when the head arrives).
    var trace: RequestTrace?

    init(head: HTTPRequestHead, maxBody: Int, started: Double) {
        self.head = head
        self.maxBody = maxBody
        self.started = started
    }

    func wakeSender() {
        if sendPaused {
            sendPaused = false
            transfer?.resumeSending()
        }
    }
}

/// Bridges libcurl transfer events to the connection (held by the exchange while it runs).
final class TransferDelegate: UpstreamTransferDelegate {
    weak var connection: ClientConnection?
    let exchange: Exchange
    init(connection: ClientConnection, exchange: Exchange) {
        self.connection = connection
        self.exchange = exchange
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveHead status: Int, fields: [HTTPField]) {
        connection?.upstreamHead(exchange, status: status, fields: fields)
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> Bool {
        connection?.upstreamBody(exchange, bytes) ?? true
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, fillRequestBody buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk {
        connection?.upstreamFill(exchange, buffer) ?? .abort
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, didComplete error: UpstreamError?) {
        connection?.upstreamComplete(exchange, error)
    }
}

/// Seconds on a monotonic clock (for durations).
func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Seconds since the Unix epoch (for token time checks).
func wallClockSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
