import GatewayHTTP

/// The outcome for one request head.
public enum Decision: Sendable {
    case forward(ForwardPlan)
    case refuse(Refusal, routeName: String?, requestID: String)
    /// The token names a `kid` the issuer's remote JWK Set lacks: ask the issuer's
    /// `IssuerKeyStore.refetchForUnknownKey`, then decide again with
    /// `RequestContext.mayRefetchKeys` false. Carries the issuer's name.
    case needsKeyRefresh(issuer: String)
    /// A CORS preflight the route's `cors` allows, answered by the gateway itself: `204 No
    /// Content` with these fields and no body (RFC 9110 §15.3.5), upstream not contacted.
    case preflight(fields: [HTTPField], routeName: String, requestID: String)
    /// The route asks for introspection and no answer about this token is cached: make
    /// (or join) the call, then decide again with `RequestContext.introspectionAnswer`.
    case needsIntrospection(IntrospectionCall)
}
