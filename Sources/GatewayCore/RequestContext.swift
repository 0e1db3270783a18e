import GatewayEvents
import GatewayHTTP

/// Facts about one request that do not come from its head.
public struct RequestContext: Sendable {
    /// The client's IP address as text: the TCP peer, or behind a trusted proxy the address
    /// `ForwardedClient` found (for the access log).
    public var clientAddress: String
    /// "http" or "https": what the client used (for `X-Forwarded-Proto`).
    public var scheme: String
    /// Seconds since the Unix epoch (injected so expiry is testable).
    public var now: Double
    /// Generates a request id when the client sent none (or an invalid one).
    public var makeRequestID: @Sendable () -> String
    /// Whether an unknown `kid` from an issuer with `jwks_url` may answer
    /// `.needsKeyRefresh` (true on the first decision of a request, false once the
    /// caller has waited for the refetch: the request is then refused).
    public var mayRefetchKeys: Bool
    /// The introspection answer this request waited for (`Decision.needsIntrospection`),
    /// used when the issuer's cache does not hold one; nil on the first decision.
    public var introspectionAnswer: IntrospectionAnswer?
    /// What the connection's TLS handshake established (SNI, verified client certificate);
    /// nil for plain TCP.
    public var security: TransportSecurity?
    /// The TCP peer's address, appended to `X-Forwarded-For`; nil: `clientAddress`.
    public var peer: String?
    /// The TCP peer is in `listen.trusted_proxies`: its `X-Forwarded-Proto` and
    /// `X-Forwarded-Host` are kept.
    public var peerTrusted: Bool
    /// The W3C Trace Context fields the upstream gets in place of the client's
    /// `traceparent` and `tracestate` (appended last); nil: the client's are forwarded as
    /// they are.
    public var upstreamTraceFields: [HTTPField]?

    @inlinable
    public init(clientAddress: String, scheme: String = "http", now: Double, mayRefetchKeys: Bool = true,
                security: TransportSecurity? = nil, peer: String? = nil, peerTrusted: Bool = false,
                upstreamTraceFields: [HTTPField]? = nil, makeRequestID: @escaping @Sendable () -> String) {
        self.clientAddress = clientAddress
        self.scheme = scheme
        self.now = now
        self.mayRefetchKeys = mayRefetchKeys
        self.security = security
        self.peer = peer
        self.peerTrusted = peerTrusted
        self.upstreamTraceFields = upstreamTraceFields
        self.makeRequestID = makeRequestID
    }
}
