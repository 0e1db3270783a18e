import Dispatch
import Logging
import GatewayCore
import GatewayEvents
import GatewayTracing
import GatewayUpstream

/// One serial queue with its libcurl multi handle: every connection assigned to it, and
/// every upstream transfer those connections start, run on `queue` only.
///
/// `@unchecked Sendable`: all mutable state is confined to `queue`.
final class ServerLoop: @unchecked Sendable {
    let index: Int
    let queue: DispatchQueue
    let upstream: UpstreamLoop
    /// Readiness of every client connection and upstream socket of this loop.
    var poller: ReadinessPoller { upstream.poller }
    /// The runtime new requests on this loop use; swapped on reload (in-flight requests keep theirs).
    var runtime: GatewayRuntime {
        didSet { timeouts = Self.timeouts(runtime) }
    }
    /// The connections' deadline lengths from `runtime`'s limits, kept beside it because
    /// every request reads them several times.
    private(set) var timeouts: ConnectionStateMachine.Timeouts

    private static func timeouts(_ runtime: GatewayRuntime) -> ConnectionStateMachine.Timeouts {
        let l = runtime.config.limits
        return .init(header: l.headerTimeout, body: l.bodyTimeout, idle: l.idleTimeout, linger: ClientConnection.lingerSeconds)
    }
    /// Performs the unknown-`kid` refetches the decision asks for (nil: none are made).
    let jwks: JWKSService?
    var connections: [ObjectIdentifier: ClientConnection] = [:]
    /// Set on shutdown: responses say `Connection: close` and no further request is read.
    var draining = false
    /// Connections of this loop with an exchange in progress (`ClientConnection.exchange`).
    var exchangesInFlight = 0
    private var requestCounter: UInt64 = 0
    /// Scratch space for read(2): one per loop, since a loop reads one socket at a time.
    let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ClientConnection.readChunk, alignment: 16)
    /// Closes the connection that has waited longest without a request in progress, to make
    /// room for a new one (a local listener at its connection cap: silent clients must not
    /// keep the probes out).
    /// - Returns: false when every connection has a request in progress.
    func evictOldestWaitingConnection(except newest: ClientConnection) -> Bool {
        var victim: ClientConnection?
        for c in connections.values where c !== newest && c.exchange == nil && !c.closeAfterFlush {
            if victim == nil || c.serial < victim!.serial { victim = c }
        }
        guard let victim else { return false }
        victim.terminate(nil)
        return true
    }

    private var connectionSerial: UInt64 = 0
    /// Increasing numbers for connections in accept order.
    func nextConnectionSerial() -> UInt64 {
        connectionSerial &+= 1
        return connectionSerial
    }

    /// Checks every connection's deadline (header/idle timeouts) a few times a second.
    private var sweep: DispatchSourceTimer?
    /// The request ids' random per-loop prefix, as UTF-8 bytes.
    private let requestIDPrefix: [UInt8]

    /// Access log and per-loop metric handles.
    private let accessLog: AccessLog
    private let metricsCache: MetricsCache
    /// `gateway_tls_handshakes_total` of this loop's connections.
    let tlsHandshakes: TLSHandshakeCounters
    /// Set for a listener that answers requests itself (admin, demo echo): no upstream, no
    /// access-log lines or request metrics.
    let responder: LocalResponder?
    /// `responder == nil`, kept as a flag (comparing the optional copies the responder).
    private let observesRequests: Bool
    /// Request body bytes a local responder accepts.
    let localMaxBody: Int
    /// Trace context of this loop's requests and their spans.
    let tracing: LoopTracing
    /// For the introspection calls made on this loop (`ServerLoop+Introspection`).
    let metrics: GatewayMetrics
    let logger: Logger
    /// Proxy or decision listener (ignored with a `responder`).
    let role: ListenerRole

    init(index: Int, runtime: GatewayRuntime, jwks: JWKSService?, metrics: GatewayMetrics, logger: Logger,
         responder: LocalResponder? = nil, localMaxBody: Int = 64 * 1024, label: String = "gateway.loop",
         exporter: OTLPExporter? = nil, role: ListenerRole = .proxy) {
        self.jwks = jwks
        self.metrics = metrics
        self.logger = logger
        self.responder = responder
        self.observesRequests = responder == nil
        self.localMaxBody = localMaxBody
        self.tracing = LoopTracing(exporter: exporter)
        self.role = role
        // The proxy listener's lines and series stay as they were; others are told apart.
        let listener = role == .proxy ? nil : role.rawValue
        self.metricsCache = MetricsCache(metrics: metrics, listener: listener)
        self.tlsHandshakes = TLSHandshakeCounters(metrics: metrics, listener: listener)
        self.index = index
        self.queue = DispatchQueue(label: "\(label).\(index)")
        // Batched on this loop's queue; `AccessLogBuffer.flushAll()` writes them at shutdown.
        self.accessLog = AccessLog(logger: logger, listener: listener, queue: queue)
        self.runtime = runtime
        self.timeouts = Self.timeouts(runtime)
        var upstream: UpstreamLoop?
        let q = self.queue
        q.sync { upstream = UpstreamLoop(queue: q) }
        self.upstream = upstream!
        var rng = SystemRandomNumberGenerator()
        let r = rng.next() as UInt64
        self.requestIDPrefix = Array((String(r, radix: 16) + "-" + String(index)).utf8)
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now() + .milliseconds(250), repeating: .milliseconds(250), leeway: .milliseconds(50))
        // A strong capture, not a weak one: a weak reference to the loop would give it a
        // side table, and every `unowned` use of the loop (each connection reaches its
        // loop many times per request) would then take the runtime's slow path. The cycle
        // loop → timer → handler → loop is intended: a loop lives as long as the process
        // (nothing releases a server's loops), and cancelling the timer would break it.
        t.setEventHandler { self.sweepDeadlines() }
        t.resume()
        sweep = t
        accessLog.setBusyCheck { [unowned self] in exchangesInFlight > 0 }
    }

    deinit {
        sweep?.cancel()
        readBuffer.deallocate()
    }

    private func sweepDeadlines() {
        let now = monotonicSeconds()
        for c in Array(connections.values) { c.checkDeadlines(now) }
    }

    /// Records one finished request: metrics, then the access-log line.
    func observe(_ record: RequestRecord) {
        guard observesRequests else { return }
        metricsCache.record(record)
        accessLog.write(record)
        tracing.finish(record)
    }

    /// Before a connection sends bytes: the access-log lines this loop has batched are
    /// written now unless other requests are in flight (then they wait for a fuller batch).
    func writeAccessLog() {
        if exchangesInFlight == 0 { accessLog.flush() }
    }

    /// A request id unique in this process: random per-loop prefix, "-", then the loop's
    /// request counter in lowercase hexadecimal (written as bytes: one allocation per id).
    func nextRequestID() -> String {
        requestCounter &+= 1
        let counter = requestCounter
        let digits = max(1, (counter.bitWidth - counter.leadingZeroBitCount + 3) / 4)
        return requestIDPrefix.withUnsafeBufferPointer { prefix in
            String(unsafeUninitializedCapacity: prefix.count + 1 + digits) { out in
                _ = out.initialize(fromContentsOf: prefix)
                out[prefix.count] = 0x2D
                var value = counter
                for i in stride(from: prefix.count + digits, to: prefix.count, by: -1) {
                    let d = UInt8(truncatingIfNeeded: value & 0xF)
                    out[i] = d < 10 ? 0x30 + d : 0x57 + d
                    value >>= 4
                }
                return prefix.count + 1 + digits
            }
        }
    }
}
