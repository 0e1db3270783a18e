// Pure parsers for the scalar formats of gateway.yml: durations, sizes,
// listen addresses, upstream URLs and HTTP field names. No I/O.
import Foundation
import GatewayHTTP

/// Why a scalar could not be read; `reason` is a short, user-facing phrase that never
/// contains the scalar's value (callers add it when it is safe to show).
public enum ScalarError: Error, Sendable, Equatable {
    case invalid(reason: String)
}

/// Parsers for the value formats used in `gateway.yml`.
public enum ConfigScalars {
    /// Largest accepted duration, in seconds (about 31 years): keeps later conversions to
    /// integer nanoseconds (Dispatch) from overflowing.
    public static let maxDuration: Double = 1_000_000_000

    /// Parses a duration: one non-negative integer or decimal number followed by one unit
    /// (`ms`, `s`, `m`, `h`), e.g. `250ms`, `30s`, `1.5m`, `24h`.
    /// - Returns: seconds.
    /// - Throws: `ScalarError.invalid` for a missing/unknown unit, a negative or malformed
    ///   number, or a value above `maxDuration`.
    public static func duration(_ text: String) throws(ScalarError) -> Double {
        let (number, unit) = try splitNumber(text, kind: "duration")
        let scale: Double
        switch unit {
        case "ms": scale = 0.001
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "": throw .invalid(reason: "missing unit (use ms, s, m or h)")
        default: throw .invalid(reason: "unknown unit `\(unit)` (use ms, s, m or h)")
        }
        guard let value = Double(number) else { throw .invalid(reason: "expected a number followed by ms, s, m or h") }
        let seconds = value * scale
        guard seconds.isFinite, seconds <= maxDuration else { throw .invalid(reason: "too large") }
        return seconds
    }

