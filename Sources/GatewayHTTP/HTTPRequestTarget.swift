/// The four forms of request-target (RFC 9112 §3.2).
public enum HTTPRequestTargetForm: Sendable, Equatable {
    /// `/path?query` (§3.2.1), the form every request to an origin uses.
    case origin
    /// `http://authority/path?query` (§3.2.2). `authority` is as sent (host[:port], no
    /// userinfo); `originForm` is the path (`/` when empty) plus `?query` when present.
    case absolute(scheme: String, authority: String, originForm: String)
    /// `host:port` (§3.2.3), only meaningful for CONNECT.
    case authority
    /// `*` (§3.2.4), only meaningful for OPTIONS.
    case asterisk
}

/// Classifies request-targets (RFC 9112 §3.2). Pure; the characters were already checked
/// by the parser (visible ASCII only).
public enum HTTPRequestTarget {
    /// The form of `target`.
    /// - Throws: `HTTPParseError.badRequest` for an absolute-form with a scheme other than
    ///   `http`/`https` (case-insensitive), an empty authority, or userinfo (`user@host`,
    ///   deprecated by RFC 9110 §4.2.4 and a spoofing vector).
    public static func form(_ target: String) throws(HTTPParseError) -> HTTPRequestTargetForm {
        let bytes = Array(target.utf8)
        if bytes.first == UInt8(ascii: "/") { return .origin }
        if bytes == [UInt8(ascii: "*")] { return .asterisk }
        guard let schemeEnd = schemeLength(bytes) else { return .authority }
        let scheme = String(decoding: bytes[0..<schemeEnd], as: UTF8.self).lowercased()
        guard scheme == "http" || scheme == "https" else { throw .badRequest("unsupported scheme in request target") }
        let authorityStart = schemeEnd + 3
        var i = authorityStart
        while i < bytes.count && bytes[i] != UInt8(ascii: "/") && bytes[i] != UInt8(ascii: "?") {
            if bytes[i] == UInt8(ascii: "@") { throw .badRequest("userinfo in request target") }
            i += 1
        }
        guard i > authorityStart else { throw .badRequest("empty authority in request target") }
        let authority = String(decoding: bytes[authorityStart..<i], as: UTF8.self)
        var origin = String(decoding: bytes[i...], as: UTF8.self)
        // RFC 9112 §3.2.1: an empty path becomes "/".
        if !origin.hasPrefix("/") { origin = "/" + origin }
        return .absolute(scheme: scheme, authority: authority, originForm: origin)
    }

    private static func isAlpha(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
    }

    /// Length of `scheme` when `bytes` starts with `scheme "://"` (RFC 3986 §3.1), else nil.
    private static func schemeLength(_ bytes: [UInt8]) -> Int? {
        guard let first = bytes.first, isAlpha(first) else { return nil }
        var i = 1
        while i < bytes.count {
            let b = bytes[i]
            if isAlpha(b) || (b >= 0x30 && b <= 0x39) || b == UInt8(ascii: "+")
                || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") {
                i += 1
                continue
            }
            break
        }
        guard i + 3 <= bytes.count,
              bytes[i] == UInt8(ascii: ":"), bytes[i + 1] == UInt8(ascii: "/"), bytes[i + 2] == UInt8(ascii: "/")
        else { return nil }
        return i
    }
}
