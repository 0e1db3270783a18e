import GatewayTracing

/// What the gateway decided about one request: the access-log line and the metrics
/// come from this one value.
struct RequestRecord {
    enum Decision: String {
        /// Forwarded upstream.
        case allow
        /// Refused by policy (401/403/400/404...).
        case deny
        /// Refused by policy on a report-only route, and forwarded all the same (without
        /// identity headers and token); `reason` says why it would have been refused.
        case wouldDeny = "would_deny"
        /// Failed for another reason (malformed HTTP, upstream failure, timeout).
        case error
    }

    var requestID: String
    var client: String
    var method: String
    /// Path and query as sent. Redacted when logged (`LogRedaction.redact`): the values of
    /// `access_token`, `token`, `id_token`, `refresh_token` and `jwt` in the query, the
    /// fragment and path parameters, and anything shaped like a compact JWS.
    var target: String
    var status: Int
    var route: String?
    /// How the exchange ended: decides `decision` and `reason`.
    var outcome: Outcome
    var subject: String?
    var upstreamSeconds: Double?
    var totalSeconds: Double
    var bytesIn: UInt64
    var bytesOut: UInt64
    /// W3C trace context of the request (the access log's `trace_id`, the spans).
    var trace: RequestTrace? = nil
    /// Seconds from the request's start to the start of the upstream exchange.
    var upstreamStartOffset: Double? = nil
    /// The TLS protocol version ("TLSv1.3"); nil for plain HTTP.
    var tlsVersion: String? = nil
    /// Over TLS: whether the client presented a (verified) certificate; nil for plain HTTP.
    var clientCertificate: Bool? = nil

    var decision: Decision { outcome.decision }
    /// Stable reason label from a closed set: "ok", or a refusal / failure code.
    var reason: String { outcome.reasonCode }
}
