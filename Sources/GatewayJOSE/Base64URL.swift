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

    /// The same as `decode(_:)` over raw ASCII bytes (the verifier's hot path), written
    /// straight into an array of the exact decoded length.
    /// RFC 4648 §3.5: unused bits of the last character must be zero (one encoding per value).
    static func decode(bytes: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let n = bytes.count
        let rest = n & 3
        if rest == 1 { return nil }
        let full = n >> 2
        let count = full * 3 + (rest == 0 ? 0 : rest - 1)
        // Zero-filled then overwritten: this initializer is specialised for UInt8, where
        // `unsafeUninitializedCapacity:` allocates through an unspecialised path.
        var out = [UInt8](repeating: 0, count: count)
        let valid = out.withUnsafeMutableBufferPointer { o in
            table.withUnsafeBufferPointer { t -> Bool in
                guard let src = bytes.baseAddress, let dst = o.baseAddress else { return n == 0 }
                // Every 6-bit value is < 64: OR-ing them keeps bit 6/7 set for any 0xFF.
                var bad: UInt8 = 0
                var i = 0, j = 0
                for _ in 0..<full {
                    let a = t[Int(src[i])], b = t[Int(src[i + 1])], c = t[Int(src[i + 2])], d = t[Int(src[i + 3])]
                    bad |= a | b | c | d
                    let v = UInt32(a & 63) << 18 | UInt32(b & 63) << 12 | UInt32(c & 63) << 6 | UInt32(d & 63)
                    dst[j] = UInt8(truncatingIfNeeded: v >> 16)
                    dst[j + 1] = UInt8(truncatingIfNeeded: v >> 8)
                    dst[j + 2] = UInt8(truncatingIfNeeded: v)
                    i += 4
                    j += 3
                }
                if rest == 2 {
                    let a = t[Int(src[i])], b = t[Int(src[i + 1])]
                    bad |= a | b
                    if b & 0x0F != 0 { return false }
                    dst[j] = (a << 2) | ((b & 63) >> 4)
                } else if rest == 3 {
                    let a = t[Int(src[i])], b = t[Int(src[i + 1])], c = t[Int(src[i + 2])]
                    bad |= a | b | c
                    if c & 0x03 != 0 { return false }
                    dst[j] = (a << 2) | ((b & 63) >> 4)
                    dst[j + 1] = ((b & 0x0F) << 4) | ((c & 63) >> 2)
                }
                return bad & 0xC0 == 0
            }
        }
        return valid ? out : nil
    }
}
