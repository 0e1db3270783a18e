import GatewayCore
import GatewayHTTP
import GatewayTracing
import GatewayUpstream

/// Parsing requests, deciding them, and ending exchanges.
extension ClientConnection {
    /// Parses as far as the current state allows.
    func process() {
        // Once a response is the last one (a refusal, an error), nothing more is parsed:
        // requests pipelined behind it are never forwarded.
        while !closed && !closeAfterFlush {
            if let ex = exchange {
                if ex.requestComplete { break }  // pipelined bytes wait for the response
                if machine.requestBodyFull { break }
            }
            let result: (event: HTTPParserEvent?, consumed: Int)
            do {
                result = try inbound.withReadableBytes { try parser.parse($0) }
            } catch let error as HTTPParseError {
                answerWithoutRequest(.malformedRequest(error))
                return
            } catch {
                answerWithoutRequest(.malformedRequest(.badRequest("malformed request")))
                return
            }
            if let ex = exchange, !ex.requestComplete {
                // Chunk framing (sizes, extensions, trailers) counts too, with an allowance
                // for normal overhead: 1-byte chunks with 4 KiB extensions must not turn
                // max_body_bytes into gigabytes on the wire.
                var payload = 0
                if case .body(let range)? = result.event { payload = range.count }
                ex.framing += UInt64(result.consumed - payload)
                if ex.framing > UInt64(ex.maxBody / 8 + 64 * 1024) {
                    answer(.bodyTooLarge)
                    return
                }
            }
            guard let event = result.event else {
                inbound.consume(result.consumed)
                if result.consumed == 0 { break }
                continue
            }
            switch event {
            case .head(let head):
                inbound.consume(result.consumed)
                headReceived(head)
            case .body(let range):
                guard let ex = exchange else { inbound.consume(result.consumed); continue }
                ex.received += UInt64(range.count)
                if ex.received > UInt64(ex.maxBody) {
                    answer(.bodyTooLarge)
                    return
                }
                if ex.localBody != nil {
                    ex.localBody!.append(contentsOf: inbound.bytes(range))
                } else {
                    inbound.withReadableBytes { ex.requestBody.append(UnsafeRawBufferPointer(rebasing: $0[range])) }
                }
                inbound.consume(result.consumed)
                machine.bodyProgress(now: monotonicSeconds(), timeouts)
                apply(machine.requestBodyBuffered(count: ex.requestBody.count))
            case .end:
                inbound.consume(result.consumed)
                guard let ex = exchange else { continue }
                ex.requestComplete = true
                machine.requestComplete()
                apply(machine.requestBodyBuffered(count: ex.requestBody.count))
                if ex.localBody != nil { serveLocally(ex) }
                if ex.preflightFields != nil { answerPreflightWhenComplete(ex) }
            }
        }
        inputLevelsChanged()
    }

    private func headReceived(_ head: HTTPRequestHead) {
        machine.headParsed()
        let loop = self.loop  // one strong reference for the whole function, not one per use
        let runtime = loop.runtime
        if loop.responder != nil {
            let ex = Exchange(head: head, maxBody: loop.localMaxBody, started: monotonicSeconds())
            ex.requestID = loop.nextRequestID()
            ex.localBody = []
            exchange = ex
            guard forwardAllowed(ex) else { return }
            machine.forwarding(hasBody: head.framing != .none, now: monotonicSeconds(), timeouts)
            // The request completes (its `.end` event) in `process`, which calls `serveLocally`.
            return
        }
        if loop.role == .decision {
            startDecision(head, runtime: runtime)  // ClientConnection+Decision.swift
            return
        }
        let ex = Exchange(head: head, maxBody: runtime.config.limits.maxBodyBytes, started: monotonicSeconds())
        ex.trace = loop.tracing.begin(head.fields)
        exchange = ex
        if tlsTransport != nil && refusedAsMisdirected(ex) { return }
        decide(ex, runtime: runtime, mayRefetchKeys: true)
    }

