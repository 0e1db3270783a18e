/// What a forwarded request field means to the upstream request libcurl writes, by its
/// name (compared in ASCII case only, RFC 9110 §5.1).
enum RequestFieldKind {
    /// `Content-Length`, `Transfer-Encoding` or `Expect`: never forwarded as given; framing
    /// comes from the request body's kind alone (RFC 9112 §6), and the upstream exchange
    /// never uses 100-continue (RFC 9110 §10.1.1).
    case framing
    /// `Accept`: given, so libcurl's own `Accept: */*` is not suppressed by an empty line.
    case accept
    case other

    init(_ name: UnsafeRawBufferPointer) {
        if Self.equalsLowercase(name, "content-length") || Self.equalsLowercase(name, "transfer-encoding")
            || Self.equalsLowercase(name, "expect") {
            self = .framing
        } else if Self.equalsLowercase(name, "accept") {
            self = .accept
        } else {
            self = .other
        }
    }

    /// Whether `bytes` equals the lowercase ASCII `lowercase`, ignoring ASCII case only.
    static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let expected = lowercase.utf8Start
        for i in 0..<bytes.count {
            var c = bytes[i]
            if c >= 0x41 && c <= 0x5A { c |= 0x20 }
            if c != expected[i] { return false }
        }
        return true
    }
}
