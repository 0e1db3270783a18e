import GatewayHTTP

/// Where a protected route looks for the token (`auth.token_from`).
public enum TokenSource: Sendable, Equatable, CustomStringConvertible {
    /// `Authorization: Bearer <token>` (RFC 6750 §2.1).
    case authorization
    /// The value of the cookie with this name (case-sensitive, RFC 6265 §5.4).
    case cookie(String)
    /// The whole value of the field with this name (compared ASCII case-insensitively).
    case header(String)

    /// As written in config: `authorization`, `cookie: NAME`, `header: NAME`.
    public var description: String {
        switch self {
        case .authorization: "authorization"
        case .cookie(let name): "cookie: \(name)"
        case .header(let name): "header: \(name)"
        }
    }
}
