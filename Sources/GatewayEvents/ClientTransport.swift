/// One client connection's byte stream: a plain socket, or TLS over it.
///
/// Owns the descriptor: closes it exactly once, in `close()` or at deinit. Lives on one
/// loop queue; not thread-safe.
public protocol ClientTransport: AnyObject {
    /// The descriptor, for poller registration only (never read or written directly).
    var descriptor: Int32 { get }
    /// Reads at most `buffer.count` bytes.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult
    /// Whether bytes were already taken off the socket and wait to be read (TLS records
    /// read ahead): the socket's readiness will not report them, so the reader reads on.
    var hasBufferedInput: Bool { get }
    /// Writes a prefix of `bytes` (`.transferred(n)`, n ≤ count).
    func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult
    /// Half-close after a final response (TLS: close_notify, then shutdown(SHUT_WR)).
    func shutdownWrite() -> TransportResult
    /// Releases the descriptor (idempotent).
    func close()
    /// Facts a decision may need once a TLS handshake is done; nil for plain TCP.
    var security: TransportSecurity? { get }
}
