import GatewayPolicy

/// An issuer's introspection endpoint, ready to call: the URL, the client authentication
/// header (built once from the secret; never printed), how long answers are reused, and
/// the cache shared by every loop. Part of a runtime: a reload starts with an empty cache.
public final class IssuerIntrospection: Sendable, CustomStringConvertible {
    public let config: IntrospectionConfig
    /// `Authorization` value, `Basic ...` (RFC 6749 §2.3.1). Holds the client secret.
    public let authorization: String
    public let cache: IntrospectionCache

    /// - Parameter secret: the value of `config.clientSecretEnv`.
    public init(config: IntrospectionConfig, secret: String, cache: IntrospectionCache = IntrospectionCache()) {
        self.config = config
        self.authorization = IntrospectionMessage.basicAuthorization(clientID: config.clientID, secret: secret)
        self.cache = cache
    }

    /// Until when (seconds since the epoch) an answer received at `now` is reused: `cache`
    /// after `now`, never past the token's `exp` nor the response's `exp`.
    public func cacheDeadline(now: Double, tokenExpiry: Double?, answer: IntrospectionAnswer) -> Double {
        var until = now + config.cache
        if let tokenExpiry { until = min(until, tokenExpiry) }
        if case .active(let exp?) = answer { until = min(until, exp) }
        return until
    }

    /// Never the secret.
    public var description: String { "IssuerIntrospection(\(config.url), client_id: \(config.clientID))" }
}
