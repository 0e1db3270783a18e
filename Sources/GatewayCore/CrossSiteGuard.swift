import GatewayHTTP
import GatewayPolicy

/// The cross-site request guard for cookie-borne tokens (docs/browser-apps.md).
///
/// A browser attaches cookies to requests that other sites trigger (a form posted from
/// another origin), so a token taken from a cookie proves nothing about who made an unsafe
/// request. Such a request is accepted only when the browser says where it came from:
/// `Origin` (RFC 6454 §7; sent by browsers on every non-GET/HEAD request) equal to the
/// gateway's own origin or a configured one; or, without `Origin`, `Sec-Fetch-Site:
/// same-origin` (Fetch Metadata). Safe methods (RFC 9110 §9.2.1: GET, HEAD, OPTIONS) are
/// not guarded. Tokens from `Authorization` or a custom field are never attached by a
/// browser on its own, so they are not guarded either.
public enum CrossSiteGuard {
    /// Methods never guarded.
    public static let safeMethods: Set<String> = ["GET", "HEAD", "OPTIONS"]

    /// nil when the request may go on, else the `403 csrf` reason.
    /// - Parameters:
    ///   - method: the request method (case-sensitive).
    ///   - fields: the request's fields.
    ///   - source: where the token came from.
    ///   - listenerIsTLS: whether the request arrived over TLS (own origin `https://` + Host).
    ///   - allowedOrigins: the route's `csrf_origins`.
    public static func check(method: String, fields: [HTTPField], source: TokenSource, listenerIsTLS: Bool,
                             allowedOrigins: [Origin]) -> DenialReason? {
        guard case .cookie = source, !safeMethods.contains(method) else { return nil }
        let origins = values("origin", in: fields)
        if !origins.isEmpty {
            // One `Origin` holding one serialized origin; `null`, a list or several fields: refused.
            guard origins.count == 1, let origin = Origin.parse(origins[0]) else { return .crossSiteRequest }
            if allowedOrigins.contains(origin) { return nil }
            let hosts = values("host", in: fields)
            if hosts.count == 1, let own = Origin(scheme: listenerIsTLS ? "https" : "http", hostField: hosts[0]),
               own == origin {
                return nil
            }
            return .crossSiteRequest
        }
        let site = values("sec-fetch-site", in: fields)
        if site.count == 1, site[0] == "same-origin" { return nil }
        return .crossSiteRequest
    }

    static func values(_ name: String, in fields: [HTTPField]) -> [String] {
        fields.filter { HTTPSyntax.equalsIgnoringASCIICase($0.name, name) }.map(\.value)
    }
}
