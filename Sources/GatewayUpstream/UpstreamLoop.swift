internal import CCurl
import Dispatch
public import GatewayEvents
#if canImport(Glibc)
import Glibc
#endif

/// A libcurl multi handle driven by Dispatch sources on one serial queue
/// (CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION). Every method must be called on `queue`.
///
/// The multi handle keeps a pool of idle connections (up to 256, HTTP/1.1 keep-alive,
/// no pipelining, no HTTP/2) that later transfers to the same upstream reuse.
/// The loop stays alive while any transfer it started is still running.
///
/// `@unchecked Sendable`: all mutable state is only touched on `queue` (checked with
/// `dispatchPrecondition` in debug builds); the type is Sendable only so that it can be
/// captured by the Dispatch handlers that run on that same queue.
public final class UpstreamLoop: @unchecked Sendable {
    public let queue: DispatchQueue
    /// Readiness of curl's sockets (shared with the listener's connections on the same queue).
    public let poller: ReadinessPoller
    /// The multi handle; destroyed (curl_multi_cleanup) after `deinit` has detached the callbacks.
    let multi: CurlMultiHandle
    /// Drives curl's single timeout (CURLMOPT_TIMERFUNCTION); one-shot, re-armed by curl.
    private let timer: DispatchSourceTimer
    /// When `timer` is armed to fire; nil when disarmed.
    private var timerDeadline: DispatchTime?
    /// The descriptors of this loop's upstream connections and their watchers.
    private var sockets: UpstreamSockets!
    /// Handed to libcurl as OPENSOCKETDATA/CLOSESOCKETDATA; detached in deinit so that
    /// sockets closed by curl_multi_cleanup do not call into a loop being destroyed.
    let socketContext = UpstreamSocketContext()
    /// Running transfers by easy handle; the loop owns them until they finish.
    private var transfers: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    /// Easy handles of finished transfers, for the next transfers (saves a curl_easy_init +
    /// curl_easy_cleanup per request, and after a clean finish setting the shared options
    /// again; see `CurlEasyHandlePool`).
    private var idleEasyHandles = CurlEasyHandlePool(capacity: UpstreamLoop.maxIdleEasyHandles)
    static let maxIdleEasyHandles = 32
    /// Whether requests without a body are framed by the gateway on connect-only
    /// connections (`DirectExchange`) instead of libcurl's HTTP transfer.
    let directExchanges: Bool
    /// Connect-only connections libcurl is still connecting, by easy handle.
    private var connecting: [UnsafeMutableRawPointer: UpstreamConnection] = [:]
    /// Connect-only connections whose handles are in the multi handle. libcurl counts them
    /// in its connection cache against CURLMOPT_MAXCONNECTS, though it never reuses them,
    /// so the limit is raised by their number: with 256 of them open, libcurl would
    /// otherwise close the connection of every transfer with a body as it finished.
    private var directConnectionsInMulti = 0
    static let maxIdleCurlConnections = 256
    /// Idle connect-only connections. Not checked for exclusive access at run time (a
    /// thread-local look-up on every take and keep): the pool's methods never call back
    /// into the loop, so no access to it can overlap another.
    private var idleConnections = UpstreamConnectionPool()
    /// TLS sessions of the connect-only connections (made on their first https connection).
    private var tlsSessions: CurlShareHandle?
    /// The upstream origin of the last direct request (most requests repeat it).
    private var lastOrigin: UpstreamOrigin?
    /// The idle connections of `idleListOrigin`'s key (the last origin asked for).
    private var idleListOrigin: UpstreamOrigin?
    private var lastIdleList: IdleConnectionList?
    /// Running direct exchanges, newest first, linked through the exchanges themselves
    /// (`DirectExchange.olderRunning`): the loop keeps them, and checks their deadlines;
    /// starting and ending one hashes nothing.
    private var newestRunning: DirectExchange?
    /// Fires at the earliest deadline of a running direct exchange.
    private let directTimer: DispatchSourceTimer
    private var directTimerDeadline = UInt64.max
    /// Where direct exchanges read responses (one at a time on this queue).
    let receiveBuffer: UnsafeMutableRawBufferPointer
    static let receiveBufferSize = 64 * 1024
    /// > 0 while inside a libcurl call that may run easy-handle callbacks; during it,
    /// adding or removing easy handles is forbidden by libcurl and gets deferred.
    private(set) var curlDepth = 0

