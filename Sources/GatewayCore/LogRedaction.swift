import GatewayHTTP

/// Redaction of request targets before they are logged (SPEC §5: a token never appears in
/// any log).
///
/// Two layers, because a client decides where it puts a token:
/// 1. the values of credential parameters, in the query (`&` or `;` separated) and in path
///    parameters (`/p;access_token=...`), matched by name after percent-decoding
///    (`access%5Ftoken` is `access_token` to every query parser) and ignoring ASCII case;
/// 2. anything shaped like a compact JWS anywhere in the target: `eyJ` (the base64url of
///    `{"`) followed by base64url characters and at least one `.`.
public enum LogRedaction {
    /// Parameter names whose values are credentials (lowercase).
    public static let credentialNames: Set<String> = ["access_token", "token", "id_token", "refresh_token", "jwt"]
    public static let placeholder = "REDACTED"

    /// `/p?token=abc&x=1` → `/p?token=REDACTED&x=1`; `/a/eyJhbGciOi.x.y/b` → `/a/REDACTED/b`.
    /// - Parameter target: the request-target as received (origin- or absolute-form).
    /// - Returns: the same text with credential values replaced; unchanged when none.
    public static func redact(_ target: String) -> String {
        // Most targets have no parameters and no token: leave them without copying.
        var mayHold = false
        var previous: (UInt8, UInt8) = (0, 0)
        for b in target.utf8 {
            if b == UInt8(ascii: "?") || b == UInt8(ascii: ";")
                || (b == UInt8(ascii: "J") && previous == (UInt8(ascii: "e"), UInt8(ascii: "y"))) {
                mayHold = true
                break
            }
            previous = (previous.1, b)
        }
        guard mayHold else { return target }
        let bytes = Array(target.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var changed = false
        // Layer 1: name=value parameters after the first `?` or `;`.
        var i = 0
        var inParameters = false
        while i < bytes.count {
            let b = bytes[i]
            out.append(b)
            i += 1
            if b == UInt8(ascii: "?") || b == UInt8(ascii: ";") || (inParameters && b == UInt8(ascii: "&")) {
                if b == UInt8(ascii: "?") { inParameters = true }
                // A parameter starts here: name up to `=`, value up to the next separator.
                var nameEnd = i
                while nameEnd < bytes.count, !isSeparator(bytes[nameEnd], inQuery: inParameters),
                      bytes[nameEnd] != UInt8(ascii: "=") { nameEnd += 1 }
                guard nameEnd < bytes.count, bytes[nameEnd] == UInt8(ascii: "="),
                      credentialNames.contains(decodedLowercase(bytes[i..<nameEnd]))
                else { continue }
                var valueEnd = nameEnd + 1
                while valueEnd < bytes.count, !isSeparator(bytes[valueEnd], inQuery: inParameters) { valueEnd += 1 }
                out.append(contentsOf: bytes[i...nameEnd])
                out.append(contentsOf: placeholder.utf8)
                i = valueEnd
                changed = true
            }
        }
        // Layer 2: JWS-shaped runs anywhere.
        var scrubbed: [UInt8] = []
        scrubbed.reserveCapacity(out.count)
        var k = 0
        while k < out.count {
            if k + 3 <= out.count, out[k] == UInt8(ascii: "e"), out[k + 1] == UInt8(ascii: "y"), out[k + 2] == UInt8(ascii: "J") {
                var end = k
                var dots = 0
                while end < out.count, isBase64URL(out[end]) || out[end] == UInt8(ascii: ".") {
                    if out[end] == UInt8(ascii: ".") { dots += 1 }
                    end += 1
                }
                if dots >= 1 && end - k >= 16 {
                    scrubbed.append(contentsOf: placeholder.utf8)
                    k = end
                    changed = true
                    continue
                }
            }
            scrubbed.append(out[k])
            k += 1
        }
        return changed ? String(decoding: scrubbed, as: UTF8.self) : target
    }

    /// Where a parameter ends: `&`, `;`, `#` in the query; `;`, `/`, `?`, `#` in the path.
    private static func isSeparator(_ b: UInt8, inQuery: Bool) -> Bool {
        switch b {
        case UInt8(ascii: ";"), UInt8(ascii: "#"): true
        case UInt8(ascii: "&"): inQuery
        case UInt8(ascii: "/"), UInt8(ascii: "?"): !inQuery
        default: false
        }
    }

    private static func isBase64URL(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
    }

    /// Percent-decoded (`%XX`, either case; `+` as space), ASCII-lowercased name.
    private static func decodedLowercase(_ name: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(name.count)
        var i = name.startIndex
        while i < name.endIndex {
            var b = name[i]
            if b == UInt8(ascii: "%"), i + 2 < name.endIndex,
               let hi = HTTPSyntax.hexValue(name[i + 1]), let lo = HTTPSyntax.hexValue(name[i + 2]) {
                b = hi << 4 | lo
                i += 2
            } else if b == UInt8(ascii: "+") {
                b = 0x20
            }
            out.append(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