    /// Parses a size: a non-negative integer followed by an optional unit: `B` (or none),
    /// `KiB`, `MiB`, `GiB` (binary, 1024ⁿ) or `KB`, `MB`, `GB` (decimal, 1000ⁿ).
    /// - Returns: bytes.
    /// - Throws: `ScalarError.invalid` for an unknown unit, a negative, fractional or
    ///   malformed number, or a result that does not fit in `Int`.
    public static func size(_ text: String) throws(ScalarError) -> Int {
        let (number, unit) = try splitNumber(text, kind: "size")
        let scale: Int
        switch unit {
        case "", "B": scale = 1
        case "KiB": scale = 1 << 10
        case "MiB": scale = 1 << 20
        case "GiB": scale = 1 << 30
        case "KB": scale = 1_000
        case "MB": scale = 1_000_000
        case "GB": scale = 1_000_000_000
        default: throw .invalid(reason: "unknown unit `\(unit)` (use B, KiB, MiB, GiB, KB, MB or GB)")
        }
        guard number.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw .invalid(reason: "must be a whole number of bytes")
        }
        guard let value = Int(number) else { throw .invalid(reason: "too large") }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: scale)
        guard !overflow else { throw .invalid(reason: "too large") }
        return bytes
    }

    /// Splits `12.5ms` into ("12.5", "ms"); rejects signs, empty numbers and stray characters.
    private static func splitNumber(_ text: String, kind: String) throws(ScalarError) -> (String, String) {
        let bytes = Array(text.utf8)
        if bytes.first == UInt8(ascii: "-") { throw .invalid(reason: "must not be negative") }
        var i = 0
        var dots = 0
        while i < bytes.count, (bytes[i] >= 0x30 && bytes[i] <= 0x39) || bytes[i] == UInt8(ascii: ".") {
            if bytes[i] == UInt8(ascii: ".") { dots += 1 }
            i += 1
        }
        let number = String(decoding: bytes[0..<i], as: UTF8.self)
        let unit = String(decoding: bytes[i...], as: UTF8.self)
        let digits = number.utf8.filter { $0 != UInt8(ascii: ".") }.count
        guard digits > 0, dots <= 1, !number.hasPrefix("."), !number.hasSuffix("."),
              unit.utf8.allSatisfy({ ($0 | 0x20) >= 0x61 && ($0 | 0x20) <= 0x7A })
        else {
            throw .invalid(reason: kind == "duration"
                ? "expected a number followed by ms, s, m or h"
                : "expected a whole number of bytes, optionally followed by B, KiB, MiB, GiB, KB, MB or GB")
        }
        return (number, unit)
    }

    /// Parses `host:port`, `[v6]:port` (port 0...65535; 0 means an ephemeral port).
    /// `host` must be an IPv4 dotted quad, a bracketed IPv6 literal, or `localhost`
    /// (mapped to `127.0.0.1` so the listener never depends on name resolution).
    /// - Throws: `ScalarError.invalid` describing the problem.
    public static func listenAddress(_ text: String) throws(ScalarError) -> ListenAddress {
        let host: String
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .invalid(reason: "missing `]` after the IPv6 address") }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .invalid(reason: "expected `:PORT` after `]`") }
            portText = rest.dropFirst()
            guard isIPv6(host) else { throw .invalid(reason: "`\(host)` is not an IPv6 address") }
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .invalid(reason: "expected HOST:PORT") }
            let h = String(text[..<colon])
            guard !h.contains(":") else { throw .invalid(reason: "an IPv6 address must be in brackets, e.g. `[::]:8080`") }
            portText = text[text.index(after: colon)...]
            if h == "localhost" {
                host = "127.0.0.1"
            } else {
                guard isIPv4(h) else { throw .invalid(reason: "host must be an IP address or `localhost`") }
                host = h
            }
        }
        guard let port = parsePort(portText) else { throw .invalid(reason: "port must be a number from 0 to 65535") }
        return ListenAddress(host: host, port: port)
    }

    /// Decimal port without sign or leading junk, 0...65535.
    static func parsePort(_ text: Substring) -> UInt16? {
        guard !text.isEmpty, text.utf8.count <= 5, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let value = Int(text), value <= 65535
        else { return nil }
        return UInt16(value)
    }

    /// Dotted-quad IPv4 (RFC 3986 §3.2.2 `IPv4address`): four decimal octets, no leading zeros.
    public static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let v = Int(part), v <= 255, part == "0" || !part.hasPrefix("0")
            else { return false }
        }
        return true
    }

    /// IPv6 literal (RFC 4291 §2.2 text forms, optionally ending in a dotted quad), without brackets
    /// or zone ID.
    public static func isIPv6(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 45 else { return false }
        var groups = 0
        var sawDoubleColon = false
        let parts = text.components(separatedByString: "::")
        guard parts.count <= 2 else { return false }
        if parts.count == 2 { sawDoubleColon = true }
        for (p, part) in parts.enumerated() {
            if part.isEmpty { continue }
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, field) in fields.enumerated() {
                let isLast = p == parts.count - 1 && i == fields.count - 1
                if isLast, field.contains(".") {
                    guard isIPv4(String(field)) else { return false }
                    groups += 2
                    continue
                }
                guard !field.isEmpty, field.count <= 4, field.utf8.allSatisfy(HTTPSyntax.isHexDigit) else { return false }
                groups += 1
            }
        }
        return sawDoubleColon ? groups <= 7 : groups == 8
    }

    /// `text` with control characters escaped (`\r`, `\n`, `\t`, `\u{7F}`...), so a value
    /// can be shown inside a one-line error message.
    static func printable(_ text: String) -> String {
        var out = ""
        for u in text.unicodeScalars {
            switch u {
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where u.value < 0x20 || (0x7F...0x9F).contains(u.value):
                out += "\\u{" + String(u.value, radix: 16, uppercase: true) + "}"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    /// RFC 9110 §5.6.2 `token` (field names §5.1, methods §9.1): `HTTPSyntax.isToken`.
    public static func isToken(_ text: String) -> Bool { HTTPSyntax.isToken(text) }

    /// A DNS-style host name (RFC 1123 §2.1 labels, `_` tolerated): letters, digits, `-`, `_`
    /// and dots, no empty label.
    public static func isHostName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63,
                  label.utf8.allSatisfy({ b in
                      (b >= 0x30 && b <= 0x39) || ((b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A)
                          || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
                  })
            else { return false }
        }
        return true
    }

    /// Parses an upstream URL (RFC 3986 §3): `http` or `https`, a host (name, IPv4 or bracketed
    /// IPv6), an optional port (default 80/443), an optional path kept as a prefix without its
    /// trailing `/`. No userinfo, query or fragment.
    /// - Returns: (scheme lowercased, host as written without brackets, port, base path).
    /// - Throws: `ScalarError.invalid` describing the problem.
    public static func upstreamURL(_ text: String) throws(ScalarError)
        -> (scheme: String, host: String, port: UInt16, basePath: String) {
        guard let sep = text.range(of: "://") else { throw .invalid(reason: "expected http://HOST[:PORT][/PATH] or https://...") }
        let scheme = text[..<sep.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            let hint = suggestion(for: scheme, among: ["http", "https"]).map { "; did you mean `\($0)`?" } ?? ""
            throw .invalid(reason: "scheme must be http or https" + hint)
        }
        guard !text.contains("?") else { throw .invalid(reason: "a query is not allowed") }
        guard !text.contains("#") else { throw .invalid(reason: "a fragment is not allowed") }
        let rest = text[sep.upperBound...]
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        guard !authority.contains("@") else { throw .invalid(reason: "userinfo (user:password@) is not allowed") }
        guard !authority.isEmpty else { throw .invalid(reason: "missing host") }
        let host: String
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .invalid(reason: "missing `]` after the IPv6 address") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .invalid(reason: "expected `:PORT` after `]`") }
                portText = after.dropFirst()
            }
            guard isIPv6(host) else { throw .invalid(reason: "invalid IPv6 address") }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                host = String(authority[..<colon])
                portText = authority[authority.index(after: colon)...]
            } else {
                host = String(authority)
            }
            guard isHostName(host) else { throw .invalid(reason: "invalid host") }
        }
        var port: UInt16 = scheme == "https" ? 443 : 80
        if let portText {
            guard let p = parsePort(portText), p != 0 else { throw .invalid(reason: "port must be a number from 1 to 65535") }
            port = p
        }
        guard path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }) else {
            throw .invalid(reason: "the path holds a character that is not allowed")
        }
        while path.hasSuffix("/") { path.removeLast() }
        return (scheme, host, port, path)
    }
}

