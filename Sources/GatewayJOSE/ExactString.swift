extension String {
    /// Byte-for-byte (UTF-8) equality. Swift's `==` on String uses Unicode canonical
    /// equivalence, so "\u{212A}" (KELVIN SIGN) == "K"; claims, audiences, scopes and key
    /// IDs must instead compare exactly as sent (RFC 7519 §2 StringOrURI: no
    /// normalisation), or the value the gateway authorised would differ from the bytes
    /// the upstream receives.
    @inlinable
    public func exactlyEquals(_ other: String) -> Bool {
        let a = utf8, b = other.utf8
        guard a.count == b.count else { return false }
        // Contiguous storage (native and small strings): compare the buffers directly.
        if let same = a.withContiguousStorageIfAvailable({ x in
            b.withContiguousStorageIfAvailable { y in x.elementsEqual(y) }
        }), let same { return same }
        return a.elementsEqual(b)
    }
}

extension String {
    /// Whether this string's UTF-8 is exactly `bytes` (`exactlyEquals` against raw bytes).
    func hasUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let u = utf8
        guard u.count == bytes.count else { return false }
        if let same = u.withContiguousStorageIfAvailable({ mine -> Bool in
            // Names are short: a plain loop beats the generic `elementsEqual`.
            for k in 0..<mine.count where mine[k] != bytes[k] { return false }
            return true
        }) { return same }
        return u.elementsEqual(bytes)
    }
}

extension Sequence where Element == String {
    /// Whether some element `exactlyEquals` `value`.
    @inlinable
    public func containsExactly(_ value: String) -> Bool {
        contains { $0.exactlyEquals(value) }
    }
}
