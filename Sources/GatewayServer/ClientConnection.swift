import Dispatch
import GatewayCore
import GatewayEvents
import GatewayHTTP
import GatewayPolicy
import GatewayUpstream

/// One client connection: the I/O side. It reads and writes through its `ClientTransport`
/// (plain socket or TLS) when its registration in the loop's `ReadinessPoller` reports
/// readiness, on the loop's serial queue. Requests are handled one at a time, in order
/// (pipelined bytes wait in `inbound` until the current exchange finishes).
///
/// Memory is bounded per connection by three `ByteQueue`s with high and low water marks:
/// `inbound` (one request head plus `inboundSlack`; reading pauses when full), the
/// exchange's request body (`requestBodyHighWater`; reading pauses), and `outbound` (at most
/// `outboundHighWater` of a response before the upstream transfer pauses; it resumes at
/// `outboundLowWater`). Each timeout has its own deadline in `ConnectionTimers`.
///
/// `@unchecked Sendable`: every property is touched on `loop.queue` only.
final class ClientConnection: @unchecked Sendable {
    static let readChunk = 64 * 1024
    /// At most this much of a response is queued for a client before the upstream transfer
    /// pauses (the kernel's socket buffer holds the rest).
    static let outboundHighWater = 64 * 1024
    static let outboundLowWater = 16 * 1024
    static let requestBodyHighWater = 256 * 1024
    static let requestBodyLowWater = 64 * 1024
    static let inboundSlack = 64 * 1024

    /// The byte stream (plain socket or TLS); owns the descriptor.
    let transport: ClientTransport
    let peer: String
    unowned let loop: ServerLoop
    /// Accept order on the loop (the oldest waiting connection is evicted first).
    let serial: UInt64
    let server: ServerHooks
    /// The limits of the current runtime (reloads apply to open connections too).
    var limits: Limits { loop.runtime.config.limits }
    /// Readiness of the transport's descriptor; interest follows `readSuspended`,
    /// `readStopped`, `writeArmed` and `transportNeeds`.
    private var io: PollRegistration?
    private var writeArmed = false
    /// The other direction a transport operation waits for (a TLS read that must first
    /// write, or a write that must first read); cleared when that readiness arrives.
    private var transportNeeds: Readiness = []
    /// Reading paused while buffers are full.
    private(set) var readSuspended = false
    /// Reading over for good (end of input).
    private var readStopped = false

    var inbound: ByteQueue
    var parser: HTTPRequestParser
    var outbound = ByteQueue(highWater: ClientConnection.outboundHighWater, lowWater: ClientConnection.outboundLowWater)
    /// The response being written is the last one.
    var closeAfterFlush = false
    private var flushScheduled = false
    private(set) var closed = false
    private(set) var clientEOF = false
    var exchange: Exchange?
    /// Part of a request head has arrived (the header timeout runs).
    var headStarted = false
    var timers = ConnectionTimers()
    /// After the last response's FIN: input is read and discarded until the client closes.
    private var lingering = false
    private var lingerDiscarded = 0
    static let lingerSeconds = 2.0
    static let lingerMaxBytes = 1024 * 1024

    init(transport: ClientTransport, peer: String, loop: ServerLoop, server: ServerHooks) {
        self.transport = transport
        self.peer = peer
        self.loop = loop
        self.server = server
        self.serial = loop.nextConnectionSerial()
        let limits = loop.runtime.config.limits
        self.parser = HTTPRequestParser(limits: HTTPParserLimits(maxHeaderBytes: limits.maxHeaderBytes))
        self.inbound = ByteQueue(highWater: ClientConnection.inboundSlack + limits.maxHeaderBytes,
                                 lowWater: limits.maxHeaderBytes)
    }

    /// Starts reading. Call on `loop.queue`.
    ///
    /// A new connection must start its first request within `header_timeout` (like nginx's
    /// client_header_timeout): a client that connects and stays silent holds a slot that
    /// long, not `idle_timeout`. It is closed without a response (nothing was asked).
    func start() {
        io = loop.poller.register(fd: transport.descriptor) { [weak self] ready in self?.onReady(ready) }
        updateIO()
        timers.schedule(.header, at: monotonicSeconds() + min(limits.headerTimeout, limits.idleTimeout))
    }

