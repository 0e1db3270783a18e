import GatewayHTTP
import GatewayJOSE
import GatewayPolicy

/// The decision for one request: pure, no I/O (docs/request-handling.md, docs/architecture.md).
///
/// Stages, split the way Envoy's jwt_authn filter splits them, one function each:
/// 1. `routing` — the request-target reduced to origin-form and normalised, the method
///    checked, a CORS preflight answered here, the first matching route;
/// 2. `routeCredentials` (token extraction) — the token from the route's sources, with the
///    cross-site guard and the login redirect;
/// 3. `authenticate` — the issuer chosen by `iss`, signature and claims (or a verified-token
///    cache hit: its time checks only), `require_sub`, revocation, introspection;
/// 4. `authorize` — scopes, roles and claims;
/// 5. identity headers — after the RFC 8705 certificate binding (`admit` puts 2–5 together,
///    with `auth.mode: report_only`);
/// 6. `upstreamRequest` — the fields and URL sent upstream.
///
/// `decide(_:context:runtime:trace:)` records every check in a `DecisionTrace` (`gateway
/// explain` prints it): one code path for serving and explaining.
public enum RequestPipeline {
    public static func decide(_ head: HTTPRequestHead, context: RequestContext, runtime: GatewayRuntime) -> Decision {
        var trace: DecisionTrace?
        return decide(head, context: context, runtime: runtime, trace: &trace)
    }

    /// `decide`, recording each check in `trace` when it is not nil.
    public static func decide(_ head: HTTPRequestHead, context: RequestContext, runtime: GatewayRuntime,
                              trace: inout DecisionTrace?) -> Decision {
        let requestID = requestIDFrom(head) ?? context.makeRequestID()
        let routed: Routed
        switch routing(head, runtime: runtime, requestID: requestID, trace: &trace) {
        case .decided(let decision): return decision
        case .routed(let r): routed = r
        }
        var admission = Admission()
        if case .required(let req) = runtime.routeTable.routes[routed.index].auth {
            if let decision = admit(head, requirements: req, routed: routed, context: context, runtime: runtime,
                                    requestID: requestID, into: &admission, trace: &trace) {
                return decision
            }
        } else {
            trace.record("auth", true, "public route: no token needed")
        }
        return .forward(upstreamRequest(head, routed: routed, admission: admission, context: context, runtime: runtime,
                                        requestID: requestID))
    }

    /// What the credential stages (2–5) found for an admitted request.
    struct Admission {
        /// Identity header fields for the upstream.
        var identity: [HTTPField] = []
        /// `sub` of the verified token.
        var subject: String?
        /// `Authorization` goes upstream (`forward_token` and it held the token).
        var forwardToken = false
        /// Removals of the token's source (nil: the default `[authorization]`).
        var tokenEdits: [TokenFieldEdit]?
        /// A report-only route's refusal, forwarded without the credential.
        var wouldDeny: DenialReason?
    }

    /// Stages 2–5 on a protected route: the decision when the request stops here (refused,
    /// or waiting for keys or introspection), nil when it is forwarded with `admission`.
    static func admit(_ head: HTTPRequestHead, requirements req: AuthRequirements, routed: Routed,
                      context: RequestContext, runtime: GatewayRuntime, requestID: String,
                      into admission: inout Admission, trace: inout DecisionTrace?) -> Decision? {
        // Refused, or (report-only) remembered and forwarded without the credential.
        func refusing(_ denial: DenialReason) -> Decision? {
            admission.wouldDeny = ReportOnlyRollout.reported(denial, requirements: req)
            guard admission.wouldDeny == nil else { return nil }
            return .refuse(Refusal(denial), routeName: runtime.routeTable.routes[routed.index].name, requestID: requestID)
        }
        if req.clientCertificate {
            if let denial = clientCertificateDenial(req, context: context) {
                trace.record("client certificate", false, denial.errorDescription)
                if let refused = refusing(denial) { return refused }
                // Reported, not refused: forwarded without the token, whatever `forward_token` says.
                admission.tokenEdits = sourceRemovals(head, requirements: req)
                return nil
            }
            trace.record("client certificate", true, "the connection has a verified client certificate")
        }
        guard !req.issuers.isEmpty else {
            trace.record("auth", true, "no token needed: the client certificate is the credential")
            return nil
        }
        let token: Substring
        var forwardAuthorization = false
        switch routeCredentials(head, requirements: req, target: routed.originTarget, scheme: context.scheme) {
        case .refused(let reason):
            if trace.isTracing { traceCredentialRefusal(reason, head: head, requirements: req, trace: &trace) }
            return refusing(reason)
        case .token(let t, let source, let edits, let forwardAuth):
            trace.record("token", true, "from \(source), \(t.utf8.count) bytes")
            token = t
            admission.tokenEdits = edits
            forwardAuthorization = forwardAuth
        }
        switch authenticate(token: token, requirements: req, runtime: runtime, now: context.now,
                            mayRefetchKeys: context.mayRefetchKeys, introspectionAnswer: context.introspectionAnswer,
                            trace: &trace) {
        case .needsKeys(let issuer):
            return .needsKeyRefresh(issuer: issuer)
        case .needsIntrospection(let call):
            return .needsIntrospection(call)
        case .failure(let reason):
            if let refused = refusing(reason) { return refused }
        case .success(let verified):
            // On every request, verified-token cache hits included: the binding is to the
            // connection, not to the token.
            if let denial = certificateBindingDenial(verified.facts.binding, context: context, trace: &trace) {
                if let refused = refusing(denial) { return refused }
                break
            }
            switch verified.facts.identity {
            case .failure(let reason):
                trace.record("identity", false, reason.errorDescription)
                if let refused = refusing(reason) { return refused }
            case .success(let fields):
                admission.identity = fields
                admission.subject = verified.facts.subject
                admission.forwardToken = forwardAuthorization
            }
        }
        // Reported, not refused: forwarded without the token, whatever `forward_token` says.
        if admission.wouldDeny != nil { admission.tokenEdits = sourceRemovals(head, requirements: req) }
        return nil
    }

