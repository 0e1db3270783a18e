// An issuer's `introspection:` (RFC 7662 token introspection; docs/revocation.md).
import Yams

/// `introspection: {url, client_id, client_secret_env, cache}`: `url`, `client_id` and
/// `client_secret_env` required; `url` follows the `jwks_url` rules.
enum IntrospectionSection {
    struct Draft {
        var url: String?
        var clientID: String?
        var clientSecretEnv: String?
        var cache: Double?
        var valid = true
    }

    static let fields = FieldTable<Draft>([
        .key("url", required: true) { b, f, d in
            guard let s = b.reader.string(f.value, path: f.path) else { return d.valid = false }
            if let problem = RemoteKeyURL.problem(s.value) {
                b.reader.fail(s.location, "invalid `\(f.path)` `\(s.shown)`: \(problem)")
                return d.valid = false
            }
            d.url = s.value
        },
        .key("client_id", required: true) { b, f, d in
            guard let s = b.reader.string(f.value, path: f.path) else { return d.valid = false }
            d.clientID = s.value
        },
        .key("client_secret_env", required: true) { b, f, d in
            guard let s = b.reader.string(f.value, path: f.path) else { return d.valid = false }
            guard b.reader.isVariableName(s.value) else {
                b.reader.fail(s.location, "`\(f.path)` must be an environment variable name, not `\(s.shown)`")
                return d.valid = false
            }
            d.clientSecretEnv = s.value
        },
        .key("cache") { b, f, d in
            guard let v = b.reader.duration(f.value, path: f.path, positive: false) else { return d.valid = false }
            d.cache = v
        },
    ])

    /// The section, or nil when it has errors (reported in the builder's reader).
    static func introspection(_ e: Entry, _ b: ConfigBuilder) -> IntrospectionConfig? {
        var d = Draft()
        guard fields.read(e.value, path: e.path, builder: b, into: &d) != nil, d.valid,
              let url = d.url, let clientID = d.clientID, let env = d.clientSecretEnv
        else { return nil }
        var config = IntrospectionConfig(url: url, clientID: clientID, clientSecretEnv: env,
                                         location: b.reader.location(e.keyNode))
        if let cache = d.cache { config.cache = cache }
        return config
    }
}
