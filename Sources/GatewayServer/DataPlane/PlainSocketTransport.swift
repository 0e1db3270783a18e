import GatewayEvents

#if canImport(Glibc)
import Glibc
#endif

/// A client connection over plain TCP: owns the accepted non-blocking descriptor and turns
/// read(2)/send(2)/shutdown(2) results and errno into `TransportResult` (the one place that
/// does, for client sockets).
///
/// Lives on one loop queue; not thread-safe.
final class PlainSocketTransport: ClientTransport {
    private(set) var descriptor: Int32
    var security: TransportSecurity? { nil }
    /// The kernel holds everything not read yet; readiness reports it.
    var hasBufferedInput: Bool { false }

    /// - Parameter descriptor: an accepted, non-blocking socket; owned from here on.
    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close() }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        SocketCalls.read(descriptor, into: buffer)
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult {
        SocketCalls.send(descriptor, bytes)
    }

    func shutdownWrite() -> TransportResult {
        if Glibc.shutdown(descriptor, Int32(SHUT_WR)) == 0 { return .transferred(0) }
        return .failed(.system(call: "shutdown", errno: errno))
    }

    func close() {
        guard descriptor >= 0 else { return }
        // The result is not actionable (the descriptor is released either way on Linux).
        if Glibc.close(descriptor) != 0 { /* EINTR/EIO: nothing to retry, see close(2) */ }
        descriptor = -1
    }
}
