import GatewayUpstream

/// The life of one client connection as a value: which state it is in, which deadlines run,
/// and what the I/O side (`ClientConnection`) must do next. It does no I/O and reads no
/// clock: every event carries the current monotonic time in seconds, so tests drive it
/// with a manual clock.
///
/// States, in the order a connection goes through them:
///
///     waitingForRequest ──bytes──▶ readingHead ──head──▶ exchange(deciding)
///            ▲                                              │ forwarding
///            │ keep-alive                                   ▼
///            └──────────────── exchange ended ◀── exchange(receivingBody / awaitingResponse)
///                                   │ last response
///                                   ▼
///                          closingAfterFlush ──all written──▶ lingering ──▶ closed
///
/// Deadlines (one per role, `ConnectionTimers`): `header` (first request, or a started
/// head), `body` (request body progress), `idle` (keep-alive wait), `writeProgress` (queued
/// response bytes taken by the client), `linger` (after the final FIN).
/// An event that cannot happen in the current state is a `preconditionFailure` naming why.
///
/// Flow control is decided here too (`ConnectionStateMachine+Flow.swift`): buffer levels,
/// writability and upstream events come in, `IOActions` go out (read and write interest,
/// pausing and resuming the upstream transfer, flushing), with high/low water hysteresis.
/// Only what the transport itself waits for (a TLS read that must write first) stays with
/// the I/O side.
struct ConnectionStateMachine {
    enum State: Equatable {
        /// No request yet (a new connection, or keep-alive between requests).
        case waitingForRequest
        /// Part of a request head arrived.
        case readingHead
        /// A request is being handled.
        case exchange(ExchangePhase)
        /// The last response is queued: nothing more is read; close once it is written.
        case closingAfterFlush
        /// Write side shut down after the last response; input is read and discarded.
        case lingering
        case closed
    }

    enum ExchangePhase: Equatable {
        /// The head is being decided (or waits for a key refresh).
        case deciding
        /// Forwarded; the request body is still arriving.
        case receivingBody
        /// Forwarded; the whole request arrived.
        case awaitingResponse
    }

    /// What the I/O side does after an event.
    enum Action: Equatable {
        case none
        /// Answer with the outcome's response and end the exchange (before a head existed,
        /// as an exchange with method and target `-`).
        case answer(Outcome)
        /// Close now; an exchange still open is recorded with the outcome.
        case close(Outcome?)
        /// Stop reading; write what is queued, then close.
        case closeAfterFlush
        /// Everything is written: shut down the write side and linger.
        case shutdownWriteAndLinger
        /// Read and parse what is buffered: the connection waits for the next request.
        case readNextRequest
        /// The exchange's response is complete: record it and end it (`exchangeEnded`).
        case finishExchange(keepAlive: Bool)
    }

    /// Seconds each deadline allows (from `limits`, and the fixed linger time).
    struct Timeouts: Equatable {
        var header: Double
        var body: Double
        var idle: Double
        var linger: Double
    }

    private(set) var state = State.waitingForRequest
    private(set) var timers = ConnectionTimers()
    /// The client ended its input (it may still read).
    private(set) var inputEnded = false
    let limits: FlowLimits
    /// Unparsed input reached its high-water mark (until it is back at the low mark).
    private(set) var inboundFull = false
    /// The request body buffer reached its high-water mark (until it is back at the low mark).
    private(set) var requestBodyFull = false
    /// The upstream transfer is paused because the client has not taken the response.
    private(set) var upstreamReceivePaused = false
    /// The upstream transfer is paused waiting for request body bytes.
    private(set) var upstreamSendPaused = false
    /// The whole request of the open exchange arrived.
    private(set) var requestEnded = false
    /// A write waits for the client's socket to become writable.
    private(set) var wantsWrite = false
    /// The exchange's decision waits for a JWK Set refetch or an introspection answer.
    var awaitingDecisionInput = false  // changed only by `decided` and `decisionInputArrived`

    init(limits: FlowLimits = ConnectionStateMachine.defaultLimits) {
        self.limits = limits
    }

    /// Whether the I/O side reads now: never after the last response or the client's end
    /// of input; not while a buffer is full; always while lingering (input is discarded).
    var wantsRead: Bool {
        switch state {
        case .closingAfterFlush, .closed: false
        case .lingering: !inputEnded
        case .waitingForRequest, .readingHead, .exchange: !inputEnded && !inboundFull && !requestBodyFull
        }
    }

