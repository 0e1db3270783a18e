import GatewayHTTP
import GatewayJOSE
import GatewayPolicy

// Stage 3 of `RequestPipeline.decide`: who issued the token, and is it still good.
extension RequestPipeline {
    struct Verified {
        var token: VerifiedToken
        var issuer: LoadedIssuer
        var facts: VerifiedTokenFacts
    }

    enum Authentication {
        case success(Verified)
        case failure(DenialReason)
        /// Unknown `kid` from this issuer, whose keys are remote.
        case needsKeys(String)
        /// Verified, not revoked; the route asks the issuer's introspection endpoint.
        case needsIntrospection(IntrospectionCall)
    }

    /// The first of the route's issuers whose configured `iss` equals `iss`.
    static func issuer(for iss: String?, among names: [String], runtime: GatewayRuntime) -> LoadedIssuer? {
        for name in names {
            if let candidate = runtime.issuers[name], iss.map(candidate.config.issuer.exactlyEquals) == true { return candidate }
        }
        return nil
    }

    /// Verifies `token` (from any of the route's sources) and authorizes it for the route.
    static func authenticate(token: Substring, requirements: AuthRequirements, runtime: GatewayRuntime,
                             now: Double, mayRefetchKeys: Bool = true, introspectionAnswer: IntrospectionAnswer? = nil,
                             trace: inout DecisionTrace?) -> Authentication {
        // A token verified before by the same issuer's current keys: its time checks only.
        var current: LoadedIssuer?  // the hit's issuer, looked up once
        if let cache = runtime.tokenCache,
           let hit = cache.lookup(token, now: now, isCurrent: { e in
               current = runtime.issuers[e.issuerName]
               return current?.store.snapshot.generation == e.generation
           }), let issuer = current {
            // `issuer` values are unique, so the full path would choose this issuer or none.
            guard requirements.issuers.contains(hit.issuerName) else {
                trace.record("issuer", false, notAccepted(hit.iss, requirements))
                return .failure(.invalidToken(.issuer))
            }
            trace.record("issuer", true, "\(issuer.config.name) (\(issuer.config.issuer))")
            let facts = hit.facts ?? VerifiedTokenFacts(token: hit.token, issuer: issuer, identity: runtime.config.identity)
            do { try facts.checkTimes(requirements: issuer.requirements, now: now) } catch {
                trace.record("verify", false, "\(error.description) (\(error.reasonCode))")
                return .failure(.invalidToken(error))
            }
            trace.record("verify", true, verifiedDetail(hit.token, issuer: issuer) + " (signature verified earlier: token cache)")
            return checkVerified(token, Verified(token: hit.token, issuer: issuer, facts: facts), requirements: requirements,
                                 runtime: runtime, now: now, introspectionAnswer: introspectionAnswer, trace: &trace)
        }
        // The unverified `iss` only chooses among the route's issuers (docs/request-handling.md).
        // Split and parsed once: the same parse is verified below before any of it is used.
        let unverified: UnverifiedToken
        do { unverified = try TokenVerifier.parseUnverified(token) } catch {
            trace.record("issuer", false, error.description)
            return .failure(.invalidToken(error))
        }
        let claimedIssuer = unverified.issuer
        guard let issuer = issuer(for: claimedIssuer, among: requirements.issuers, runtime: runtime) else {
            trace.record("issuer", false, notAccepted(claimedIssuer, requirements))
            return .failure(.invalidToken(.issuer))
        }
        trace.record("issuer", true, "\(issuer.config.name) (\(issuer.config.issuer))")
        let keys = issuer.store.snapshot
        // The issuer's identity provider has not answered since startup: not the token's fault.
        if keys.awaitingKeys {
            let denial = DenialReason.keysUnavailable(issuer: issuer.config.name)
            trace.record("keys", false, denial.errorDescription)
            return .failure(denial)
        }
        let verified: VerifiedToken
        do {
            verified = try TokenVerifier.verify(unverified, keys: keys.keys, requirements: issuer.requirements, now: now)
        } catch {
            if error == .unknownKey && mayRefetchKeys && issuer.store.jwksURL != nil {
                trace.record("verify", false, "\(error.description): the issuer's JWK Set is fetched again first")
                return .needsKeys(issuer.config.name)
            }
            trace.record("verify", false, "\(error.description) (\(error.reasonCode))")
            return .failure(.invalidToken(error))
        }
        trace.record("verify", true, verifiedDetail(verified, issuer: issuer))
        let facts = VerifiedTokenFacts(token: verified, issuer: issuer, identity: runtime.config.identity)
        if let cache = runtime.tokenCache, let iss = claimedIssuer {
            let exp = facts.expiry.map { $0 + max(0, issuer.requirements.clockSkew) } ?? .infinity
            var entry = VerifiedTokenCache.Entry(token: verified, iss: iss, issuerName: issuer.config.name,
                                                 generation: keys.generation, expiresAt: exp)
            entry.facts = facts
            cache.insert(token, entry: entry)
        }
        return checkVerified(token, Verified(token: verified, issuer: issuer, facts: facts), requirements: requirements,
                             runtime: runtime, now: now, introspectionAnswer: introspectionAnswer, trace: &trace)
    }

