/// An issuer's `introspection:` — its RFC 7662 token introspection endpoint, asked about
/// tokens on routes with `auth.introspect: true` (docs/revocation.md "Introspection").
public struct IntrospectionConfig: Sendable, Equatable {
    /// The endpoint: https, or http to a loopback host only (the `jwks_url` rule).
    public var url: String
    /// The gateway's OAuth client identifier at the authorization server (RFC 6749 §2.2).
    public var clientID: String
    /// Name of the environment variable holding the client secret (HTTP Basic client
    /// authentication, RFC 6749 §2.3.1); it must be set when the config loads.
    public var clientSecretEnv: String
    /// Seconds an answer is reused for the same token (never past its `exp`); 0: not cached.
    public var cache: Double = IntrospectionConfig.defaultCache
    /// Where `introspection` is written (errors about the secret point here).
    public var location: ConfigLocation

    public init(url: String, clientID: String, clientSecretEnv: String, location: ConfigLocation) {
        self.url = url
        self.clientID = clientID
        self.clientSecretEnv = clientSecretEnv
        self.location = location
    }

    /// `cache` when not written, seconds.
    public static let defaultCache: Double = 30
}