extension String {
    /// Splits on a multi-character separator (keeps empty pieces).
    func components(separatedByString sep: String) -> [String] {
        var result: [String] = []
        var rest = self[...]
        while let r = rest.range(of: sep) {
            result.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        result.append(String(rest))
        return result
    }
}

/// Levenshtein distance, case-insensitive, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let x = Array(a.lowercased()), y = Array(b.lowercased())
    if x.isEmpty { return y.count }
    if y.isEmpty { return x.count }
    var prev = Array(0...y.count)
    var cur = [Int](repeating: 0, count: y.count + 1)
    for i in 1...x.count {
        cur[0] = i
        for j in 1...y.count {
            cur[j] = Swift.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[y.count]
}

/// The closest candidate within edit distance 2 (1 for words of up to 3 characters, where two
/// edits turn most words into most others; never the whole word), the first on ties; else the
/// first candidate the word (3 characters or more) begins, like `warn` for `warning`. Used for
/// every "did you mean": unknown keys, unknown names (issuers, upstreams), enumerated values.
func suggestion(for word: String, among candidates: [String]) -> String? {
    let limit = min(word.count <= 3 ? 1 : 2, word.count - 1)
    var best: (String, Int)?
    for c in candidates where c != word {
        let d = editDistance(word, c)
        if d <= limit, best == nil || d < best!.1 { best = (c, d) }
    }
    if let best { return best.0 }
    guard word.count >= 3 else { return nil }
    let lower = word.lowercased()
    return candidates.first { $0.count > word.count && $0.lowercased().hasPrefix(lower) }
}
