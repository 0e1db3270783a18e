import GatewayHTTP
import GatewayPolicy

// Browser clients in `RequestPipeline.decide` (docs/browser-apps.md): the token from the
// route's `token_from` sources, the cross-site request guard, the login redirect, and CORS
// preflights answered by the gateway itself.
extension RequestPipeline {
    /// What a protected route's request carries, once its sources were read.
    enum RouteCredentials {
        /// Exactly one token, from `source`. `edits` (nil on a route with the default
        /// `[authorization]`) say what to remove before forwarding; `forwardAuthorization`:
        /// the `Authorization` field goes upstream (`forward_token` and it was the source).
        case token(Substring, source: TokenSource, edits: [TokenFieldEdit]?, forwardAuthorization: Bool)
        /// No token, two tokens, a malformed source, a cross-site request: the refusal.
        case refused(DenialReason)
    }

    /// Reads the token from the route's sources. With the default `[authorization]` this is
    /// exactly the Bearer extraction (no field edits: `forward_token` decides about
    /// `Authorization` as before). With other sources `TokenExtraction` applies the
    /// exactly-one-token rule (RFC 6750 §2). A token from a cookie on an unsafe method then
    /// passes `CrossSiteGuard` first: a cross-site request never reaches verification. No
    /// token at all: `LoginRedirect` for a browser navigation when `login_url` is set,
    /// else `missingToken`.
    /// - Parameters:
    ///   - target: the request-target in origin-form, as sent (for the login redirect).
    ///   - scheme: the listener's scheme, "http" or "https" (the gateway's own origin).
    static func routeCredentials(_ head: HTTPRequestHead, requirements req: AuthRequirements, target: String,
                                 scheme: String) -> RouteCredentials {
        let browser = req.browser
        func noToken() -> RouteCredentials {
            .refused(LoginRedirect.decide(method: head.method, target: target, fields: head.fields, scheme: scheme,
                                          loginURL: browser.loginURL) ?? .missingToken)
        }
        if browser.tokenFrom == [.authorization] {
            switch extractBearer(head) {
            case .none: return noToken()
            case .invalid(let why): return .refused(.invalidRequest(why))
            case .bearer(let t): return .token(t, source: .authorization, edits: nil, forwardAuthorization: req.forwardToken)
            }
        }
        switch TokenExtraction.extract(head, sources: browser.tokenFrom, forwardToken: req.forwardToken) {
        case .none: return noToken()
        case .invalid(let why): return .refused(.invalidRequest(why))
        case .token(let t, let source, let edits):
            if let denial = CrossSiteGuard.check(method: head.method, fields: head.fields, source: source,
                                                 listenerIsTLS: scheme == "https", allowedOrigins: browser.csrfOrigins) {
                return .refused(denial)
            }
            return .token(t, source: source, edits: edits, forwardAuthorization: req.forwardToken && source == .authorization)
        }
    }

    /// The edits that remove the token's source whatever `forward_token` says (a report-only
    /// route forwards a request it would refuse without the token), or nil on a route with
    /// the default `[authorization]` (`upstreamFields` then removes `Authorization`).
    static func sourceRemovals(_ head: HTTPRequestHead, requirements req: AuthRequirements) -> [TokenFieldEdit]? {
        guard req.browser.tokenFrom != [.authorization],
              case .token(_, _, let edits) = TokenExtraction.extract(head, sources: req.browser.tokenFrom, forwardToken: false)
        else { return nil }
        return edits
    }

    /// `upstreamFields` of the request with the token's source removed first (`edits` from
    /// `routeCredentials`; nil: the fields as received).
    static func upstreamFields(_ head: HTTPRequestHead, edits: [TokenFieldEdit]?, runtime: GatewayRuntime,
                               forwardToken: Bool, extraCapacity: Int = 8, dropTraceContext: Bool = false) -> [HTTPField] {
        guard let edits, !edits.isEmpty else {
            return upstreamFields(head, runtime: runtime, forwardToken: forwardToken, extraCapacity: extraCapacity,
                                  dropTraceContext: dropTraceContext)
        }
        var edited = head
        edited.fields = TokenFieldEdit.apply(edits, to: head.fields)
        return upstreamFields(edited, runtime: runtime, forwardToken: forwardToken, extraCapacity: extraCapacity,
                              dropTraceContext: dropTraceContext)
    }

    /// The gateway's answer to a CORS preflight (`OPTIONS` with `Origin` and
    /// `Access-Control-Request-Method`), or nil when the request is not one or its route has
    /// no `cors` (then `OPTIONS` is routed like any method).
    ///
    /// The route is the one that will serve the actual request: matched with the requested
    /// method; when none matches, with `OPTIONS` (so a route restricted to other methods
    /// still refuses the preflight with `403` rather than letting it through). Allowed:
    /// `.preflight` (204, `Access-Control-Allow-*`); not allowed: `403` without them. No
    /// token is read and nothing reaches the upstream either way.
    static func preflightDecision(_ head: HTTPRequestHead, host: String?, path: String, runtime: GatewayRuntime,
                                  requestID: String) -> Decision? {
        guard head.method == "OPTIONS", CORSPolicy.isPreflight(method: head.method, fields: head.fields) else { return nil }
        let table = runtime.routeTable
        let requested = head.values("access-control-request-method")
        var index: Int?
        if requested.count == 1, methodRefusal(requested[0]) == nil {
            index = table.match(host: host, path: path, method: requested[0])
        }
        if index == nil { index = table.match(host: host, path: path, method: head.method) }
        guard let index, let cors = table.routes[index].cors else { return nil }
        let route = table.routes[index]
        switch CORSPolicy.evaluatePreflight(fields: head.fields, cors: cors) {
        case .allowed(let fields):
            return .preflight(fields: fields, routeName: route.name, requestID: requestID)
        case .refused(let reason):
            return .refuse(Refusal(reason), routeName: route.name, requestID: requestID)
        }
    }

    /// The `cors` of the route named `name` (for the gateway's own responses on that route),
    /// or nil.
    public static func cors(ofRoute name: String?, runtime: GatewayRuntime) -> CORSConfig? {
        guard let name else { return nil }
        return runtime.routeTable.routes.first { $0.name == name }?.cors
    }
}
