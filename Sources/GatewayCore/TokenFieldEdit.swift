import GatewayHTTP

/// A change to the client's fields before they are forwarded upstream, decided by
/// `TokenExtraction` (the token's source is not forwarded unless `forward_token`).
public enum TokenFieldEdit: Sendable, Equatable {
    /// Remove every field with this name (ASCII case-insensitive, `_` as `-`).
    case removeFields(named: String)
    /// Remove the one cookie with this name (case-sensitive) from the `Cookie` field(s);
    /// the other cookies stay, byte for byte and in order.
    case removeCookie(named: String)

    /// `fields` with every edit applied, in order. A cookie edit whose cookie is not there
    /// (or is there twice) changes nothing: extraction refuses those requests first.
    public static func apply(_ edits: [TokenFieldEdit], to fields: [HTTPField]) -> [HTTPField] {
        var out = fields
        for edit in edits {
            switch edit {
            case .removeFields(let name):
                let target = HTTPSyntax.comparableFieldName(name)
                out.removeAll { HTTPSyntax.comparableFieldName($0.name) == target }
            case .removeCookie(let name):
                guard let cookies = try? CookieList.parse(out), case .found(let pair) = cookies.lookup(name) else { continue }
                out = cookies.removing(pair, from: out)
            }
        }
        return out
    }
}
