import GatewayHTTP

// Stage 2 of `RequestPipeline.decide` for the default source: the Bearer token of
// `Authorization` (RFC 6750 §2.1).
extension RequestPipeline {
    /// RFC 6750 §2.1: `Authorization: Bearer <b64token>`, scheme case-insensitive.
    enum Credentials: Equatable {
        case none
        case bearer(Substring)
        case invalid(String)
    }

    static func extractBearer(_ head: HTTPRequestHead) -> Credentials {
        var found: Int?
        for i in head.fields.indices where head.fields[i].withNameBytes({ HTTPSyntax.equalsLowercase($0, "authorization") }) {
            if found != nil { return .invalid("several Authorization header fields") }
            found = i
        }
        guard let found else { return .none }
        // Read in place: only the token itself becomes a String.
        return head.fields[found].withValueBytes(bearer)
    }

    private static func bearer(_ bytes: UnsafeRawBufferPointer) -> Credentials {
        // Scheme: "Bearer" (case-insensitive) then one or more spaces.
        guard bytes.count >= 6, (bytes[0] | 0x20) == 0x62, (bytes[1] | 0x20) == 0x65, (bytes[2] | 0x20) == 0x61,
              (bytes[3] | 0x20) == 0x72, (bytes[4] | 0x20) == 0x65, (bytes[5] | 0x20) == 0x72 else {
            // Another scheme (Basic...): no Bearer credentials at all (RFC 6750 §3.1).
            return .none
        }
        if bytes.count == 6 { return .invalid("bearer token missing") }
        if bytes[6] == 0x09 { return .invalid("malformed bearer credentials") }  // RFC 6750 §2.1: one or more SP
        guard bytes[6] == 0x20 else {
            // "Bearerx..." is a different scheme name.
            return .none
        }
        var start = 6
        while start < bytes.count && bytes[start] == 0x20 { start += 1 }
        guard start < bytes.count else { return .invalid("bearer token missing") }
        // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
        var i = start
        b64TokenCharacters.withUnsafeBufferPointer { table in
            // Eight bytes per step while all are token characters (a token is ~1 KB).
            while i + 8 <= bytes.count {
                let all = table[Int(bytes[i])] & table[Int(bytes[i + 1])] & table[Int(bytes[i + 2])]
                    & table[Int(bytes[i + 3])] & table[Int(bytes[i + 4])] & table[Int(bytes[i + 5])]
                    & table[Int(bytes[i + 6])] & table[Int(bytes[i + 7])]
                if all == 0 { break }
                i += 8
            }
            while i < bytes.count, table[Int(bytes[i])] != 0 { i += 1 }
        }
        while i < bytes.count, bytes[i] == 0x3D { i += 1 }
        guard i == bytes.count, i > start else { return .invalid("malformed bearer credentials") }
        let token = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start...]), as: UTF8.self)
        return .bearer(token[...])
    }

    static func isB64TokenChar(_ b: UInt8) -> Bool { b64TokenCharacters[Int(b)] != 0 }

    /// 1 for the b64token characters (RFC 6750 §2.1) but "=": ALPHA, DIGIT, "-", ".", "_", "~", "+", "/".
    static let b64TokenCharacters: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for b in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(b)] = 1 }
        for b in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(b)] = 1 }
        for b in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(b)] = 1 }
        for c in "-._~+/".utf8 { table[Int(c)] = 1 }
        return table
    }()
}
