import GatewayJOSE
import GatewayPolicy

// Stage 4 of `RequestPipeline.decide`: may this token do this (scopes, roles, claims).
extension RequestPipeline {
    /// Scopes from the issuer's scope claim (space-separated string, or array) and `scp`.
    static func scopes(of token: VerifiedToken, issuer: IssuerConfig) -> [String] {
        var out: [String] = []
        func add(_ v: JSONValue?) {
            switch v {
            case .string(let s)?:
                if appendASCIIWords(s, to: &out) { break }
                // Split on the Character " " (a space with a combining mark is not one).
                for part in s.split(separator: " ", omittingEmptySubsequences: true) { out.append(String(part)) }
            case .array(let items)?:
                for item in items { if case .string(let s) = item { out.append(s) } }
            default: break
            }
        }
        add(token.claims[member: issuer.scopeClaim])
        if issuer.scopeClaim != "scp" { add(token.claims[member: "scp"]) }
        // Exact (byte) de-duplication: Set<String> would merge canonically equivalent scopes.
        var unique: [String] = []
        for s in out where !unique.containsExactly(s) { unique.append(s) }
        return unique
    }

    /// Appends the space-separated words of an all-ASCII `s` (empty ones skipped) and returns
    /// true; returns false without appending when `s` has a non-ASCII byte. For ASCII text
    /// the bytes are the Characters, so this equals splitting on the Character " ".
    private static func appendASCIIWords(_ s: String, to out: inout [String]) -> Bool {
        var s = s
        return s.withUTF8 { b -> Bool in
            var high: UInt8 = 0
            for c in b { high |= c }
            guard high & 0x80 == 0 else { return false }
            var start = 0
            for k in 0...b.count where k == b.count || b[k] == UInt8(ascii: " ") {
                if k > start { out.append(String(decoding: UnsafeBufferPointer(rebasing: b[start..<k]), as: UTF8.self)) }
                start = k + 1
            }
            return true
        }
    }

    static func claim(_ claims: JSONValue, path: [String]) -> JSONValue? {
        var current: JSONValue? = claims
        for part in path { current = current?[member: part] }
        return current
    }

    /// 403 when the route's `scopes` (all), `any_scopes`, `roles` or `claims` are not met by
    /// the verified token (granted scopes from `verified.facts`).
    static func authorize(_ verified: Verified, requirements: AuthRequirements, trace: inout DecisionTrace?) -> DenialReason? {
        let granted = verified.facts.scopes
        let required = requirements.scopes.isEmpty ? requirements.anyScopes : requirements.scopes
        func deny(_ detail: String) -> DenialReason { .insufficientScope(requiredScopes: required, detail: detail) }
        if !requirements.scopes.isEmpty || !requirements.anyScopes.isEmpty {
            var denial: DenialReason?
            for s in requirements.scopes where !granted.containsExactly(s) {
                denial = deny("required scope missing")
                break
            }
            if denial == nil, !requirements.anyScopes.isEmpty, !requirements.anyScopes.contains(where: granted.containsExactly) {
                denial = deny("none of the accepted scopes granted")
            }
            trace.record("scopes", denial == nil,
                         "granted [\(granted.joined(separator: " "))]; required all of [\(requirements.scopes.joined(separator: " "))]"
                         + (requirements.anyScopes.isEmpty ? "" : ", any of [\(requirements.anyScopes.joined(separator: " "))]"))
            if let denial { return denial }
        }
        guard !requirements.roles.isEmpty || !requirements.claims.isEmpty else { return nil }
        let denial = rolesAndClaimsDenial(verified.token, issuer: verified.issuer, requirements: requirements, deny: deny)
        trace.record("roles/claims", denial == nil, denial.map(\.errorDescription) ?? "all required roles and claims present")
        return denial
    }

    private static func rolesAndClaimsDenial(_ token: VerifiedToken, issuer: LoadedIssuer, requirements: AuthRequirements,
                                             deny: (String) -> DenialReason) -> DenialReason? {
        if !requirements.roles.isEmpty {
            var roles: [String] = []
            if let path = issuer.config.rolesClaim, case .array(let items)? = claim(token.claims, path: path) {
                for item in items { if case .string(let s) = item { roles.append(s) } }
            }
            for r in requirements.roles where !roles.containsExactly(r) { return deny("required role missing") }
        }
        for (name, expected) in requirements.claims {
            let actual = token.claims[member: name]
            if !claimSatisfies(actual, expected) { return deny("required claim \(name) missing or different") }
        }
        return nil
    }

    /// Equality, or membership when the token's claim is an array. Numbers compare by exact
    /// value (`JSONNumber`), strings byte for byte.
    static func claimSatisfies(_ actual: JSONValue?, _ expected: ClaimValue) -> Bool {
        func scalarEquals(_ v: JSONValue) -> Bool {
            switch (v, expected) {
            case let (.string(a), .string(b)): a.exactlyEquals(b)
            case let (.number(a), .number(b)): a == b
            case let (.bool(a), .bool(b)): a == b
            default: false
            }
        }
        switch actual {
        case .array(let items)?: return items.contains(where: scalarEquals)
        case let v?: return scalarEquals(v)
        case nil: return false
        }
    }
}
