// Plain types of the upstream client. `UpstreamLoop` (UpstreamLoop.swift) and
// `UpstreamTransfer` (UpstreamTransfer.swift) drive libcurl with them.
import GatewayHTTP

/// How the request body reaches the upstream.
public enum UpstreamRequestBody: Sendable, Equatable {
    case none
    /// Exactly this many bytes (sent with Content-Length).
    case length(UInt64)
    /// Unknown length (sent chunked).
    case chunked
}

/// TLS options for https upstreams (paths to PEM files).
public struct UpstreamTLSOptions: Sendable, Equatable {
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
public struct UpstreamRequest: Sendable {
    public var method: String
    /// Absolute URL: scheme://host:port/path?query (path already normalised; sent as is).
    public var url: String
    /// Exactly the header fields to send, in order (no hop-by-hop; `Host` included when
    /// the caller wants one other than the URL's). libcurl adds nothing of its own
    /// (no `Accept`, `Expect`, `User-Agent`) except framing (`Content-Length` /
    /// `Transfer-Encoding: chunked`) and `Host` when not given.
    public var fields: [HTTPField]
    public var body: UpstreamRequestBody
    /// Seconds.
    public var connectTimeout: Double
    /// Whole exchange, seconds.
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

/// Why an upstream exchange failed.
public enum UpstreamError: Error, Sendable, Equatable {
    /// Could not resolve or connect (502).
    case connectFailed(String)
    /// `timeout` / `connectTimeout` elapsed (504).
    case timeout
    /// Unparseable response, head over 64 KiB... (502).
    case invalidResponse(String)
    /// Failed after the response started (the client connection must be closed).
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
}

/// Receives a transfer's events, always on the loop's queue.
public protocol UpstreamTransferDelegate: AnyObject {
    /// The final (non-1xx) response head; hop-by-hop fields are still present.
    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveHead status: Int, fields: [HTTPField])
    /// Response body bytes (de-chunked). Return false to refuse them for now: the transfer
    /// pauses and the same bytes are offered again after `resumeReceiving()`.
    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> Bool
    /// Copy request body bytes into `buffer`.
    func upstreamTransfer(_ transfer: UpstreamTransfer, fillRequestBody buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk
    /// Exactly once, last: nil on success.
    func upstreamTransfer(_ transfer: UpstreamTransfer, didComplete error: UpstreamError?)
}