    /// Whether the connection reads and parses requests now.
    var acceptsRequests: Bool {
        switch state {
        case .waitingForRequest, .readingHead, .exchange: true
        case .closingAfterFlush, .lingering, .closed: false
        }
    }

    var isLingering: Bool { state == .lingering }
    var headStarted: Bool { state == .readingHead }

    // MARK: Events

    /// The connection was accepted: its first request must start within `header_timeout`
    /// (capped by `idle_timeout`), or it is closed without a response.
    mutating func started(now: Double, _ t: Timeouts) {
        precondition(state == .waitingForRequest, "a connection starts once")
        timers.schedule(.header, at: now + min(t.header, t.idle))
    }

    /// Bytes of a request arrived (or are buffered) while none is being handled.
    mutating func requestBytesArrived(now: Double, _ t: Timeouts) {
        guard state == .waitingForRequest else { return }
        state = .readingHead
        timers.cancel(.idle)
        timers.schedule(.header, at: now + t.header)
    }

    /// A complete request head was parsed.
    mutating func headParsed() {
        switch state {
        case .waitingForRequest, .readingHead:
            state = .exchange(.deciding)
            timers.cancel(.header)
            timers.cancel(.idle)
        case .exchange, .closingAfterFlush, .lingering, .closed:
            preconditionFailure("a request head parsed in state \(state): parsing waits for the exchange to end")
        }
    }

    /// The request goes upstream (or to a local responder); a body must keep arriving.
    mutating func forwarding(hasBody: Bool, now: Double, _ t: Timeouts) {
        guard case .exchange(let phase) = state else {
            preconditionFailure("forwarding in state \(state): only an open exchange is forwarded")
        }
        // The body may have completed while the decision waited for a key refresh.
        guard phase == .deciding else { return }
        if hasBody {
            state = .exchange(.receivingBody)
            timers.schedule(.body, at: now + t.body)
        } else {
            state = .exchange(.awaitingResponse)
        }
    }

    /// Request body bytes arrived: the body deadline starts again.
    mutating func bodyProgress(now: Double, _ t: Timeouts) {
        guard case .exchange(.receivingBody) = state else { return }
        timers.schedule(.body, at: now + t.body)
    }

    /// The request (head and body) is complete.
    mutating func requestComplete() {
        guard case .exchange = state else {
            preconditionFailure("a request completed in state \(state) with no exchange")
        }
        state = .exchange(.awaitingResponse)
        requestEnded = true
        timers.cancel(.body)
    }

    /// The exchange ended (its response is queued). `keepAlive`: the response allows
    /// another request; `draining`: the gateway is shutting down; `inputBuffered`: bytes
    /// of a following request are buffered.
    mutating func exchangeEnded(keepAlive: Bool, draining: Bool, inputBuffered: Bool, now: Double,
                                _ t: Timeouts) -> Action {
        switch state {
        case .waitingForRequest, .readingHead, .exchange:
            timers.cancel(.body)
            timers.cancel(.header)
            endExchangeFlow()
            if !keepAlive || draining || (inputEnded && !inputBuffered) {
                state = .closingAfterFlush
                return .closeAfterFlush
            }
            state = .waitingForRequest
            timers.schedule(.idle, at: now + t.idle)
            return .readNextRequest
        case .closingAfterFlush, .lingering, .closed:
            preconditionFailure("an exchange ended in state \(state): none was open")
        }
    }

    /// After the buffered input was parsed for the next request: a half-closed client gets
    /// no more requests; part of a pipelined head gets `header_timeout`, not `idle_timeout`.
    mutating func bufferedInputParsed(inputBuffered: Bool, now: Double, _ t: Timeouts) -> Action {
        guard state == .waitingForRequest || state == .readingHead else { return .none }
        if inputEnded {
            state = .closingAfterFlush
            return .closeAfterFlush
        }
        if inputBuffered { requestBytesArrived(now: now, t) }
        return .none
    }

    /// The client ended its input (read returned end of input).
    mutating func endOfInput() -> Action {
        inputEnded = true
        switch state {
        case .waitingForRequest, .readingHead:
            state = .closingAfterFlush
            return .closeAfterFlush
        case .exchange, .closingAfterFlush:
            return .none  // the exchange finishes (the client may still read the response)
        case .lingering:
            return .close(nil)
        case .closed:
            return .none
        }
    }

