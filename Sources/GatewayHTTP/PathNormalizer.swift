/// Path normalisation (docs/request-handling.md, RFC 3986 §5.2.4).
///
/// The normalised path is what routes match against and what goes upstream, so the
/// gateway and the upstream see the same path:
/// - percent-encodings of unreserved characters (ALPHA DIGIT "-" "." "_" "~") are decoded
///   (RFC 3986 §6.2.2.2); other percent-encodings are kept, with uppercase hex (§6.2.2.1);
/// - repeated slashes are merged, then dot-segments are removed (§5.2.4), after decoding,
///   so `%2e%2e` counts as `..`;
/// - case, trailing slashes and trailing dots in segment names are kept;
/// - the path with every percent-encoding decoded must be valid UTF-8 (RFC 3629 §3: no
///   overlong forms such as `%C0%AE`, no `%FF`, no surrogates), and `%25` followed by two
///   hex digits (double encoding, `%252e`) is refused: upstreams that decode twice or read
///   bytes leniently would otherwise see a different path than the one routed;
/// - the query string is kept exactly as sent.
public enum PathNormalizer {
    /// Normalises an origin-form request-target ("/a/b?q", RFC 9112 §3.2.1).
    /// - Returns: the normalised path (starting with "/") and the untouched query.
    /// - Throws: `PathError` for `%2F`, `%5C`, `%00` (any case), raw `\`, `;`, `#`, bad
    ///   percent-encoding (`%G1`, `%4`), control characters, space, non-ASCII bytes or other
    ///   characters outside RFC 3986 `pchar` in the path, a decoded path that is not UTF-8,
    ///   `%25` before two hex digits, escaping above the root (never clamped), or a target
    ///   that is not origin-form.
    public static func normalize(_ target: String) throws(PathError) -> NormalizedTarget {
        let bytes = Array(target.utf8)
        guard bytes.first == UInt8(ascii: "/") else { throw .invalid("request target is not origin-form") }
        // Whole target: visible ASCII only, no fragment (RFC 9112 §3.2: no "#" in a request-target).
        for b in bytes {
            if b <= 0x20 || b >= 0x7F { throw .invalid("invalid character in request target") }
            if b == UInt8(ascii: "#") { throw .invalid("fragment in request target") }
        }
        let queryMark = bytes.firstIndex(of: UInt8(ascii: "?"))
        let pathEnd = queryMark ?? bytes.count
        let query: String? = queryMark.map {
            String(decoding: bytes[($0 + 1)...], as: UTF8.self)
        }

        // 1. Decode / canonicalise percent-encodings, validate characters.
        var decoded: [UInt8] = []
        decoded.reserveCapacity(pathEnd)
        // Every percent-encoding decoded: what a lenient upstream would see.
        var plain: [UInt8] = []
        var sawPercent = false
        var i = 0
        while i < pathEnd {
            let b = bytes[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < pathEnd,
                      let hi = HTTPSyntax.hexValue(bytes[i + 1]), let lo = HTTPSyntax.hexValue(bytes[i + 2])
                else { throw .invalid("invalid percent-encoding in path") }
                let v = hi << 4 | lo
                switch v {
                case UInt8(ascii: "/"): throw .invalid("encoded slash in path")
                case UInt8(ascii: "\\"): throw .invalid("encoded backslash in path")
                case 0: throw .invalid("encoded NUL in path")
                default: break
                }
                sawPercent = true
                plain.append(v)
                if isUnreserved(v) {
                    decoded.append(v)
                } else {
                    decoded.append(UInt8(ascii: "%"))
                    decoded.append(upperHex(hi))
                    decoded.append(upperHex(lo))
                }
                i += 3
                continue
            }
            switch b {
            case UInt8(ascii: "\\"): throw .invalid("backslash in path")
            case UInt8(ascii: ";"): throw .invalid("path parameter in path")
            default:
                guard b == UInt8(ascii: "/") || isPathChar(b) else { throw .invalid("invalid character in path") }
            }
            decoded.append(b)
            plain.append(b)
            i += 1
        }
        if sawPercent {
            if String(validating: plain, as: UTF8.self) == nil { throw .invalid("path is not UTF-8 once decoded") }
            // Checked on the canonical form, so `%25%32%65` (which becomes `%252e`) is caught too.
            var k = 0
            while k + 4 < decoded.count {
                if decoded[k] == UInt8(ascii: "%"), decoded[k + 1] == UInt8(ascii: "2"), decoded[k + 2] == UInt8(ascii: "5"),
                   HTTPSyntax.hexValue(decoded[k + 3]) != nil, HTTPSyntax.hexValue(decoded[k + 4]) != nil {
                    throw .invalid("double percent-encoding in path")
                }
                k += 1
            }
        }

        // 2. Split into segments, merging repeated slashes, and remove dot-segments.
        var segments: [ArraySlice<UInt8>] = []
        var trailingSlash = false
        var start = 1  // decoded[0] == "/"
        while start <= decoded.count {
            var end = start
            while end < decoded.count && decoded[end] != UInt8(ascii: "/") { end += 1 }
            let segment = decoded[start..<end]
            let isLast = end >= decoded.count
            if segment.isEmpty {
                // Repeated slash (merged) or the trailing slash.
                if isLast { trailingSlash = true }
            } else if segment.elementsEqual([UInt8(ascii: ".")]) {
                if isLast { trailingSlash = true }
            } else if segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                // RFC 3986 §5.2.4 would clamp at the root; the gateway refuses instead (an escape above the root is an attack, not a typo).
                guard !segments.isEmpty else { throw .invalid("path escapes above the root") }
                segments.removeLast()
                if isLast { trailingSlash = true }
            } else {
                segments.append(segment)
                trailingSlash = false
            }
            start = end + 1
        }

        var out: [UInt8] = [UInt8(ascii: "/")]
        out.reserveCapacity(decoded.count)
        for (k, segment) in segments.enumerated() {
            if k > 0 { out.append(UInt8(ascii: "/")) }
            out.append(contentsOf: segment)
        }
        if trailingSlash && !segments.isEmpty { out.append(UInt8(ascii: "/")) }
        return NormalizedTarget(path: String(decoding: out, as: UTF8.self), query: query)
    }

    /// unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986 §2.3).
    private static func isUnreserved(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// pchar without pct-encoded: unreserved / sub-delims / ":" / "@" (RFC 3986 §3.3).
    /// (";" is a sub-delim but is refused earlier.)
    private static func isPathChar(_ b: UInt8) -> Bool {
        if isUnreserved(b) { return true }
        switch b {
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
             UInt8(ascii: ","), UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "@"):
            return true
        default:
            return false
        }
    }

    private static func upperHex(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "A") + nibble - 10
    }
}
