import GatewayJOSE

/// Revoked tokens and subjects, immutable once built; shared by every loop and replaced
/// whole (see `RevocationStore`) when a source changes.
///
/// - `tokens`: `iss` → set of `jti` keys: a token whose (`iss`, `jti`) is listed is revoked.
/// - `subjects`: `iss` → `sub` key → `issued_before` (seconds since the epoch): a token of
///   that subject is revoked when its `iat` is before `issued_before`, or when it has no `iat`.
///
/// `jti` and `sub` are held as `RevocationKey`s (16 bytes each, matched by UTF-8 bytes).
/// Lookups hash the strings the verified token already holds and probe two tables: no
/// allocation.
public final class RevocationList: Sendable {
    public let tokens: [String: Set<RevocationKey>]
    public let subjects: [String: [RevocationKey: Double]]
    /// Token entries plus subject entries.
    public let count: Int

    /// No entries.
    public static let empty = RevocationList(tokens: [:], subjects: [:])

    public init(tokens: [String: Set<RevocationKey>], subjects: [String: [RevocationKey: Double]]) {
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
        if let jti, let ids = tokens[iss], ids.contains(RevocationKey(jti)) { return true }
        if let sub, let bySubject = subjects[iss], let before = bySubject[RevocationKey(sub)] {
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
                case ("iat", .number(let n)): iat = n.doubleValue
                default: break
                }
            }
        }
        return isRevoked(iss: iss, jti: jti, sub: sub, iat: iat)
    }

    /// A list of plain strings: `iss` → `jti`s, and `iss` → `sub` → `issued_before`.
    public convenience init(tokenIDs: [String: [String]], subjectCutOffs: [String: [String: Double]] = [:]) {
        self.init(tokens: tokenIDs.mapValues { Set($0.map(RevocationKey.init)) },
                  subjects: subjectCutOffs.mapValues { Dictionary($0.map { (RevocationKey($0.key), $0.value) }) { max($0, $1) } })
    }

    /// Whether (`iss`, `jti`) is listed under `tokens`.
    public func lists(iss: String, jti: String) -> Bool { tokens[iss]?.contains(RevocationKey(jti)) ?? false }

    /// The `issued_before` listed for (`iss`, `sub`), or nil.
    public func cutOff(iss: String, sub: String) -> Double? { subjects[iss]?[RevocationKey(sub)] }

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
