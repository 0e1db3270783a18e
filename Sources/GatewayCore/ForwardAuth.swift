import GatewayHTTP

/// Decisions for an ingress (nginx auth_request, Traefik ForwardAuth, Caddy forward_auth,
/// Envoy ext_authz; docs/forward-auth.md): the original request is rebuilt from the decision
/// request (`ForwardAuthRequest`) and decided by `RequestPipeline.decide`, the proxy
/// listener's decision, so normalisation, routing, token sources, verification and
/// authorization are the same code. Pure: no I/O.
public enum ForwardAuth {
    /// - Parameters:
    ///   - decision: the head the ingress sent.
    ///   - context: as for the proxy listener; `scheme` is the listener's own, replaced by
    ///     the ingress's `X-Forwarded-Proto` when sent.
    public static func decide(_ decision: HTTPRequestHead, context: RequestContext, runtime: GatewayRuntime)
        -> ForwardAuthAnswer
    {
        decide(ForwardAuthRequest.reconstruct(decision, defaultScheme: context.scheme), decision: decision,
               context: context, runtime: runtime)
    }

    /// The same, for a request already rebuilt by `ForwardAuthRequest.reconstruct` (the
    /// listener logs the original method and target).
    public static func decide(_ rebuilt: Result<ForwardAuthRequest, DenialReason>, decision: HTTPRequestHead,
                              context: RequestContext, runtime: GatewayRuntime) -> ForwardAuthAnswer
    {
        let original: ForwardAuthRequest
        switch rebuilt {
        case .failure(let reason):
            let requestID = RequestPipeline.requestIDFrom(decision) ?? context.makeRequestID()
            return .refuse(Refusal(reason), routeName: nil, requestID: requestID)
        case .success(let r): original = r
        }
        if let reason = nonNormalPathDenial(original.head.target) {
            let requestID = RequestPipeline.requestIDFrom(decision) ?? context.makeRequestID()
            return .refuse(Refusal(reason), routeName: nil, requestID: requestID)
        }
        var context = context
        context.scheme = original.scheme
        switch RequestPipeline.decide(original.head, context: context, runtime: runtime) {
        case .needsKeyRefresh(let issuer):
            return .needsKeyRefresh(issuer: issuer)
        case .needsIntrospection(let call):
            return .needsIntrospection(call)
        case .preflight(_, let route, let requestID):
            // A CORS preflight carries no credentials: allowed without identity fields, like a
            // public route (the ingress answers it or passes it on; docs/forward-auth.md).
            return .allow(fields: [], routeName: route, requestID: requestID, subject: nil, wouldDeny: nil)
        case .refuse(let refusal, let route, let requestID):
            return .refuse(refusal, routeName: route, requestID: requestID)
        case .forward(let plan):
            return .allow(fields: identityFields(of: plan, runtime: runtime), routeName: plan.routeName,
                          requestID: plan.requestID, subject: plan.subject, wouldDeny: plan.wouldDeny)
        }
    }

    /// The ingress passes the client's target to the app as it was sent, while routes match the
    /// normalised path: when the two differ (dot segments, repeated slashes, needless or
    /// lowercase percent-encoding), the app could route a path the decision never saw (a
    /// public `/api/%2e%2e/index.json` that the app reads as under `/api/`). Such a target is
    /// refused (400) instead of decided (docs/forward-auth.md). Targets the normaliser refuses
    /// are left to `decide`, which refuses them with their own reason.
    static func nonNormalPathDenial(_ target: String) -> DenialReason? {
        if RequestPipeline.alreadyNormalized(target) != nil { return nil }  // the common case, without the normaliser's work
        guard let normalized = try? PathNormalizer.normalize(target) else { return nil }
        let sentPath = target.utf8.prefix { $0 != UInt8(ascii: "?") }
        if normalized.path.utf8.elementsEqual(sentPath) { return nil }
        return .badPath("the original path is not in normal form; the app would get a different path than the one decided")
    }

    /// The identity fields of an allowed request's upstream fields. Every client field with an
    /// identity name (or a `strip_prefixes` prefix) was removed from them before the gateway
    /// added its own, so what matches here is the gateway's, never the client's.
    static func identityFields(of plan: ForwardPlan, runtime: GatewayRuntime) -> [HTTPField] {
        plan.fields.filter { runtime.isSpoofableIdentityHeader($0.name) }
    }
}