    /// A write could not take everything: the client must take bytes within `idle_timeout`.
    /// `waitsForWritable`: the transport waits for the socket to become writable (not a TLS
    /// write that must first read).
    /// - Returns: `.armWrite` when write interest must be turned on.
    mutating func writeBlocked(now: Double, _ t: Timeouts, waitsForWritable: Bool = true) -> IOActions {
        if timers[.writeProgress] == nil { timers.schedule(.writeProgress, at: now + t.idle) }
        guard waitsForWritable, !wantsWrite else { return [] }
        wantsWrite = true
        return .armWrite
    }

    /// The client took some queued bytes.
    mutating func wroteBytes(now: Double, _ t: Timeouts) {
        timers.schedule(.writeProgress, at: now + t.idle)
    }

    /// Everything queued is written (tell `outputBuffered(count: 0)` first: it resumes the
    /// upstream and disarms write interest).
    mutating func outputDrained(now: Double, _ t: Timeouts) -> Action {
        timers.cancel(.writeProgress)
        guard state == .closingAfterFlush else { return .none }
        if inputEnded {
            return .close(nil)  // nothing more will come: no reset to fear
        }
        state = .lingering
        timers.cancelAll()
        timers.schedule(.linger, at: now + t.linger)
        return .shutdownWriteAndLinger
    }

    /// The gateway shuts down: an idle connection closes now; once `drain_timeout` passed,
    /// every connection closes, an open exchange recorded as `drainTimeout`.
    mutating func drain(expired: Bool, idle: Bool) -> Action {
        if expired { return .close(.drainTimeout) }
        return idle ? .close(nil) : .none
    }

    /// The next deadline due at `now`, and what it means.
    /// - Parameter outputQueued: response bytes wait for the client.
    mutating func deadline(now: Double, outputQueued: Bool, _ t: Timeouts) -> Action? {
        guard state != .closed, let role = timers.takeExpired(now: now) else { return nil }
        switch role {
        case .header:
            switch state {
            case .readingHead: return .answer(.headerTimeout)
            case .waitingForRequest: return .close(nil)  // silent since connecting: nothing was asked
            case .exchange, .closingAfterFlush, .lingering, .closed: return Action.none
            }
        case .body:
            guard case .exchange(.receivingBody) = state else { return Action.none }
            if inboundFull || requestBodyFull {
                // The gateway is the one not reading (upstream backpressure): not the client's fault.
                timers.schedule(.body, at: now + t.body)
                return Action.none
            }
            return .answer(.bodyTimeout)
        case .idle:
            guard state == .waitingForRequest else { return Action.none }
            if outputQueued {
                // Still writing the last response: the write-progress deadline watches it.
                timers.schedule(.idle, at: now + t.idle)
                return Action.none
            }
            return .close(nil)
        case .linger:
            return .close(nil)
        case .writeProgress:
            // Nothing of the queued response was taken for idle_timeout: abandon it.
            return outputQueued ? .close(.writeTimeout) : Action.none
        }
    }

    /// The connection is closed; nothing more happens.
    mutating func closed() {
        state = .closed
        timers.cancelAll()
        endExchangeFlow()
        wantsWrite = false
    }

    // Flow control.
    //
    // Buffer levels, writability and the upstream transfer's events in, `IOActions` out. Each
    // buffer has high and low water marks with hysteresis: its producer pauses when it
    // reaches the high mark and resumes only once it is back at or below the low mark, so a
    // producer is not woken for every few bytes of room.

    // MARK: Flow control: reading

    /// `count` bytes of input wait unparsed (after a read, or after parsing).
    mutating func inboundBuffered(count: Int) -> IOActions {
        let reading = wantsRead
        inboundFull = Self.full(inboundFull, count: count, limits.inbound)
        return readChange(from: reading)
    }

    /// `count` bytes of request body wait for the upstream (after body bytes were parsed,
    /// or the upstream took some). Resumes a transfer waiting for body bytes, or for the
    /// end of the body.
    mutating func requestBodyBuffered(count: Int) -> IOActions {
        let reading = wantsRead
        requestBodyFull = Self.full(requestBodyFull, count: count, limits.requestBody)
        var actions = readChange(from: reading)
        if upstreamSendPaused && (count > 0 || requestEnded) {
            upstreamSendPaused = false
            actions.insert(.resumeSending)
        }
        return actions
    }

    /// What the upstream transfer's request body callback does with `buffered` body bytes.
    enum BodySupply: Equatable {
        /// Hand over buffered bytes.
        case send
        /// The body is complete.
        case end
        /// Nothing yet: the transfer pauses until `requestBodyBuffered` says `.resumeSending`.
        case pause
    }

