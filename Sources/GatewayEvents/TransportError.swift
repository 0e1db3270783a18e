/// Why a transport operation failed: the errno of a socket call, or a TLS library's reason
/// string (never key material).
public enum TransportError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A socket call failed with this errno (ECONNRESET, EPIPE, ...).
    case system(call: String, errno: Int32)
    /// The TLS layer refused the peer or failed (reason text from the TLS library).
    case tls(String)

    public var description: String {
        switch self {
        case .system(let call, let errno): return "\(call): errno \(errno)"
        case .tls(let reason): return "tls: \(reason)"
        }
    }
}
