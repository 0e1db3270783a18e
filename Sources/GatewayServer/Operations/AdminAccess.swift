import GatewayCore
import GatewayHTTP

/// Who may change the running gateway through the admin listener (`POST /reload`).
enum AdminAccess {
    /// A loopback peer may; another peer only with `Authorization: Bearer <expectedToken>`
    /// (exactly one Authorization field; the token compared in constant time, never logged).
    /// - Parameter expectedToken: the value of the variable `admin.token_env` names; nil or
    ///   empty = no token is accepted.
    static func mayReload(peer: String, fields: [HTTPField], expectedToken: String?) -> Bool {
        if isLoopback(peer) { return true }
        guard let expected = expectedToken, !expected.isEmpty else { return false }
        let authorization = fields.filter { HeaderName.equals($0.name, "authorization") }
        guard authorization.count == 1 else { return false }
        let value = Array(authorization[0].value.utf8)
        let scheme = Array("bearer ".utf8)
        guard value.count > scheme.count,
              zip(value.prefix(scheme.count), scheme).allSatisfy({ ($0 | 0x20) == $1 || ($0 == 0x20 && $1 == 0x20) })
        else { return false }
        return constantTimeEquals(Array(value.dropFirst(scheme.count)), Array(expected.utf8))
    }

    /// Whether `address` (as the listener formats peers) is a loopback address:
    /// 127.0.0.0/8, ::1, or 127.0.0.0/8 mapped into IPv6 (RFC 4291 §2.5.5.2).
    static func isLoopback(_ address: String) -> Bool {
        var v4 = Substring(address)
        if address.lowercased().hasPrefix("::ffff:") { v4 = address.dropFirst(7) }
        if address == "::1" { return true }
        let parts = v4.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// Compares without an early exit, so the time taken does not tell how much of a guess
    /// matched (only the expected length may show).
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0
    }
}
