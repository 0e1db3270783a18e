/// URLs that keys are fetched from (`jwks_url`, a discovery document, its `jwks_uri`).
public enum RemoteKeyURL {
    /// Why a key URL is refused, or nil: https, or http to a loopback host only
    /// (127.0.0.0/8, ::1, localhost — for tests and sidecars; keys must not travel in clear).
    public static func problem(_ text: String) -> String? {
        let parsed: (scheme: String, host: String, port: UInt16, basePath: String)
        do { parsed = try ConfigScalars.upstreamURL(text) } catch {
            if case .invalid(let reason) = error { return reason }
            return "not a URL"
        }
        if parsed.scheme == "https" { return nil }
        let host = parsed.host.lowercased()
        if host == "localhost" || host == "::1" || (ConfigScalars.isIPv4(host) && host.hasPrefix("127.")) { return nil }
        return "must be https (http only for a loopback host)"
    }

    /// The OpenID Provider configuration URL of an issuer identifier (OpenID Connect
    /// Discovery 1.0 §4: the identifier without its trailing `/`, then
    /// `/.well-known/openid-configuration`).
    public static func discovery(issuer: String) -> String {
        var base = Substring(issuer)
        if base.hasSuffix("/") { base = base.dropLast() }
        return base + "/.well-known/openid-configuration"
    }
}
