import GatewayJOSE

extension RequestPipeline {
    /// The RFC 7662 step of a route with `introspect: true`, after the signature, the claims
    /// and the revocation list, before scopes (an inactive token is 401, never 403): nil when
    /// the token is active. Runs on every request, verified-token cache hits included.
    ///
    /// `answer` (what this request waited for) wins over the cache; else the issuer's cache
    /// (one hash lookup); else `.needsIntrospection`. No introspection endpoint on the issuer
    /// (the config forbids it) fails closed with 503.
    /// - Parameter expiry: the token's `exp` (seconds since the epoch), nil without one.
    static func introspection(_ token: Substring, expiry: Double?, issuer: LoadedIssuer, now: Double,
                              answer: IntrospectionAnswer?, trace: inout DecisionTrace?) -> Authentication? {
        guard let introspection = issuer.introspection else {
            trace.record("introspection", false, "issuer \(issuer.config.name) has no introspection endpoint")
            return .failure(.introspectionUnavailable(issuer: issuer.config.name))
        }
        let key = RevocationKey(token)
        let found = answer ?? introspection.cache.lookup(key, now: now)
        func from() -> String { (answer != nil ? "answer of " : "cached answer of ") + introspection.config.url }
        switch found {
        case .active?:
            trace.record("introspection", true, "active (\(from()))")
            return nil
        case .inactive?:
            trace.record("introspection", false, "token inactive (\(from()))")
            return .failure(.inactive)
        case .unavailable?:
            let denial = DenialReason.introspectionUnavailable(issuer: issuer.config.name)
            trace.record("introspection", false, "\(denial.errorDescription) (\(from()))")
            return .failure(denial)
        case nil:
            trace.record("introspection", true, "needs the answer of \(introspection.config.url) (client_id "
                         + "\(introspection.config.clientID)): the token is POSTed there")
            return .needsIntrospection(IntrospectionCall(
                issuerName: issuer.config.name, introspection: introspection, token: String(token), key: key,
                tokenExpiry: expiry))
        }
    }
}