    /// The checks after the signature and claims, on verified-token cache hits and misses
    /// alike: `require_sub`, the revocation list, introspection, then authorization.
    static func checkVerified(_ token: Substring, _ verified: Verified, requirements: AuthRequirements,
                              runtime: GatewayRuntime, now: Double, introspectionAnswer: IntrospectionAnswer?,
                              trace: inout DecisionTrace?) -> Authentication {
        let facts = verified.facts
        let issuer = verified.issuer
        if let denial = facts.subjectDenial {
            trace.record("subject", false, denial.errorDescription + " (require_sub)")
            return .failure(denial)
        }
        if let store = runtime.revocation {
            let list = store.list
            let revoked = list.count > 0
                && list.isRevoked(iss: issuer.config.issuer, jti: facts.tokenID, sub: facts.subject, iat: facts.issuedAt)
            trace.record("revocation", !revoked, revoked ? "token revoked: its jti, or its subject before a cut-off, is listed"
                         : "not listed (\(list.count) entries)")
            if revoked { return .failure(.revoked) }
        }
        if requirements.introspect, let step = introspection(token, expiry: facts.expiry, issuer: issuer, now: now,
                                                             answer: introspectionAnswer, trace: &trace) {
            return step
        }
        if let denial = authorize(verified, requirements: requirements, trace: &trace) { return .failure(denial) }
        return .success(verified)
    }

    /// "RS256 signature, exp/nbf/iat, iss, aud all valid"; an issuer without `audiences`
    /// checks no `aud`, and the detail says so rather than claim it.
    static func verifiedDetail(_ token: VerifiedToken, issuer: LoadedIssuer) -> String {
        issuer.config.audiences.isEmpty
            ? "\(token.algorithm.rawValue) signature, exp/nbf/iat, iss all valid (aud not checked: the issuer lists no audiences)"
            : "\(token.algorithm.rawValue) signature, exp/nbf/iat, iss, aud all valid"
    }

    /// Why no issuer of the route accepts a token claiming `iss`.
    static func notAccepted(_ iss: String?, _ requirements: AuthRequirements) -> String {
        "iss \(iss.map { "\"\($0)\"" } ?? "(absent)") is none of: \(requirements.issuers.joined(separator: ", "))"
    }

    /// 401 unless `sub` is a non-empty string, when the issuer requires one (`require_sub`,
    /// default true): an absent, empty, numeric or array `sub` would reach the upstream as an
    /// empty, missing or `a,b` subject header.
    static func subjectDenial(_ token: VerifiedToken, issuer: LoadedIssuer) -> DenialReason? {
        guard issuer.config.requireSub else { return nil }
        if case .string(let sub)? = token.claims[member: "sub"], !sub.isEmpty { return nil }
        return .invalidToken(.invalidSubject)
    }
}
