/// A JWS Compact Serialization split and decoded, not verified (RFC 7515 §7.1, §5.2 steps 1–7).
///
/// The lower-level entry for callers (and tests) that verify signatures over payloads that
/// are not JWT claim sets; `TokenVerifier` does the whole JWT check.
public struct JWSCompact: Sendable {
    /// The JOSE header (a JSON object; duplicate member names refused).
    public var header: JSONValue
    /// The decoded payload bytes (not necessarily JSON).
    public var payload: [UInt8]
    /// ASCII `BASE64URL(header) '.' BASE64URL(payload)`, the JWS Signing Input (RFC 7515 §5.1 step 6).
    public var signingInput: [UInt8]
    /// The decoded signature.
    public var signature: [UInt8]

    /// Largest token accepted, bytes (docs/request-handling.md).
    public static let maxTokenBytes = 8 * 1024

    /// Splits and decodes `token`.
    /// - Throws: `TokenError.malformed` when over `maxTokenBytes`, not exactly three
    ///   dot-separated parts (a five-part JWE included), not strict base64url, or the header
    ///   is not a JSON object.
    public static func parse(_ token: Substring) throws(TokenError) -> JWSCompact {
        let bytes = Array(token.utf8)
        return try bytes.withUnsafeBufferPointer { (b) throws(TokenError) -> JWSCompact in
            let parts = try split(b)
            let header = try JSONReader.parse(parts.header)
            guard case .object = header else { throw TokenError.malformed("header is not a JSON object") }
            return JWSCompact(header: header, payload: parts.payload, signingInput: Array(b[parts.signingInput]),
                              signature: parts.signature)
        }
    }

    /// RFC 7515 §7.1: exactly three base64url parts separated by '.'.
    static func split(_ b: UnsafeBufferPointer<UInt8>) throws(TokenError) -> (header: [UInt8], payload: [UInt8], signingInput: Range<Int>, signature: [UInt8]) {
        guard b.count <= maxTokenBytes else { throw TokenError.malformed("token over 8 KiB") }
        // The first two dots; a third means a JWE or a bad token.
        var first = -1, second = -1
        var k = 0
        while k < b.count {
            // Eight bytes at a time while none is a dot (SWAR: a zero byte in word ^ "........").
            if k + 8 <= b.count, let base = UnsafeRawPointer(b.baseAddress) {
                let w = base.loadUnaligned(fromByteOffset: k, as: UInt64.self) ^ 0x2E2E_2E2E_2E2E_2E2E
                if (w &- 0x0101_0101_0101_0101) & ~w & 0x8080_8080_8080_8080 == 0 { k += 8; continue }
            }
            if b[k] == UInt8(ascii: ".") {
                if first < 0 { first = k } else if second < 0 { second = k } else {
                    throw TokenError.malformed("not three parts (JWE and JSON serialization not accepted)")
                }
            }
            k += 1
        }
        guard second >= 0 else { throw TokenError.malformed("not three parts") }
        guard let h = Base64URL.decode(bytes: UnsafeBufferPointer(rebasing: b[0..<first])),
              let p = Base64URL.decode(bytes: UnsafeBufferPointer(rebasing: b[(first + 1)..<second])),
              let s = Base64URL.decode(bytes: UnsafeBufferPointer(rebasing: b[(second + 1)..<b.count])) else {
            throw TokenError.malformed("not base64url")
        }
        return (h, p, 0..<second, s)
    }
}
