import GatewayPolicy

/// Which refusals a report-only route (`auth.mode: report_only`) forwards instead of answering.
///
/// Only refusals of the credential: the request itself is well-formed and routed, and
/// what the route would refuse is the token (absent, invalid, lacking a scope/role/claim) or
/// the fact that its issuer's keys are not there yet. Those requests go upstream as the route
/// saw them before it was protected: without identity headers and without the token.
///
/// Everything else is answered as under `enforce`, because it is not a policy decision but a
/// malformed or unroutable request that no upstream should see: bad paths and methods (400,
/// 405), no route (404), and `invalid_request` (400: several `Authorization` fields or broken
/// Bearer syntax, RFC 6750 §3.1), which is a framing problem of the request, not a verdict on
/// a token. Oversized heads and bodies (431, 413) never get this far. Rationale and the rollout
/// recipe: README "Report-only rollout".
enum ReportOnlyRollout {
    /// Whether a report-only route forwards a request refused for `reason` (as `would_deny`).
    static func forwards(_ reason: DenialReason) -> Bool {
        // Exhaustive on purpose: a new refusal must be classified here, not fall into either side.
        switch reason {
        // `loginRequired` is the browser form of `missingToken` (a navigation without a token).
        case .missingToken, .invalidToken, .revoked, .insufficientScope, .keysUnavailable, .loginRequired:
            return true
        // Not about the credential: the request's shape, route, or origin (the CSRF guard and
        // CORS preflights protect the browser, whatever the token).
        case .badPath, .noRoute, .badMethod, .methodNotAllowed, .contentNotAllowed, .invalidRequest,
             .crossSiteRequest, .corsPreflightRefused:
            return false
        }
    }

    /// The reason to report instead of refusing, or nil when `reason` must be refused on a
    /// route with `requirements`.
    static func reported(_ reason: DenialReason, requirements: AuthRequirements) -> DenialReason? {
        requirements.mode == .reportOnly && forwards(reason) ? reason : nil
    }
}
