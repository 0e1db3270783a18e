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
    mutating func writeBlocked(now: Double, _ t: Timeouts) {
        if timers[.writeProgress] == nil { timers.schedule(.writeProgress, at: now + t.idle) }
    }

    /// The client took some queued bytes.
    mutating func wroteBytes(now: Double, _ t: Timeouts) {
        timers.schedule(.writeProgress, at: now + t.idle)
    }

    /// Everything queued is written.
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
    /// - Parameters:
    ///   - outputQueued: response bytes wait for the client.
    ///   - readingPaused: the gateway (not the client) stopped reading (buffers full).
    mutating func deadline(now: Double, outputQueued: Bool, readingPaused: Bool, _ t: Timeouts) -> Action? {
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
            if readingPaused {
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
    }
}
