// Byte-level helpers of `HTTPRequestParser` for one head: the request-target rules, the
// version, field lines, `Content-Length` and list values. Ranges index the caller's buffer.
extension HTTPRequestParser {
    /// Request-target form rules (RFC 9112 §3.2): CONNECT is refused with 405 (no tunnels);
    /// `*` only with OPTIONS; authority-form only with CONNECT, so never; absolute-form only
    /// when its authority equals the Host field (ASCII case-insensitive), so the gateway and
    /// the upstream cannot disagree about the target host (§3.2.2).
    static func checkTarget(_ buf: UnsafeRawBufferPointer, method: Range<Int>, target: Range<Int>,
                            host: Range<Int>?) throws(HTTPParseError) {
        let methodBytes = UnsafeRawBufferPointer(rebasing: buf[method])
        if methodBytes.count == 7 && methodBytes.elementsEqual("CONNECT".utf8) { throw .methodNotAllowed }
        // origin-form, by far the most common: no String needed to classify it.
        if buf[target.lowerBound] == UInt8(ascii: "/") { return }
        let form = try HTTPRequestTarget.form(string(buf, target))
        switch form {
        case .origin:
            return
        case .asterisk:
            if !methodBytes.elementsEqual("OPTIONS".utf8) {
                throw .badRequest("asterisk-form request target without OPTIONS")
            }
        case .authority:
            throw .badRequest("authority-form request target without CONNECT")
        case .absolute(_, let authority, _):
            // HTTP/1.0 may omit Host: the authority is then the host everyone reads.
            if !HTTPSyntax.isValidHostValue(authority.utf8) {
                throw .badRequest("invalid request target authority")
            }
            if let host {
                let equal = HTTPField.withUTF8(authority) {
                    HTTPSyntax.equalsIgnoringASCIICase(UnsafeRawBufferPointer(rebasing: buf[host]), $0)
                }
                if !equal { throw .badRequest("request target authority differs from Host") }
            }
        }
    }

    /// HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3), occupying `buf[from..<to]`.
    static func version(_ buf: UnsafeRawBufferPointer, from: Int, to: Int) throws(HTTPParseError) -> HTTPVersion {
        guard to - from == 8,
              buf[from] == UInt8(ascii: "H"), buf[from + 1] == UInt8(ascii: "T"),
              buf[from + 2] == UInt8(ascii: "T"), buf[from + 3] == UInt8(ascii: "P"),
              buf[from + 4] == UInt8(ascii: "/"), isDigit(buf[from + 5]),
              buf[from + 6] == UInt8(ascii: "."), isDigit(buf[from + 7])
        else { throw .badRequest("malformed HTTP version") }
        switch (buf[from + 5], buf[from + 7]) {
        case (UInt8(ascii: "1"), UInt8(ascii: "1")): return .http11
        case (UInt8(ascii: "1"), UInt8(ascii: "0")): return .http10
        default: throw .versionNotSupported
        }
    }

    /// Validates one field line `buf[lineStart..<lineEnd]` (no CRLF) and returns the name
    /// and the OWS-trimmed value ranges (RFC 9112 §5, RFC 9110 §5.5).
    static func fieldLine(_ buf: UnsafeRawBufferPointer, lineStart: Int, lineEnd: Int) throws(HTTPParseError) -> (name: Range<Int>, value: Range<Int>) {
        let first = buf[lineStart]
        if first == sp || first == htab { throw .badRequest("obs-fold line folding") }
        var i = lineStart
        while i < lineEnd {
            let b = buf[i]
            if b == UInt8(ascii: ":") { break }
            if b == sp || b == htab { throw .badRequest("whitespace before colon") }
            if !HTTPSyntax.isTokenChar(b) { throw .badRequest("invalid character in field name") }
            i += 1
        }
        guard i < lineEnd else { throw .badRequest("field line without colon") }
        guard i > lineStart else { throw .badRequest("empty field name") }
        let nameEnd = i
        i += 1
        var valueStart = i
        while valueStart < lineEnd && (buf[valueStart] == sp || buf[valueStart] == htab) { valueStart += 1 }
        var valueEnd = lineEnd
        while valueEnd > valueStart && (buf[valueEnd - 1] == sp || buf[valueEnd - 1] == htab) { valueEnd -= 1 }
        var j = valueStart
        while j < valueEnd {
            if !HTTPSyntax.isFieldValueByte(buf[j]) { throw .badRequest("invalid character in field value") }
            j += 1
        }
        return (lineStart..<nameEnd, valueStart..<valueEnd)
    }

    /// Content-Length = 1*DIGIT (RFC 9110 §8.6), refusing lists, signs and overflow.
    static func contentLength(_ buf: UnsafeRawBufferPointer, _ range: Range<Int>) throws(HTTPParseError) -> UInt64 {
        guard !range.isEmpty else { throw .badRequest("invalid Content-Length") }
        var value: UInt64 = 0
        for k in range {
            let b = buf[k]
            guard isDigit(b) else { throw .badRequest("invalid Content-Length") }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(b &- UInt8(ascii: "0")))
            if o1 || o2 { throw .badRequest("Content-Length too large") }
            value = sum
        }
        return value
    }

    /// The method token `buf[range]` as a String: the methods of RFC 9110 §9.3 (and PATCH,
    /// RFC 5789) as literals, compared byte for byte (case-sensitive, §9.1), so the usual
    /// request builds no String for its method; any other token is built from its bytes.
    static func method(_ buf: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        let m = UnsafeRawBufferPointer(rebasing: buf[range])
        func equals(_ literal: StaticString) -> Bool {
            let text = literal.utf8Start
            for k in 0..<m.count where m[k] != text[k] { return false }
            return true
        }
        switch m.count {
        case 3 where equals("GET"): return "GET"
        case 3 where equals("PUT"): return "PUT"
        case 4 where equals("POST"): return "POST"
        case 4 where equals("HEAD"): return "HEAD"
        case 5 where equals("PATCH"): return "PATCH"
        case 6 where equals("DELETE"): return "DELETE"
        case 7 where equals("OPTIONS"): return "OPTIONS"
        default: return string(buf, range)
        }
    }

    static func string(_ buf: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: buf[range]), as: UTF8.self)
    }

    static func isDigit(_ b: UInt8) -> Bool {
        b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")
    }
}
