internal import CCurl
import Dispatch
import GatewayEvents
#if canImport(Glibc)
import Glibc
#endif

/// The one owner of a loop's upstream socket descriptors: it opens libcurl's connection
/// sockets (CURLOPT_OPENSOCKETFUNCTION), closes them (CURLOPT_CLOSESOCKETFUNCTION), and
/// keeps one `SocketWatcher` per socket libcurl wants watched (CURLMOPT_SOCKETFUNCTION).
///
/// Watchers are found by socket number in `watchers`; nothing is stored inside libcurl
/// (no curl_multi_assign), so there is no pointer whose lifetime libcurl would have to
/// respect.
///
/// `@unchecked Sendable`: only touched on the loop's serial queue.
final class UpstreamSockets: @unchecked Sendable {
    private let poller: ReadinessPoller
    private let onEvent: (curl_socket_t, Int32) -> Void
    /// Socket watchers by curl's socket; this dictionary owns them.
    private var watchers: [curl_socket_t: SocketWatcher] = [:]
    /// Sockets opened by `open`: curl closes them through `close`, so their watchers may
    /// outlive CURL_POLL_REMOVE (an idle pooled connection) and are only stopped when the
    /// socket is closed.
    private var ownedSockets: Set<curl_socket_t> = []
    /// Owned sockets curl removed from its wishes (idle in the pool, or closed by curl
    /// itself: libcurl 7.88 closes the socket of an abandoned connect with close(2), not
    /// through CLOSESOCKETFUNCTION). Checked every second by `sweepIdle`.
    private var idleOwnedSockets: Set<curl_socket_t> = []
    /// Runs `sweepIdle` once a second.
    private let sweep: DispatchSourceTimer

    /// - Parameter onEvent: readiness for curl (socket, CURL_CSELECT_* bits), on `poller.queue`.
    init(poller: ReadinessPoller, onEvent: @escaping (curl_socket_t, Int32) -> Void) {
        self.poller = poller
        self.onEvent = onEvent
        sweep = DispatchSource.makeTimerSource(queue: poller.queue)
        sweep.setEventHandler { [weak self] in self?.sweepIdle() }
        sweep.schedule(deadline: .now() + 1, repeating: 1, leeway: .milliseconds(200))
        sweep.activate()
    }

    deinit {
        sweep.cancel()
    }

    /// Stops every watcher (the loop is going away; curl_multi_cleanup closes the sockets).
    func stopAll() {
        for watcher in watchers.values { watcher.stop() }
        watchers = [:]
        ownedSockets = []
        idleOwnedSockets = []
    }

    /// CURLMOPT_SOCKETFUNCTION: curl wants `what` (CURL_POLL_*) on `socket`.
    /// - Throws: when the socket cannot be watched (descriptor limit); curl then fails the transfer.
    func update(_ socket: curl_socket_t, what: Int32) throws(UpstreamCallError) {
        if what == CURL_POLL_REMOVE {
            if ownedSockets.contains(socket) {
                // Idle in the pool, about to be closed through `close`, or about to be
                // closed by curl directly (see `idleOwnedSockets`).
                watchers[socket]?.watch(read: false, write: false)
                idleOwnedSockets.insert(socket)
            } else if let watcher = watchers.removeValue(forKey: socket) {
                watcher.stop()
            }
            return
        }
        if !idleOwnedSockets.isEmpty { idleOwnedSockets.remove(socket) }
        let watcher: SocketWatcher
        if let existing = watchers[socket] {
            watcher = existing
        } else {
            let onEvent = self.onEvent
            watcher = try SocketWatcher(socket: socket, poller: poller, onEvent: onEvent)
            watchers[socket] = watcher
        }
        watcher.watch(read: what & CURL_POLL_IN != 0, write: what & CURL_POLL_OUT != 0)
    }

    /// curl does not know `socket` (CURLM_BAD_SOCKET): a readiness event outlived curl's
    /// interest; stop watching it.
    func forget(_ socket: curl_socket_t) {
        if !ownedSockets.contains(socket) { watchers.removeValue(forKey: socket)?.stop() }
    }

    /// CURLOPT_OPENSOCKETFUNCTION: a connection socket, opened here so that its close is seen.
    func open(family: Int32, type: Int32, protocol proto: Int32) throws(UpstreamCallError) -> curl_socket_t {
        let fd = try UpstreamCallError.check(system: Glibc.socket(family, type | Int32(SOCK_CLOEXEC.rawValue), proto), "socket")
        // A watcher under this number belongs to a socket curl closed without telling us.
        drop(fd)
        ownedSockets.insert(fd)
        return fd
    }

    /// CURLOPT_CLOSESOCKETFUNCTION: curl is done with the socket for good.
    func close(_ socket: curl_socket_t) throws(UpstreamCallError) {
        drop(socket)
        try Self.closeUnowned(socket)
    }

    /// close(2) of a socket curl hands back after the loop is gone.
    static func closeUnowned(_ socket: curl_socket_t) throws(UpstreamCallError) {
        try UpstreamCallError.check(system: Glibc.close(socket), "close")
    }

    private func drop(_ socket: curl_socket_t) {
        ownedSockets.remove(socket)
        idleOwnedSockets.remove(socket)
        watchers.removeValue(forKey: socket)?.stop()
    }

    /// Stops the watchers of idle sockets whose number no longer names the socket they
    /// watch (closed by curl without CLOSESOCKETFUNCTION, perhaps reused since): each one
    /// holds a duplicate descriptor, and with it the connection, open.
    private func sweepIdle() {
        for socket in idleOwnedSockets {
            guard let watcher = watchers[socket] else {
                idleOwnedSockets.remove(socket)
                continue
            }
            if !watcher.stillWatchesSocket() { drop(socket) }
        }
    }
}

/// The socket table as libcurl's socket open/close callbacks see it; `sockets` is nil once
/// the loop is being destroyed (those callbacks then only open/close the descriptor).
final class UpstreamSocketContext: @unchecked Sendable {
    weak var sockets: UpstreamSockets?
    var pointer: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }
}

/// CURLOPT_OPENSOCKETFUNCTION: a socket, or CURL_SOCKET_BAD (-1) to fail the connect.
let upstreamOpenSocketCallback: @convention(c) (
    UnsafeMutableRawPointer?, curlsocktype, UnsafeMutablePointer<curl_sockaddr>?
) -> curl_socket_t = { clientp, _, address in
    guard let address else { return -1 }
    let a = address.pointee
    do {
        if let clientp, let sockets = Unmanaged<UpstreamSocketContext>.fromOpaque(clientp).takeUnretainedValue().sockets {
            return try sockets.open(family: a.family, type: a.socktype, protocol: a.protocol)
        }
        return try UpstreamCallError.check(system: Glibc.socket(a.family, a.socktype | Int32(SOCK_CLOEXEC.rawValue), a.protocol), "socket")
    } catch {
        return -1  // curl reports CURLE_COULDNT_CONNECT
    }
}

/// CURLOPT_CLOSESOCKETFUNCTION: 0, or 1 when close(2) failed (libcurl ignores it; the
/// descriptor is released either way on Linux).
let upstreamCloseSocketCallback: @convention(c) (UnsafeMutableRawPointer?, curl_socket_t) -> Int32 = { clientp, socket in
    do {
        if let clientp, let sockets = Unmanaged<UpstreamSocketContext>.fromOpaque(clientp).takeUnretainedValue().sockets {
            try sockets.close(socket)
        } else {
            try UpstreamSockets.closeUnowned(socket)
        }
        return 0
    } catch {
        return 1
    }
}
