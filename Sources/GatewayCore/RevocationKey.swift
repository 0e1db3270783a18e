/// A revocation list's stand-in for a `jti` or `sub`: 128 bits of a keyed hash of the
/// string's UTF-8 bytes. Two `Hasher`s (SipHash, seeded at random per process) over the
/// bytes with different prefixes give the two halves.
///
/// Why not the string itself: a million 36-character `jti`s as Swift strings cost a heap
/// object each (about 80 bytes), a key costs 16 bytes in the table. Matching is by bytes
/// (exact, no Unicode normalisation). Two different strings share a key with probability
/// about n²/2¹²⁹ (below 10⁻²⁶ for a million entries), and a collision could only refuse a
/// token, never admit one. Computing a key allocates nothing.
public struct RevocationKey: Hashable, Sendable {
    let high: UInt64
    let low: UInt64

    public init(_ text: String) {
        var a = Hasher()
        var b = Hasher()
        a.combine(UInt8(0xA5))
        b.combine(UInt8(0x5A))
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            a.combine(bytes: UnsafeRawBufferPointer(bytes))
            b.combine(bytes: UnsafeRawBufferPointer(bytes))
        }
        if done == nil {
            for byte in text.utf8 {
                a.combine(byte)
                b.combine(byte)
            }
        }
        a.combine(text.utf8.count)
        b.combine(text.utf8.count)
        high = UInt64(UInt(bitPattern: a.finalize()))
        low = UInt64(UInt(bitPattern: b.finalize()))
    }
}
