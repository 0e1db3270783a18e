import Dispatch
import GatewayCore
import GatewayEvents
import GatewayPolicy
import GatewayTracing
import GatewayTLS
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// What a connection tells its server.
protocol ServerHooks: AnyObject, Sendable {
    func connectionClosed(_ connection: ClientConnection)
}

/// The public listener and its loops: accepts connections on a non-blocking socket and
/// spreads them round-robin over a fixed set of serial queues (`ServerLoop`), each with its
/// own libcurl multi handle. No thread per connection or per request.
///
/// `@unchecked Sendable`: mutable state lives on `acceptQueue` (accepting, counting) or
/// on each loop's queue (connections).
public final class GatewayServer: ServerHooks, @unchecked Sendable {
    private let loops: [ServerLoop]
    private let acceptQueue = DispatchQueue(label: "gateway.accept")
    private var listenFD: Int32 = -1
    private var acceptSource: DispatchSourceRead?
    private var acceptSuspended = false
    private var nextLoop = 0
    private var openConnections = 0
    private var maxConnections: Int
    /// `limits.drain_timeout` of the current runtime, seconds (follows reloads).
    private var drainTimeout: Double
    private var draining = false
    private let logger: Logger
    let metrics: GatewayMetrics
    /// A local listener (admin, demo echo): answers requests itself, is not counted in
    /// `gateway_open_connections`, and at its cap evicts the connection that waited longest
    /// without a request instead of leaving new ones in the backlog.
    private let isLocal: Bool
    /// The port actually bound (useful with port 0).
    public private(set) var port: UInt16 = 0
    /// HTTPS on this listener: each new connection takes the context current at its accept
    /// (open connections keep theirs); nil: plain HTTP. Touched on `acceptQueue`.
    private var tlsContext: TLSServerContext?

    /// - Parameters:
    ///   - runtime: the loaded configuration.
    ///   - loopCount: serial queues to spread connections over (default: one per core).
    ///   - jwks: performs the JWK Set refetches that requests with an unknown `kid` ask for.
    ///   - tls: the listener's TLS context (`ListenTLS.context`); nil: plain HTTP.
    ///   - exporter: receives the spans of sampled requests (nil: trace context is propagated,
    ///     nothing is exported).
    ///   - role: the proxy listener (default) or the decision listener (docs/forward-auth.md).
    public init(runtime: GatewayRuntime, loopCount: Int? = nil, jwks: JWKSService? = nil, tls: TLSServerContext? = nil,
                logger: Logger, metrics: GatewayMetrics = GatewayMetrics(), exporter: OTLPExporter? = nil,
                role: ListenerRole = .proxy) {
        self.metrics = metrics
        self.tlsContext = tls
        let n = max(1, loopCount ?? Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        let label = role == .proxy ? "gateway.loop" : "gateway.\(role.rawValue)"
        self.loops = (0..<n).map {
            ServerLoop(index: $0, runtime: runtime, jwks: jwks, metrics: metrics, logger: logger, label: label,
                       exporter: exporter, role: role)
        }
        self.maxConnections = runtime.config.limits.maxConnections
        self.drainTimeout = runtime.config.limits.drainTimeout
        self.logger = logger
        self.isLocal = false
    }

    /// A listener whose requests `responder` answers (one loop, the same connection code,
    /// limits and timeouts as the public listener, its own connection cap).
    public init(runtime: GatewayRuntime, label: String, maxConnections: Int, localMaxBody: Int, logger: Logger,
         metrics: GatewayMetrics, responder: @escaping LocalResponder) {
        self.metrics = metrics
        self.loops = [ServerLoop(index: 0, runtime: runtime, jwks: nil, metrics: metrics, logger: logger, responder: responder,
                                 localMaxBody: localMaxBody, label: label)]
        self.maxConnections = maxConnections
        self.drainTimeout = runtime.config.limits.drainTimeout
        self.logger = logger
        self.isLocal = true
    }

    /// Stops accepting and closes every connection at once.
    func stop() {
        acceptQueue.async {
            self.draining = true
            if let s = self.acceptSource {
                if self.acceptSuspended { s.resume() }
                s.cancel()
                self.acceptSource = nil
            }
            for loop in self.loops {
                loop.queue.async { for c in Array(loop.connections.values) { c.terminate(nil) } }
            }
        }
    }

    /// Binds and starts accepting.
    /// - Throws: `SocketError` when the address cannot be bound.
    public func start(host: String, port: UInt16) throws(SocketError) {
        signal(SIGPIPE, SIG_IGN)
        if !isLocal { raiseOpenFilesLimit() }
        let (fd, bound) = try Socket.listen(host: host, port: port, backlog: isLocal ? 128 : 1024)
        listenFD = fd
        self.port = bound
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue)
        source.setEventHandler { [weak self] in self?.acceptPending() }
        source.setCancelHandler { Glibc.close(fd) }
        acceptSource = source
        source.resume()
    }

