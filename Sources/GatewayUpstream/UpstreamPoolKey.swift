/// Which connections can carry a request: the same scheme and authority (as written in
/// the URL) and the same TLS files. A pooled connection is only reused for an equal key.
struct UpstreamPoolKey: Hashable, Sendable {
    /// "http://host:port" or "https://host:port", as the URL names them.
    var origin: String
    /// The scheme is https.
    var isTLS: Bool
    var tls: UpstreamTLSOptions?
}
