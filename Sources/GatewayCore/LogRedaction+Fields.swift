import GatewayHTTP

/// Redaction of header field values, for any output that shows fields (`gateway explain`, a
/// debug log): credentials never appear, whichever field carried them.
extension LogRedaction {
    /// The value of field `name` as it may be shown.
    /// - `Cookie`: only the names, `a=REDACTED; b=REDACTED` (every cookie may be a session).
    /// - `Set-Cookie`: the value replaced, the attributes kept (`sid=REDACTED; Path=/`).
    /// - `Authorization`, `Proxy-Authorization`: the scheme kept (`Bearer REDACTED`).
    /// - a field in `tokenHeaders` (a route's `header:` token sources; compared ASCII
    ///   case-insensitively, `_` as `-`): `REDACTED`.
    /// - anything else: `redact(value)` (JWS-shaped text and credential parameters).
    public static func redactedFieldValue(name: String, value: String, tokenHeaders: [String] = []) -> String {
        let n = HTTPSyntax.comparableFieldName(name)
        switch n {
        case "cookie":
            let list = (try? CookieList.parse([HTTPField(name: "Cookie", value: value)],
                                               limits: CookieLimits(maxPairs: .max, maxValueBytes: .max)))?.pairs ?? []
            return list.map { $0.name.isEmpty ? placeholder : "\($0.name)=\(placeholder)" }.joined(separator: "; ")
        case "set-cookie":
            let end = value.firstIndex(of: ";") ?? value.endIndex
            guard let eq = value[..<end].firstIndex(of: "=") else { return placeholder + value[end...] }
            return value[...eq] + placeholder + value[end...]
        case "authorization", "proxy-authorization":
            guard let space = value.firstIndex(where: { $0 == " " || $0 == "\t" }) else { return placeholder }
            return value[..<space] + " " + placeholder
        default:
            if tokenHeaders.contains(where: { HTTPSyntax.comparableFieldName($0) == n }) { return placeholder }
            return redact(value)
        }
    }

    /// Whether field `name` carries credentials (the fields `redactedFieldValue` hides rather
    /// than scans): Cookie, Set-Cookie, Authorization, Proxy-Authorization, `tokenHeaders`.
    public static func isCredentialField(_ name: String, tokenHeaders: [String] = []) -> Bool {
        let n = HTTPSyntax.comparableFieldName(name)
        switch n {
        case "cookie", "set-cookie", "authorization", "proxy-authorization": return true
        default: return tokenHeaders.contains { HTTPSyntax.comparableFieldName($0) == n }
        }
    }
}
