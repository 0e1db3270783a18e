import GatewayHTTP

/// Redaction of request targets (and methods) before they are logged (docs/operations.md: a token never
/// appears in any log).
///
/// Two layers, because a client decides where it puts a token:
/// 1. the values of credential parameters, in the query and the fragment (`&` or `;`
///    separated) and in path parameters (`/p;access_token=...`), matched by name after
///    percent-decoding (`access%5Ftoken` is `access_token` to every query parser), ignoring
///    ASCII case, surrounding spaces and a trailing `[]` (the array form of PHP and Rails);
/// 2. anything shaped like a compact JWS anywhere, percent-encoded or not: `eyJ` (the
///    base64url of `{"`) followed by base64url characters and at least one `.`, found in the
///    percent-decoded text and replaced in the original.
/// Not caught: a token cut into pieces across parameters, or encoded twice.
public enum LogRedaction {
    /// Parameter names whose values are credentials (lowercase).
    public static let credentialNames: Set<String> = ["access_token", "token", "id_token", "refresh_token", "jwt"]
    public static let placeholder = "REDACTED"

    /// `/p?token=abc&x=1` → `/p?token=REDACTED&x=1`; `/a/eyJhbGciOi.x.y/b` → `/a/REDACTED/b`.
    /// - Parameter target: a request-target as received (or any text to be logged).
    /// - Returns: the same text with credential values replaced; unchanged when none.
    public static func redact(_ target: String) -> String {
        // Most targets have no parameters and no token: leave them without copying.
        guard mayNeedRedaction(target) else { return target }
        var bytes = Array(target.utf8)
        let parameters = redactParameters(bytes)
        let shapes = redactTokenShapes(parameters ?? bytes)
        guard let result = shapes ?? parameters else { return target }
        bytes = result
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `text` holds a byte either layer starts from (`mayStartRedaction`). Read
    /// through its UTF-8 storage (this runs for every logged request).
    private static func mayNeedRedaction(_ text: String) -> Bool {
        let found: Bool? = text.utf8.withContiguousStorageIfAvailable { bytes in
            for b in bytes where mayStartRedaction(b) { return true }
            return false
        }
        return found ?? text.utf8.contains(where: mayStartRedaction)
    }

    /// `?`, `;`, `#`, `%` or the `J` of `eyJ`: a text without any of these is left as it is.
    @inlinable
    public static func mayStartRedaction(_ b: UInt8) -> Bool {
        b == 0x3F || b == 0x3B || b == 0x23 || b == 0x25 || b == 0x4A
    }

    // MARK: Layer 1: credential parameters

    /// nil when nothing was replaced.
    private static func redactParameters(_ bytes: [UInt8]) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var changed = false
        var i = 0
        var inQuery = false  // after `?` or `#`: `&` separates too, `/` does not end a value
        while i < bytes.count {
            let b = bytes[i]
            out.append(b)
            i += 1
            guard b == UInt8(ascii: "?") || b == UInt8(ascii: "#") || b == UInt8(ascii: ";") || (inQuery && b == UInt8(ascii: "&"))
            else { continue }
            if b == UInt8(ascii: "?") || b == UInt8(ascii: "#") { inQuery = true }
            // A parameter starts here: name up to `=`, value up to the next separator.
            var nameEnd = i
            while nameEnd < bytes.count, !isSeparator(bytes[nameEnd], inQuery: inQuery),
                  bytes[nameEnd] != UInt8(ascii: "=") { nameEnd += 1 }
            guard nameEnd < bytes.count, bytes[nameEnd] == UInt8(ascii: "="),
                  credentialNames.contains(canonicalName(bytes[i..<nameEnd]))
            else { continue }
            var valueEnd = nameEnd + 1
            while valueEnd < bytes.count, !isSeparator(bytes[valueEnd], inQuery: inQuery) { valueEnd += 1 }
            out.append(contentsOf: bytes[i...nameEnd])
            out.append(contentsOf: placeholder.utf8)
            i = valueEnd
            changed = true
        }
        return changed ? out : nil
    }

