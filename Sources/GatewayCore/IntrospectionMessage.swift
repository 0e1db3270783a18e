import GatewayJOSE

/// The bytes of an RFC 7662 introspection request and the reading of its response. Pure.
public enum IntrospectionMessage {
    /// Most response body bytes read; a longer body is a failure (503).
    public static let maxResponseBytes = 64 * 1024
    /// Seconds for the whole call (connect included); a slower endpoint is a failure (503).
    public static let timeout: Double = 5

    /// RFC 7662 §2.1 request body: `token=<token>&token_type_hint=access_token`, as
    /// `application/x-www-form-urlencoded`.
    public static func formBody<Token: StringProtocol>(token: Token) -> [UInt8] {
        var out: [UInt8] = Array("token=".utf8)
        out.reserveCapacity(token.utf8.count + 40)
        appendFormEncoded(token, to: &out)
        out.append(contentsOf: "&token_type_hint=access_token".utf8)
        return out
    }

    /// RFC 6749 §2.3.1 client authentication: `Basic base64(form(client_id) ":" form(secret))`,
    /// each part `application/x-www-form-urlencoded` before they are joined (so a `:` in the
    /// identifier cannot move the split), then base64 with padding (RFC 7617 §2).
    public static func basicAuthorization(clientID: String, secret: String) -> String {
        var credentials: [UInt8] = []
        appendFormEncoded(clientID, to: &credentials)
        credentials.append(UInt8(ascii: ":"))
        appendFormEncoded(secret, to: &credentials)
        var b64 = Array(Base64URL.encode(credentials).utf8)
        for i in b64.indices {
            if b64[i] == UInt8(ascii: "-") { b64[i] = UInt8(ascii: "+") } else if b64[i] == UInt8(ascii: "_") { b64[i] = UInt8(ascii: "/") }
        }
        while b64.count % 4 != 0 { b64.append(UInt8(ascii: "=")) }
        return "Basic " + String(decoding: b64, as: UTF8.self)
    }

    /// The WHATWG `application/x-www-form-urlencoded` byte serializer (as RFC 6749
    /// Appendix B uses it): ASCII letters, digits and `*-._` stay, a space becomes `+`,
    /// every other byte of the UTF-8 text becomes `%XX`.
    static func appendFormEncoded<Text: StringProtocol>(_ text: Text, to out: inout [UInt8]) {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        for b in text.utf8 {
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2A, 0x2D, 0x2E, 0x5F: out.append(b)
            case 0x20: out.append(UInt8(ascii: "+"))
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0x0F)])
            }
        }
    }

    /// Reads a response (RFC 7662 §2.2): only status 200 with a JSON object whose `active`
    /// is a boolean is an answer; anything else is `.unavailable`. Other members are
    /// ignored, except a numeric `exp` on an active token.
    public static func answer(status: Int, body: [UInt8]) -> IntrospectionAnswer {
        guard status == 200 else { return .unavailable("HTTP status \(status)") }
        let value: JSONValue
        do { value = try JSONReader.parse(body) } catch {
            return .unavailable("response is not valid JSON")
        }
        guard case .object = value else { return .unavailable("response is not a JSON object") }
        switch value[member: "active"] {
        case .bool(true)?:
            if case .number(let n)? = value[member: "exp"] { return .active(exp: n.doubleValue) }
            return .active(exp: nil)
        case .bool(false)?:
            return .inactive
        case nil:
            return .unavailable("response has no `active` member")
        default:
            return .unavailable("`active` is not a boolean")
        }
    }
}
