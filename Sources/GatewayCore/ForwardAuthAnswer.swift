import GatewayHTTP

/// The decision listener's answer about one original request (docs/forward-auth.md).
public enum ForwardAuthAnswer: Sendable {
    /// 200 with an empty body and `fields` (the identity headers the upstream would have
    /// received: subject, issuer, scopes, configured claim headers), which the ingress copies
    /// upstream. `subject` is the token's `sub` (nil on a public route); `wouldDeny` is the
    /// refusal a report-only route let through (as on the proxy listener).
    case allow(fields: [HTTPField], routeName: String, requestID: String, subject: String?, wouldDeny: DenialReason?)
    /// The refusal the proxy listener would send for the same request.
    case refuse(Refusal, routeName: String?, requestID: String)
    /// As `Decision.needsKeyRefresh`: refetch the issuer's JWK Set, then decide again.
    case needsKeyRefresh(issuer: String)
    /// As `Decision.needsIntrospection`: wait for the introspection answer, then decide again.
    case needsIntrospection(IntrospectionCall)
}
