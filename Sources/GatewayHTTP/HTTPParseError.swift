/// Why a request was refused by the parser. Every case closes the connection.
public enum HTTPParseError: Error, Sendable, Equatable {
    /// 400, with a short reason for the JSON body / log (never echoing client bytes).
    case badRequest(String)
    /// 431 Request Header Fields Too Large (RFC 6585 §5).
    case headerTooLarge
    /// 414 URI Too Long.
    case uriTooLong
    /// 505 HTTP Version Not Supported.
    case versionNotSupported
    /// 405 Method Not Allowed: CONNECT (the gateway never opens tunnels, RFC 9110 §9.3.6).
    case methodNotAllowed
    /// 417 Expectation Failed: an `Expect` other than `100-continue` (RFC 9110 §10.1.1).
    case expectationFailed
    /// 413 Content Too Large (RFC 9110 §15.5.14): a chunk size takes the body past
    /// `HTTPParserLimits.maxBodyBytes`.
    case contentTooLarge
    /// 501 Not Implemented (e.g. a transfer coding other than chunked, when not 400).
    case notImplemented(String)

    /// The status code this refusal is answered with.
    public var status: Int {
        switch self {
        case .badRequest: 400
        case .headerTooLarge: 431
        case .uriTooLong: 414
        case .versionNotSupported: 505
        case .notImplemented: 501
        case .methodNotAllowed: 405
        case .expectationFailed: 417
        case .contentTooLarge: 413
        }
    }

    /// Short, fixed description (safe to log and to send).
    public var reason: String {
        switch self {
        case .badRequest(let r): r
        case .headerTooLarge: "request header too large"
        case .uriTooLong: "request line too long"
        case .versionNotSupported: "HTTP version not supported"
        case .notImplemented(let r): r
        case .methodNotAllowed: "method not allowed"
        case .expectationFailed: "expectation not supported"
        case .contentTooLarge: "request body too large"
        }
    }
}
