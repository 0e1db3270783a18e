import GatewayHTTP
import GatewayPolicy

/// A route's CORS rules (Fetch standard, "CORS protocol"), as pure functions: recognising a
/// preflight, answering it, and rewriting the `Access-Control-*` fields of actual responses.
/// With `cors` on a route the gateway owns those fields: the upstream's own are dropped, so
/// an upstream cannot widen what the route allows. docs/browser-apps.md has the whole flow.
public enum CORSPolicy {
    /// A preflight: `OPTIONS` with `Origin` and `Access-Control-Request-Method`. An `OPTIONS`
    /// without them is an ordinary request.
    public static func isPreflight(method: String, fields: [HTTPField]) -> Bool {
        method == "OPTIONS" && has("origin", fields) && has("access-control-request-method", fields)
    }

    /// Answers a preflight (`isPreflight` true) from `cors` alone: no token, no upstream.
    /// Allowed when there is one `Origin` that `cors` allows (`null` never is), one
    /// `Access-Control-Request-Method` listed in `allowed_methods` (exact, methods are
    /// case-sensitive), and every name in `Access-Control-Request-Headers` listed in
    /// `allowed_headers` (ASCII case-insensitive).
    public static func evaluatePreflight(fields: [HTTPField], cors: CORSConfig) -> CORSPreflightOutcome {
        let origins = values("origin", fields)
        guard origins.count == 1, let origin = Origin.parse(origins[0]), cors.allows(origin) else {
            return .refused(.corsPreflightRefused("origin not allowed"))
        }
        let methods = values("access-control-request-method", fields)
        guard methods.count == 1, cors.allowedMethods.contains(methods[0]) else {
            return .refused(.corsPreflightRefused("method not allowed"))
        }
        for value in values("access-control-request-headers", fields) {
            for name in HTTPSyntax.listElements(value) {
                guard cors.allowedHeaders.contains(where: { HTTPSyntax.equalsIgnoringASCIICase($0, String(name)) }) else {
                    return .refused(.corsPreflightRefused("header not allowed"))
                }
            }
        }
        var out = [HTTPField(name: "Access-Control-Allow-Origin", value: origins[0])]
        if cors.allowCredentials { out.append(HTTPField(name: "Access-Control-Allow-Credentials", value: "true")) }
        out.append(HTTPField(name: "Access-Control-Allow-Methods", value: cors.allowedMethods.joined(separator: ", ")))
        if !cors.allowedHeaders.isEmpty {
            out.append(HTTPField(name: "Access-Control-Allow-Headers", value: cors.allowedHeaders.joined(separator: ", ")))
        }
        if let maxAge = cors.maxAge { out.append(HTTPField(name: "Access-Control-Max-Age", value: String(maxAge))) }
        out.append(HTTPField(name: "Vary", value: "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"))
        return .allowed(fields: out)
    }

    /// The fields of an actual response (the upstream's, or the gateway's own refusal) on a
    /// route with `cors`: every `Access-Control-*` field removed; for an allowed `Origin`,
    /// `Access-Control-Allow-Origin` with that origin as sent (never `*`), then
    /// `Access-Control-Allow-Credentials: true` and `Access-Control-Expose-Headers` when
    /// configured. `Vary: Origin` is added to every response (the answer depends on `Origin`,
    /// RFC 9110 §12.5.5) unless a `Vary` already names `Origin` or `*`.
    /// - Parameters:
    ///   - response: the response fields, in order (kept in order).
    ///   - requestFields: the request's fields (for `Origin`).
    public static func responseFields(_ response: [HTTPField], requestFields: [HTTPField], cors: CORSConfig) -> [HTTPField] {
        var out = response.filter { !HTTPSyntax.asciiLowercased($0.name).hasPrefix("access-control-") }
        let varies = values("vary", out).contains { v in
            HTTPSyntax.listElements(v).contains { $0 == "*" || HTTPSyntax.equalsIgnoringASCIICase(String($0), "origin") }
        }
        if !varies { out.append(HTTPField(name: "Vary", value: "Origin")) }
        let origins = values("origin", requestFields)
        guard origins.count == 1, let origin = Origin.parse(origins[0]), cors.allows(origin) else { return out }
        out.append(HTTPField(name: "Access-Control-Allow-Origin", value: origins[0]))
        if cors.allowCredentials { out.append(HTTPField(name: "Access-Control-Allow-Credentials", value: "true")) }
        if !cors.exposeHeaders.isEmpty {
            out.append(HTTPField(name: "Access-Control-Expose-Headers", value: cors.exposeHeaders.joined(separator: ", ")))
        }
        return out
    }

    static func has(_ name: String, _ fields: [HTTPField]) -> Bool {
        fields.contains { HTTPSyntax.equalsIgnoringASCIICase($0.name, name) }
    }

    static func values(_ name: String, _ fields: [HTTPField]) -> [String] {
        fields.filter { HTTPSyntax.equalsIgnoringASCIICase($0.name, name) }.map(\.value)
    }
}
