import GatewayHTTP

/// The request an ingress asks the decision listener about (docs/forward-auth.md), rebuilt
/// from the decision request's head. Pure: no I/O.
///
/// Read, in this order (the first convention whose fields are present is the only one read):
/// 1. `X-Forwarded-Method` + `X-Forwarded-Uri` (+ `X-Forwarded-Host`, `X-Forwarded-Proto`):
///    Traefik ForwardAuth, Caddy forward_auth;
/// 2. `X-Original-Method` + `X-Original-URI`, host from `X-Forwarded-Host` or `Host`
///    (+ `X-Forwarded-Proto`): nginx auth_request with the documented `proxy_set_header`s;
/// 3. otherwise the decision request's own method, target and `Host`: Envoy ext_authz (HTTP
///    service), which sends the original method and path.
///
/// A convention present with its method or target missing, a field sent twice, a target that
/// is not origin-form, a method that is not a token, a host list or an unknown protocol: 400
/// (the ingress is misconfigured or something else speaks to the listener; never guess).
public struct ForwardAuthRequest: Sendable, Equatable {
    /// Which fields the original request came from.
    public enum Convention: String, Sendable {
        case forwardedHeaders = "x-forwarded"
        case originalHeaders = "x-original"
        case decisionRequest = "request"
    }

    /// The original request's head: its method, origin-form target, `Host` first, then the
    /// decision request's other fields (credentials, cookies, origin...) without the fields
    /// the convention was read from and without framing (no body is read or judged here).
    public var head: HTTPRequestHead
    /// "http" or "https": `X-Forwarded-Proto` when sent, else `defaultScheme`.
    public var scheme: String
    public var convention: Convention

    /// Fields a convention is read from; none of them is part of the rebuilt request.
    static let conventionFields: Set<String> = [
        "x-forwarded-method", "x-forwarded-uri", "x-forwarded-host", "x-forwarded-proto",
        "x-original-method", "x-original-uri", "x-original-url", "x-original-host",
    ]

    /// - Parameters:
    ///   - decision: the head the ingress sent to the decision listener.
    ///   - defaultScheme: the scheme when `X-Forwarded-Proto` is absent (the listener's own).
    /// - Returns: the rebuilt request, or the 400 refusal reason.
    public static func reconstruct(_ decision: HTTPRequestHead, defaultScheme: String = "http")
        -> Result<ForwardAuthRequest, DenialReason>
    {
        func single(_ name: String) -> Result<String?, DenialReason> {
            let values = decision.values(name)
            if values.count > 1 { return .failure(.badPath("several \(name) fields")) }
            return .success(values.first)
        }
        let method: String, target: String, host: String?, convention: Convention
        do {
            let fwdMethod = try single("x-forwarded-method").get()
            let fwdURI = try single("x-forwarded-uri").get()
            let fwdHost = try single("x-forwarded-host").get()
            let origMethod = try single("x-original-method").get()
            let origURI = try single("x-original-uri").get()
            let ownHost = try single("host").get()
            if fwdMethod != nil || fwdURI != nil {
                guard let m = fwdMethod else { return .failure(.badMethod("X-Forwarded-Uri without X-Forwarded-Method")) }
                guard let u = fwdURI else { return .failure(.badPath("X-Forwarded-Method without X-Forwarded-Uri")) }
                (method, target, host, convention) = (m, u, fwdHost, .forwardedHeaders)
            } else if origMethod != nil || origURI != nil {
                guard let m = origMethod else { return .failure(.badMethod("X-Original-URI without X-Original-Method")) }
                guard let u = origURI else { return .failure(.badPath("X-Original-Method without X-Original-URI")) }
                (method, target, host, convention) = (m, u, fwdHost ?? ownHost, .originalHeaders)
            } else {
                (method, target, host, convention) = (decision.method, decision.target, ownHost, .decisionRequest)
            }
        } catch {
            return .failure(error as? DenialReason ?? .badPath("invalid forwarded fields"))
        }
        guard !method.isEmpty, HTTPSyntax.isToken(method) else { return .failure(.badMethod("invalid method")) }
        // Origin-form only (RFC 9112 §3.2.1) in the header conventions; the decision request's
        // own target passed the HTTP parser and is judged like any other.
        if convention != .decisionRequest {
            guard target.utf8.first == 0x2F, target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x23 }) else {
                return .failure(.badPath("the original request target must be origin-form"))
            }
        }
        if let host {
            // A list ("a, b") or anything but one authority: which host was asked for is unknown.
            guard !host.isEmpty, HTTPSyntax.isValidHostValue(host.utf8) else {
                return .failure(.badPath("invalid original host"))
            }
        }
        var scheme = defaultScheme
        switch single("x-forwarded-proto") {
        case .failure(let why): return .failure(why)
        case .success(let proto?):
            switch proto.lowercased() {
            // Traefik says ws/wss for WebSocket upgrades.
            case "http", "ws": scheme = "http"
            case "https", "wss": scheme = "https"
            default: return .failure(.badPath("X-Forwarded-Proto must be http or https"))
            }
        case .success(nil): break
        }
        var fields: [HTTPField] = []
        fields.reserveCapacity(decision.fields.count + 1)
        if let host { fields.append(HTTPField(name: "Host", value: host)) }
        for f in decision.fields {
            let n = HTTPSyntax.comparableFieldName(f.name)
            if n == "host" || n == "content-length" || n == "transfer-encoding" || conventionFields.contains(n) { continue }
            fields.append(f)
        }
        let head = HTTPRequestHead(method: method, target: target, version: decision.version, fields: fields,
                                   framing: .none, keepAlive: decision.keepAlive, expectsContinue: false)
        return .success(ForwardAuthRequest(head: head, scheme: scheme, convention: convention))
    }
}
