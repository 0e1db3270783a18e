import GatewayJOSE

extension RequestPipeline {
    /// The RFC 7662 step of a route with `introspect: true`, after the signature, the claims
    /// and the revocation list, before scopes (an inactive token is 401, never 403): nil when
    /// the token is active. Runs on every request, verified-token cache hits included.
    ///
    /// `answer` (what this request waited for) wins over the cache; else the issuer's cache
    /// (one hash lookup); else `.needsIntrospection`. No introspection endpoint on the issuer
    /// (the config forbids it) fails closed with 503.
    static func introspection(_ token: Substring, _ verified: VerifiedToken, issuer: LoadedIssuer, now: Double,
                              answer: IntrospectionAnswer?) -> Authentication? {
        guard let introspection = issuer.introspection else {
            return .failure(.introspectionUnavailable(issuer: issuer.config.name))
        }
        let key = RevocationKey(token)
        switch answer ?? introspection.cache.lookup(key, now: now) {
        case .active?: return nil
        case .inactive?: return .failure(.inactive)
        case .unavailable?: return .failure(.introspectionUnavailable(issuer: issuer.config.name))
        case nil:
            return .needsIntrospection(IntrospectionCall(
                issuerName: issuer.config.name, introspection: introspection, token: String(token), key: key,
                tokenExpiry: TokenVerifier.expiry(of: verified)))
        }
    }
}
