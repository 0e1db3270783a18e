#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 network in CIDR notation (RFC 4632 §3.1, RFC 4291 §2.3), for
/// `listen.trusted_proxies`.
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    /// 4 (IPv4) or 16 (IPv6) bytes, host bits zero.
    public let address: [UInt8]
    /// Leading bits that must match: 0...32 (IPv4) or 0...128 (IPv6).
    public let prefixLength: Int

    /// Why a CIDR text is refused.
    public enum ParseError: Error, Equatable {
        case invalid(String)
    }

    /// Parses `10.0.0.0/8`, `2001:db8::/32`, or a bare address (one host: /32 or /128).
    /// - Throws: `.invalid` with the reason; host bits set below the prefix are refused
    ///   (`10.0.0.1/8`: probably a typo for `10.0.0.0/8` or `10.0.0.1/32`).
    public init(cidr text: String) throws(ParseError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = IPNetwork.address(String(parts[0])) else {
            throw .invalid("not an IPv4 or IPv6 address")
        }
        let maxLength = bytes.count * 8
        var length = maxLength
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].count <= 3, parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  let n = Int(parts[1]), n <= maxLength
            else { throw .invalid("prefix length must be a number from 0 to \(maxLength)") }
            length = n
        }
        let masked = IPNetwork.mask(bytes, length)
        guard masked == bytes else {
            throw .invalid("address has bits set after the /\(length) prefix; the network is \(IPNetwork.text(masked))/\(length)")
        }
        self.address = bytes
        self.prefixLength = length
    }

    /// Whether `address` (4 or 16 bytes; an IPv4-mapped IPv6 address `::ffff:a.b.c.d`
    /// counts as its IPv4 address) is in this network.
    public func contains(_ address: [UInt8]) -> Bool {
        var a = address
        if a.count == 16, a[0..<10].allSatisfy({ $0 == 0 }), a[10] == 0xFF, a[11] == 0xFF, self.address.count == 4 {
            a = Array(a[12...])
        }
        guard a.count == self.address.count else { return false }
        return IPNetwork.mask(a, prefixLength) == self.address
    }

    /// The bytes of an IPv4 (4) or IPv6 (16) address text; nil when it is neither.
    public static func address(_ text: String) -> [UInt8]? {
        if ConfigScalars.isIPv4(text) {
            var a = in_addr()
            guard inet_pton(AF_INET, text, &a) == 1 else { return nil }
            return withUnsafeBytes(of: &a) { Array($0) }
        }
        if ConfigScalars.isIPv6(text) {
            var a = in6_addr()
            guard inet_pton(AF_INET6, text, &a) == 1 else { return nil }
            return withUnsafeBytes(of: &a) { Array($0) }
        }
        return nil
    }

    public var description: String { "\(IPNetwork.text(address))/\(prefixLength)" }

    static func mask(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        bytes.enumerated().map { i, b in
            let bits = min(8, max(0, length - i * 8))
            return bits == 8 ? b : b & ~(UInt8(0xFF) >> bits)
        }
    }

    static func text(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) } != nil
        return ok ? String(cString: buffer) : "?"
    }
}