    /// Creates the multi handle. Safe to call from any thread; use it only on `queue`.
    /// - Parameter poller: the queue's readiness poller (one is created when nil; it must
    ///   deliver on `queue`).
    /// - Parameter directExchanges: frame requests without a body on connect-only
    ///   connections (see `DirectExchange`); false sends everything through libcurl's HTTP.
    public init(queue: DispatchQueue, poller: ReadinessPoller? = nil, directExchanges: Bool = true) {
        let multi: CurlMultiHandle
        do {
            multi = try CurlMultiHandle()
        } catch {
            fatalError("\(error)")  // curl_global_init or out of memory at start-up
        }
        guard let poller = poller ?? ReadinessPoller(queue: queue) else {
            fatalError("epoll_create1 failed (descriptor limit)")
        }
        precondition(poller.queue === queue, "the poller must deliver on the loop's queue")
        self.poller = poller
        self.queue = queue
        self.multi = multi
        self.timer = DispatchSource.makeTimerSource(queue: queue)
        self.directExchanges = directExchanges
        directTimer = DispatchSource.makeTimerSource(queue: queue)
        receiveBuffer = .allocate(byteCount: UpstreamLoop.receiveBufferSize, alignment: 16)
        sockets = UpstreamSockets(poller: poller) { [weak self] socket, events in
            self?.socketAction(socket, events: events)
        }
        socketContext.sockets = sockets

        let me = Unmanaged.passUnretained(self).toOpaque()
        do {
            try self.multi.setSocketCallback(upstreamSocketCallback)
            try self.multi.set(CURLMOPT_SOCKETDATA, pointer: me)
            try self.multi.setTimerCallback(upstreamTimerCallback)
            try self.multi.set(CURLMOPT_TIMERDATA, pointer: me)
            // Pool size for idle keep-alive connections to all upstreams of this loop.
            try self.multi.set(CURLMOPT_MAXCONNECTS, UpstreamLoop.maxIdleCurlConnections)
            // HTTP/1.1 only: no pipelining, no multiplexing.
            try self.multi.set(CURLMOPT_PIPELINING, gw_pipe_nothing())
        } catch {
            fatalError("\(error)")  // these options exist in every libcurl ≥ 7.66
        }

        timer.setEventHandler { [weak self] in self?.timerFired() }
        timer.schedule(deadline: .distantFuture, leeway: .milliseconds(1))
        timer.activate()
        directTimer.setEventHandler { [weak self] in self?.directTimerFired() }
        directTimer.schedule(deadline: .distantFuture, leeway: .milliseconds(5))
        directTimer.activate()
    }

    deinit {
        // No transfer is running (each one keeps the loop alive), so only pooled
        // connections remain. Detach the callbacks first: curl_multi_cleanup (when `multi`
        // is destroyed, after this body) closes sockets and must not call back into a
        // half-destroyed loop.
        do {
            try multi.setSocketCallback(nil)
            try multi.setTimerCallback(nil)
        } catch {
            preconditionFailure("\(error)")  // only fails for a handle that is not a multi handle
        }
        // No direct exchange runs either (each keeps the loop alive): only idle connections.
        for connection in idleConnections.removeAll() { connection.close(multi: multi) }
        socketContext.sockets = nil
        timer.cancel()
        directTimer.cancel()
        receiveBuffer.deallocate()
        // The block keeps the socket table and the socket context alive until curl_multi_cleanup
        // (run when `multi` is destroyed right after this body) is done with them.
        let sockets = self.sockets!
        let context = socketContext
        queue.async { withExtendedLifetime(context) { sockets.stopAll() } }
    }

