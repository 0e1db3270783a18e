import Dispatch
import GatewayCore
import GatewayEvents
import GatewayHTTP
import GatewayPolicy
import GatewayTLS
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
/// `outboundLowWater`). The connection only reports their levels: `machine` decides read
/// and write interest, pausing and resuming the upstream, and every deadline; this class
/// performs what it returns (`perform`, `apply`).
///
/// `@unchecked Sendable`: every property is touched on `loop.queue` only.
final class ClientConnection: @unchecked Sendable {
    static let readChunk = 64 * 1024
    /// At most this much of a response is queued for a client before the upstream transfer
    /// pauses (the kernel's socket buffer holds the rest). With libcurl's own receive buffer
    /// and the chunk it keeps while paused (16 KiB each), a response holds at most 64 KiB of
    /// the gateway's memory per client.
    static let outboundHighWater = 32 * 1024
    static let outboundLowWater = 8 * 1024
    static let requestBodyHighWater = 256 * 1024
    static let requestBodyLowWater = 64 * 1024
    static let inboundSlack = 64 * 1024

    /// The byte stream (plain socket or TLS); owns the descriptor.
    let transport: ClientTransport
    /// `transport` when it is TLS (handshake metric, plain HTTP on the TLS port, 421).
    let tlsTransport: TLSServerTransport?
    /// The handshake's end was counted in `gateway_tls_handshakes_total`.
    var handshakeRecorded = false
    let peer: String
    unowned let loop: ServerLoop
    /// Accept order on the loop (the oldest waiting connection is evicted first).
    let serial: UInt64
    let server: ServerHooks
    /// The limits of the current runtime (reloads apply to open connections too).
    var limits: Limits { loop.runtime.config.limits }
    /// The deadlines' lengths, from `limits`.
    var timeouts: ConnectionStateMachine.Timeouts { loop.timeouts }
    /// The response being written is the last one (nothing more is parsed).
    var closeAfterFlush: Bool { !machine.acceptsRequests }
    /// Readiness of the transport's descriptor; interest follows the machine's `wantsRead`
    /// and `wantsWrite`, and `transportNeeds`.
    private var io: PollRegistration?
    /// The other direction a transport operation waits for (a TLS read that must first
    /// write, or a write that must first read); cleared when that readiness arrives.
    private var transportNeeds: Readiness = []

    var inbound: ByteQueue
    var parser: HTTPRequestParser
    var outbound = ByteQueue(highWater: ClientConnection.outboundHighWater, lowWater: ClientConnection.outboundLowWater)
    /// The connection's state, deadlines and flow control; every event goes through it.
    var machine: ConnectionStateMachine
    private var flushScheduled = false
    private(set) var closed = false
    var exchange: Exchange? {
        // The loop counts exchanges in flight (the access log batches while there are any).
        didSet { if (oldValue == nil) != (exchange == nil) { loop.exchangesInFlight += exchange == nil ? -1 : 1 } }
    }
    /// Input bytes read and discarded while lingering.
    private var lingerDiscarded = 0
    static let lingerSeconds = 2.0
    static let lingerMaxBytes = 1024 * 1024

    init(transport: ClientTransport, peer: String, loop: ServerLoop, server: ServerHooks) {
        self.transport = transport
        self.tlsTransport = transport as? TLSServerTransport
        self.peer = peer
        self.loop = loop
        self.server = server
        self.serial = loop.nextConnectionSerial()
        let limits = loop.runtime.config.limits
        self.parser = HTTPRequestParser(limits: HTTPParserLimits(maxHeaderBytes: limits.maxHeaderBytes,
                                                                 maxBodyBytes: UInt64(limits.maxBodyBytes)))
        self.inbound = ByteQueue(highWater: ClientConnection.inboundSlack + limits.maxHeaderBytes,
                                 lowWater: limits.maxHeaderBytes)
        typealias Marks = ConnectionStateMachine.WaterMarks
        self.machine = ConnectionStateMachine(limits: .init(
            inbound: Marks(high: ClientConnection.inboundSlack + limits.maxHeaderBytes, low: limits.maxHeaderBytes),
            requestBody: Marks(high: ClientConnection.requestBodyHighWater, low: ClientConnection.requestBodyLowWater),
            outbound: Marks(high: ClientConnection.outboundHighWater, low: ClientConnection.outboundLowWater)))
    }