    /// Whether the connection has no request in progress (for draining).
    var isIdle: Bool {
        exchange == nil && inbound.isEmpty && outbound.isEmpty && !closeAfterFlush
    }

    /// Makes the poller's interest match what the connection waits for.
    private func updateIO() {
        guard !closed, let io else { return }
        var interest: Readiness = []
        if !readSuspended && !readStopped { interest.insert(.readable) }
        if writeArmed { interest.insert(.writable) }
        interest.formUnion(transportNeeds)
        io.setInterest(interest)
    }

    private func onReady(_ ready: Readiness) {
        if !transportNeeds.isEmpty && !ready.isDisjoint(with: transportNeeds) {
            // The transport got what it waited for: retry both directions.
            transportNeeds = []
            updateIO()
            if !readSuspended && !readStopped { onReadable() }
            if !closed && !outbound.isEmpty { flush() }
            return
        }
        if ready.contains(.readable) { onReadable() }
        if ready.contains(.writable) && writeArmed && !closed { flush() }
    }

    /// Remembers that the transport needs `needed` beyond `natural` (the direction of the
    /// operation itself) before it can continue.
    private func transportWaits(for needed: Readiness, natural: Readiness) {
        let other = needed.subtracting(natural)
        guard !other.isEmpty, !transportNeeds.isSuperset(of: other) else { return }
        transportNeeds.formUnion(other)
        updateIO()
    }

    // MARK: Reading

