import GatewayHTTP
import GatewayJOSE

/// Why a request is not forwarded. Each case maps to exactly one status, one
/// `WWW-Authenticate` challenge (RFC 6750 §3) and one JSON body (docs/refusals.md),
/// and carries a stable `code` for logs and metrics.
public enum DenialReason: Error, Sendable, Equatable {
    /// The request-target failed normalisation (docs/request-handling.md): 400.
    case badPath(String)
    /// No route matches: 404.
    case noRoute
    /// A method the gateway refuses to route (lowercase letters): 400.
    case badMethod(String)
    /// TRACE / TRACK / CONNECT: 405.
    case methodNotAllowed
    /// A GET or HEAD request with content, on a route without `allow_body_on_get`: 400.
    case contentNotAllowed
    /// Protected route, no Bearer credentials (RFC 6750 §3.1: no error code): 401.
    case missingToken
    /// Several Authorization fields or bad Bearer syntax (RFC 6750 §3.1 invalid_request): 400.
    case invalidRequest(String)
    /// Token refused (RFC 6750 §3.1 invalid_token): 401.
    case invalidToken(TokenError)
    /// Token valid but listed as revoked (its `jti`, or its subject before a cut-off): 401
    /// invalid_token, "token revoked" (docs/revocation.md).
    case revoked
    /// Token valid locally but its issuer's RFC 7662 introspection endpoint answered
    /// `"active": false`: 401 invalid_token, "token inactive".
    case inactive
    /// The issuer's introspection endpoint gave no usable answer (unreachable, timeout,
    /// another status, a malformed body): 503 with `Retry-After`, never let through.
    /// Carries the issuer's name from the config.
    case introspectionUnavailable(issuer: String)
    /// Token fine, scope/role/claim missing (RFC 6750 §3.1 insufficient_scope): 403.
    /// `requiredScopes` is what the challenge's `scope` attribute lists.
    case insufficientScope(requiredScopes: [String], detail: String)
    /// The token names an issuer whose keys could not be fetched yet (its identity provider
    /// was down when the gateway started): 503 with `Retry-After`, never 401 — the token is
    /// not at fault. Carries the issuer's name from the config.
    case keysUnavailable(issuer: String)
    /// A cookie-borne token on an unsafe method from another origin (docs/browser-apps.md):
    /// 403, no challenge (the credentials are fine; the request's origin is not).
    case crossSiteRequest
    /// A browser navigation without any token on a route with `login_url`: 302 to
    /// `location` (already built: the login URL with the original URL filled in).
    case loginRequired(location: String)
    /// A CORS preflight the route's `cors` does not allow: 403 without any
    /// `Access-Control-*` field. The text says which part failed, never the request's bytes.
    case corsPreflightRefused(String)
    /// The client sent SNI and the request's `Host` is not a name of the certificate chosen
    /// for it (RFC 9110 §15.5.20): 421, and the connection closes.
    case misdirectedRequest
    /// The route needs a verified client certificate (mutual TLS) and the connection has
    /// none: 401 `invalid_token`.
    case clientCertificateRequired
    /// The token is bound to a certificate (RFC 8705 §3 `cnf`) that is not the
    /// connection's verified client certificate: 401 `invalid_token`.
    case certificateBindingMismatch

    /// HTTP status code sent to the client.
    public var status: Int {
        switch self {
        case .badPath, .invalidRequest, .badMethod, .contentNotAllowed: 400
        case .noRoute: 404
        case .methodNotAllowed: 405
        case .missingToken, .invalidToken, .revoked, .inactive, .clientCertificateRequired, .certificateBindingMismatch: 401
        case .misdirectedRequest: 421
        case .insufficientScope, .crossSiteRequest, .corsPreflightRefused: 403
        case .keysUnavailable, .introspectionUnavailable: 503
        case .loginRequired: 302
        }
    }

    /// Stable label for logs and metrics (`reason`).
    public var code: String {
        switch self {
        case .badPath: "bad_path"
        case .noRoute: "no_route"
        case .badMethod: "bad_method"
        case .methodNotAllowed: "method_not_allowed"
        case .contentNotAllowed: "body_not_allowed"
        case .missingToken: "missing_token"
        case .invalidRequest: "invalid_request"
        case .invalidToken(let e): e.reasonCode
        case .revoked: "revoked"
        case .inactive: "inactive"
        case .introspectionUnavailable: "introspection_unavailable"
        case .insufficientScope: "insufficient_scope"
        case .keysUnavailable: "keys_unavailable"
        case .crossSiteRequest: "csrf"
        case .loginRequired: "login_redirect"
        case .corsPreflightRefused: "cors_preflight_refused"
        case .misdirectedRequest: "misdirected_request"
        case .clientCertificateRequired: "client_certificate_required"
        case .certificateBindingMismatch: "certificate_binding_mismatch"
        }
    }

    /// OAuth error code for the JSON body (RFC 6750 §3.1 where one applies).
    var errorCode: String {
        switch self {
        case .badPath: "bad_request"
        case .noRoute: "not_found"
        case .badMethod: "bad_request"
        case .methodNotAllowed: "method_not_allowed"
        case .contentNotAllowed: "bad_request"
        case .missingToken: "unauthorized"
        case .invalidRequest: "invalid_request"
        case .invalidToken, .revoked, .inactive: "invalid_token"
        case .introspectionUnavailable: "temporarily_unavailable"
        case .insufficientScope: "insufficient_scope"
        case .keysUnavailable: "temporarily_unavailable"
        case .crossSiteRequest: "csrf"
        case .loginRequired: "login_required"
        case .corsPreflightRefused: "cors_refused"
        case .misdirectedRequest: "misdirected_request"
        case .clientCertificateRequired, .certificateBindingMismatch: "invalid_token"
        }
    }

