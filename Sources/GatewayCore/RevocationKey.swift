/// A revocation list's stand-in for a `jti` or `sub`: 128 bits computed from the string's
/// UTF-8 bytes. The high half is a `Hasher` (SipHash, seeded at random per process); the
/// low half a multiply-xorshift hash over 8-byte words with its own random per-process seed.
///
/// Why not the string itself: a million 36-character `jti`s as Swift strings cost a heap
/// object each (about 80 bytes), a key costs 16 bytes in the table. Matching is by bytes
/// (exact, no Unicode normalisation). Two different strings share a key with probability
/// about n²/2¹²⁸ (below 10⁻²⁶ for a million entries); the identifiers come from signed
/// tokens, so a client cannot search for one, and a collision could only refuse a token,
/// never admit one. Computing a key allocates nothing.
public struct RevocationKey: Hashable, Sendable {
    let high: UInt64
    let low: UInt64

    /// Per-process seed of the low half.
    private static let seed = UInt64.random(in: .min ... .max)

    public init(_ text: String) {
        var hasher = Hasher()
        var low = RevocationKey.seed
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { bytes in
            let raw = UnsafeRawBufferPointer(bytes)
            hasher.combine(bytes: raw)
            low = RevocationKey.mix(raw, seed: low)
        }
        if done == nil {
            let copy = Array(text.utf8)
            copy.withUnsafeBytes { raw in
                hasher.combine(bytes: raw)
                low = RevocationKey.mix(raw, seed: low)
            }
        }
        hasher.combine(text.utf8.count)
        high = UInt64(UInt(bitPattern: hasher.finalize()))
        self.low = low
    }

    /// The low half: 8-byte words, then the tail bytes, each folded in with a multiply and
    /// a shift (the constants of splitmix64), then the length.
    static func mix(_ raw: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        var h = seed
        var i = 0
        while i + 8 <= raw.count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 31
            i += 8
        }
        while i < raw.count {
            h = (h ^ UInt64(raw[i])) &* 0x0000_0100_0000_01B3
            i += 1
        }
        h ^= UInt64(raw.count)
        h = (h ^ (h >> 30)) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }

    /// The table hashes the high half only: it is already a keyed hash.
    public func hash(into hasher: inout Hasher) { hasher.combine(high) }
}
