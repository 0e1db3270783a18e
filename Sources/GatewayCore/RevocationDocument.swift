import GatewayJOSE

/// Reads a revocation document (docs/revocation.md):
///
/// ```json
/// {"tokens":   [{"iss": "https://auth.example.com/", "jti": "4f1c0a", "exp": 1767225600}],
///  "subjects": [{"iss": "https://auth.example.com/", "sub": "alice", "issued_before": 1767139200}]}
/// ```
///
/// - The root is an object; `tokens` and `subjects`, each optional, are arrays of objects.
/// - A `tokens` entry needs `iss` and `jti` (non-empty strings); `exp` (a number, seconds
///   since the epoch) is optional, and an entry whose `exp` is not after `now` is dropped
///   (that token is refused as expired anyway).
/// - A `subjects` entry needs `iss` and `sub` (non-empty strings) and `issued_before`
///   (a number, seconds since the epoch).
/// - Members not named here are ignored, at every level (room for `reason`, `revoked_at`...).
/// - Anything else refuses the whole document, as do more than `maxEntries` entries
///   (counted as listed, expired ones included, so the count does not depend on the clock).
///
/// JSON is read by the strict reader of the token path (`JSONReader`: RFC 8259, duplicate
/// member names refused). Pure: no I/O.
public enum RevocationDocument {
    /// - Parameters:
    ///   - now: seconds since the Unix epoch, for dropping expired token entries.
    ///   - maxEntries: most `tokens` plus `subjects` entries.
    /// - Throws: `RevocationDocumentError`.
    public static func parse(_ bytes: [UInt8], now: Double, maxEntries: Int)
        throws(RevocationDocumentError) -> RevocationList
    {
        let root: JSONValue
        do { root = try JSONReader.parse(bytes) } catch {
            if case .malformed(let why) = error { throw .notJSON(why) }
            throw .notJSON("unreadable")
        }
        guard case .object(let members) = root else { throw .shape("the root must be an object") }
        var tokenItems: [JSONValue] = []
        var subjectItems: [JSONValue] = []
        for (name, value) in members {
            switch name {
            case "tokens":
                guard case .array(let items) = value else { throw .shape("`tokens` must be an array") }
                tokenItems = items
            case "subjects":
                guard case .array(let items) = value else { throw .shape("`subjects` must be an array") }
                subjectItems = items
            default:
                continue
            }
        }
        let listed = tokenItems.count + subjectItems.count
        guard listed <= maxEntries else { throw .tooManyEntries(count: listed, max: maxEntries) }

        var tokens: [String: Set<RevocationKey>] = [:]
        for (i, item) in tokenItems.enumerated() {
            let at = "tokens[\(i)]"
            guard case .object(let fields) = item else { throw .shape("`\(at)` must be an object") }
            let iss = try requiredString(fields, "iss", at: at)
            let jti = try requiredString(fields, "jti", at: at)
            if let exp = try optionalNumber(fields, "exp", at: at), exp <= now { continue }
            tokens[iss, default: []].insert(RevocationKey(jti))
        }
        var subjects: [String: [RevocationKey: Double]] = [:]
        for (i, item) in subjectItems.enumerated() {
            let at = "subjects[\(i)]"
            guard case .object(let fields) = item else { throw .shape("`\(at)` must be an object") }
            let iss = try requiredString(fields, "iss", at: at)
            let sub = try requiredString(fields, "sub", at: at)
            guard let before = try optionalNumber(fields, "issued_before", at: at) else {
                throw .shape("`\(at).issued_before` is required")
            }
            // Listed twice: the later cut-off refuses more, so it wins.
            let key = RevocationKey(sub)
            subjects[iss, default: [:]][key] = max(before, subjects[iss]?[key] ?? -.infinity)
        }
        return RevocationList(tokens: tokens, subjects: subjects)
    }

    static func member(_ fields: [(String, JSONValue)], _ name: String) -> JSONValue? {
        fields.first { $0.0 == name }?.1
    }

    static func requiredString(_ fields: [(String, JSONValue)], _ name: String, at: String)
        throws(RevocationDocumentError) -> String
    {
        guard let v = member(fields, name) else { throw .shape("`\(at).\(name)` is required") }
        guard case .string(let s) = v, !s.isEmpty else { throw .shape("`\(at).\(name)` must be a non-empty string") }
        return s
    }

    static func optionalNumber(_ fields: [(String, JSONValue)], _ name: String, at: String)
        throws(RevocationDocumentError) -> Double?
    {
        guard let v = member(fields, name) else { return nil }
        guard case .number(let n) = v, case let d = n.doubleValue else { throw .shape("`\(at).\(name)` must be a number (seconds since the epoch)") }
        return d
    }
}