    /// Where a parameter ends: `&`, `;`, `#` in the query or fragment; `;`, `/`, `?`, `#` in
    /// the path.
    private static func isSeparator(_ b: UInt8, inQuery: Bool) -> Bool {
        switch b {
        case UInt8(ascii: ";"), UInt8(ascii: "#"): true
        case UInt8(ascii: "&"): inQuery
        case UInt8(ascii: "/"), UInt8(ascii: "?"): !inQuery
        default: false
        }
    }

    /// Percent-decoded (`%XX`; `+` as space), ASCII-lowercased, spaces around it and a
    /// trailing `[]` removed.
    private static func canonicalName(_ name: ArraySlice<UInt8>) -> String {
        var (decoded, _) = percentDecoded(name, plusIsSpace: true)
        for i in decoded.indices where decoded[i] >= 0x41 && decoded[i] <= 0x5A { decoded[i] |= 0x20 }
        while decoded.last == 0x20 { decoded.removeLast() }
        while decoded.first == 0x20 { decoded.removeFirst() }
        if decoded.count > 2, decoded.suffix(2) == [UInt8(ascii: "["), UInt8(ascii: "]")] { decoded.removeLast(2) }
        return String(decoding: decoded, as: UTF8.self)
    }

    // MARK: Layer 2: JWS-shaped text

    /// nil when nothing was replaced.
    private static func redactTokenShapes(_ bytes: [UInt8]) -> [UInt8]? {
        let (decoded, origin) = percentDecoded(bytes[...], plusIsSpace: false)
        var replace: [Range<Int>] = []  // ranges of `bytes`
        var k = 0
        while k + 3 <= decoded.count {
            // The `e` may also be the last digit of a `%XX` before it (`%aeyJ...` decodes to
            // 0xAE `yJ...`): the token is still there for whoever reads the raw target.
            let e = decoded[k] == UInt8(ascii: "e")
                || (bytes[origin[k]] == UInt8(ascii: "%") && bytes[origin[k] + 2] == UInt8(ascii: "e"))
            guard e, decoded[k + 1] == UInt8(ascii: "y"), decoded[k + 2] == UInt8(ascii: "J") else {
                k += 1
                continue
            }
            var end = k + 1
            var dots = 0
            while end < decoded.count, isBase64URL(decoded[end]) || decoded[end] == UInt8(ascii: ".") {
                if decoded[end] == UInt8(ascii: ".") { dots += 1 }
                end += 1
            }
            if dots >= 1 && end - k >= 16 {
                // From the first byte of decoded[k] to the last byte of decoded[end - 1].
                let last = end < decoded.count ? origin[end] : bytes.count
                replace.append(origin[k]..<last)
                k = end
            } else {
                k += 1
            }
        }
        guard !replace.isEmpty else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var position = 0
        for r in replace {
            out.append(contentsOf: bytes[position..<r.lowerBound])
            out.append(contentsOf: placeholder.utf8)
            position = r.upperBound
        }
        out.append(contentsOf: bytes[position...])
        return out
    }

    private static func isBase64URL(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
    }

    /// `%XX` decoded (either case of hex); `origin[i]` is where decoded byte `i` starts in
    /// the input (offset from `text.startIndex`).
    private static func percentDecoded(_ text: ArraySlice<UInt8>, plusIsSpace: Bool) -> ([UInt8], [Int]) {
        var out: [UInt8] = []
        var origin: [Int] = []
        out.reserveCapacity(text.count)
        origin.reserveCapacity(text.count)
        var i = text.startIndex
        while i < text.endIndex {
            origin.append(i - text.startIndex)
            var b = text[i]
            if b == UInt8(ascii: "%"), i + 2 < text.endIndex,
               let hi = HTTPSyntax.hexValue(text[i + 1]), let lo = HTTPSyntax.hexValue(text[i + 2]) {
                b = hi << 4 | lo
                i += 2
            } else if plusIsSpace && b == UInt8(ascii: "+") {
                b = 0x20
            }
            out.append(b)
            i += 1
        }
        return (out, origin)
    }
}
