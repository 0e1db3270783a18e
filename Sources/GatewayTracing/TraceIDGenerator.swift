import W3CTraceContext

/// Random trace and span ids (W3C Trace Context §3.2.2.3: random, never all zero) from
/// xoshiro256** (Blackman and Vigna), seeded once from the system's generator.
///
/// One per event loop, used on that loop only: an id costs a few arithmetic operations,
/// with no system call and no allocation, unlike `SystemRandomNumberGenerator` (getrandom(2))
/// or a Foundation UUID and its text. Not for secrets: ids are not meant to be unguessable.
public struct TraceIDGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// Seeded from `SystemRandomNumberGenerator`.
    public init() {
        var system = SystemRandomNumberGenerator()
        self.init(seed: system.next())
    }

    /// Seeded from `seed` through splitmix64 (reproducible, for tests).
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A random trace id, never all zero.
    public mutating func traceID() -> TraceID {
        while true {
            let id = TraceID.random(using: &self)
            if id != .null { return id }
        }
    }

    /// A random span id, never all zero.
    public mutating func spanID() -> SpanID {
        while true {
            let id = SpanID.random(using: &self)
            if id != .null { return id }
        }
    }
}
