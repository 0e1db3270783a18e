/// A tuple origin (RFC 6454 §4): scheme, host and port, as the `Origin` request field
/// serializes it (RFC 6454 §6.2, §7.1): `scheme "://" host [ ":" port ]`.
///
/// Comparison (RFC 6454 §5): scheme and host are ASCII case-insensitive (both are stored
/// lowercased); the port is significant, with the scheme's default port (80 for http, 443 for
/// https) equal to the port left out. Only `http` and `https` origins are built here: they are
/// the only ones a browser sends for the requests a gateway sees. The opaque origin `null`
/// is not an `Origin` value at all (`parse` returns nil), so it never equals anything.
public struct Origin: Sendable, Hashable, CustomStringConvertible {
    /// "http" or "https".
    public let scheme: String
    /// Lowercased host name, IPv4 address, or IPv6 literal in brackets (`[::1]`).
    public let host: String
    /// The effective port: the explicit one, else the scheme's default.
    public let port: UInt16

    /// - Returns: nil when the scheme is not http/https, the host is empty or not a valid
    ///   host (`HTTPSyntax.isValidHostValue`), or `port` is 0.
    public init?(scheme: String, host: String, port: UInt16? = nil) {
        let scheme = HTTPSyntax.asciiLowercased(scheme)
        guard let defaultPort = Origin.defaultPort(scheme) else { return nil }
        let host = HTTPSyntax.asciiLowercased(host)
        guard !host.isEmpty, !host.utf8.contains(0x3A) || host.hasPrefix("["),
              HTTPSyntax.isValidHostValue(host.utf8) else { return nil }
        let port = port ?? defaultPort
        guard port != 0 else { return nil }
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// The gateway's own origin for a request: `scheme` (the listener's: "https" on a TLS
    /// listener) with the request's `Host` value (`host[:port]`).
    /// - Returns: nil when `hostField` is not a valid Host value or is empty.
    public init?(scheme: String, hostField: String) {
        guard !hostField.isEmpty, HTTPSyntax.isValidHostValue(hostField.utf8),
              let (host, port) = Origin.splitHostPort(Substring(hostField)) else { return nil }
        self.init(scheme: scheme, host: String(host), port: port)
    }

    /// 80 for http, 443 for https, nil for any other scheme.
    public static func defaultPort(_ scheme: String) -> UInt16? {
        switch scheme {
        case "http": 80
        case "https": 443
        default: nil
        }
    }

    /// Parses one serialized origin, as sent in `Origin` or written in config:
    /// `http[s]://host[:port]`, nothing after the authority (no path, not even `/`), no
    /// userinfo, no surrounding whitespace.
    /// - Returns: nil for `null`, an origin-list of several origins, any other scheme, or any
    ///   deviation from that shape.
    public static func parse(_ text: String) -> Origin? {
        guard let sep = text.firstRange(of: "://") else { return nil }
        let scheme = text[..<sep.lowerBound]
        let authority = text[sep.upperBound...]
        guard !scheme.isEmpty, scheme.utf8.allSatisfy({ HTTPSyntax.isTokenChar($0) }),
              !authority.isEmpty, HTTPSyntax.isValidHostValue(authority.utf8),
              let (host, port) = splitHostPort(authority) else { return nil }
        return Origin(scheme: String(scheme), host: String(host), port: port)
    }

    /// `host[:port]` (host possibly a bracketed IPv6 literal) → host and port (nil when absent).
    /// nil for an empty port (`host:`) or one out of range.
    static func splitHostPort(_ authority: Substring) -> (Substring, UInt16?)? {
        let hostEnd: Substring.Index
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostEnd = authority.index(after: close)
        } else {
            hostEnd = authority.firstIndex(of: ":") ?? authority.endIndex
        }
        let host = authority[..<hostEnd]
        let rest = authority[hostEnd...]
        guard !rest.isEmpty else { return (host, nil) }
        guard rest.first == ":", let port = UInt16(rest.dropFirst()), !rest.dropFirst().hasPrefix("+") else { return nil }
        return (host, port)
    }

    /// RFC 6454 §6.2: the port is written only when it is not the scheme's default.
    public var description: String {
        port == Origin.defaultPort(scheme) ? "\(scheme)://\(host)" : "\(scheme)://\(host):\(port)"
    }
}
