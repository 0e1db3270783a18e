import GatewayJOSE
import GatewayPolicy

extension GatewayRuntime {
    /// `.revoked` when the revocation list in force lists this verified token (by `jti`, or
    /// by subject issued before the cut-off), else nil. Runs on every request, verified-token
    /// cache hits included: one mutex-guarded reference read and at most two hash lookups per
    /// kind of entry, no allocation.
    @inline(__always)
    func revocationDenial(_ token: VerifiedToken, issuer: LoadedIssuer) -> DenialReason? {
        guard let store = revocation else { return nil }
        return store.list.isRevoked(token, iss: issuer.config.issuer) ? .revoked : nil
    }

    /// Why `/readyz` must fail because of revocation (the url has not loaded for `max_stale`
    /// at `now`, seconds since the epoch), or nil.
    public func revocationReadinessProblem(now: Double) -> String? {
        revocation?.readinessProblem(now: now)
    }

    /// The store for `config.revocation` (nil without one), from `provider`.
    static func loadRevocation(_ config: GatewayConfig, provider: RevocationStoreProvider?)
        throws(ConfigError) -> RevocationStore?
    {
        guard let r = config.revocation else { return nil }
        guard let provider else {
            throw ConfigError(location: r.location, message: "revocation needs the gateway's revocation loader")
        }
        return try provider(r)
    }
}
