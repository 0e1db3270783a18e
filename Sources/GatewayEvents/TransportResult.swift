/// What a non-blocking transport operation did, or needs before it can make progress.
///
/// TLS may need the *other* direction (a read that must first write handshake bytes, or a
/// write that must first read), so a connection's poller interest is the union of what the
/// connection wants and what the transport last asked for in `.wouldBlock`.
public enum TransportResult: Equatable, Sendable {
    /// n > 0 bytes read or written.
    case transferred(Int)
    /// Retry when the descriptor is `.readable` and/or `.writable`.
    case wouldBlock(Readiness)
    /// Orderly end of input from the peer (reads only).
    case endOfInput
    /// The connection is unusable: close it.
    case failed(TransportError)
}
