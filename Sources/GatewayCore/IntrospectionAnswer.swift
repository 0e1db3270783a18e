/// What an RFC 7662 introspection endpoint said about one token.
public enum IntrospectionAnswer: Sendable, Equatable {
    /// `"active": true` (RFC 7662 §2.2); `exp` is the response's own `exp` member (seconds
    /// since the epoch) when it sent a number, which also bounds how long the answer is reused.
    case active(exp: Double?)
    /// `"active": false`: the token is refused (401 invalid_token, "token inactive").
    case inactive
    /// No usable answer (transport failure, timeout, a status other than 200, a body that is
    /// not a JSON object with a boolean `active`): the request is answered 503, never let
    /// through. The text says why, for logs (never the token or the client secret).
    case unavailable(String)

    /// Label for `gateway_introspection_requests_total{result}`.
    public var metricResult: String {
        switch self {
        case .active: "active"
        case .inactive: "inactive"
        case .unavailable: "error"
        }
    }
}