    /// Starts reading. Call on `loop.queue`.
    ///
    /// A new connection must start its first request within `header_timeout` (like nginx's
    /// client_header_timeout): a client that connects and stays silent holds a slot that
    /// long, not `idle_timeout`. It is closed without a response (nothing was asked).
    func start() {
        io = loop.poller.register(fd: transport.descriptor) { [weak self] ready in self?.onReady(ready) }
        updateIO()
        machine.started(now: monotonicSeconds(), timeouts)
    }

    /// Whether the connection has no request in progress (for draining).
    var isIdle: Bool {
        exchange == nil && inbound.isEmpty && outbound.isEmpty && !closeAfterFlush
    }

    /// Makes the poller's interest match what the connection waits for.
    private func updateIO() {
        guard !closed, let io else { return }
        var interest: Readiness = []
        if machine.wantsRead { interest.insert(.readable) }
        if machine.wantsWrite { interest.insert(.writable) }
        interest.formUnion(transportNeeds)
        io.setInterest(interest)
        if machine.wantsRead && transport.hasBufferedInput { scheduleBufferedRead() }
    }

    /// Bytes the transport already took off the socket are never reported by readiness:
    /// read them on a later turn of the queue (reading is wanted again, or the read budget
    /// of one event ran out).
    private func scheduleBufferedRead() {
        guard !bufferedReadScheduled else { return }
        bufferedReadScheduled = true
        loop.queue.async { [weak self] in
            guard let self else { return }
            bufferedReadScheduled = false
            if !closed && machine.wantsRead && transport.hasBufferedInput { onReadable() }
        }
    }

    private func onReady(_ ready: Readiness) {
        if !transportNeeds.isEmpty && !ready.isDisjoint(with: transportNeeds) {
            // The transport got what it waited for: retry both directions.
            transportNeeds = []
            updateIO()
            if machine.wantsRead { onReadable() }
            if !closed && !outbound.isEmpty { flush() }
            return
        }
        if ready.contains(.readable) { onReadable() }
        if ready.contains(.writable) && machine.wantsWrite && !closed { flush() }
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
        if machine.isLingering { discardInput(); return }
        var total = 0
        let loop = self.loop  // one strong reference for the whole function, not one per use
        let scratch = loop.readBuffer
        reading: while total < 4 * ClientConnection.readChunk {
            switch transport.read(into: scratch) {
            case .transferred(let n):
                total += n
                inbound.append(UnsafeRawBufferPointer(rebasing: scratch[0..<n]))
                // A short read drained the socket: no second read just to see EAGAIN
                // (readiness is level-triggered, so more data or the EOF is reported again),
                // unless the transport holds bytes already taken off the socket (TLS).
                if n < ClientConnection.readChunk && !transport.hasBufferedInput { break reading }
            case .endOfInput:
                inputEnded = true
                break reading
            case .wouldBlock(let needed):
                transportWaits(for: needed, natural: .readable)
                break reading
            case .failed:
                if tlsTransport != nil && answeredPlainHTTP() { return }
                terminate(.clientClosed)
                return
            }
        }
        if tlsTransport != nil && !handshakeRecorded { recordHandshake() }
        if total >= 4 * ClientConnection.readChunk && transport.hasBufferedInput { scheduleBufferedRead() }
        if exchange == nil && !inbound.isEmpty { machine.requestBytesArrived(now: monotonicSeconds(), loop.timeouts) }
        process()
        if inputEnded && !closed {
            // No more read events; finish what is in flight then close.
            let action = machine.endOfInput()
            updateIO()
            perform(action)
        }
    }

    /// Read returned end of input (not yet told to the machine, which hears it after the
    /// bytes read with it were parsed).
    private var inputEnded = false
    /// A read of transport-held bytes is queued (`scheduleBufferedRead`).
    private var bufferedReadScheduled = false

