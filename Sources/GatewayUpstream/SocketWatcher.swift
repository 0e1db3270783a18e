internal import CCurl
import Dispatch
import GatewayEvents
#if canImport(Glibc)
import Glibc
#endif

/// The readiness registration of one libcurl socket, created once and switched on and off
/// as curl's wishes change.
///
/// The registration watches a private duplicate of curl's descriptor, not the descriptor
/// itself: removal from the epoll set is by descriptor number, and if curl closed its
/// socket before telling us, the number could already belong to a new connection. With
/// a duplicate the number stays ours until `stop()` has removed it and closed the duplicate
/// (only the duplicate: curl's own descriptor is closed by whoever closes it for curl).
///
/// `@unchecked Sendable`: only touched on the loop's serial queue (the handler runs there).
final class SocketWatcher: @unchecked Sendable {
    /// curl's descriptor, passed back to curl_multi_socket_action.
    let socket: curl_socket_t
    /// Our duplicate, in the poller's set; nil once stopped (closed).
    private var watched: UpstreamDescriptor?
    private let onEvent: (curl_socket_t, Int32) -> Void
    private var registration: PollRegistration!
    /// What curl asked for last.
    private var wantRead = false
    private var wantWrite = false
    private var stopped = false

    /// - Throws: when the descriptor cannot be duplicated (descriptor limit).
    init(socket: curl_socket_t, poller: ReadinessPoller, onEvent: @escaping (curl_socket_t, Int32) -> Void) throws(UpstreamCallError) {
        let duplicate = try UpstreamDescriptor(duplicating: socket)
        let number = duplicate.rawValue
        self.socket = socket
        self.watched = consume duplicate
        self.onEvent = onEvent
        self.registration = poller.register(fd: number) { [weak self] ready in self?.fire(ready) }
    }

    /// Makes the registration match curl's wish (CURL_POLL_IN / OUT / INOUT / NONE).
    ///
    /// Interest is added at once but dropped lazily: only when an event curl did not ask for
    /// actually arrives (see `fire`). curl switches a reused connection between IN and NONE
    /// on every request; an idle keep-alive socket rarely becomes readable, so most of those
    /// epoll_ctl calls are never needed. curl still never sees an event it did not ask for.
    func watch(read: Bool, write: Bool) {
        guard !stopped else { return }
        wantRead = read
        wantWrite = write
        var interest = registration.interest
        if read { interest.insert(.readable) }
        if write { interest.insert(.writable) }
        registration.setInterest(interest)
    }

    /// Whether curl's descriptor number still names the socket the duplicate watches
    /// (same device and inode); false once curl closed it, even if the number was reused.
    func stillWatchesSocket() -> Bool {
        watched?.isSameFile(as: socket) ?? false
    }

    /// The socket is gone (closed by curl, or not ours to keep): leave the epoll set and
    /// close the duplicate.
    func stop() {
        guard !stopped else { return }
        stopped = true
        registration.cancel()  // leaves the epoll set before the number is released
        watched = nil
    }

    private func fire(_ ready: Readiness) {
        guard !stopped else { return }
        var wanted: Readiness = []
        if wantRead { wanted.insert(.readable) }
        if wantWrite { wanted.insert(.writable) }
        if !ready.isSubset(of: wanted) {
            registration.setInterest(registration.interest.intersection(wanted))
        }
        var events: Int32 = 0
        if ready.contains(.readable) && wantRead { events |= CURL_CSELECT_IN }
        if ready.contains(.writable) && wantWrite { events |= CURL_CSELECT_OUT }
        if events != 0 { onEvent(socket, events) }
    }
}
