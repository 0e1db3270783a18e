import GatewayHTTP

/// A route's `cors:` (Fetch standard "CORS protocol"): which cross-origin browser requests
/// may read the route's responses. With it, the gateway answers preflights itself and owns
/// the `Access-Control-*` fields of every response.
public struct CORSConfig: Sendable, Equatable {
    /// Allowed origins; empty with `anyOrigin`.
    public var allowedOrigins: [Origin] = []
    /// `allowed_origins: ["*"]`: any origin except `null` (never with `allowCredentials`).
    public var anyOrigin = false
    /// Methods a preflight may ask for, exactly as written (case-sensitive, RFC 9110 §9.1).
    /// Default: the CORS-safelisted methods GET, HEAD, POST.
    public var allowedMethods: [String] = ["GET", "HEAD", "POST"]
    /// Request fields a preflight may ask for (compared ASCII case-insensitively).
    public var allowedHeaders: [String] = []
    /// Response fields the browser lets the page read (`Access-Control-Expose-Headers`).
    public var exposeHeaders: [String] = []
    /// Seconds a browser may cache a preflight answer; nil: no `Access-Control-Max-Age`.
    public var maxAge: Int?
    /// `Access-Control-Allow-Credentials: true`: cookies and `Authorization` may be sent.
    public var allowCredentials = false
    /// Warnings found while reading `cors`, ready to print.
    var parseWarnings: [String] = []
    public init() {}

    /// Whether `origin` (the request's `Origin` value, parsed) is allowed. `null` never is.
    public func allows(_ origin: Origin) -> Bool {
        anyOrigin || allowedOrigins.contains(origin)
    }
}