    /// Does what the state machine asked for.
    func perform(_ action: ConnectionStateMachine.Action) {
        switch action {
        case .none: break
        case .answer(let outcome): answerWithoutRequest(outcome)
        case .close(let outcome): terminate(outcome)
        case .closeAfterFlush:
            updateIO()
            flush()
        case .shutdownWriteAndLinger: linger()
        case .readNextRequest:
            updateIO()  // the exchange's full buffers are gone
            process()
            perform(machine.bufferedInputParsed(inputBuffered: !inbound.isEmpty, now: monotonicSeconds(), timeouts))
        case .finishExchange(let keepAlive): finishExchange(keepAlive: keepAlive)
        }
    }

    /// Does what the state machine's flow control asked for. `.pauseReceiving` is the
    /// caller's (the upstream body callback refuses the bytes).
    func apply(_ actions: ConnectionStateMachine.IOActions) {
        guard !actions.isEmpty else { return }
        if !actions.isDisjoint(with: [.readOn, .readOff, .armWrite, .disarmWrite]) { updateIO() }
        if actions.contains(.resumeReceiving) { exchange?.transfer?.resumeReceiving() }
        if actions.contains(.resumeSending) { exchange?.transfer?.resumeSending() }
        if actions.contains(.flush) { scheduleFlush() }
    }

    /// Tells the machine how full the input buffers are: reading pauses while pipelined
    /// requests wait behind an in-flight one, or the upstream has not taken the request body.
    func inputLevelsChanged() {
        apply(machine.inboundBuffered(count: inbound.count))
        if let ex = exchange { apply(machine.requestBodyBuffered(count: ex.requestBody.count)) }
    }

    // MARK: Lingering close

    /// After the last response: FIN the sending side, then read and discard what the client
    /// still sends (an upload refused with 413, say) for a short while before closing.
    /// Closing with unread input would send a TCP reset that can destroy the response before
    /// the client reads it (RFC 9112 §9.6; nginx's lingering_close).
    private func linger() {
        if case .failed = transport.shutdownWrite() { terminate(nil); return }
        inbound.removeAll()
        outbound.removeAll()
        updateIO()  // lingering reads (and discards) whatever the buffers' state was
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
        let loop = self.loop  // one strong reference for the whole function, not one per use
        let timeouts = loop.timeouts
        // The loop's access-log lines go out before the response bytes they describe.
        loop.writeAccessLog()
        while !outbound.isEmpty {
            switch outbound.withReadableBytes({ transport.write($0) }) {
            case .transferred(let n):
                outbound.consume(n)
                machine.wroteBytes(now: monotonicSeconds(), timeouts)
                if let ex = exchange, let at = ex.unsentResponseAt, outbound.consumedTotal > at { ex.unsentResponseAt = nil }
                apply(machine.outputBuffered(count: outbound.count))
            case .wouldBlock(let needed):
                transportWaits(for: needed, natural: .writable)
                apply(machine.writeBlocked(now: monotonicSeconds(), timeouts, waitsForWritable: needed.contains(.writable)))
                return
            case .endOfInput, .failed:
                terminate(.clientClosed)
                return
            }
        }
        apply(machine.outputBuffered(count: 0))
        perform(machine.outputDrained(now: monotonicSeconds(), timeouts))
    }

    // MARK: Timers

    /// Called by the loop's sweep with the current monotonic time.
    func checkDeadlines(_ now: Double) {
        guard now >= machine.timers.earliest else { return }  // the common case: nothing due
        while !closed, let action = machine.deadline(now: now, outputQueued: !outbound.isEmpty, timeouts) {
            perform(action)
        }
    }

    // MARK: Closing

    /// Closes at once (the client sees its input end, or a reset), cancelling any upstream
    /// transfer. An exchange still open is recorded with `outcome` (or the outcome it
    /// already has). Idempotent.
    func terminate(_ outcome: Outcome?) {
        guard !closed else { return }
        closed = true
        if tlsTransport != nil && !handshakeRecorded { recordHandshake() }
        machine.closed()
        if let ex = exchange {
            if let outcome { ex.outcome = ex.outcome ?? outcome }
            record(ex)
            ex.transfer?.cancel()
            ex.transfer = nil
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
