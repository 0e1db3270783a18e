/// A protected route's `auth.mode`: whether a refusal is enforced or only reported.
public enum AuthMode: String, Sendable, Equatable, CaseIterable {
    /// Refusals are answered (401/403/503) and never reach the upstream. The default.
    case enforce
    /// Rollout mode: every request is decided as under `enforce`, but a refusal of the
    /// credential (no token, invalid token, missing scope/role/claim, issuer without keys)
    /// is forwarded anyway — without identity headers and without the token — and logged and
    /// counted as `would_deny`. Malformed requests (400, 404, 405, 413, 431…) are still
    /// refused. See docs in README "Report-only rollout".
    case reportOnly = "report_only"
}
