internal import CCurl
import Dispatch
public import GatewayEvents
#if canImport(Glibc)
import Glibc
#endif

/// libcurl's process-wide initialisation, run once before the first multi handle
/// (curl_global_init is not thread-safe; a global `let` is initialised exactly once).
private let curlGlobalInit: CURLcode = gw_global_init()

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
    /// The CURLM handle; owned, freed in deinit.
    let multi: UnsafeMutableRawPointer
    /// Drives curl's single timeout (CURLMOPT_TIMERFUNCTION); one-shot, re-armed by curl.
    private let timer: DispatchSourceTimer
    /// When `timer` is armed to fire; nil when disarmed.
    private var timerDeadline: DispatchTime?
    /// Socket watchers by curl's socket; the dictionary owns them, curl_multi_assign
    /// stores an unretained pointer for the socket callback.
    private var watchers: [curl_socket_t: SocketWatcher] = [:]
    /// Sockets opened through CURLOPT_OPENSOCKETFUNCTION: curl closes them through
    /// CURLOPT_CLOSESOCKETFUNCTION, so their watchers may outlive CURL_POLL_REMOVE
    /// (an idle pooled connection) and are only stopped when the socket is closed.
    private var ownedSockets: Set<curl_socket_t> = []
    /// Owned sockets curl removed from its wishes (idle in the pool, or closed by curl
    /// itself: libcurl 7.88 closes the socket of an abandoned connect with close(2), not
    /// through CLOSESOCKETFUNCTION). Checked every second by `sweepIdleSockets`.
    private var idleOwnedSockets: Set<curl_socket_t> = []
    /// Runs `sweepIdleSockets` once a second.
    private let socketSweep: DispatchSourceTimer
    /// Handed to libcurl as OPENSOCKETDATA/CLOSESOCKETDATA; detached in deinit so that
    /// sockets closed by curl_multi_cleanup do not call into a loop being destroyed.
    let socketContext = UpstreamSocketContext()
    /// Running transfers by easy handle; the loop owns them until they finish.
    private var transfers: [UnsafeMutableRawPointer: UpstreamTransfer] = [:]
    /// Easy handles of finished transfers, already `curl_easy_reset`, for the next transfers
    /// (saves a curl_easy_init + curl_easy_cleanup per request; a reset handle keeps only
    /// libcurl's caches, none of our options). At most `maxIdleEasyHandles`.
    private var idleEasyHandles: [UnsafeMutableRawPointer] = []
    static let maxIdleEasyHandles = 32
    /// > 0 while inside a libcurl call that may run easy-handle callbacks; during it,
    /// adding or removing easy handles is forbidden by libcurl and gets deferred.
    private(set) var curlDepth = 0

    /// Creates the multi handle. Safe to call from any thread; use it only on `queue`.
    /// - Parameter poller: the queue's readiness poller (one is created when nil; it must
    ///   deliver on `queue`).
    public init(queue: DispatchQueue, poller: ReadinessPoller? = nil) {
        precondition(curlGlobalInit == CURLE_OK, "curl_global_init failed")
        guard let multi = curl_multi_init() else {
            fatalError("curl_multi_init failed (out of memory)")
        }
        guard let poller = poller ?? ReadinessPoller(queue: queue) else {
            fatalError("epoll_create1 failed (descriptor limit)")
        }
        precondition(poller.queue === queue, "the poller must deliver on the loop's queue")
        self.poller = poller
        self.queue = queue
        self.multi = multi
        self.timer = DispatchSource.makeTimerSource(queue: queue)
        self.socketSweep = DispatchSource.makeTimerSource(queue: queue)

        let me = Unmanaged.passUnretained(self).toOpaque()
        socketContext.loop = self
        _ = gw_multi_setopt_socket_cb(multi, upstreamSocketCallback)
        _ = gw_multi_setopt_ptr(multi, CURLMOPT_SOCKETDATA, me)
        _ = gw_multi_setopt_timer_cb(multi, upstreamTimerCallback)
        _ = gw_multi_setopt_ptr(multi, CURLMOPT_TIMERDATA, me)
        // Pool size for idle keep-alive connections to all upstreams of this loop.
        _ = gw_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 256)
        // HTTP/1.1 only: no pipelining, no multiplexing.
        _ = gw_multi_setopt_long(multi, CURLMOPT_PIPELINING, gw_pipe_nothing())

        timer.setEventHandler { [weak self] in self?.timerFired() }
        timer.schedule(deadline: .distantFuture, leeway: .milliseconds(1))
        timer.activate()
        socketSweep.setEventHandler { [weak self] in self?.sweepIdleSockets() }
        socketSweep.schedule(deadline: .now() + 1, repeating: 1, leeway: .milliseconds(200))
        socketSweep.activate()
    }

    deinit {
        // No transfer is running (each one keeps the loop alive), so only pooled
        // connections remain. Detach the callbacks first: curl_multi_cleanup closes
        // sockets and must not call back into a half-destroyed loop.
        _ = gw_multi_setopt_socket_cb(multi, nil)
        _ = gw_multi_setopt_timer_cb(multi, nil)
        socketContext.loop = nil
        curl_multi_cleanup(multi)
        for easy in idleEasyHandles { curl_easy_cleanup(easy) }
        timer.cancel()
        socketSweep.cancel()
        let remaining = Array(watchers.values)
        if !remaining.isEmpty {
            queue.async { for watcher in remaining { watcher.stop() } }
        }
    }

    /// Starts an exchange; events go to `delegate` (held strongly until completion).
    ///
    /// No delegate method is called from inside `start`. A request that cannot be
    /// configured (a method or field that is not valid HTTP, an option libcurl refuses)
    /// completes on a later queue turn with `.connectFailed`.
    public func start(_ request: UpstreamRequest, delegate: UpstreamTransferDelegate) -> UpstreamTransfer {
        assertOnQueue()
        let transfer = UpstreamTransfer(loop: self, request: request, delegate: delegate)
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

    // MARK: - Transfers

    /// A reset easy handle from the pool, or a new one (nil: out of memory).
    func takeEasyHandle() -> UnsafeMutableRawPointer? {
        assertOnQueue()
        return idleEasyHandles.popLast() ?? curl_easy_init()
    }

    /// Takes back the easy handle of a finished transfer (not in the multi handle): reset to
    /// default options (so it no longer points at the transfer, its callbacks or its header
    /// list) and kept for the next transfer, or freed when the pool is full.
    func recycleEasyHandle(_ easy: UnsafeMutableRawPointer) {
        assertOnQueue()
        if idleEasyHandles.count < Self.maxIdleEasyHandles {
            curl_easy_reset(easy)
            idleEasyHandles.append(easy)
        } else {
            curl_easy_cleanup(easy)
        }
    }

    private func add(_ transfer: UpstreamTransfer) {
        guard transfer.state == .pending, let easy = transfer.easy else { return }
        let code = curl_multi_add_handle(multi, easy)
        guard code == CURLM_OK else {
            let message = String(cString: curl_multi_strerror(code))
            queue.async { transfer.failBeforeStart(.connectFailed(message)) }
            return
        }
        transfer.state = .running
        transfers[easy] = transfer
    }

    /// Detaches a transfer's easy handle from the multi handle. Only outside curl calls.
    func remove(_ transfer: UpstreamTransfer) {
        precondition(curlDepth == 0, "easy handle removed from inside a libcurl callback")
        guard let easy = transfer.easy else { return }
        if transfer.state == .running {
            _ = curl_multi_remove_handle(multi, easy)
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
        withCurlCall {
            var running: Int32 = 0
            _ = curl_multi_socket_action(multi, socket, events, &running)
        }
    }

    /// Reads CURLMSG_DONE messages and completes their transfers.
    private func drainCompletions() {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            // Copy out before the handle is removed: that invalidates `message`.
            let result = gw_msg_result(message)
            guard let transfer = transfers[easy] else { continue }
            transfer.finish(result)
        }
    }

    // MARK: - Sockets and timer (called by libcurl)

    fileprivate func updateSocket(_ socket: curl_socket_t, what: Int32, assigned: UnsafeMutableRawPointer?) -> Int32 {
        assertOnQueue()
        if what == CURL_POLL_REMOVE {
            if ownedSockets.contains(socket) {
                // Idle in the pool, about to be closed through our close callback, or about
                // to be closed by curl directly (see `idleOwnedSockets`).
                watchers[socket]?.watch(read: false, write: false)
                idleOwnedSockets.insert(socket)
            } else if let watcher = watchers.removeValue(forKey: socket) {
                watcher.stop()
            }
            _ = curl_multi_assign(multi, socket, nil)
            return 0
        }
        if !idleOwnedSockets.isEmpty { idleOwnedSockets.remove(socket) }
        let watcher: SocketWatcher
        if let assigned {
            watcher = Unmanaged<SocketWatcher>.fromOpaque(assigned).takeUnretainedValue()
        } else if let existing = watchers[socket] {
            watcher = existing
            _ = curl_multi_assign(multi, socket, Unmanaged.passUnretained(existing).toOpaque())
        } else {
            guard let created = SocketWatcher(socket: socket, poller: poller, onEvent: { [weak self] socket, events in
                self?.socketAction(socket, events: events)
            }) else {
                // Could not watch the socket (descriptor limit): tell curl to fail.
                return -1
            }
            watchers[socket] = created
            _ = curl_multi_assign(multi, socket, Unmanaged.passUnretained(created).toOpaque())
            watcher = created
        }
        watcher.watch(read: what & CURL_POLL_IN != 0, write: what & CURL_POLL_OUT != 0)
        return 0
    }

    /// CURLOPT_OPENSOCKETFUNCTION: a connection socket, opened here so that its close is seen.
    fileprivate func openSocket(family: Int32, type: Int32, protocol proto: Int32) -> curl_socket_t {
        let fd = Glibc.socket(family, type | Int32(SOCK_CLOEXEC.rawValue), proto)
        if fd >= 0 {
            // A watcher under this number belongs to a socket curl closed without telling us.
            dropWatcher(fd)
            ownedSockets.insert(fd)
        }
        return fd
    }

    /// CURLOPT_CLOSESOCKETFUNCTION: curl is done with the socket for good.
    fileprivate func socketClosing(_ socket: curl_socket_t) {
        dropWatcher(socket)
    }

    private func dropWatcher(_ socket: curl_socket_t) {
        ownedSockets.remove(socket)
        idleOwnedSockets.remove(socket)
        watchers.removeValue(forKey: socket)?.stop()
    }

    /// Stops the watchers of idle sockets whose number no longer names the socket they
    /// watch (closed by curl without CLOSESOCKETFUNCTION, perhaps reused since): each one
    /// holds a duplicate descriptor, and with it the connection, open.
    private func sweepIdleSockets() {
        for socket in idleOwnedSockets {
            guard let watcher = watchers[socket] else {
                idleOwnedSockets.remove(socket)
                continue
            }
            if !watcher.stillWatchesSocket() { dropWatcher(socket) }
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
        var milliseconds = -1
        _ = curl_multi_timeout(multi, &milliseconds)
        if milliseconds >= 0 { updateTimer(milliseconds) }
    }

    @inline(__always)
    func assertOnQueue() {
        #if DEBUG
        dispatchPrecondition(condition: .onQueue(queue))
        #endif
    }
}

/// CURLMOPT_SOCKETFUNCTION: curl says which events it wants on a socket.
private let upstreamSocketCallback: @convention(c) (
    UnsafeMutableRawPointer?, curl_socket_t, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?
) -> Int32 = { _, socket, what, userp, socketp in
    guard let userp else { return -1 }
    let loop = Unmanaged<UpstreamLoop>.fromOpaque(userp).takeUnretainedValue()
    return loop.updateSocket(socket, what: what, assigned: socketp)
}

/// CURLMOPT_TIMERFUNCTION: curl asks for one timeout (-1 = none).
private let upstreamTimerCallback: @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeMutableRawPointer?) -> Int32 = {
    _, milliseconds, userp in
    guard let userp else { return -1 }
    let loop = Unmanaged<UpstreamLoop>.fromOpaque(userp).takeUnretainedValue()
    loop.updateTimer(milliseconds)
    return 0
}

