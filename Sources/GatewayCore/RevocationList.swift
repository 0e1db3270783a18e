import GatewayJOSE

/// Revoked tokens and subjects, immutable once built; shared by every loop and replaced
/// whole (see `RevocationStore`) when a source changes.
///
/// - `tokens`: `iss` → set of `jti`: a token whose (`iss`, `jti`) is listed is revoked.
/// - `subjects`: `iss` → `sub` → `issued_before` (seconds since the epoch): a token of that
///   subject is revoked when its `iat` is before `issued_before`, or when it has no `iat`.
///
/// Lookups are two hash-table probes keyed by strings the verified token already holds: no
/// allocation. Strings compare as Swift `String`s (Unicode canonical equivalence), which can
/// only refuse more, never less, than a byte comparison.
public final class RevocationList: Sendable {
    public let tokens: [String: Set<String>]
    public let subjects: [String: [String: Double]]
    /// Token entries plus subject entries.
    public let count: Int

    /// No entries.
    public static let empty = RevocationList(tokens: [:], subjects: [:])

    public init(tokens: [String: Set<String>], subjects: [String: [String: Double]]) {
        self.tokens = tokens
        self.subjects = subjects
        self.count = tokens.values.reduce(0) { $0 + $1.count } + subjects.values.reduce(0) { $0 + $1.count }
    }

    /// Whether a token with these claims, issued by `iss`, is revoked.
    /// - Parameters:
    ///   - jti: the token's `jti` (RFC 7519 §4.1.7), nil when absent or not a string.
    ///   - sub: the token's `sub`, nil when absent or not a string.
    ///   - iat: the token's `iat` in seconds since the epoch, nil when absent.
    public func isRevoked(iss: String, jti: String?, sub: String?, iat: Double?) -> Bool {
        if let jti, let ids = tokens[iss], ids.contains(jti) { return true }
        if let sub, let bySubject = subjects[iss], let before = bySubject[sub] {
            guard let iat else { return true }
            return iat < before
        }
        return false
    }

    /// `isRevoked` for a verified token whose `iss` is `iss` (the issuer's configured value,
    /// which the verification found equal to the claim).
    @inline(__always)
    public func isRevoked(_ token: VerifiedToken, iss: String) -> Bool {
        if count == 0 { return false }
        let claims = token.claims
        var jti: String?
        var sub: String?
        var iat: Double?
        if case .object(let members) = claims {
            for (name, value) in members {
                switch (name, value) {
                case ("jti", .string(let s)): jti = s
                case ("sub", .string(let s)): sub = s
                case ("iat", .number(let d)): iat = d
                default: break
                }
            }
        }
        return isRevoked(iss: iss, jti: jti, sub: sub, iat: iat)
    }

    /// The union of two lists: a subject listed in both keeps the later `issued_before`
    /// (it refuses more tokens). Returns one of the two unchanged when the other is empty.
    public func merging(_ other: RevocationList) -> RevocationList {
        if other.count == 0 { return self }
        if count == 0 { return other }
        var t = tokens
        for (iss, ids) in other.tokens { t[iss, default: []].formUnion(ids) }
        var s = subjects
        for (iss, bySubject) in other.subjects {
            s[iss, default: [:]].merge(bySubject) { max($0, $1) }
        }
        return RevocationList(tokens: t, subjects: s)
    }
}
