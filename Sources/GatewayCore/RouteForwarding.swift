import GatewayPolicy

/// What forwarding to one route's upstream needs, computed once per configuration instead
/// of on every request.
struct RouteForwarding: Sendable {
    /// The route's upstream, nil when the route names none that exists.
    var upstream: UpstreamConfig?
    /// `scheme://host:port` plus the upstream's base path (an IPv6 host in brackets, RFC 3986
    /// §3.2.2); empty without an upstream.
    var urlPrefix: String
    /// Under `strip_prefix` with a `path_prefix`: how many leading bytes of the normalised
    /// path to drop (the prefix without a trailing "/"); else nil.
    var strippedLength: Int?

    init(route: Route, upstream: UpstreamConfig?) {
        self.upstream = upstream
        if let upstream {
            let host = upstream.host.contains(":") ? "[\(upstream.host)]" : upstream.host
            urlPrefix = "\(upstream.scheme)://\(host):\(upstream.port)\(upstream.basePath)"
        } else {
            urlPrefix = ""
        }
        if route.stripPrefix, case .prefix(let prefix) = route.path {
            strippedLength = (prefix.hasSuffix("/") ? String(prefix.dropLast()) : prefix).utf8.count
        } else {
            strippedLength = nil
        }
    }
}
