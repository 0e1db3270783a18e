import GatewayHTTP
import GatewayPolicy

/// An allowed request: where it goes and exactly what is sent.
public struct ForwardPlan: Sendable {
    public var routeName: String
    public var upstream: UpstreamConfig
    public var method: String
    /// Absolute upstream URL (normalised path, query as sent).
    public var url: String
    /// Header fields for the upstream, in order: cleaned client fields, then the gateway's.
    public var fields: [HTTPField]
    public var requestID: String
    /// `sub` of the verified token; nil on public routes.
    public var subject: String?
    /// The route's `cors`: the response's `Access-Control-*` fields are the gateway's.
    public var cors: CORSConfig? = nil
    /// Set on a report-only route (`auth.mode: report_only`) when the request was refused
    /// (`ReportOnlyRollout`): it is forwarded all the same, without identity headers and
    /// without the token, and logged and counted as `would_deny` with this reason.
    public var wouldDeny: DenialReason? = nil
}
