internal import CCurl
import Dispatch
import GatewayEvents
#if canImport(Glibc)
import Glibc
#endif

/// One upstream connection that libcurl makes (resolve, connect, TLS: an easy handle with
/// CURLOPT_CONNECT_ONLY on the loop's multi handle) and the gateway then speaks HTTP/1.1 on
/// itself, with `curl_easy_send` / `curl_easy_recv` (see `DirectExchange`).
///
/// Owns its easy handle, which stays in the multi handle from `connect` until `close()`:
/// libcurl keeps a connect-only connection open only while its handle is there, and
/// removing the handle is what closes it. Readiness comes from the loop's poller through a
/// private duplicate of the socket (the number stays ours even if libcurl closed its own).
/// While the connection is idle in the pool its socket stays watched for reading: anything
/// readable then is the upstream closing it (or sending what nobody asked for), and the
/// connection is dropped before a request could be written on it.
///
/// `@unchecked Sendable`: only touched on the loop's queue.
final class UpstreamConnection: @unchecked Sendable {
    enum State { case created, connecting, open, closed }

    unowned let loop: UpstreamLoop
    /// Where the connection waits while idle (its pool key's list).
    let idleList: IdleConnectionList
    /// Not checked for exclusive access at run time (borrowed on every send and read): no
    /// libcurl call made through it calls back into this connection.
    private var handle: CurlEasyHandle
    private var watched: UpstreamDescriptor?
    private var registration: PollRegistration?
    private(set) var state = State.created
    /// The exchange using the connection; nil while idle. Set and cleared by the exchange.
    /// Neither is checked for exclusive access at run time (read on every readiness event,
    /// written on every take and keep): each access is a plain load or store, and
    /// releasing an exchange never touches its connection's fields.
    var exchange: DirectExchange?
    /// When the connection went idle (`DispatchTime` nanoseconds).
    var idleSince: UInt64 = 0
    /// Exchanges the connection carried to completion.
    var completedExchanges = 0

    var key: UpstreamPoolKey { idleList.key }

    /// The easy handle's identity in the multi handle.
    var easy: UnsafeMutableRawPointer { handle.pointer }

    /// A configured, not yet started connection.
    /// - Parameter connectTimeout: seconds for TCP connect and TLS handshake; 0 or less is libcurl's default.
    init(loop: UpstreamLoop, request: DirectRequest, idleList: IdleConnectionList,
         connectTimeout: Double) throws(UpstreamCallError) {
        self.loop = loop
        self.idleList = idleList
        handle = try CurlEasyHandle()
        try handle.setConnectionPolicy(tls: request.key.tls, socketContext: loop.socketContext.pointer)
        try handle.set(CURLOPT_CONNECT_ONLY, 1)
        if request.key.isTLS { try handle.attach(share: loop.tlsSessionCache()) }
        try handle.set(CURLOPT_CONNECTTIMEOUT_MS, connectTimeout > 0 ? max(1, Int((connectTimeout * 1000).rounded())) : 0)
        try handle.set(CURLOPT_URL, string: request.connectURL)
    }

    deinit {
        // `close()` ran (the loop closes every connection it holds); the handle is freed here.
        assert(state != .connecting && state != .open, "upstream connection freed while its handle is in the multi handle")
    }

    /// The handle is now in the multi handle, connecting.
    func connecting() {
        state = .connecting
    }

    /// libcurl finished connecting: watch the socket.
    func opened() throws(UpstreamCallError) {
        let socket = try handle.activeSocket()
        let duplicate = try UpstreamDescriptor(duplicating: socket)
        let number = duplicate.rawValue
        watched = consume duplicate
        registration = loop.poller.register(fd: number) { [weak self] ready in self?.ready(ready) }
        state = .open
        registration?.setInterest(.readable)
    }

    /// libcurl's text for a failed connect ("" when none).
    var errorDetail: String { handle.errorDetail }

    /// Readable; or only writable while `writable` (a request waits for the socket): bytes
    /// the upstream sent meanwhile, or its close, would otherwise wake the loop on every
    /// turn with nothing to do until the request is out. An error or hang-up is still
    /// reported (as writable), and the send meets it.
    func watch(writable: Bool) {
        registration?.setInterest(writable ? .writable : .readable)
    }

    /// No events until `watch` is called again (the exchange holds response bytes).
    func pauseEvents() {
        registration?.setInterest([])
    }

    /// - Returns: bytes sent; 0 when the socket takes nothing now.
    func send(_ bytes: UnsafeRawBufferPointer) throws(UpstreamCallError) -> Int {
        try handle.send(bytes)
    }

    /// - Returns: bytes read, 0 at the connection's end, nil when nothing is there now.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(UpstreamCallError) -> Int? {
        try handle.receive(into: buffer)
    }

    /// Stops watching and takes the handle out of the multi handle, which closes the
    /// connection (libcurl calls the loop's close-socket hook). Idempotent; never from
    /// inside a libcurl call.
    func close(multi: borrowing CurlMultiHandle) {
        let wasInMulti = state == .connecting || state == .open
        state = .closed
        exchange = nil
        registration?.cancel()
        registration = nil
        watched = nil
        guard wasInMulti else { return }
        do throws(UpstreamCallError) {
            try multi.remove(handle.pointer)
        } catch {
            // Only for a handle that is not in this multi handle: a broken invariant.
            preconditionFailure("\(error)")
        }
    }

    private func ready(_ ready: Readiness) {
        if let exchange {
            exchange.connectionReady(ready)
        } else {
            loop.idleConnectionEvent(self)
        }
    }
}
