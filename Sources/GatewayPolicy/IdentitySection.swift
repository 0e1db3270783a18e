// `identity:`: the headers the verified identity is sent upstream in.
import Yams

/// Reader of the `identity` mapping.
enum IdentitySection {
    /// Header names an identity header may never take: hop-by-hop (RFC 9110 §7.6.1), fields
    /// that frame or route the request, credentials, and fields the gateway itself sets or
    /// passes on (the upstream would get two values, or the gateway's would be overwritten).
    static let forbiddenHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "authorization", "proxy-authorization", "proxy-authenticate", "host", "content-length", "cookie",
        "forwarded", "x-forwarded", "x-request-id", "traceparent", "tracestate",
    ]
    /// Prefixes of names an identity header may never take (`X-Forwarded-For`, `-Proto`, `-Host`...).
    static let forbiddenPrefixes = ["x-forwarded-"]

    struct Draft {
        var identity = IdentityConfig()
        /// Lowercased header → the key that uses it.
        var used: [String: String] = [:]
    }

    static let fields = FieldTable<Draft>([
        .key("subject_header") { b, f, d in if let h = header(f.value, path: f.path, b, &d) { d.identity.subjectHeader = h } },
        .key("issuer_header") { b, f, d in if let h = header(f.value, path: f.path, b, &d) { d.identity.issuerHeader = h } },
        .key("scopes_header") { b, f, d in if let h = header(f.value, path: f.path, b, &d) { d.identity.scopesHeader = h } },
        .key("claims") { b, f, d in
            guard let pairs = b.reader.pairs(f.value, path: f.path) else { return }
            for (claim, _, value) in pairs {
                if let h = header(value, path: "\(f.path).\(claim)", b, &d) { d.identity.claims.append((claim, h)) }
            }
        },
        .key("strip_prefixes") { b, f, d in
            guard let list = b.reader.stringList(f.value, path: f.path) else { return }
            var prefixes: [String] = []
            for (i, s) in list.enumerated() {
                if ConfigScalars.isToken(s.value) {
                    prefixes.append(s.value)
                } else {
                    b.reader.fail(s.location, "`\(f.path)[\(i)]`: `\(s.shown)` is not a valid header field name prefix")
                }
            }
            d.identity.stripPrefixes = prefixes
        },
    ])

    /// A valid identity header name not used before (reported and nil otherwise).
    static func header(_ node: Node, path: String, _ b: ConfigBuilder, _ d: inout Draft) -> String? {
        guard let s = b.reader.string(node, path: path) else { return nil }
        guard ConfigScalars.isToken(s.value) else {
            b.reader.fail(s.location, "`\(path)`: `\(s.shown)` is not a valid header field name")
            return nil
        }
        if s.value.contains("_") {
            b.reader.fail(s.location, "`\(path)`: `\(s.value)` must not contain `_` (servers that map `_` to `-`, or drop such fields, would not see it as written)")
            return nil
        }
        let lower = s.value.lowercased()
        if forbiddenHeaders.contains(lower) || forbiddenPrefixes.contains(where: lower.hasPrefix) {
            b.reader.fail(s.location, "`\(path)`: `\(s.value)` cannot be an identity header")
            return nil
        }
        if let other = d.used[lower] {
            b.reader.fail(s.location, "`\(path)`: header `\(s.value)` is already used by `\(other)`")
            return nil
        }
        d.used[lower] = path
        return s.value
    }

    static func identity(_ e: Entry, _ b: ConfigBuilder) -> IdentityConfig {
        var d = Draft()
        guard let o = b.reader.object(e.value, path: e.path, known: fields.known) else { return d.identity }
        // Defaults in force count as used, so a claim header cannot collide with them.
        for (key, h) in [("subject_header", d.identity.subjectHeader), ("issuer_header", d.identity.issuerHeader),
                         ("scopes_header", d.identity.scopesHeader)] where !o.has(key) {
            d.used[h.lowercased()] = "\(e.path).\(key)"
        }
        fields.read(o, builder: b, into: &d, fileOrder: true)
        return d.identity
    }
}
