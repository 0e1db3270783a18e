extension String {
    /// Byte-for-byte (UTF-8) equality. Swift's `==` on String uses Unicode canonical
    /// equivalence, so "\u{212A}" (KELVIN SIGN) == "K"; claims, audiences, scopes and key
    /// IDs must instead compare exactly as sent (RFC 7519 §2 StringOrURI: no
    /// normalisation), or the value the gateway authorised would differ from the bytes
    /// the upstream receives.
    @inlinable
    public func exactlyEquals(_ other: String) -> Bool {
        utf8.elementsEqual(other.utf8)
    }
}

extension Sequence where Element == String {
    /// Whether some element `exactlyEquals` `value`.
    @inlinable
    public func containsExactly(_ value: String) -> Bool {
        contains { $0.exactlyEquals(value) }
    }
}