    /// Makes new requests use `runtime`; requests in flight finish on the one they started with.
    public func replaceRuntime(_ runtime: GatewayRuntime) {
        for loop in loops { loop.queue.async { loop.runtime = runtime } }
        acceptQueue.async {
            if !self.isLocal { self.maxConnections = runtime.config.limits.maxConnections }
            self.drainTimeout = runtime.config.limits.drainTimeout
        }
    }

    /// New connections use `context` (reload: new certificates and keys); connections already
    /// open keep the context they were accepted with.
    public func replaceTLSContext(_ context: TLSServerContext?) {
        acceptQueue.async { self.tlsContext = context }
    }

    private func acceptPending() {
        var accepted = 0
        while accepted < 256 {
            if openConnections >= maxConnections && !isLocal {
                // Over the limit: leave new connections in the kernel's backlog.
                if !acceptSuspended, let s = acceptSource {
                    s.suspend()
                    acceptSuspended = true
                }
                return
            }
            guard let (fd, address) = Socket.accept(listenFD) else {
                if errno == EMFILE || errno == ENFILE {
                    // Out of descriptors: the pending connection stays in the backlog, and
                    // the readable listener would make this handler spin. Pause accepting.
                    pauseAcceptingForDescriptors()
                }
                return
            }
            accepted += 1
            openConnections += 1
            if !isLocal { metrics.openConnections.increment() }
            let loop = loops[nextLoop]
            nextLoop = (nextLoop + 1) % loops.count
            let cap = maxConnections
            let isLocal = self.isLocal
            let tls = tlsContext
            loop.queue.async {
                let transport: ClientTransport
                if let tls {
                    do {
                        transport = try TLSServerTransport(context: tls, descriptor: fd)
                    } catch {
                        // The descriptor is closed already (the transport owned it).
                        loop.tlsHandshakes.count(result: TLSHandshakeResult.error.rawValue, version: nil, resumed: false)
                        self.released()
                        return
                    }
                } else {
                    transport = PlainSocketTransport(descriptor: fd)
                }
                let c = ClientConnection(transport: transport, peer: address, loop: loop, server: self)
                loop.connections[ObjectIdentifier(c)] = c
                if isLocal && loop.connections.count > cap && !loop.evictOldestWaitingConnection(except: c) {
                    c.terminate(nil)  // every slot has a request in progress
                    return
                }
                c.start()
            }
        }
    }

    private var descriptorPauseLogged = 0.0

    private func pauseAcceptingForDescriptors() {
        guard !acceptSuspended, let s = acceptSource else { return }
        s.suspend()
        acceptSuspended = true
        let now = monotonicSeconds()
        if now - descriptorPauseLogged > 10 {
            descriptorPauseLogged = now
            logger.warning("out of file descriptors: accepting paused; raise the open-files limit or lower limits.max_connections",
                           metadata: ["open_connections": .stringConvertible(openConnections)])
        }
        acceptQueue.asyncAfter(deadline: .now() + .milliseconds(100)) {
            guard self.acceptSuspended, !self.draining, self.openConnections < self.maxConnections,
                  let s = self.acceptSource else { return }
            self.acceptSuspended = false
            s.resume()
        }
    }