    /// Hands a complete request to the listener's local responder; its answer ends the
    /// exchange like a relayed upstream response.
    private func serveLocally(_ ex: Exchange) {
        guard let responder = loop.responder else { return }
        let queue = loop.queue
        let request = LocalRequest(head: ex.head, body: ex.localBody ?? [], peer: peer)
        ex.localBody = nil
        responder(request) { [weak self] response in
            queue.async { [weak self] in
                guard let self, self.exchange === ex, !self.closed else { return }
                let keepAlive = ex.head.keepAlive && !self.loop.draining
                ex.status = response.status
                ex.outcome = .served
                self.enqueue(response.serialized(requestMethod: ex.head.method, close: !keepAlive,
                                                 keepAliveFor10: ex.head.version == .http10))
                self.finishExchange(keepAlive: keepAlive)
            }
        }
    }

    /// Decides the exchange's request; an unknown `kid` of a remote JWK Set first waits
    /// (without blocking the queue) for the issuer's shared refetch, then decides again.
    /// An introspection call works the same way (`waitForIntrospection`): the request waits
    /// for the answer, then is decided again with it.
    private func decide(_ ex: Exchange, runtime: GatewayRuntime, mayRefetchKeys: Bool,
                        introspection: IntrospectionAnswer? = nil) {
        let head = ex.head
        var context = requestContext(ex, runtime: runtime, mayRefetchKeys: mayRefetchKeys)
        context.introspectionAnswer = introspection
        switch RequestPipeline.decide(head, context: context, runtime: runtime) {
        case .needsKeyRefresh(let issuer):
            guard machine.decided(.waitForInput) == .wait else { return }
            afterKeyRefetch(of: issuer, for: ex, runtime: runtime) { c in c.decide(ex, runtime: runtime, mayRefetchKeys: false) }
        case .needsIntrospection(let call):
            guard machine.decided(.waitForInput) == .wait else { return }
            afterIntrospection(call, for: ex) { c, answer in
                c.decide(ex, runtime: runtime, mayRefetchKeys: mayRefetchKeys, introspection: answer)
            }
        case .refuse(let refusal, let route, let requestID):
            ex.requestID = requestID
            ex.routeName = route
            ex.cors = corsForRefusal(refusal, routeName: route, runtime: runtime)
            // A refused request may still have body bytes in flight: never try to resync.
            if case .answer(let outcome) = machine.decided(.refuse(.denied(refusal))) { answer(outcome) }
        case .preflight(let fields, let route, let requestID):
            ex.requestID = requestID
            ex.routeName = route
            guard machine.decided(.answered) == .sendAnswer else { return }
            preflightAllowed(ex, fields: fields)
        case .forward(let plan):
            ex.requestID = plan.requestID
            ex.routeName = plan.routeName
            ex.subject = plan.subject
            ex.cors = plan.cors
            ex.wouldDeny = plan.wouldDeny
            guard forwardAllowed(ex) else { return }
            startUpstream(ex, plan: plan)
        }
    }

    /// Reports a forward verdict to the machine and does what it says first: answer (a body
    /// over the limit), or write `100 Continue` when the client waits for it.
    /// - Returns: whether to go on and forward.
    private func forwardAllowed(_ ex: Exchange) -> Bool {
        let head = ex.head
        var declared: UInt64?
        if case .contentLength(let n) = head.framing { declared = n }
        let wantsContinue = head.expectsContinue && head.version == .http11 && head.framing != .none
        switch machine.decided(.forward(declaredLength: declared, maxBody: ex.maxBody, wantsContinue: wantsContinue)) {
        case .answer(let outcome):
            answer(outcome)
            return false
        case .forward(let sendContinue):
            if sendContinue {
                enqueue(ClientConnection.continueResponse)
                flush()
            }
            return !closed  // the write failed: nothing to forward for
        case .sendAnswer, .wait:
            preconditionFailure("a forward verdict is answered or forwarded")
        }
    }

    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private func startUpstream(_ ex: Exchange, plan: ForwardPlan) {
        let head = ex.head
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
        let request = UpstreamRequest(method: head.method, url: plan.url, fields: plan.fields, body: body,
                                      connectTimeout: plan.upstream.connectTimeout, timeout: plan.upstream.timeout,
                                      tls: tls)
        ex.keepAlive = head.keepAlive
        ex.connection = self
        let loop = self.loop  // one strong reference for the whole function, not one per use
        ex.upstreamStarted = monotonicSeconds()
        ex.transfer = loop.upstream.start(request, delegate: ex)
        machine.forwarding(hasBody: head.framing != .none, now: monotonicSeconds(), loop.timeouts)
    }