    /// Starts an exchange; events go to `delegate` (held strongly until completion).
    ///
    /// No delegate method is called from inside `start`. A request that cannot be
    /// configured (a method or field that is not valid HTTP, an option libcurl refuses)
    /// completes on a later queue turn with `.connectFailed`.
    public func start(_ request: UpstreamRequest, delegate: UpstreamTransferDelegate) -> UpstreamTransfer {
        assertOnQueue()
        if directExchanges {
            // A local copy: the stored property is not accessed across the call.
            var origin = lastOrigin
            var direct: DirectRequest?
            var failure: UpstreamError?
            do throws(UpstreamError) {
                direct = try DirectRequest.make(request, origin: &origin)
            } catch {
                failure = error
            }
            if origin !== lastOrigin { lastOrigin = origin }
            if let direct { return startDirect(direct, request, delegate) }
            if let failure {
                let transfer = CurlTransfer(loop: self, request: request, delegate: delegate)
                queue.async { transfer.failBeforeStart(failure) }
                return transfer
            }
        }
        let transfer = CurlTransfer(loop: self, request: request, delegate: delegate)
        if let error = transfer.configure() {
            queue.async { transfer.failBeforeStart(error) }
            return transfer
        }
        if curlDepth > 0 {
            // Called from a delegate callback: curl_multi_add_handle would be a recursive call.
            queue.async { self.add(transfer) }
        } else {
            add(transfer)
        }
        return transfer
    }

    // MARK: - Direct exchanges

    private func startDirect(_ direct: DirectRequest, _ request: UpstreamRequest,
                             _ delegate: UpstreamTransferDelegate) -> DirectExchange {
        let now = DispatchTime.now().uptimeNanoseconds
        let exchange = DirectExchange(loop: self, request: direct, idleList: idleList(for: direct.origin),
                                      connectTimeout: request.connectTimeout, timeout: request.timeout,
                                      delegate: delegate, now: now)
        exchange.olderRunning = newestRunning
        newestRunning?.newerRunning = exchange
        newestRunning = exchange
        exchange.isRunningListed = true
        if exchange.deadline != 0 { armDirectTimer(exchange.deadline) }
        exchange.begin(now: now)
        return exchange
    }

    /// The list of idle connections for `origin`'s key; looked up only when the origin
    /// differs from the last one asked for.
    private func idleList(for origin: UpstreamOrigin) -> IdleConnectionList {
        if origin === idleListOrigin, let list = lastIdleList { return list }
        let list = idleConnections.list(for: origin.key)
        idleListOrigin = origin
        lastIdleList = list
        return list
    }

    /// Takes a running exchange out of the list (once; later calls do nothing).
    func directExchangeEnded(_ exchange: DirectExchange) {
        guard exchange.isRunningListed else { return }
        exchange.isRunningListed = false
        let older = exchange.olderRunning
        let newer = exchange.newerRunning
        exchange.olderRunning = nil
        exchange.newerRunning = nil
        older?.newerRunning = newer
        if let newer {
            newer.olderRunning = older
        } else {
            newestRunning = older
        }
    }

    /// An idle connection from `list`, if one is pooled (older ones met on the way are closed).
    func takeIdleConnection(from list: IdleConnectionList, now: UInt64) -> UpstreamConnection? {
        guard !list.connections.isEmpty else { return nil }
        var expired: [UpstreamConnection] = []
        let connection = idleConnections.take(from: list, now: now, expired: &expired)
        for old in expired { closeConnection(old) }
        return connection
    }

    /// A connection whose exchange ended cleanly, for the next request to its upstream.
    func keepIdleConnection(_ connection: UpstreamConnection) {
        connection.watch(writable: false)  // readable while idle: the upstream closing it
        if let evicted = idleConnections.put(connection, now: DispatchTime.now().uptimeNanoseconds) { closeConnection(evicted) }
    }

    /// An idle connection became readable: the upstream closed it (or sent what nobody asked for).
    func idleConnectionEvent(_ connection: UpstreamConnection) {
        closeConnection(connection)
    }

    /// The TLS session cache every connect-only https connection of this loop shares.
    func tlsSessionCache() throws(UpstreamCallError) -> CurlShareHandle {
        if let tlsSessions { return tlsSessions }
        let made = try CurlShareHandle()
        tlsSessions = made
        return made
    }

