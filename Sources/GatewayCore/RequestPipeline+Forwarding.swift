import GatewayHTTP
import GatewayPolicy

// The request sent upstream once `RequestPipeline.decide` allowed it: which client fields
// go, which the gateway sets, and the URL.
extension RequestPipeline {
    // MARK: Forwarded request

    /// Fields upstream frameworks read as the client's address, the request's URL or its
    /// method, in place of the real ones: a client could otherwise turn a request a GET route
    /// allowed into a DELETE, or `/status` into `/admin`, behind the gateway's back.
    static let overrideFields: Set<String> = [
        "x-real-ip", "x-client-ip", "true-client-ip", "x-original-url", "x-rewrite-url", "x-original-uri",
        "x-http-method-override", "x-http-method", "x-method-override",
        "front-end-https", "x-url-scheme", "x-host", "x-method", "cf-connecting-ip",
    ]

    /// Whether a normalised field name is one of the proxy-set families a client must not
    /// send: `overrideFields`, every `X-Forwarded-*`, `X-Original-*` (original URL, host,
    /// method, ...), `X-Envoy-*` (Envoy's routing and retry controls), and every field
    /// ending in `-Client-IP` or `-Connecting-IP` (`Fastly-Client-IP`,
    /// `X-Cluster-Client-IP`, `CF-Connecting-IP`, ...).
    static func isProxyControlField(_ n: String) -> Bool {
        // Byte comparisons: field names are ASCII tokens.
        let u = n.utf8
        return u.starts(with: "x-forwarded-".utf8) || u.starts(with: "x-original-".utf8) || u.starts(with: "x-envoy-".utf8)
            || u.reversed().starts(with: "-client-ip".utf8.reversed()) || u.reversed().starts(with: "-connecting-ip".utf8.reversed())
            || overrideFields.contains(n)
    }

    /// Client fields minus hop-by-hop (first, so `Connection` cannot name ours), minus
    /// identity look-alikes, `Authorization` (unless forwarded), `Host` (libcurl sends the
    /// upstream's), framing (`Content-Length`: set from the body), `Expect` (answered here),
    /// every `X-Forwarded-*` (the gateway sets For, with the client's chain, Proto and
    /// Host), `X-Request-Id` (set here) and the other `isProxyControlField`s. Names compare
    /// case-insensitively with `_` as `-`.
    /// - Parameters:
    ///   - extraCapacity: how many fields the caller appends (room is reserved, so the array
    ///     is allocated once).
    ///   - dropTraceContext: leave out `traceparent` and `tracestate` (the caller sends its own).
    static func upstreamFields(_ head: HTTPRequestHead, runtime: GatewayRuntime, forwardToken: Bool,
                               extraCapacity: Int = 8, dropTraceContext: Bool = false) -> [HTTPField] {
        let cleaned = HopByHop.removing(from: head.fields)
        var out: [HTTPField] = []
        out.reserveCapacity(cleaned.count + extraCapacity)
        let filter = runtime.forwardedFieldFilter
        for f in cleaned where f.withNameBytes({ name in
            filter.forwards(name, forwardToken: forwardToken)
                && !(dropTraceContext && TraceContextField.kind(ofName: name) != nil)
        }) {
            out.append(f)
        }
        return out
    }

    static func appendForwarded(_ fields: inout [HTTPField], head: HTTPRequestHead, host: String?,
                                context: RequestContext, requestID: String) {
        // The client's chain (its non-empty fields joined, RFC 9110 §5.3), then the peer.
        var chain: String?
        for f in head.fields where f.valueByteCount > 0
            && f.withNameBytes({ HTTPSyntax.equalsLowercase($0, "x-forwarded-for") }) {
            chain = (chain ?? "") + f.value + ", "
        }
        let peer = context.peer ?? context.clientAddress
        fields.append(HTTPField(name: "X-Forwarded-For", value: chain.map { $0 + peer } ?? peer))
        fields.append(HTTPField(name: "X-Forwarded-Proto", value: forwardedProto(head, context: context)))
        if let host = forwardedHost(head, host: host, context: context) {
            fields.append(HTTPField(name: "X-Forwarded-Host", value: host))
        }
        fields.append(HTTPField(name: "X-Request-Id", value: requestID))
    }

    /// A client `X-Request-Id` is kept when it is 1–128 characters of `[A-Za-z0-9._:-]`.
    static func requestIDFrom(_ head: HTTPRequestHead) -> String? {
        var found: String?
        for f in head.fields where f.withNameBytes({ HTTPSyntax.equalsLowercase($0, "x-request-id") }) {
            if found != nil { return nil }
            found = f.value
        }
        guard let v = found, !v.isEmpty, v.utf8.count <= 128 else { return nil }
        for b in v.utf8 {
            let ok = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
                || b == 0x2E || b == 0x5F || b == 0x3A || b == 0x2D
            if !ok { return nil }
        }
        return v
    }

    /// Absolute upstream URL: the route's `RouteForwarding.urlPrefix`, the normalised path
    /// (without the route's prefix under `strip_prefix`), then "?" and the query as sent.
    static func upstreamURL(_ routed: Routed, runtime: GatewayRuntime) -> String {
        var path = routed.target.path
        if let strip = runtime.routeForwarding[routed.index].strippedLength {
            path = String(path.utf8.dropFirst(strip)).map { $0 } ?? path
            if path.isEmpty || !path.hasPrefix("/") { path = "/" + path }
        }
        var prefix = runtime.routeForwarding[routed.index].urlPrefix
        var query = routed.target.query
        // One allocation: the three parts copied as bytes into a string of the exact size.
        return prefix.withUTF8 { prefix in
            path.withUTF8 { path in
                let queryCount = query.map { $0.utf8.count + 1 } ?? 0
                return String(unsafeUninitializedCapacity: prefix.count + path.count + queryCount) { out in
                    var n = out[0...].initialize(fromContentsOf: prefix)
                    n = out[n...].initialize(fromContentsOf: path)
                    if query != nil {
                        out[n] = 0x3F  // "?"
                        n = query!.withUTF8 { out[(n + 1)...].initialize(fromContentsOf: $0) }
                    }
                    return n
                }
            }
        }
    }
}
