import GatewayUpstream

/// How the upstream failed an exchange.
enum UpstreamFailure: Sendable, Equatable {
    /// No usable response head: could not connect, or libcurl found the response invalid
    /// (502, reason `upstream_error`).
    case unreachable
    /// A response head whose framing the client could read differently (a `Content-Length`
    /// such as "2, 2"): 502, reason `upstream_invalid`.
    case invalidResponse
    /// No response head within the upstream's `timeout`: 504, reason `upstream_timeout`.
    case timeout
    /// Failed after the response head reached the client: the connection is closed,
    /// reason `upstream_aborted`.
    case abortedMidBody

    /// - Parameter headSent: whether any byte of the response head left for the client.
    init(_ error: UpstreamError, headSent: Bool) {
        if headSent {
            self = .abortedMidBody
            return
        }
        switch error {
        case .timeout: self = .timeout
        case .connectFailed, .invalidResponse, .aborted, .cancelled: self = .unreachable
        }
    }

    var reasonCode: String {
        switch self {
        case .unreachable: "upstream_error"
        case .invalidResponse: "upstream_invalid"
        case .timeout: "upstream_timeout"
        case .abortedMidBody: "upstream_aborted"
        }
    }
}