    private func onReadable() {
        guard !closed else { return }
        if lingering { discardInput(); return }
        var total = 0
        let scratch = loop.readBuffer
        reading: while total < 4 * ClientConnection.readChunk {
            switch transport.read(into: scratch) {
            case .transferred(let n):
                total += n
                inbound.append(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
                // A short read drained the socket: no second read just to see EAGAIN
                // (readiness is level-triggered, so more data or the EOF is reported again).
                if n < ClientConnection.readChunk { break reading }
            case .endOfInput:
                clientEOF = true
                break reading
            case .wouldBlock(let needed):
                transportWaits(for: needed, natural: .readable)
                break reading
            case .failed:
                terminate(.clientClosed)
                return
            }
        }
        if !headStarted && exchange == nil && !inbound.isEmpty { startHeaderTimer() }
        process()
        if clientEOF && !closed {
            readStopped = true  // no more read events; finish what is in flight then close
            updateIO()
            if exchange == nil { closeWhenFlushed() }
        }
    }

    func startHeaderTimer() {
        headStarted = true
        timers.schedule(.header, at: monotonicSeconds() + limits.headerTimeout)
    }

    /// Pauses reading while buffers are full: pipelined requests behind an in-flight one,
    /// or a request body the upstream has not taken yet.
    func updateReadInterest() {
        guard !closed, !clientEOF, !lingering else { return }
        let full = closeAfterFlush || inbound.isFull || (exchange?.requestBody.isFull ?? false)
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
    private func lingeringClose() {
        guard !closed, !lingering else { return }
        if clientEOF { terminate(nil); return }  // nothing more will come: no reset to fear
        lingering = true
        if case .failed = transport.shutdownWrite() { terminate(nil); return }
        inbound.removeAll()
        outbound.removeAll()
        timers.cancelAll()
        timers.schedule(.linger, at: monotonicSeconds() + ClientConnection.lingerSeconds)
        if readSuspended {
            readSuspended = false
            updateIO()
        }
        discardInput()
    }

    private func discardInput() {
        let scratch = loop.readBuffer
        while !closed {
            switch transport.read(into: scratch) {
            case .transferred(let n):
                lingerDiscarded += n
                if lingerDiscarded > ClientConnection.lingerMaxBytes { terminate(nil) }
            case .wouldBlock(let needed):
                transportWaits(for: needed, natural: .readable)
                return
            case .endOfInput, .failed:
                terminate(nil)  // the client is done
                return
            }
        }
    }

    /// The response being written is the last: stop reading, and close once it is out.
    /// A client that reads nothing of it for `idle_timeout` cannot hold the connection: the
    /// write-progress deadline abandons it.
    func closeWhenFlushed() {
        closeAfterFlush = true
        updateReadInterest()
        flush()
    }

    // MARK: Writing

    /// Sends what is queued on the next queue turn, i.e. after the current libcurl call.
    ///
    /// Upstream head and body bytes wait for it: when the whole response arrives in one
    /// libcurl call (the common case), the transfer completes in that same call, the
    /// access-log line is written, and head and body leave in one write, after the log line.
    func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        loop.queue.async { [weak self] in
            guard let self else { return }
            self.flushScheduled = false
            self.flush()
        }
    }

    /// Queues bytes for the client (sent by the next `flush`).
    func enqueue(_ bytes: [UInt8]) {
        guard !closed else { return }
        exchange?.bytesOut += UInt64(bytes.count)
        outbound.append(bytes)
    }

    func flush() {
        guard !closed else { return }
        while !outbound.isEmpty {
            switch outbound.withReadableBytes({ transport.write($0) }) {
            case .transferred(let n):
                let belowLowWater = outbound.consume(n)
                timers.schedule(.writeProgress, at: monotonicSeconds() + limits.idleTimeout)
                if let ex = exchange {
                    if let at = ex.unsentResponseAt, outbound.consumedTotal > at { ex.unsentResponseAt = nil }
                    if belowLowWater { ex.resumeReceiving() }
                }
            case .wouldBlock(let needed):
                transportWaits(for: needed, natural: .writable)
                if needed.contains(.writable) { setWriteArmed(true) }
                if timers[.writeProgress] == nil {
                    timers.schedule(.writeProgress, at: monotonicSeconds() + limits.idleTimeout)
                }
                return
            case .endOfInput, .failed:
                terminate(.clientClosed)
                return
            }
        }
        setWriteArmed(false)
        timers.cancel(.writeProgress)
        exchange?.resumeReceiving()
        if closeAfterFlush { lingeringClose() }
    }

    private func setWriteArmed(_ armed: Bool) {
        guard armed != writeArmed else { return }
        writeArmed = armed
        updateIO()
    }

    // MARK: Timers

    /// Called by the loop's sweep with the current monotonic time.
    func checkDeadlines(_ now: Double) {
        while !closed, let role = timers.takeExpired(now: now) {
            deadlineFired(role, now: now)
        }
    }

    private func deadlineFired(_ role: ConnectionTimers.Role, now: Double) {
        switch role {
        case .header:
            if exchange != nil { return }
            if headStarted { answerWithoutRequest(.headerTimeout) } else { terminate(nil) }
        case .body:
            bodyTimedOut()
        case .idle:
            guard exchange == nil else { return }
            if !outbound.isEmpty {
                // Still writing the last response: the write-progress deadline watches it.
                timers.schedule(.idle, at: now + limits.idleTimeout)
                return
            }
            terminate(nil)
        case .linger:
            terminate(nil)
        case .writeProgress:
            // Nothing of the queued response was taken for idle_timeout: abandon it.
            if !outbound.isEmpty { terminate(.writeTimeout) }
        }
    }

    // MARK: Closing

    /// Closes at once (the client sees its input end, or a reset), cancelling any upstream
    /// transfer. An exchange still open is recorded with `outcome` (or the outcome it
    /// already has). Idempotent.
    func terminate(_ outcome: Outcome?) {
        guard !closed else { return }
        closed = true
        timers.cancelAll()
        if let ex = exchange {
            if let outcome { ex.outcome = ex.outcome ?? outcome }
            record(ex)
            ex.transfer?.cancel()
            ex.transfer = nil
            ex.delegate = nil
            exchange = nil
        }
        inbound.removeAll()
        outbound.removeAll()
        // Out of the epoll set first (at once, unlike a Dispatch source's cancel), so the
        // number can be closed now and reused by the next accepted connection.
        io?.cancel()
        io = nil
        transport.close()
        server.connectionClosed(self)
    }
}
