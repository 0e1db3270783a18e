internal import CCurl
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Dispatch read/write sources for one libcurl socket.
///
/// The sources watch a private duplicate of curl's descriptor, not the descriptor
/// itself. curl closes its sockets synchronously, right after CURL_POLL_REMOVE, while
/// a Dispatch source is only unregistered from epoll on a later turn. If the sources
/// watched curl's descriptor, a new socket reusing that number could be attached to
/// the stale epoll registration and never fire. With a duplicate, the number stays
/// ours until every source's cancel handler has run; then we close the duplicate
/// (only the duplicate: curl owns and closes its own descriptor).
///
/// `@unchecked Sendable`: only touched on the loop's serial queue (the handlers target it).
final class SocketWatcher: @unchecked Sendable {
    /// curl's descriptor, passed back to curl_multi_socket_action.
    let socket: curl_socket_t
    /// Our duplicate, watched by the sources.
    private let watched: Int32
    private let queue: DispatchQueue
    private let onEvent: (curl_socket_t, Int32) -> Void
    private var reader: DispatchSourceRead?
    private var writer: DispatchSourceWrite?
    /// Sources created whose cancel handler has not run yet.
    private var liveSources = 0
    private var stopped = false
    private var closed = false

    /// - Returns: nil when the descriptor cannot be duplicated (descriptor limit).
    init?(socket: curl_socket_t, queue: DispatchQueue, onEvent: @escaping (curl_socket_t, Int32) -> Void) {
        let duplicate = fcntl(socket, F_DUPFD_CLOEXEC, 0)
        guard duplicate >= 0 else { return nil }
        self.socket = socket
        self.watched = duplicate
        self.queue = queue
        self.onEvent = onEvent
    }

    /// Makes the sources match curl's wish (CURL_POLL_IN / OUT / INOUT / NONE).
    func watch(read: Bool, write: Bool) {
        guard !stopped else { return }
        if read, reader == nil {
            let source = DispatchSource.makeReadSource(fileDescriptor: watched, queue: queue)
            source.setEventHandler { [weak self] in self?.fire(CURL_CSELECT_IN) }
            install(source)
            reader = source
        } else if !read, let source = reader {
            source.cancel()
            reader = nil
        }
        if write, writer == nil {
            let source = DispatchSource.makeWriteSource(fileDescriptor: watched, queue: queue)
            source.setEventHandler { [weak self] in self?.fire(CURL_CSELECT_OUT) }
            install(source)
            writer = source
        } else if !write, let source = writer {
            source.cancel()
            writer = nil
        }
    }

    /// curl no longer wants this socket (CURL_POLL_REMOVE) or the loop is going away.
    func stop() {
        watch(read: false, write: false)
        stopped = true
        closeWhenIdle()
    }

    private func install(_ source: DispatchSourceProtocol) {
        liveSources += 1
        // Strong capture: the duplicate must be closed even if the watcher is gone.
        source.setCancelHandler {
            self.liveSources -= 1
            self.closeWhenIdle()
        }
        // Activated at once: a suspended source never runs its cancel handler.
        source.activate()
    }

    private func fire(_ events: Int32) {
        guard !stopped else { return }
        onEvent(socket, events)
    }

    private func closeWhenIdle() {
        if stopped, liveSources == 0, !closed {
            closed = true
            close(watched)
        }
    }
}
