import GatewayHTTP

/// `login_url`: a browser navigation without any token is sent to the login page instead of
/// getting a `401` it cannot act on (docs/browser-apps.md).
public enum LoginRedirect {
    /// The `302` reason for a request that had no token at all, or nil when the `401` stands.
    /// Only a `GET` whose `Accept` lists `text/html` (with a non-zero `q`) is a navigation; a
    /// request without `Host` has no URL to come back to and keeps its `401`.
    /// - Parameters:
    ///   - method: the request method.
    ///   - target: the request-target in origin-form, as sent (path and query).
    ///   - fields: the request's fields.
    ///   - scheme: "https" on a TLS listener, else "http".
    ///   - loginURL: the route's `login_url`; `{url}` (every occurrence) becomes the
    ///     percent-encoded original URL.
    public static func decide(method: String, target: String, fields: [HTTPField], scheme: String,
                              loginURL: String?) -> DenialReason? {
        guard let loginURL, method == "GET", acceptsHTML(fields) else { return nil }
        let hosts = fields.filter { HTTPSyntax.equalsIgnoringASCIICase($0.name, "host") }
        guard hosts.count == 1, !hosts[0].value.isEmpty, target.hasPrefix("/") else { return nil }
        let original = "\(scheme)://\(hosts[0].value)\(target)"
        return .loginRequired(location: loginURL.replacing("{url}", with: percentEncoded(original)))
    }

    /// Whether some `Accept` element is `text/html` (ASCII case-insensitive, RFC 9110 §12.5.1)
    /// without `q=0`.
    public static func acceptsHTML(_ fields: [HTTPField]) -> Bool {
        for f in fields where HTTPSyntax.equalsIgnoringASCIICase(f.name, "accept") {
            for element in HTTPSyntax.listElements(f.value) {
                let parts = element.split(separator: ";", omittingEmptySubsequences: false)
                let range = parts[0].trimming(" \t")
                guard HTTPSyntax.equalsIgnoringASCIICase(range, "text/html") else { continue }
                let zero = parts.dropFirst().contains { p in
                    let param = p.trimming(" \t")
                    guard param.count >= 2, HTTPSyntax.equalsIgnoringASCIICase(String(param.prefix(2)), "q=") else {
                        return false
                    }
                    let q = param.dropFirst(2)
                    return !q.isEmpty && q.allSatisfy { $0 == "0" || $0 == "." }
                }
                if !zero { return true }
            }
        }
        return false
    }

    /// Every byte but RFC 3986 §2.3 unreserved characters as `%XX` (uppercase hex), so the
    /// URL is one opaque query value.
    public static func percentEncoded(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count * 3)
        for b in s.utf8 {
            let unreserved = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
                || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E
            if unreserved {
                out.append(b)
            } else {
                out.append(0x25)
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

fileprivate extension Substring {
    /// Without the given leading and trailing characters.
    func trimming(_ set: String) -> String {
        var s = self[...]
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return String(s)
    }
}
