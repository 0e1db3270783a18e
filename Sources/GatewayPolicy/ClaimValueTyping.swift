import GatewayJOSE

/// How an unquoted `auth.claims` value is typed: the YAML 1.2 core schema (yaml.org/spec/1.2.2
/// §10.3.2), not YAML 1.1 (which reads `yes`, `no`, `on`, `off` as booleans and `0x1F` as 31).
///
/// - `true`/`True`/`TRUE`, `false`/`False`/`FALSE`: booleans (nothing else is).
/// - `null`, `Null`, `NULL`, `~`, empty: null (`.null`, an error for a claim).
/// - decimal integers `[-+]?[0-9]+` and floats `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`:
///   exact numbers (`JSONNumber`, never through `Double`; `+`, leading zeros and a bare `.`
///   normalised away, so `007` is 7).
/// - `.inf`, `.nan` and their variants: `.notFinite` (a JSON claim can never hold them).
/// - everything else is a string, including hexadecimal `0x1F` and octal `0o17`: a token's
///   claims are JSON, which has no such notation, so an ID written that way is text.
enum ClaimValueTyping {
    enum Resolution: Equatable {
        case value(ClaimValue)
        case null
        case notFinite
    }

    static func resolvePlain(_ text: String) -> Resolution {
        switch text {
        case "true", "True", "TRUE": return .value(.bool(true))
        case "false", "False", "FALSE": return .value(.bool(false))
        case "", "~", "null", "Null", "NULL": return .null
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN":
            return .notFinite
        default: break
        }
        if let n = coreNumber(Array(text.utf8)) { return .value(.number(n)) }
        return .value(.string(text))
    }

    /// A core-schema decimal integer or float as an exact JSON number, else nil.
    static func coreNumber(_ b: [UInt8]) -> JSONNumber? {
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        var i = 0
        var negative = false
        if i < b.count, b[i] == 0x2B || b[i] == 0x2D { negative = b[i] == 0x2D; i += 1 }
        var integer: [UInt8] = []
        while i < b.count, isDigit(b[i]) { integer.append(b[i]); i += 1 }
        var fraction: [UInt8] = []
        var hasPoint = false
        if i < b.count, b[i] == 0x2E {
            hasPoint = true
            i += 1
            while i < b.count, isDigit(b[i]) { fraction.append(b[i]); i += 1 }
        }
        // `.5` and `5.` are floats; `.` alone is not a number.
        guard !integer.isEmpty || !fraction.isEmpty else { return nil }
        if hasPoint && integer.isEmpty && fraction.isEmpty { return nil }
        var exponent: [UInt8] = []
        if i < b.count, b[i] == 0x65 || b[i] == 0x45 {
            exponent.append(0x65)
            i += 1
            if i < b.count, b[i] == 0x2B || b[i] == 0x2D { exponent.append(b[i]); i += 1 }
            let start = i
            while i < b.count, isDigit(b[i]) { exponent.append(b[i]); i += 1 }
            guard i > start else { return nil }
        }
        guard i == b.count else { return nil }
        // RFC 8259 form: no `+`, no leading zeros, a digit on each side of the point.
        let first = integer.firstIndex { $0 != 0x30 } ?? integer.count
        var digits = Array(integer[first...])
        if digits.isEmpty { digits = [0x30] }
        var text = (negative ? "-" : "") + String(decoding: digits, as: UTF8.self)
        if !fraction.isEmpty { text += "." + String(decoding: fraction, as: UTF8.self) }
        text += String(decoding: exponent, as: UTF8.self)
        return JSONNumber(text)
    }
}
