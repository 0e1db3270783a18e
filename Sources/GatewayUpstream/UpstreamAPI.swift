// Plain types of the upstream client. `UpstreamLoop` (UpstreamLoop.swift) and
// `UpstreamTransfer` (UpstreamTransfer.swift: `CurlTransfer`, `DirectExchange`) drive libcurl with them.
import GatewayHTTP

/// How the request body reaches the upstream (RFC 9112 §6). The framing fields
/// (`Content-Length`, `Transfer-Encoding`) come from this alone; such fields in
/// `UpstreamRequest.fields` are dropped, and so is `Expect` (no 100-continue upstream).
public enum UpstreamRequestBody: Sendable, Equatable {
    /// No body and no framing field, except `Content-Length: 0` for POST, PUT and PATCH
    /// (RFC 9110 §8.6). Always the case for HEAD.
    case none
    /// Exactly this many bytes (sent with Content-Length). If `fillRequestBody` ends
    /// early, the transfer fails with `.aborted`; bytes beyond `n` are never asked for.
    case length(UInt64)
    /// Unknown length (sent chunked, RFC 9112 §7.1).
    case chunked
}

/// TLS options for https upstreams (paths to PEM files). Peer and host name
/// verification are always on; without `caFile` the system CA store is used.
public struct UpstreamTLSOptions: Sendable, Hashable {
    public var caFile: String?
    public var clientCertificate: String?
    public var clientKey: String?
    public init(caFile: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil) {
        self.caFile = caFile
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
    }
}

/// One request to send upstream, fully decided by the caller.
///
/// Sent as HTTP/1.1 without redirects, proxies (the environment's `http_proxy` is
/// ignored), content decoding or `Expect: 100-continue`. Only http and https URLs work.
public struct UpstreamRequest: Sendable {
    /// Method token (RFC 9110 §9.1); `HEAD` is sent as a HEAD (no body is read).
    public var method: String
    /// Absolute URL: scheme://host:port/path?query (path already normalised; sent as is).
    public var url: String
    /// Exactly the header fields to send, in order (no hop-by-hop; `Host` included when
    /// the caller wants one other than the URL's). libcurl adds nothing of its own
    /// (no `Accept`, `Expect`, `User-Agent`) except framing (`Content-Length` /
    /// `Transfer-Encoding: chunked`) and `Host` when not given. A field whose name is
    /// not a token or whose value holds CR, LF, NUL or another control character
    /// (RFC 9110 §5.5) makes the transfer fail with `.connectFailed` before anything is sent.
    public var fields: [HTTPField]
    public var body: UpstreamRequestBody
    /// Seconds, for the TCP connect and TLS handshake; 0 or less means libcurl's default (300 s).
    public var connectTimeout: Double
    /// Whole exchange, seconds, pauses included; 0 or less means no limit.
    public var timeout: Double
    public var tls: UpstreamTLSOptions?
    public init(method: String, url: String, fields: [HTTPField], body: UpstreamRequestBody,
                connectTimeout: Double, timeout: Double, tls: UpstreamTLSOptions? = nil) {
        self.method = method
        self.url = url
        self.fields = fields
        self.body = body
        self.connectTimeout = connectTimeout
        self.timeout = timeout
        self.tls = tls
    }
}

/// Why an upstream exchange failed. The associated strings are short texts for logs
/// (libcurl's message, naming host and port at most; never header values).
///
/// After `didReceiveHead`, every failure is `.aborted`; before it, `.aborted` only
/// means the request body failed (see the case), anything else is one of the others.
public enum UpstreamError: Error, Sendable, Equatable {
    /// Could not resolve, connect, complete the TLS handshake or send the request;
    /// also a request that is not valid HTTP or that libcurl refuses (502).
    case connectFailed(String)
    /// `timeout` / `connectTimeout` elapsed before the response head (504).
    case timeout
    /// Not a valid HTTP/1.x response: garbage, an empty reply, a malformed status or
    /// field line, obs-fold, a head over 64 KiB, contradictory framing (502).
    case invalidResponse(String)
    /// Failed after the response head was delivered (connection lost, body shorter than
    /// its Content-Length, timeout mid-body), or the request body ended early or was
    /// produced wrongly. The client connection must be closed.
    case aborted(String)
    /// `cancel()` was called.
    case cancelled

    /// Status to answer with when no response head was sent to the client yet.
    public var status: Int {
        switch self {
        case .timeout: 504
        default: 502
        }
    }
}

/// What `fillRequestBody` produced.
public enum UpstreamBodyChunk: Sendable, Equatable {
    /// This many bytes were written into the buffer (> 0).
    case data(Int)
    /// Nothing available now; call `resumeSending()` when there is.
    case pause
    /// The body is complete.
    case end
    /// The body will never complete (the client went away): abort the exchange so the
    /// upstream sees an incomplete request.
    case abort
}

/// Receives a transfer's events, always on the loop's queue, never from inside a
/// call the delegate made on the transfer or loop. Calling `cancel()`, `resumeSending()`,
/// `resumeReceiving()` or `UpstreamLoop.start` from inside these methods is allowed.
public protocol UpstreamTransferDelegate: AnyObject {
    /// The final (non-1xx) response head; hop-by-hop fields are still present.
    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveHead head: UpstreamResponseHead)
    /// Response body bytes (de-chunked). Return false to refuse them for now: the transfer
    /// pauses and the same bytes are offered again after `resumeReceiving()`.
    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> Bool
    /// Copy request body bytes into `buffer` (never empty; at most the bytes still owed
    /// for `.length`). Not called for `.none`.
    func upstreamTransfer(_ transfer: UpstreamTransfer, fillRequestBody buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk
    /// Exactly once, last: nil on success.
    func upstreamTransfer(_ transfer: UpstreamTransfer, didComplete error: UpstreamError?)
}
