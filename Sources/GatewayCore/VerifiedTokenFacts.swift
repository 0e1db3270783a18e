import GatewayHTTP
import GatewayJOSE
import GatewayPolicy

/// Everything a request with an already verified token needs from its claims, derived once
/// when the token is verified and kept in its `VerifiedTokenCache` entry: a cache hit then
/// reads numbers and prebuilt fields instead of searching the claims set.
///
/// Only facts that depend on the token, its issuer's configuration and the runtime's
/// `identity` section are here (all fixed for one `GatewayRuntime`, which owns the cache).
/// What depends on the request or the clock (expiry against `now`, revocation, introspection,
/// the connection's client certificate, the route's requirements) is still checked on every
/// request, from these facts.
///
/// A class with constant properties: every cache hit hands it on through the decision, and a
/// reference is one retain where copying these fields would be one per field.
final class VerifiedTokenFacts: Sendable {
    /// `exp`, `nbf`, `iat` as NumericDates (seconds since the epoch, RFC 7519 §2); nil when
    /// absent (the verification refused malformed ones).
    let expiry: Double?
    let notBefore: Double?
    let issuedAt: Double?
    /// `sub` when it is a string.
    let subject: String?
    /// `jti` when it is a string (for the revocation list).
    let tokenID: String?
    /// The 401 of `require_sub` for this token, or nil.
    let subjectDenial: DenialReason?
    /// Granted scopes (`RequestPipeline.scopes(of:issuer:)`), exact byte de-duplication, in order.
    let scopes: [String]
    /// The identity header fields (`X-Auth-Subject`, `X-Auth-Issuer`, `X-Auth-Scopes`, the
    /// `identity.claims` ones), or the 401 naming the claim that cannot travel in a field.
    let identity: Result<[HTTPField], DenialReason>
    /// The token's RFC 8705 `cnf` confirmation.
    let binding: CertificateBinding

    /// RFC 8705 §3: what `cnf` asks of the connection.
    enum CertificateBinding: Sendable, Equatable {
        /// No `cnf`: a bearer token.
        case none
        /// `cnf["x5t#S256"]`: base64url SHA-256 thumbprint of the client certificate.
        case thumbprint(String)
        /// A `cnf` this gateway cannot check (not an object, or no `x5t#S256` string): refused.
        case unusable
    }

    /// Derives the facts of `token`, verified by `issuer`, with the runtime's `identity` section.
    init(token: VerifiedToken, issuer: LoadedIssuer, identity: IdentityConfig) {
        var exp: Double?, nbf: Double?, iat: Double?
        var sub: String?, jti: String?
        if case .object(let members) = token.claims {
            for (name, value) in members {
                switch (name, value) {
                case ("exp", .number(let n)): exp = n.doubleValue
                case ("nbf", .number(let n)): nbf = n.doubleValue
                case ("iat", .number(let n)): iat = n.doubleValue
                case ("sub", .string(let s)): sub = s
                case ("jti", .string(let s)): jti = s
                default: break
                }
            }
        }
        expiry = exp
        notBefore = nbf
        issuedAt = iat
        subject = sub
        tokenID = jti
        subjectDenial = RequestPipeline.subjectDenial(token, issuer: issuer)
        let granted = RequestPipeline.scopes(of: token, issuer: issuer.config)
        scopes = granted
        self.identity = RequestPipeline.identityFields(token, issuer: issuer, identity: identity, scopes: granted)
        switch token.claims[member: "cnf"] {
        case nil: binding = .none
        case let cnf?:
            if case .string(let expected)? = cnf[member: "x5t#S256"] { binding = .thumbprint(expected) } else { binding = .unusable }
        }
    }

    /// The time-dependent claim checks of `TokenVerifier.checkClaims` (RFC 7519 §4.1.4, §4.1.5,
    /// §4.1.6 and `max_token_lifetime`) at `now`; the others (`iss`, `aud`, a required `exp`)
    /// do not change for a token already verified under the same requirements.
    /// - Throws: `TokenError.expired`, `.notYetValid`, `.iatInFuture` or `.lifetime`.
    func checkTimes(requirements: TokenRequirements, now: Double) throws(TokenError) {
        try TokenVerifier.checkTimes(exp: expiry, nbf: notBefore, iat: issuedAt, requirements: requirements, now: now)
        try TokenVerifier.checkLifetime(exp: expiry, iat: issuedAt, requirements: requirements, now: now)
    }
}
