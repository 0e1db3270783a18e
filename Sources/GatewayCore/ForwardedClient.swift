import GatewayPolicy

/// Who sent a request, when the gateway may sit behind load balancers
/// (`listen.trusted_proxies`, docs/tls.md "Trusted proxies").
///
/// From a trusted peer, the client is the right-most `X-Forwarded-For` entry that is not
/// itself a trusted address (each trusted proxy appended the address it saw; everything left
/// of the first untrusted entry was written by that untrusted party and proves nothing), as
/// nginx's `real_ip_recursive on` does. From any other peer, the client is the peer.
public struct ForwardedClient: Sendable, Equatable {
    /// The client's address as text, for the access log.
    public var address: String
    /// The TCP peer is a trusted proxy: its `X-Forwarded-Proto` and `X-Forwarded-Host` are kept.
    public var peerTrusted: Bool

    public init(address: String, peerTrusted: Bool) {
        self.address = address
        self.peerTrusted = peerTrusted
    }

    /// - Parameters:
    ///   - peer: the TCP peer's IP address as text ("10.0.0.5", "::1", "::ffff:10.0.0.5").
    ///   - forwardedFor: every `X-Forwarded-For` field value, in arrival order (each a
    ///     comma-separated list, RFC 7239 §5.2-style `for` values: an address, optionally with
    ///     a port, IPv6 optionally in brackets).
    ///   - trusted: `listen.trusted_proxies`.
    public static func resolve(peer: String, forwardedFor: [String], trusted: [IPNetwork]) -> ForwardedClient {
        guard !trusted.isEmpty, isTrusted(peer, trusted) else { return ForwardedClient(address: peer, peerTrusted: false) }
        var entries: [Substring] = []
        for value in forwardedFor {
            for part in value.split(separator: ",") {
                let entry = trimmed(part)
                if !entry.isEmpty { entries.append(entry) }
            }
        }
        // Walk from the right: skip trusted hops; the first untrusted address is the client.
        // An entry that is not an address ends the walk at the last address known (the
        // nearest trusted hop), never trusting the text.
        var client = peer
        for entry in entries.reversed() {
            guard let address = hostAddress(entry) else { break }
            client = address
            if !isTrusted(address, trusted) { break }
        }
        return ForwardedClient(address: client, peerTrusted: true)
    }

    static func isTrusted(_ address: String, _ trusted: [IPNetwork]) -> Bool {
        guard let bytes = IPNetwork.address(address) else { return false }
        return trusted.contains { $0.contains(bytes) }
    }

    /// The address of one `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:80`, `::1`, `[::1]`,
    /// `[::1]:80`; nil when it is none of these.
    static func hostAddress(_ entry: Substring) -> String? {
        var text = entry
        if text.first == "[" {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.first == ":" && rest.dropFirst().allSatisfy(isDigit)) else { return nil }
            text = text[text.index(after: text.startIndex)..<close]
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            guard text[text.index(after: colon)...].allSatisfy(isDigit) else { return nil }
            text = text[..<colon]
        }
        let address = String(text)
        return IPNetwork.address(address) == nil ? nil : address
    }

    private static func trimmed(_ s: Substring) -> Substring {
        var s = s
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }

    private static func isDigit(_ c: Character) -> Bool { ("0"..."9").contains(c) }
}