    /// Human-readable description: fixed texts only, never request bytes or token contents.
    var errorDescription: String {
        switch self {
        case .badPath(let why): why
        case .noRoute: "no route matches the request"
        case .badMethod(let why): why
        case .methodNotAllowed: "method not allowed"
        case .contentNotAllowed: "GET and HEAD requests may not carry content on this route"
        case .missingToken: "bearer token required"
        case .invalidRequest(let why): why
        case .invalidToken(let e): e.description
        case .revoked: "token revoked"
        case .inactive: "token inactive"
        case .introspectionUnavailable(let issuer): "the introspection endpoint of issuer \(issuer) did not answer; retry later"
        case .insufficientScope(_, let detail): detail
        case .keysUnavailable(let issuer): "the keys of issuer \(issuer) are not available yet; retry later"
        case .crossSiteRequest: "cross-site request refused"
        case .loginRequired: "sign-in required"
        case .corsPreflightRefused(let why): why
        case .misdirectedRequest: "the request's host is not served with the certificate chosen by SNI"
        case .clientCertificateRequired: "client certificate required"
        case .certificateBindingMismatch: "certificate binding mismatch"
        }
    }
}

/// A complete refusal response, ready to serialise.
public struct Refusal: Sendable, Equatable {
    public var reason: DenialReason
    public var status: Int { reason.status }
    /// `Content-Type`; `WWW-Authenticate` only for a refusal about credentials
    /// (`challenge(for:realm:)`: missing, malformed or rejected tokens, insufficient scope),
    /// never for the cross-site (CSRF) or CORS refusals; `Allow`, `Retry-After` or `Location`
    /// for the reasons that need them.
    public var fields: [HTTPField]
    /// JSON body `{"error":"…","error_description":"…"}`.
    public var body: [UInt8]

    /// Builds the response (docs/refusals.md) for `reason`, with realm `realm`.
    public init(_ reason: DenialReason, realm: String = "gateway") {
        self.reason = reason
        self.body = Refusal.jsonBody(error: reason.errorCode, description: reason.errorDescription)
        var fields = [HTTPField(name: "Content-Type", value: "application/json")]
        if reason == .methodNotAllowed {
            // RFC 9110 §15.5.6: a 405 says what is allowed.
            fields.append(HTTPField(name: "Allow", value: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"))
        }
        if case .introspectionUnavailable = reason {
            fields.append(HTTPField(name: "Retry-After", value: String(Refusal.introspectionUnavailableRetryAfter)))
        }
        if case .keysUnavailable = reason {
            // RFC 9110 §10.2.3: when to try again.
            fields.append(HTTPField(name: "Retry-After", value: String(Refusal.keysUnavailableRetryAfter)))
        }
        if case .loginRequired(let location) = reason {
            // RFC 9110 §15.4.3; the answer depends on the request's cookies: never cached.
            fields.append(HTTPField(name: "Location", value: location))
            fields.append(HTTPField(name: "Cache-Control", value: "no-store"))
        }
        if let challenge = Refusal.challenge(for: reason, realm: realm) {
            fields.append(HTTPField(name: "WWW-Authenticate", value: challenge))
        }
        self.fields = fields
    }

    /// `Retry-After` seconds on a 503 for an issuer without keys: a few startup retries of
    /// its JWK Set (1 s, 2 s, 4 s...) fit in it.
    public static let keysUnavailableRetryAfter = 5

    /// `Retry-After` seconds on a 503 for an introspection endpoint that did not answer (its
    /// call times out after 5 s).
    public static let introspectionUnavailableRetryAfter = 5

    /// The `WWW-Authenticate` value (RFC 6750 §3), or nil when the refusal is not about credentials.
    static func challenge(for reason: DenialReason, realm: String) -> String? {
        let base = "Bearer realm=\"\(realm)\""
        switch reason {
        case .missingToken:
            return base
        case .invalidRequest:
            return base + ", error=\"invalid_request\""
        case .invalidToken(let e):
            return base + ", error=\"invalid_token\", error_description=\"\(e.description)\""
        case .revoked:
            return base + ", error=\"invalid_token\", error_description=\"token revoked\""
        case .inactive:
            return base + ", error=\"invalid_token\", error_description=\"token inactive\""
        case .clientCertificateRequired, .certificateBindingMismatch:
            return base + ", error=\"invalid_token\", error_description=\"\(reason.errorDescription)\""
        case .insufficientScope(let scopes, _):
            // RFC 6750 §3: `scope` lists what the resource needs; omitted when the refusal
            // is about roles or claims only.
            if scopes.isEmpty { return base + ", error=\"insufficient_scope\"" }
            return base + ", error=\"insufficient_scope\", scope=\"\(scopes.joined(separator: " "))\""
        case .badPath, .noRoute, .badMethod, .methodNotAllowed, .contentNotAllowed, .keysUnavailable, .crossSiteRequest, .loginRequired,
             .introspectionUnavailable,
             .corsPreflightRefused, .misdirectedRequest:
            return nil
        }
    }

    /// `{"error":E,"error_description":D}` with JSON string escaping.
    public static func jsonBody(error: String, description: String) -> [UInt8] {
        var out = "{\"error\":"
        appendJSONString(error, to: &out)
        out += ",\"error_description\":"
        appendJSONString(description, to: &out)
        out += "}"
        return Array(out.utf8)
    }

    static func appendJSONString(_ s: String, to out: inout String) {
        out += JSONWriter.quotedString(s)
    }
}
