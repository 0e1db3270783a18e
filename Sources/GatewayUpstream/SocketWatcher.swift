internal import CCurl
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Dispatch read/write sources for one libcurl socket, created once and switched on and
/// off with resume/suspend as curl's wishes change (creating and cancelling sources on
/// every request costs more than the request itself).
///
/// The sources watch a private duplicate of curl's descriptor, not the descriptor
/// itself. A Dispatch source is only unregistered from epoll on a later turn after
/// cancel; if the sources watched curl's descriptor, a new socket reusing that number
/// could be attached to the stale registration and never fire. With a duplicate, the
/// number stays ours until both cancel handlers have run; then we close the duplicate
/// (only the duplicate: curl's own descriptor is closed by whoever closes it for curl).
///
/// `@unchecked Sendable`: only touched on the loop's serial queue (the handlers target it).
final class SocketWatcher: @unchecked Sendable {
    /// curl's descriptor, passed back to curl_multi_socket_action.
    let socket: curl_socket_t
    /// Our duplicate, watched by the sources.
    private let watched: Int32
    private let onEvent: (curl_socket_t, Int32) -> Void
    private let reader: DispatchSourceRead
    private let writer: DispatchSourceWrite
    /// Whether each source is resumed.
    private var reading = false
    private var writing = false
    /// What curl asked for last.
    private var wantRead = false
    private var wantWrite = false
    /// Sources whose cancel handler has not run yet.
    private var liveSources = 2
    private var stopped = false

    /// - Returns: nil when the descriptor cannot be duplicated (descriptor limit).
    init?(socket: curl_socket_t, queue: DispatchQueue, onEvent: @escaping (curl_socket_t, Int32) -> Void) {
        let duplicate = fcntl(socket, F_DUPFD_CLOEXEC, 0)
        guard duplicate >= 0 else { return nil }
        self.socket = socket
        self.watched = duplicate
        self.onEvent = onEvent
        self.reader = DispatchSource.makeReadSource(fileDescriptor: duplicate, queue: queue)
        self.writer = DispatchSource.makeWriteSource(fileDescriptor: duplicate, queue: queue)
        reader.setEventHandler { [weak self] in self?.fire(CURL_CSELECT_IN) }
        writer.setEventHandler { [weak self] in self?.fire(CURL_CSELECT_OUT) }
        // Strong capture: the duplicate must be closed even if the watcher is gone.
        let done: @Sendable () -> Void = { [self] in
            self.liveSources -= 1
            if self.liveSources == 0 { close(self.watched) }
        }
        reader.setCancelHandler(handler: done)
        writer.setCancelHandler(handler: done)
    }

    /// Makes the sources match curl's wish (CURL_POLL_IN / OUT / INOUT / NONE).
    ///
    /// A source is resumed at once but suspended lazily: only when an event curl did not
    /// ask for actually arrives (see `fire`). curl switches a reused connection between
    /// IN and NONE on every request, and each suspend/resume pair costs a wake-up of
    /// Dispatch's manager thread; an idle keep-alive socket rarely becomes readable, so
    /// most of those pairs are never needed. curl still never sees an event it did not ask for.
    func watch(read: Bool, write: Bool) {
        guard !stopped else { return }
        wantRead = read
        wantWrite = write
        if read && !reading {
            reading = true
            reader.resume()
        }
        if write && !writing {
            writing = true
            writer.resume()
        }
    }

    /// The socket is gone (closed by curl, or not ours to keep): cancel both sources;
    /// the duplicate is closed once their cancel handlers have run.
    func stop() {
        guard !stopped else { return }
        stopped = true
        // A suspended (or never activated) source never runs its cancel handler.
        if !reading { reader.resume() }
        if !writing { writer.resume() }
        reader.cancel()
        writer.cancel()
    }

    private func fire(_ events: Int32) {
        guard !stopped else { return }
        if events == CURL_CSELECT_IN && !wantRead {
            if reading { reading = false; reader.suspend() }
            return
        }
        if events == CURL_CSELECT_OUT && !wantWrite {
            if writing { writing = false; writer.suspend() }
            return
        }
        onEvent(socket, events)
    }
}
