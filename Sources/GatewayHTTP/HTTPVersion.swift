/// HTTP protocol version of a request (RFC 9112 §2.3). Only 1.0 and 1.1 are served.
public enum HTTPVersion: Sendable, Equatable {
    case http10
    case http11

    /// The protocol-version text as written on the wire: "HTTP/1.0" or "HTTP/1.1".
    public var text: String {
        switch self {
        case .http10: "HTTP/1.0"
        case .http11: "HTTP/1.1"
        }
    }
}
