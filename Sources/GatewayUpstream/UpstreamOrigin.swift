#if canImport(Glibc)
import Glibc
#endif

/// What every request to one upstream origin shares, read once from an upstream URL:
/// the pool key, the URL libcurl connects to, and the `Host` value libcurl would send.
/// The loop keeps the last one it read (`DirectRequest.make`), since consecutive requests
/// mostly go to the same upstream; each request holds it by one reference.
///
/// Immutable.
final class UpstreamOrigin: Sendable {
    /// Bytes of "scheme://authority" at the start of the URL.
    let prefix: [UInt8]
    let key: UpstreamPoolKey
    /// "scheme://authority/".
    let connectURL: String
    /// host, or host:port when the port is not the scheme's default (RFC 9110 §7.2).
    let hostField: [UInt8]

    private init(prefix: [UInt8], key: UpstreamPoolKey, connectURL: String, hostField: [UInt8]) {
        self.prefix = prefix
        self.key = key
        self.connectURL = connectURL
        self.hostField = hostField
    }

    /// Reads the origin of `url`.
    /// - Returns: nil for a URL that is not plain `http://` / `https://` with a host (and an
    ///   optional port): user information, for one, is libcurl's to interpret.
    static func read(_ url: UnsafeRawBufferPointer, tls: UpstreamTLSOptions?) -> UpstreamOrigin? {
        let schemeLength: Int
        if url.starts(with: "http://".utf8) {
            schemeLength = 7
        } else if url.starts(with: "https://".utf8) {
            schemeLength = 8
        } else {
            return nil
        }
        let isTLS = schemeLength == 8
        var end = schemeLength
        while end < url.count, url[end] != 0x2F, url[end] != 0x3F, url[end] != 0x23 { end += 1 }
        let authority = url[schemeLength..<end]
        guard !authority.isEmpty, !authority.contains(0x40),
              let hostField = Self.hostField(authority, defaultPort: isTLS ? 443 : 80) else { return nil }
        let origin = String(decoding: url[0..<end], as: UTF8.self)
        return UpstreamOrigin(prefix: Array(url[0..<end]), key: UpstreamPoolKey(origin: origin, isTLS: isTLS, tls: tls),
                              connectURL: origin + "/", hostField: hostField)
    }

    /// Whether `url` is on this origin (with the same TLS files): its prefix is the same
    /// bytes and what follows starts the path, the query or nothing.
    func matches(_ url: UnsafeRawBufferPointer, tls: UpstreamTLSOptions?) -> Bool {
        guard url.count >= prefix.count, key.tls == tls else { return false }
        if url.count > prefix.count {
            let next = url[prefix.count]
            guard next == 0x2F || next == 0x3F || next == 0x23 else { return false }
        }
        return prefix.withUnsafeBufferPointer { mine in
            memcmp(mine.baseAddress!, url.baseAddress!, prefix.count) == 0
        }
    }

    /// The `Host` value libcurl would send for `authority`, or nil for an authority this
    /// code does not read (libcurl then handles the request, or refuses its URL): one with
    /// a byte that is not visible ASCII, an IPv6 zone ID (libcurl leaves it out of `Host`,
    /// RFC 6874 §2) or a port with a leading zero (libcurl writes the number).
    private static func hostField(_ authority: Slice<UnsafeRawBufferPointer>, defaultPort: Int) -> [UInt8]? {
        guard authority.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        var hostEnd = authority.endIndex
        if authority.first == 0x5B {  // "[" IPv6 literal "]"
            guard let close = authority.firstIndex(of: 0x5D), !authority[..<close].contains(0x25) else { return nil }
            hostEnd = close + 1
        } else if let colon = authority.firstIndex(of: 0x3A) {
            hostEnd = colon
        }
        let host = authority[authority.startIndex..<hostEnd]
        guard !host.isEmpty else { return nil }
        if hostEnd == authority.endIndex { return Array(authority) }
        guard authority[hostEnd] == 0x3A else { return nil }
        let digits = authority[(hostEnd + 1)...]
        guard !digits.isEmpty, digits.count <= 5, digits.first != 0x30, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            return nil
        }
        var port = 0
        for d in digits { port = port * 10 + Int(d - 0x30) }
        guard port > 0, port <= 65535 else { return nil }
        return port == defaultPort ? Array(host) : Array(authority)
    }
}
