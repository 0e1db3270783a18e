import GatewayHTTP
import GatewayJOSE
import GatewayPolicy

/// One step of a request decision, for `gateway explain`.
public struct ExplainStep: Sendable, Equatable {
    /// Short name of the check ("path", "route", "token", "issuer", "verify", "scopes"...).
    public var check: String
    public var passed: Bool
    /// Why, in words (never the token itself).
    public var detail: String
}

/// A dry run of `RequestPipeline.decide` that records each check (`gateway explain`, README command table).
/// The decision itself comes from `RequestPipeline.decide`, so the explanation can never
/// disagree with what the gateway would do.
public enum DecisionExplainer {
    public static func explain(_ head: HTTPRequestHead, context: RequestContext, runtime: GatewayRuntime)
        -> (steps: [ExplainStep], decision: Decision)
    {
        var decision = RequestPipeline.decide(head, context: context, runtime: runtime)
        var steps: [ExplainStep] = []
        func step(_ check: String, _ passed: Bool, _ detail: String) {
            steps.append(ExplainStep(check: check, passed: passed, detail: detail))
        }
        // The method checks come first in `decide` too.
        switch RequestPipeline.methodRefusal(head.method) {
        case .badMethod?:
            step("method", false, "\(head.method): methods must be uppercase (a lowercase one could slip past a route's methods)")
            return (steps, decision)
        case .some:
            step("method", false, "\(head.method) is never forwarded")
            return (steps, decision)
        case nil:
            break
        }
        let target: NormalizedTarget
        do {
            target = try PathNormalizer.normalize(head.target)
            step("path", true, "normalised to \(target.path)")
        } catch {
            guard case .invalid(let why) = error else { return (steps, decision) }
            step("path", false, "refused: \(why)")
            return (steps, decision)
        }
        switch decision {
        case .preflight(_, let route, _):
            step("cors", true, "preflight for route \(route) answered by the gateway (204): no token needed, upstream not contacted")
            return (steps, decision)
        case .refuse(let r, let route?, _):
            if case .corsPreflightRefused(let why) = r.reason {
                step("cors", false, "preflight refused on route \(route): \(why)")
                return (steps, decision)
            }
        default: break
        }
        let host = head.values("host").first
        guard let index = runtime.routeTable.match(host: host, path: target.path, method: head.method) else {
            step("route", false, "no route matches \(head.method) \(host ?? "-") \(target.path)")
            return (steps, decision)
        }
        let route = runtime.routeTable.routes[index]
        step("route", true, "\(route.name) (upstream \(route.upstream))")
        guard case .required(let req) = route.auth else {
            step("auth", true, "public route: no token needed")
            return (steps, decision)
        }
        let token: Substring
        let sources = req.browser.tokenFrom.map(\.description).joined(separator: ", ")
        switch RequestPipeline.routeCredentials(head, requirements: req, target: head.target, scheme: context.scheme) {
        case .refused(.missingToken):
            step("token", false, "no token in any source (\(sources))")
            return (steps, decision)
        case .refused(.loginRequired(let location)):
            step("token", false, "no token in any source (\(sources)); a browser navigation is redirected to \(location)")
            return (steps, decision)
        case .refused(.crossSiteRequest):
            step("csrf", false, "token from a cookie on \(head.method) without an Origin of this gateway or csrf_origins,"
                 + " nor Sec-Fetch-Site: same-origin")
            return (steps, decision)
        case .refused(let reason):
            step("token", false, reason.errorDescription)
            return (steps, decision)
        case .token(let t, let source, _, _):
            step("token", true, "from \(source), \(t.utf8.count) bytes")
            token = t
        }
        let claimed: String?
        do { claimed = try TokenVerifier.unverifiedIssuer(token) } catch {
            step("issuer", false, error.description)
            return (steps, decision)
        }
        guard let issuer = req.issuers.compactMap({ runtime.issuers[$0] }).first(where: { claimed.map($0.config.issuer.exactlyEquals) == true }) else {
            step("issuer", false, "iss \(claimed.map { "\"\($0)\"" } ?? "(absent)") is none of: \(req.issuers.joined(separator: ", "))")
            return (steps, decision)
        }
        step("issuer", true, "\(issuer.config.name) (\(issuer.config.issuer))")
        let verified: VerifiedToken
        do {
            verified = try TokenVerifier.verify(token, keys: issuer.keys, requirements: issuer.requirements, now: context.now)
            step("verify", true, "\(verified.algorithm.rawValue) signature, exp/nbf/iat, iss, aud all valid")
        } catch {
            step("verify", false, "\(error.description) (\(error.reasonCode))")
            return (steps, decision)
        }
        if let denial = RequestPipeline.subjectDenial(verified, issuer: issuer) {
            step("subject", false, denial.errorDescription + " (require_sub)")
            return (steps, decision)
        }
        if let store = runtime.revocation {
            let list = store.list
            let revoked = list.isRevoked(verified, iss: issuer.config.issuer)
            step("revocation", !revoked, revoked ? "token revoked: its jti, or its subject before a cut-off, is listed"
                 : "not listed (\(list.count) entries)")
            if revoked { return (steps, decision) }
        }
        if req.introspect {
            guard let introspection = issuer.introspection else {
                step("introspection", false, "issuer \(issuer.config.name) has no introspection endpoint")
                return (steps, decision)
            }
            // No call is made: explain never sends the token anywhere. The checks after this
            // one, and the decision, are shown as if the endpoint answered `active: true`.
            step("introspection", true, "would POST the token to \(introspection.config.url) (client_id "
                 + "\(introspection.config.clientID)), not called by explain; the rest assumes \"active\": true "
                 + "(false: 401 token inactive; no answer: 503)")
            if case .needsIntrospection = decision {
                var assumed = context
                assumed.introspectionAnswer = .active(exp: nil)
                decision = RequestPipeline.decide(head, context: assumed, runtime: runtime)
            }
        }
        let granted = RequestPipeline.scopes(of: verified, issuer: issuer.config)
        if !req.scopes.isEmpty || !req.anyScopes.isEmpty {
            let missing = req.scopes.filter { !granted.containsExactly($0) }
            let anyOK = req.anyScopes.isEmpty || req.anyScopes.contains(where: granted.containsExactly)
            step("scopes", missing.isEmpty && anyOK,
                 "granted [\(granted.joined(separator: " "))]; required all of [\(req.scopes.joined(separator: " "))]"
                 + (req.anyScopes.isEmpty ? "" : ", any of [\(req.anyScopes.joined(separator: " "))]"))
        }
        if !req.roles.isEmpty || !req.claims.isEmpty {
            let denial = RequestPipeline.authorize(verified, issuer: issuer, requirements: req)
            step("roles/claims", denial == nil, denial.map { "\($0.errorDescription)" } ?? "all required roles and claims present")
        }
        if case .refuse(let r, _, _) = decision, case .invalidToken(.unsafeClaim) = r.reason {
            step("identity", false, r.reason.errorDescription)
        }
        return (steps, decision)
    }
}
