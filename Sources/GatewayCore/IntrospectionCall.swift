/// A request waits for an introspection answer (`Decision.needsIntrospection`): the caller
/// joins `introspection.cache` under `key`, makes the call when told to, then decides
/// again with the answer in `RequestContext.introspectionAnswer`.
public struct IntrospectionCall: Sendable, CustomStringConvertible {
    /// `issuers[].name`.
    public var issuerName: String
    public var introspection: IssuerIntrospection
    /// The token to post. Never logged or printed.
    public var token: String
    /// The cache key of `token`.
    public var key: RevocationKey
    /// The token's `exp` (seconds since the epoch), which bounds the answer's reuse.
    public var tokenExpiry: Double?

    /// Never the token.
    public var description: String { "IntrospectionCall(issuer: \(issuerName))" }
}