    /// The trace step of a refused token extraction.
    static func traceCredentialRefusal(_ reason: DenialReason, head: HTTPRequestHead, requirements req: AuthRequirements,
                                       trace: inout DecisionTrace?) {
        let sources = req.browser.tokenFrom.map(\.description).joined(separator: ", ")
        switch reason {
        case .missingToken:
            trace.record("token", false, "no token in any source (\(sources))")
        case .loginRequired(let location):
            trace.record("token", false, "no token in any source (\(sources)); a browser navigation is redirected to \(location)")
        case .crossSiteRequest:
            trace.record("csrf", false, "token from a cookie on \(head.method) without an Origin of this gateway or csrf_origins,"
                         + " nor Sec-Fetch-Site: same-origin")
        default:
            trace.record("token", false, reason.errorDescription)
        }
    }

    /// Stage 6: the request sent upstream.
    static func upstreamRequest(_ head: HTTPRequestHead, routed: Routed, admission: Admission, context: RequestContext,
                                runtime: GatewayRuntime, requestID: String) -> ForwardPlan {
        // X-Forwarded-For/-Proto/-Host, X-Request-Id, identity, client certificate and trace fields.
        let trace = context.upstreamTraceFields
        let extra = 4 + admission.identity.count + 2 + (trace?.count ?? 0)
        var fields = upstreamFields(head, edits: admission.tokenEdits, runtime: runtime, forwardToken: admission.forwardToken,
                                    extraCapacity: extra, dropTraceContext: trace != nil)
        appendForwarded(&fields, head: head, host: routed.host, context: context, requestID: requestID)
        fields.append(contentsOf: admission.identity)
        if context.security?.clientCertificate != nil { fields.append(contentsOf: clientCertificateFields(context)) }
        if let trace { fields.append(contentsOf: trace) }
        let routes = runtime.routeTable.routes
        let url = upstreamURL(routed, runtime: runtime)
        return ForwardPlan(routeName: routes[routed.index].name, upstream: routed.upstream, method: head.method, url: url,
                           fields: fields, requestID: requestID, subject: admission.subject, cors: routes[routed.index].cors,
                           wouldDeny: admission.wouldDeny)
    }

    /// Why `method` is never routed, or nil. Methods are case-sensitive (RFC 9110 §9.1), but
    /// many upstream frameworks uppercase them: `get` must not slip past a route restricted
    /// to GET (400). TRACE would echo the request, identity headers included, back to the
    /// client, and CONNECT asks for a tunnel (405).
    public static func methodRefusal(_ method: String) -> DenialReason? {
        if method.utf8.contains(where: { $0 >= 0x61 && $0 <= 0x7A }) { return .badMethod("method must be uppercase") }
        // TRACK is IIS's TRACE.
        if method == "TRACE" || method == "TRACK" || method == "CONNECT" { return .methodNotAllowed }
        return nil
    }

    /// 400 for a GET or HEAD request with content (a non-zero `Content-Length` or a
    /// `Transfer-Encoding`) unless the route sets `allow_body_on_get`: content on these
    /// methods has no defined meaning (RFC 9110 §9.3.1), and an upstream that ignores it
    /// would read the body as the next request (a CL.0 desync).
    static func contentRefusal(_ head: HTTPRequestHead, allowBodyOnGet: Bool) -> DenialReason? {
        guard head.framing != .none, !allowBodyOnGet, head.method == "GET" || head.method == "HEAD" else { return nil }
        switch head.framing {
        case .none: return nil
        case .contentLength(let n): return n > 0 ? .contentNotAllowed : nil
        case .chunked: return .contentNotAllowed
        }
    }
}

extension JSONValue {
    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}