    /// An answer for the current exchange, or (a parse error, a header timeout) one before a
    /// request head existed: it still gets its access-log line and metrics, as an exchange
    /// with method and target `-`.
    func answerWithoutRequest(_ outcome: Outcome) {
        if exchange == nil {
            let ex = Exchange(head: HTTPRequestHead(method: "-", target: "-", version: .http11, fields: [],
                                                   framing: .none, keepAlive: false, expectsContinue: false),
                              maxBody: 0, started: monotonicSeconds())
            ex.requestID = loop.nextRequestID()
            exchange = ex
        }
        answer(outcome)
    }

    /// Ends the current exchange with the response `outcome` makes, and closes the
    /// connection after it. The upstream transfer, if any, is cancelled; a queued but unsent
    /// upstream response is taken back first; when some of it already left, the connection
    /// is cut instead (never a response that looks complete).
    func answer(_ outcome: Outcome) {
        guard let ex = exchange else { return }
        ex.outcome = outcome
        ex.transfer?.cancel()
        ex.transfer = nil
        guard takeBackUnsentResponse(ex) else {
            terminate(nil)
            return
        }
        if var response = outcome.response {
            if let cors = ex.cors { response.fields = CORSPolicy.responseFields(response.fields, requestFields: ex.head.fields, cors: cors) }
            ex.status = response.status
            enqueue(response.serialized(requestMethod: ex.head.method, close: true))
        }
        finishExchange(keepAlive: false)
    }

    /// Whether nothing of the upstream's response reached the client. When it is only queued
    /// (not one byte sent: sending happens once per queue turn), it is taken back, so the
    /// caller can still answer with a clean error (502/504, 408, 413, 400).
    func takeBackUnsentResponse(_ ex: Exchange) -> Bool {
        guard ex.responseStarted else { return true }
        guard let at = ex.unsentResponseAt, outbound.holds(position: at) else { return false }
        outbound.truncate(to: at)
        ex.unsentResponseAt = nil
        ex.responseStarted = false
        ex.bytesOut = 0
        return true
    }

    /// Ends the current exchange (records it): keep the connection for the next request, or
    /// close once everything is written.
    func finishExchange(keepAlive: Bool) {
        let loop = self.loop  // one strong reference for the whole function, not one per use
        if let ex = exchange {
            if ex.outcome == nil { ex.outcome = ex.wouldDeny.map { .forwardedReportOnly($0) } ?? .forwarded }
            record(ex)
        }
        exchange = nil
        let action = machine.exchangeEnded(keepAlive: keepAlive, draining: loop.draining, inputBuffered: !inbound.isEmpty,
                                           now: monotonicSeconds(), loop.timeouts)
        if action == .readNextRequest {
            flush()  // what the exchange queued last (response head, chunked terminator)
            guard !closed else { return }
        }
        perform(action)
    }

    /// One access-log line and the metrics for a finished (or cut short) exchange.
    func record(_ ex: Exchange) {
        let now = monotonicSeconds()
        let logged = ex.loggedRequest  // read once: each read copies the pair
        loop.observe(RequestRecord(
            requestID: ex.requestID, client: ex.clientAddress ?? peer, method: logged?.method ?? ex.head.method,
            target: logged?.target ?? ex.head.target, status: ex.status,
            route: ex.routeName, outcome: ex.outcome ?? .clientClosed, subject: ex.subject,
            upstreamSeconds: ex.upstreamSeconds ?? ex.upstreamStarted.map { now - $0 },
            totalSeconds: now - ex.started, bytesIn: ex.received, bytesOut: ex.bytesOut,
            trace: ex.trace ?? loop.tracing.begin([]), upstreamStartOffset: ex.upstreamStarted.map { $0 - ex.started },
            tlsVersion: tlsTransport?.security?.protocolVersion,
            clientCertificate: tlsTransport.map { $0.security?.clientCertificate != nil }))
    }
}