    /// The upstream asks for request body bytes.
    mutating func upstreamNeedsBody(buffered: Int) -> BodySupply {
        guard case .exchange = state else {
            preconditionFailure("the upstream asked for a body in state \(state): no exchange is open")
        }
        if buffered > 0 { return .send }
        if requestEnded { return .end }
        upstreamSendPaused = true
        return .pause
    }

    // MARK: Writing

    /// `count` response bytes wait for the client (after a write took some): at or below
    /// the low-water mark a paused upstream resumes; empty, write interest is disarmed.
    mutating func outputBuffered(count: Int) -> IOActions {
        var actions: IOActions = []
        if upstreamReceivePaused && count <= limits.outbound.low {
            upstreamReceivePaused = false
            actions.insert(.resumeReceiving)
        }
        if count == 0 && wantsWrite {
            wantsWrite = false
            actions.insert(.disarmWrite)
        }
        return actions
    }

    // MARK: Upstream events

    /// Whether the response head may offer keep-alive: the client asked for it, its whole
    /// request arrived (unread body bytes would be read as the next request), and the
    /// gateway is not shutting down (this is its last response).
    func offersKeepAlive(requested: Bool, draining: Bool) -> Bool {
        requested && requestEnded && !draining
    }

    /// The upstream's response head was framed and queued.
    mutating func upstreamHeadQueued() -> IOActions {
        guard case .exchange = state else {
            preconditionFailure("an upstream response head in state \(state): no exchange is open")
        }
        return .flush
    }

    /// The upstream offers `bytes` of response body (framing included) while `outputQueued`
    /// bytes wait for the client. An empty queue takes any amount (one large chunk always
    /// moves); otherwise the bytes must fit under the high-water mark, or the transfer
    /// pauses until the queue is back at the low-water mark.
    /// - Returns: `.flush` when the bytes are taken, `.pauseReceiving` when not.
    mutating func upstreamBodyOffered(bytes: Int, outputQueued: Int) -> IOActions {
        guard case .exchange = state else {
            preconditionFailure("an upstream response body in state \(state): no exchange is open")
        }
        if upstreamReceivePaused { return .pauseReceiving }
        if outputQueued == 0 || outputQueued + bytes <= limits.outbound.high { return .flush }
        upstreamReceivePaused = true
        return .pauseReceiving
    }

    /// The upstream transfer ended without error; `responseKeepAlive`: the relayed response
    /// allows another request. A request whose body did not all arrive ends the connection
    /// (its remaining bytes cannot be told from the next request).
    mutating func upstreamFinished(responseKeepAlive: Bool) -> Action {
        guard case .exchange = state else {
            preconditionFailure("an upstream transfer finished in state \(state): no exchange is open")
        }
        upstreamReceivePaused = false
        upstreamSendPaused = false
        return .finishExchange(keepAlive: responseKeepAlive && requestEnded)
    }

    /// The upstream transfer failed. `responseLeft`: some of the relayed response already
    /// reached the client (it could not be taken back). Before that, the client gets the
    /// gateway's answer (502/504); after, the connection is cut, so a truncated body never
    /// looks complete.
    mutating func upstreamFailed(_ error: UpstreamError, responseLeft: Bool) -> Action {
        guard case .exchange = state else {
            preconditionFailure("an upstream transfer failed in state \(state): no exchange is open")
        }
        upstreamReceivePaused = false
        upstreamSendPaused = false
        if responseLeft { return .close(.upstreamFailed(.abortedMidBody)) }
        return .answer(.upstreamFailed(UpstreamFailure(error, headSent: false)))
    }

    // MARK: Helpers

    /// The exchange is over: its body buffer and its transfer are gone.
    private mutating func endExchangeFlow() {
        awaitingDecisionInput = false
        requestBodyFull = false
        upstreamReceivePaused = false
        upstreamSendPaused = false
        requestEnded = false
    }

    /// The read interest change since `reading` (what the I/O side last had).
    private func readChange(from reading: Bool) -> IOActions {
        let now = wantsRead
        if now == reading { return [] }
        return now ? .readOn : .readOff
    }

    /// Hysteresis: full from `high`, until back at `low` or below.
    private static func full(_ wasFull: Bool, count: Int, _ marks: WaterMarks) -> Bool {
        wasFull ? count > marks.low : count >= marks.high
    }
}
