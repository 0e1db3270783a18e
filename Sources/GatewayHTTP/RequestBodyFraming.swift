/// How the request body is delimited (RFC 9112 §6.3).
public enum RequestBodyFraming: Sendable, Equatable {
    /// No body.
    case none
    /// `Content-Length: n`, n > 0.
    case contentLength(UInt64)
    /// `Transfer-Encoding: chunked`.
    case chunked
}
