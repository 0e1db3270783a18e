/// DNS name matching for certificate selection by SNI and for the `Host` check (421)
/// (RFC 6125 §6.4): names compare case-insensitively without a trailing dot; a wildcard is
/// only a whole left-most label (`*.example.com`), which matches exactly one label in that
/// place: `a.example.com`, never `example.com` nor `a.b.example.com`. Partial-label
/// wildcards (`a*.example.com`) and wildcards over fewer than two labels (`*.com`) match
/// nothing.
public enum TLSHostName {
    /// `name` lowercased (ASCII) without one trailing dot.
    public static func normalized(_ name: String) -> String {
        var n = name.lowercased()
        if n.hasSuffix(".") { n.removeLast() }
        return n
    }

    /// Whether the certificate name `pattern` (a subjectAltName DNS entry) covers `host`.
    /// - Parameter host: a DNS name (SNI, or `Host` without its port).
    public static func matches(pattern: String, host: String) -> Bool {
        let p = normalized(pattern), h = normalized(host)
        guard !p.isEmpty, !h.isEmpty else { return false }
        guard p.hasPrefix("*.") else { return !p.contains("*") && p == h }
        let suffix = p.dropFirst(1)  // ".example.com"
        guard !suffix.dropFirst().contains("*"), suffix.dropFirst().contains(".") else { return false }
        guard h.hasSuffix(suffix) else { return false }
        let label = h.dropLast(suffix.count)
        return !label.isEmpty && !label.contains(".")
    }

    /// Whether any of `names` covers `host`.
    public static func covers(_ names: [String], host: String) -> Bool {
        names.contains { matches(pattern: $0, host: host) }
    }

    /// The host of a `Host` field value (RFC 9110 §7.2) without its port and without the
    /// brackets of an IPv6 literal: `a.example.com:8443` → `a.example.com`, `[::1]:80` → `::1`.
    public static func withoutPort(_ host: String) -> String {
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return host }
            return String(host[host.index(after: host.startIndex)..<close])
        }
        guard let colon = host.lastIndex(of: ":") else { return host }
        return String(host[..<colon])
    }
}