    /// Starts libcurl connecting `connection` (its handle joins the multi handle).
    func addConnecting(_ connection: UpstreamConnection) throws(UpstreamCallError) {
        precondition(curlDepth == 0, "easy handle added from inside a libcurl callback")
        try multi.add(connection.easy)
        connection.connecting()
        connecting[connection.easy] = connection
        directConnectionsInMulti += 1
        updateMaxConnects()
    }

    /// Closes a connection wherever it is (connecting, idle, or just left by its exchange).
    func closeConnection(_ connection: UpstreamConnection) {
        if curlDepth > 0 {
            queue.async { self.closeConnection(connection) }
            return
        }
        if connection.state == .connecting, connecting[connection.easy] === connection { connecting[connection.easy] = nil }
        _ = idleConnections.remove(connection)
        let inMulti = connection.state == .connecting || connection.state == .open
        connection.close(multi: multi)
        if inMulti {
            directConnectionsInMulti -= 1
            updateMaxConnects()
        }
    }

    private func updateMaxConnects() {
        do throws(UpstreamCallError) {
            try multi.set(CURLMOPT_MAXCONNECTS, UpstreamLoop.maxIdleCurlConnections + directConnectionsInMulti)
        } catch {
            // Only for a handle that is not a multi handle, or a call from inside libcurl
            // (never: both callers run outside libcurl calls): a broken invariant.
            preconditionFailure("\(error)")
        }
    }

    private func armDirectTimer(_ deadline: UInt64) {
        guard deadline < directTimerDeadline else { return }
        directTimerDeadline = deadline
        directTimer.schedule(deadline: DispatchTime(uptimeNanoseconds: deadline), leeway: .milliseconds(5))
    }

    private func directTimerFired() {
        directTimerDeadline = .max
        let now = DispatchTime.now().uptimeNanoseconds
        var next = UInt64.max
        var expired: [DirectExchange] = []
        var cursor = newestRunning
        while let exchange = cursor {
            cursor = exchange.olderRunning
            guard exchange.deadline != 0 else { continue }
            if exchange.deadline <= now {
                expired.append(exchange)
            } else {
                next = min(next, exchange.deadline)
            }
        }
        for exchange in expired { exchange.timedOut() }
        if next != .max { armDirectTimer(next) }
    }

    // MARK: - Transfers

    /// A reset easy handle from the pool, or a new one.
    func takeEasyHandle() throws(UpstreamCallError) -> CurlEasyHandle {
        assertOnQueue()
        return try idleEasyHandles.take()
    }

    /// Takes back the easy handle of a finished transfer (not in the multi handle) for the
    /// next transfer, or frees it when the pool is full. It no longer points at the transfer:
    /// after a clean finish only the transfer's pointers are cleared (the shared options
    /// stay), otherwise it is reset to default options.
    func recycleEasyHandle(_ easy: consuming CurlEasyHandle, clean: Bool) {
        assertOnQueue()
        idleEasyHandles.keep(easy, clean: clean)
    }

    private func add(_ transfer: CurlTransfer) {
        guard transfer.state == .pending, let easy = transfer.easy else { return }
        do throws(UpstreamCallError) {
            try multi.add(easy)
        } catch {
            queue.async { transfer.failBeforeStart(.connectFailed(error.message)) }
            return
        }
        transfer.state = .running
        transfers[easy] = transfer
    }

    /// Detaches a transfer's easy handle from the multi handle. Only outside curl calls.
    func remove(_ transfer: CurlTransfer) {
        precondition(curlDepth == 0, "easy handle removed from inside a libcurl callback")
        guard let easy = transfer.easy else { return }
        if transfer.state == .running {
            do {
                try multi.remove(easy)
            } catch {
                // Only for a handle that is not in this multi handle: a broken invariant.
                preconditionFailure("\(error)")
            }
            transfers[easy] = nil
        }
    }

    /// Runs `body` as a libcurl call that may invoke easy-handle callbacks, then reports
    /// finished transfers.
    func withCurlCall(_ body: () -> Void) {
        curlDepth += 1
        body()
        curlDepth -= 1
        if curlDepth == 0 { drainCompletions() }
    }