    /// Connections closed since memory was last handed back to the system.
    private var closesSinceTrim = 0
    private var trimScheduled = false

    /// After a burst of closes (slow readers going away, a load spike ending), gives freed
    /// heap memory back to the system: glibc keeps freed memory of its arenas otherwise, so
    /// RSS would stay at the peak. Debounced: at most once a second, off the loops.
    private func connectionGone() {
        closesSinceTrim += 1
        guard closesSinceTrim >= 256, !trimScheduled else { return }
        trimScheduled = true
        DispatchQueue.global(qos: .utility).asyncAfter(deadline: .now() + 1) {
            MemoryRelease.trim()
            self.acceptQueue.async {
                self.closesSinceTrim = 0
                self.trimScheduled = false
            }
        }
    }

    func connectionClosed(_ connection: ClientConnection) {
        let loop = connection.loop
        loop.connections[ObjectIdentifier(connection)] = nil
        released()
    }

    /// One accepted connection is gone: its slot is free again.
    private func released() {
        acceptQueue.async {
            self.connectionGone()
            self.openConnections -= 1
            if !self.isLocal { self.metrics.openConnections.decrement() }
            if self.acceptSuspended && self.openConnections < self.maxConnections && !self.draining {
                self.acceptSuspended = false
                self.acceptSource?.resume()
            }
        }
    }

    /// Graceful shutdown: stop accepting, close idle connections, let in-flight
    /// requests finish for up to `drainTimeout` seconds (default: the current config's
    /// `limits.drain_timeout`), then call `done` (on a global queue).
    public func shutdown(drainTimeout: Double? = nil, done: @escaping @Sendable () -> Void) {
        acceptQueue.async {
            let drainTimeout = drainTimeout ?? self.drainTimeout
            self.draining = true
            if let s = self.acceptSource {
                if self.acceptSuspended { s.resume() }
                s.cancel()
                self.acceptSource = nil
            }
            for loop in self.loops { loop.queue.async { loop.draining = true } }
            let deadline = monotonicSeconds() + drainTimeout
            self.pollDrain(deadline: deadline, done: done)
        }
    }

    private func pollDrain(deadline: Double, done: @escaping @Sendable () -> Void) {
        let group = DispatchGroup()
        let remaining = Counter()
        let expired = monotonicSeconds() >= deadline
        for loop in loops {
            group.enter()
            loop.queue.async {
                for c in loop.connections.values {
                    c.perform(c.machine.drain(expired: expired, idle: c.isIdle))
                }
                remaining.add(loop.connections.count)
                group.leave()
            }
        }
        group.notify(queue: acceptQueue) {
            if remaining.value == 0 || expired {
                // Every loop's batched access-log lines are written before the process may exit.
                DispatchQueue.global().async { AccessLogBuffer.flushAll(); done() }
            } else {
                self.acceptQueue.asyncAfter(deadline: .now() + 0.05) { self.pollDrain(deadline: deadline, done: done) }
            }
        }
    }
}

/// A counter summed from several queues during shutdown.
final class Counter: @unchecked Sendable {
    private let lock = Mutex()
    private var total = 0
    func add(_ n: Int) { lock.withLock { total += n } }
    var value: Int { lock.withLock { total } }
}

extension GatewayServer {
    /// Raises the soft open-files limit to the hard limit, and warns when `max_connections`
    /// cannot fit in it (then accepting pauses whenever descriptors run out).
    func raiseOpenFilesLimit() {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        // One descriptor per client connection, plus upstream connections (pooled, a few
        // hundred per loop at most) and the process's own.
        let needed = UInt64(max(0, maxConnections)) + 1024
        if UInt64(limit.rlim_cur) < needed {
            logger.warning("open-files limit is below what limits.max_connections needs (1 per connection + 1024)",
                           metadata: ["limit": .stringConvertible(Int(clamping: limit.rlim_cur)),
                                      "max_connections": .stringConvertible(maxConnections)])
        }
    }
}
