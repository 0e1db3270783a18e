/// What the spans of one finished request are made of: copied from the access-log record
/// on the event loop, encoded later on the exporter's queue.
///
/// Holds no token, no header value and no claim other than `sub`.
public struct FinishedExchange: Sendable {
    public var trace: RequestTrace
    public var method: String
    /// Path and query with `access_token` / `token` query values already redacted.
    public var target: String
    public var status: Int
    /// Route name; nil when no route matched.
    public var route: String?
    /// `allow`, `deny` or `error`.
    public var decision: String
    /// `ok` or the refusal / failure code.
    public var reason: String
    /// `sub` of the verified token.
    public var subject: String?
    public var requestID: String
    public var clientAddress: String
    /// Unix time, nanoseconds.
    public var startNanos: UInt64
    public var endNanos: UInt64
    /// The upstream exchange (the client span), Unix nanoseconds; nil when none was started.
    public var upstreamStartNanos: UInt64?
    public var upstreamEndNanos: UInt64?

    public init(trace: RequestTrace, method: String, target: String, status: Int, route: String?, decision: String,
                reason: String, subject: String?, requestID: String, clientAddress: String, startNanos: UInt64,
                endNanos: UInt64, upstreamStartNanos: UInt64?, upstreamEndNanos: UInt64?) {
        self.trace = trace
        self.method = method
        self.target = target
        self.status = status
        self.route = route
        self.decision = decision
        self.reason = reason
        self.subject = subject
        self.requestID = requestID
        self.clientAddress = clientAddress
        self.startNanos = startNanos
        self.endNanos = endNanos
        self.upstreamStartNanos = upstreamStartNanos
        self.upstreamEndNanos = upstreamEndNanos
    }

    /// Spans this exchange becomes: the server span, plus the client span when the
    /// request went upstream.
    public var spanCount: Int { upstreamStartNanos == nil ? 1 : 2 }
}