    private func socketAction(_ socket: curl_socket_t, events: Int32) {
        assertOnQueue()
        var failure: UpstreamCallError?
        withCurlCall {
            do throws(UpstreamCallError) {
                try multi.socketAction(socket, events: events)
            } catch {
                failure = error
            }
        }
        if let failure { multiFailed(failure, socket: socket) }
    }

    /// curl_multi_socket_action failed. For a socket curl does not know (an event that
    /// outlived its interest) the watcher goes; anything else (out of memory, a broken
    /// libcurl state) fails every running transfer, since none of them can be trusted to
    /// progress.
    private func multiFailed(_ error: UpstreamCallError, socket: curl_socket_t) {
        if error.code == .multi(CURLM_BAD_SOCKET) {
            sockets.forget(socket)
            return
        }
        for transfer in Array(transfers.values) { transfer.fail(error) }
    }

    /// Reads CURLMSG_DONE messages and completes their transfers.
    private func drainCompletions() {
        while let (easy, result) = multi.nextCompletion() {
            if let transfer = transfers[easy] {
                transfer.finish(result)
            } else if let connection = connecting.removeValue(forKey: easy) {
                let failure = UpstreamCallError.transferResult(result, detail: connection.errorDetail)
                if let exchange = connection.exchange {
                    exchange.connectFinished(failure)
                } else {
                    closeConnection(connection)
                }
            }
        }
    }

    // MARK: - Sockets and timer (called by libcurl)

    /// CURLMOPT_SOCKETFUNCTION; -1 makes curl fail the transfer using the socket.
    fileprivate func updateSocket(_ socket: curl_socket_t, what: Int32) -> Int32 {
        assertOnQueue()
        do {
            try sockets.update(socket, what: what)
            return 0
        } catch {
            return -1  // cannot watch the socket (descriptor limit)
        }
    }

    /// Re-arms the one Dispatch timer only when curl wants it earlier than it is armed:
    /// rescheduling a Dispatch timer wakes its manager thread, and curl updates its timeout
    /// several times per request. An early (or stale) fire is harmless: curl finds nothing
    /// expired, and `timerFired` re-arms from `curl_multi_timeout`.
    fileprivate func updateTimer(_ milliseconds: Int) {
        assertOnQueue()
        guard milliseconds >= 0 else { return }
        // 0 means "now": the timer still fires on a later queue turn, so curl is
        // never re-entered from inside one of its own calls.
        let deadline = DispatchTime.now() + .milliseconds(milliseconds)
        if let armed = timerDeadline, armed <= deadline { return }
        timerDeadline = deadline
        timer.schedule(deadline: deadline, leeway: .milliseconds(1))
    }

    private func timerFired() {
        timerDeadline = nil
        socketAction(gw_socket_timeout(), events: 0)
        guard timerDeadline == nil else { return }
        do {
            let milliseconds = try multi.timeout()
            if milliseconds >= 0 { updateTimer(milliseconds) }
        } catch {
            // Only for a broken multi handle; keep running transfers from stalling.
            updateTimer(1000)
        }
    }

    @inline(__always)
    func assertOnQueue() {
        #if DEBUG
        dispatchPrecondition(condition: .onQueue(queue))
        #endif
    }
}

/// CURLMOPT_SOCKETFUNCTION: curl says which events it wants on a socket. The per-socket
/// pointer (curl_multi_assign) is not used: watchers are looked up by socket number.
private let upstreamSocketCallback: @convention(c) (
    UnsafeMutableRawPointer?, curl_socket_t, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?
) -> Int32 = { _, socket, what, userp, _ in
    guard let userp else { return -1 }
    let loop = Unmanaged<UpstreamLoop>.fromOpaque(userp).takeUnretainedValue()
    return loop.updateSocket(socket, what: what)
}

/// CURLMOPT_TIMERFUNCTION: curl asks for one timeout (-1 = none).
private let upstreamTimerCallback: @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeMutableRawPointer?) -> Int32 = {
    _, milliseconds, userp in
    guard let userp else { return -1 }
    let loop = Unmanaged<UpstreamLoop>.fromOpaque(userp).takeUnretainedValue()
    loop.updateTimer(milliseconds)
    return 0
}
