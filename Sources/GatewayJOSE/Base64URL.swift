/// base64url without padding (RFC 7515 §2, RFC 4648 §5).
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Byte → 6-bit value, 0xFF for bytes outside the alphabet (padding `=` included).
    private static let table: [UInt8] = {
        var t = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { t[Int(c)] = UInt8(i) }
        return t
    }()

    /// Encodes `bytes` without padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(v >> 18 & 63)]); out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)]); out.append(alphabet[Int(v & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let v = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(v >> 18 & 63)]); out.append(alphabet[Int(v >> 12 & 63)])
        } else if rest == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(v >> 18 & 63)]); out.append(alphabet[Int(v >> 12 & 63)])
            out.append(alphabet[Int(v >> 6 & 63)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Strict: no padding, alphabet only, zero unused bits. nil when invalid.
    public static func decode(_ text: Substring) -> [UInt8]? {
        if let r = text.utf8.withContiguousStorageIfAvailable({ decode(bytes: $0) }) { return r }
        return Array(text.utf8).withUnsafeBufferPointer { decode(bytes: $0) }
    }

    /// The same as `decode(_:)` over raw ASCII bytes (the verifier's hot path).
    /// RFC 4648 §3.5: unused bits of the last character must be zero (one encoding per value).
    static func decode(bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let n = bytes.count
        if n % 4 == 1 { return nil }
        var out = [UInt8]()
        out.reserveCapacity(n * 3 / 4)
        var i = 0
        return table.withUnsafeBufferPointer { t -> [UInt8]? in
            while i + 4 <= n {
                let a = t[Int(bytes[i])], b = t[Int(bytes[i + 1])], c = t[Int(bytes[i + 2])], d = t[Int(bytes[i + 3])]
                if (a | b | c | d) & 0xC0 != 0 { return nil }
                let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                out.append(UInt8(v >> 16 & 0xFF)); out.append(UInt8(v >> 8 & 0xFF)); out.append(UInt8(v & 0xFF))
                i += 4
            }
            let rest = n - i
            if rest == 2 {
                let a = t[Int(bytes[i])], b = t[Int(bytes[i + 1])]
                if (a | b) & 0xC0 != 0 || b & 0x0F != 0 { return nil }
                out.append(a << 2 | b >> 4)
            } else if rest == 3 {
                let a = t[Int(bytes[i])], b = t[Int(bytes[i + 1])], c = t[Int(bytes[i + 2])]
                if (a | b | c) & 0xC0 != 0 || c & 0x03 != 0 { return nil }
                out.append(a << 2 | b >> 4)
                out.append((b & 0x0F) << 4 | c >> 2)
            }
            return out
        }
    }
}