/// The loop as libcurl's socket open/close callbacks see it; `loop` is nil once the loop
/// is being destroyed (those callbacks then only open/close the descriptor).
final class UpstreamSocketContext: @unchecked Sendable {
    weak var loop: UpstreamLoop?
    var pointer: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }
}

/// CURLOPT_OPENSOCKETFUNCTION.
let upstreamOpenSocketCallback: @convention(c) (
    UnsafeMutableRawPointer?, curlsocktype, UnsafeMutablePointer<curl_sockaddr>?
) -> curl_socket_t = { clientp, _, address in
    guard let address else { return -1 }
    let a = address.pointee
    if let clientp, let loop = Unmanaged<UpstreamSocketContext>.fromOpaque(clientp).takeUnretainedValue().loop {
        return loop.openSocket(family: a.family, type: a.socktype, protocol: a.protocol)
    }
    return Glibc.socket(a.family, a.socktype | Int32(SOCK_CLOEXEC.rawValue), a.protocol)
}

/// CURLOPT_CLOSESOCKETFUNCTION.
let upstreamCloseSocketCallback: @convention(c) (UnsafeMutableRawPointer?, curl_socket_t) -> Int32 = { clientp, socket in
    if let clientp, let loop = Unmanaged<UpstreamSocketContext>.fromOpaque(clientp).takeUnretainedValue().loop {
        loop.socketClosing(socket)
    }
    return Glibc.close(socket)
}
