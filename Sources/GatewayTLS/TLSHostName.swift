#if canImport(Glibc)
import Glibc
#endif

/// DNS name matching for certificate selection by SNI and for the `Host` check (421)
/// (RFC 6125 §6.4): names compare case-insensitively without a trailing dot; a wildcard is
/// only a whole left-most label (`*.example.com`), which matches exactly one label in that
/// place: `a.example.com`, never `example.com` nor `a.b.example.com`. Partial-label
/// wildcards (`a*.example.com`) and wildcards over fewer than two labels (`*.com`) match
/// nothing.
///
/// The checks run on every request over TLS (the 421 check), so they work on the UTF-8
/// bytes without making strings: DNS names are ASCII (RFC 5890 A-labels), case folds only
/// ASCII letters (RFC 4343 §3); any other byte must be equal.
public enum TLSHostName {
    /// Whether `name` is an IPv4 or IPv6 address literal, which RFC 6066 §3 does not allow as
    /// a server name (some clients, wrk for one, send it anyway for `https://127.0.0.1/`).
    public static func isIPAddressLiteral(_ name: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, name, &v4) == 1 || inet_pton(AF_INET6, name, &v6) == 1
    }

    /// `name` lowercased (ASCII) without one trailing dot.
    public static func normalized(_ name: String) -> String {
        var n = name.lowercased()
        if n.hasSuffix(".") { n.removeLast() }
        return n
    }

    /// Whether the certificate name `pattern` (a subjectAltName DNS entry) covers `host`.
    /// - Parameter host: a DNS name (SNI, or `Host` without its port).
    public static func matches(pattern: String, host: String) -> Bool {
        withBytes(pattern) { p in withBytes(host) { h in matches(pattern: p, host: h) } }
    }

    /// Whether any of `names` covers `host`.
    public static func covers(_ names: [String], host: String) -> Bool {
        withBytes(host) { h in covers(names, host: h) }
    }

    /// Whether any of `names` covers the `Host` field value `host` (RFC 9110 §7.2) once its
    /// port (and the brackets of an IPv6 literal) are taken off; see `withoutPort`.
    public static func covers(_ names: [String], hostField host: String) -> Bool {
        withBytes(host) { field in covers(names, host: hostBytes(ofField: field)) }
    }

    /// The host of a `Host` field value (RFC 9110 §7.2) without its port and without the
    /// brackets of an IPv6 literal: `a.example.com:8443` → `a.example.com`, `[::1]:80` → `::1`.
    public static func withoutPort(_ host: String) -> String {
        withBytes(host) { String(decoding: hostBytes(ofField: $0), as: UTF8.self) }
    }

    // MARK: bytes

    private static let dot = UInt8(ascii: "."), star = UInt8(ascii: "*")

    private static func covers(_ names: [String], host: UnsafeBufferPointer<UInt8>) -> Bool {
        names.contains { name in withBytes(name) { matches(pattern: $0, host: host) } }
    }

    /// `withoutPort` on bytes: a slice of `field`.
    private static func hostBytes(ofField field: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        if field.first == UInt8(ascii: "[") {
            guard let close = field.firstIndex(of: UInt8(ascii: "]")) else { return field }
            return UnsafeBufferPointer(rebasing: field[1..<close])
        }
        guard let colon = field.lastIndex(of: UInt8(ascii: ":")) else { return field }
        return UnsafeBufferPointer(rebasing: field[..<colon])
    }

    private static func matches(pattern rawPattern: UnsafeBufferPointer<UInt8>, host rawHost: UnsafeBufferPointer<UInt8>) -> Bool {
        let p = withoutTrailingDot(rawPattern), h = withoutTrailingDot(rawHost)
        guard !p.isEmpty, !h.isEmpty else { return false }
        guard p.count >= 2, p[0] == star, p[1] == dot else {
            return !p.contains(star) && equalIgnoringASCIICase(p[...], h[...])
        }
        let suffix = p[1...]  // ".example.com"
        let base = p[2...]  // "example.com": at least two labels, no other wildcard
        guard !base.contains(star), base.contains(dot) else { return false }
        guard h.count > suffix.count else { return false }
        let label = h[..<(h.count - suffix.count)]
        return !label.contains(dot) && equalIgnoringASCIICase(suffix, h[(h.count - suffix.count)...])
    }

    private static func withoutTrailingDot(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        bytes.last == dot ? UnsafeBufferPointer(rebasing: bytes.dropLast()) : bytes
    }

    private static func equalIgnoringASCIICase(_ a: Slice<UnsafeBufferPointer<UInt8>>, _ b: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            // ASCII letters differ by 0x20 between cases; nothing else folds.
            guard x | 0x20 == y | 0x20, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(x | 0x20) else { return false }
        }
        return true
    }

    /// The UTF-8 bytes of `s` without copying when it is stored contiguously (native strings).
    private static func withBytes<R>(_ s: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let r = s.utf8.withContiguousStorageIfAvailable(body) { return r }
        return Array(s.utf8).withUnsafeBufferPointer(body)
    }
}
