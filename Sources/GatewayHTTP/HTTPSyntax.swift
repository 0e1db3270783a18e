/// Byte-level grammar of HTTP fields (RFC 9110 §5.1, §5.5, §5.6.2) and ASCII helpers.
/// Everything here is allocation-free except the `String` conveniences.
public enum HTTPSyntax {
    /// Whether `byte` is a `tchar` (RFC 9110 §5.6.2): "!" / "#" / "$" / "%" / "&" / "'" /
    /// "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA.
    @inlinable
    public static func isTokenChar(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A,  // DIGIT, ALPHA
             0x21, 0x23, 0x24, 0x25, 0x26, 0x27,     // ! # $ % & '
             0x2A, 0x2B, 0x2D, 0x2E,                 // * + - .
             0x5E, 0x5F, 0x60, 0x7C, 0x7E:           // ^ _ ` | ~
            true
        default:
            false
        }
    }

    /// Whether `byte` may appear inside a field value (RFC 9110 §5.5): HTAB, SP,
    /// VCHAR (0x21–0x7E) or obs-text (0x80–0xFF). CTLs other than HTAB and DEL may not.
    @inlinable
    public static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }

    /// Whether `s` is a non-empty token (RFC 9110 §5.6.2), e.g. a method or field name.
    public static func isToken(_ s: String) -> Bool {
        !s.utf8.isEmpty && s.utf8.allSatisfy(isTokenChar)
    }

    /// Whether `name` is a valid field name: a non-empty token (RFC 9110 §5.1).
    public static func isValidFieldName(_ name: String) -> Bool {
        isToken(name)
    }

    /// Whether `value` is a valid field value (RFC 9110 §5.5): only HTAB, SP, VCHAR and
    /// obs-text (non-ASCII UTF-8), with no leading or trailing SP/HTAB. Empty is valid.
    /// This is what makes a value safe to write into a header (no CR, LF, NUL).
    public static func isValidFieldValue(_ value: String) -> Bool {
        let utf8 = value.utf8
        guard let first = utf8.first, let last = utf8.last else { return true }
        if first == 0x20 || first == 0x09 || last == 0x20 || last == 0x09 { return false }
        return utf8.allSatisfy(isFieldValueByte)
    }

    /// Whether `value` is a Host field value the gateway accepts (RFC 9112 §3.2: an invalid
    /// one gets 400): `uri-host [ ":" port ]` (RFC 3986 §3.2.2–3.2.3), narrowed to what DNS
    /// names and IP addresses use, so that every reader (the route's host match, an upstream
    /// reading `X-Forwarded-Host`) sees the same host:
    /// - a name or IPv4 address: `A-Z a-z 0-9 - . _ ~`, no empty label (`..`, a leading dot),
    ///   one trailing dot allowed; no percent-encoding, commas, spaces or other sub-delims;
    /// - an IPv6 literal in brackets: hex digits, `:` and `.` (for an embedded IPv4);
    /// - an optional port of 1–5 digits up to 65535.
    /// Empty is valid (RFC 9110 §7.2: a target without an authority).
    public static func isValidHostValue<C: Collection>(_ value: C) -> Bool where C.Element == UInt8 {
        var bytes = value[...]
        guard !bytes.isEmpty else { return true }
        if bytes.first == 0x5B {  // "["
            guard let close = bytes.firstIndex(of: 0x5D) else { return false }
            let inside = bytes[bytes.index(after: bytes.startIndex)..<close]
            guard inside.count >= 2, inside.allSatisfy({ isHexDigit($0) || $0 == 0x3A || $0 == 0x2E }) else { return false }
            bytes = bytes[bytes.index(after: close)...]
        } else {
            let end = bytes.firstIndex(of: 0x3A) ?? bytes.endIndex  // ":"
            let name = bytes[..<end]
            guard !name.isEmpty else { return false }
            var previous: UInt8 = 0x2E  // as if after a dot: a leading dot is an empty label
            var index = name.startIndex
            while index != name.endIndex {
                let b = name[index]
                let isLast = name.index(after: index) == name.endIndex
                switch b {
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x5F, 0x7E: break
                case 0x2E:
                    if previous == 0x2E { return false }
                    if isLast && name.count == 1 { return false }
                default: return false
                }
                previous = b
                index = name.index(after: index)
            }
            bytes = bytes[end...]
        }
        guard let colon = bytes.first else { return true }
        guard colon == 0x3A else { return false }
        let port = bytes.dropFirst()
        guard (1...5).contains(port.count), port.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        var number = 0
        for d in port { number = number * 10 + Int(d - 0x30) }
        return number <= 65535
    }

    /// `isValidHostValue` on a buffer, walked with offsets instead of slices (the request
    /// parser checks every request's Host with it); the same rules, the same answers.
    public static func isValidHostValue(_ value: UnsafeRawBufferPointer) -> Bool {
        let n = value.count
        guard n > 0, let p = value.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return true }
        var i: Int
        if p[0] == 0x5B {  // "["
            var close = 1
            while close < n && p[close] != 0x5D { close += 1 }
            guard close < n, close - 1 >= 2 else { return false }
            for k in 1..<close {
                let b = p[k]
                guard isHexDigit(b) || b == 0x3A || b == 0x2E else { return false }
            }
            i = close + 1
        } else {
            var end = 0
            while end < n && p[end] != 0x3A { end += 1 }  // ":"
            guard end > 0 else { return false }
            var previous: UInt8 = 0x2E  // as if after a dot: a leading dot is an empty label
            for k in 0..<end {
                let b = p[k]
                switch b {
                case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x5F, 0x7E: break
                case 0x2E:
                    if previous == 0x2E { return false }
                    if k == end - 1 && end == 1 { return false }
                default: return false
                }
                previous = b
            }
            i = end
        }
        guard i < n else { return true }
        guard p[i] == 0x3A else { return false }
        guard (1...5).contains(n - i - 1) else { return false }
        var number = 0
        for k in (i + 1)..<n {
            let d = p[k]
            guard d >= 0x30 && d <= 0x39 else { return false }
            number = number * 10 + Int(d - 0x30)
        }
        return number <= 65535
    }

    /// Whether `b` is a HEXDIG (RFC 5234 B.1), either case.
    @inlinable
    public static func isHexDigit(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }

    /// The value of one hex digit (either case), nil for other bytes.
    public static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A field name for comparisons: ASCII-lowercased with `_` as `-`, so `X_Auth_Subject`
    /// equals `x-auth-subject` (CGI-style environments cannot tell them apart).
    public static func comparableFieldName(_ name: String) -> String {
        if !name.utf8.contains(where: { ($0 >= 0x41 && $0 <= 0x5A) || $0 == 0x5F }) { return name }
        // Written in place: no heap allocation for names of up to 15 bytes (small strings).
        let count = name.utf8.count
        return String(unsafeUninitializedCapacity: count) { buffer in
            for (i, b) in name.utf8.enumerated() {
                buffer[i] = (b >= 0x41 && b <= 0x5A) ? b | 0x20 : (b == 0x5F ? 0x2D : b)
            }
            return count
        }
    }

    /// ASCII lowercase of one byte; other bytes unchanged.
    @inlinable
    public static func lowercased(_ byte: UInt8) -> UInt8 {
        (byte >= 0x41 && byte <= 0x5A) ? byte | 0x20 : byte
    }

    /// ASCII case-insensitive equality (RFC 9110 §5.1 field names, §7.6.1 connection
    /// options, etc.). Non-ASCII bytes must match exactly.
    public static func equalsIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        return HTTPField.withUTF8(a) { x in HTTPField.withUTF8(b) { y in equalsIgnoringASCIICase(x, y) } }
    }

    /// ASCII case-insensitive equality of two byte strings; non-ASCII bytes must match exactly.
    @inlinable
    public static func equalsIgnoringASCIICase(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        let n = a.count
        guard n == b.count else { return false }
        var i = 0
        while i < n {
            let x = a[i], y = b[i]
            // Equal, or the same letter in the other case (0x20 apart, both ALPHA).
            if x != y && (x ^ y != 0x20 || lowercased(x) != lowercased(y)) { return false }
            i += 1
        }
        return true
    }

    /// Whether two field names are equal as `comparableFieldName` makes them: ASCII
    /// case-insensitive, `_` the same as `-`.
    @inlinable
    public static func equalsAsFieldNames(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        let n = a.count
        guard n == b.count else { return false }
        var i = 0
        while i < n {
            let x = a[i], y = b[i]
            if x != y && comparable(x) != comparable(y) { return false }
            i += 1
        }
        return true
    }

    /// One byte as `comparableFieldName` maps it: ASCII lowercase, `_` as `-`.
    @inlinable
    public static func comparable(_ byte: UInt8) -> UInt8 {
        byte == 0x5F ? 0x2D : lowercased(byte)
    }

    /// Whether `bytes` equals the lowercase ASCII `literal` ignoring ASCII case; with
    /// `underscoreAsHyphen`, a `_` in `bytes` also matches a `-` of `literal`.
    @inlinable
    public static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString,
                                       underscoreAsHyphen: Bool = false) -> Bool {
        let n = bytes.count
        guard n == literal.utf8CodeUnitCount else { return false }
        let lit = literal.utf8Start
        var i = 0
        while i < n {
            let b = underscoreAsHyphen ? comparable(bytes[i]) : lowercased(bytes[i])
            if b != lit[i] { return false }
            i += 1
        }
        return true
    }

    /// Calls `body` with each non-empty, OWS-trimmed element of the comma-separated list
    /// `value` (RFC 9110 §5.6.1), as a slice of `value`'s bytes.
    @inlinable
    public static func forEachListElement(_ value: UnsafeRawBufferPointer,
                                          _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let n = value.count
        var start = 0
        while start <= n {
            var end = start
            while end < n && value[end] != UInt8(ascii: ",") { end += 1 }
            var s = start, e = end
            while s < e && (value[s] == 0x20 || value[s] == 0x09) { s += 1 }
            while e > s && (value[e - 1] == 0x20 || value[e - 1] == 0x09) { e -= 1 }
            if s < e { try body(UnsafeRawBufferPointer(rebasing: value[s..<e])) }
            start = end + 1
        }
    }

    /// ASCII lowercase of `s` (non-ASCII left as is), for case-insensitive keys.
    public static func asciiLowercased(_ s: String) -> String {
        if !s.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { return s }
        // Written in place: no heap allocation for names of up to 15 bytes (small strings).
        let count = s.utf8.count
        return String(unsafeUninitializedCapacity: count) { buffer in
            for (i, b) in s.utf8.enumerated() { buffer[i] = lowercased(b) }
            return count
        }
    }

    /// Splits a comma-separated list field value (RFC 9110 §5.6.1) into its non-empty
    /// elements, each with surrounding OWS removed.
    public static func listElements(_ value: String) -> [Substring] {
        value.split(separator: ",", omittingEmptySubsequences: true).compactMap { part in
            let trimmed = part.drop(while: { $0 == " " || $0 == "\t" })
            var end = trimmed.endIndex
            while end > trimmed.startIndex {
                let prev = trimmed.index(before: end)
                if trimmed[prev] == " " || trimmed[prev] == "\t" { end = prev } else { break }
            }
            let element = trimmed[trimmed.startIndex..<end]
            return element.isEmpty ? nil : element
        }
    }
}
