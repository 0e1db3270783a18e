import GatewayHTTP
import GatewayPolicy

/// The token of a request on a protected route, from the route's `auth.token_from`
/// (docs/browser-apps.md). Pure: reads the head's fields only.
///
/// RFC 6750 §2: a client uses one method per request, so exactly one token must be found:
/// tokens in two sources (even identical), a cookie name twice, or a custom field twice are
/// `invalid_request`. Sources the route does not list are not read at all.
public enum TokenExtraction {
    /// - Parameters:
    ///   - head: the request head (its fields, in arrival order).
    ///   - sources: the route's `token_from`, in file order.
    ///   - forwardToken: the route's `forward_token`: keep the token's source when forwarding.
    ///   - cookieLimits: bounds for reading `Cookie`.
    public static func extract(_ head: HTTPRequestHead, sources: [TokenSource], forwardToken: Bool,
                               cookieLimits: CookieLimits = CookieLimits()) -> ExtractedToken {
        var found: (token: Substring, source: TokenSource)?
        var cookies: CookieList?
        for source in sources {
            let token: Substring
            switch source {
            case .authorization:
                switch RequestPipeline.extractBearer(head) {
                case .none: continue
                case .invalid(let why): return .invalid(why)
                case .bearer(let t): token = t
                }
            case .header(let name):
                var value: String?
                for f in head.fields where HTTPSyntax.comparableFieldName(f.name) == HTTPSyntax.comparableFieldName(name) {
                    if value != nil { return .invalid("several \(name) header fields") }
                    value = f.value
                }
                guard let value else { continue }
                if value.isEmpty { return .invalid("empty \(name) header field") }
                token = Substring(value)
            case .cookie(let name):
                if cookies == nil {
                    do { cookies = try CookieList.parse(head.fields, limits: cookieLimits) } catch {
                        return .invalid("too many cookies")
                    }
                }
                switch cookies!.lookup(name, limits: cookieLimits) {
                case .absent: continue
                case .duplicated: return .invalid("cookie \(name) sent more than once")
                case .malformed: return .invalid("malformed cookie \(name)")
                case .found(let pair):
                    if pair.value.isEmpty { return .invalid("empty cookie \(name)") }
                    token = pair.value
                }
            }
            if found != nil { return .invalid("token sent in more than one way") }
            found = (token, source)
        }
        var edits: [TokenFieldEdit] = []
        // `Authorization` goes upstream only as the forwarded token's source: an unlisted one,
        // or one with another scheme, is removed as on public routes.
        if !(forwardToken && found?.source == .authorization) { edits.append(.removeFields(named: "Authorization")) }
        guard let found else { return .none(edits: edits) }
        if !forwardToken {
            switch found.source {
            case .authorization: break  // removed above
            case .header(let name): edits.append(.removeFields(named: name))
            case .cookie(let name): edits.append(.removeCookie(named: name))
            }
        }
        return .token(found.token, source: found.source, edits: edits)
    }
}
