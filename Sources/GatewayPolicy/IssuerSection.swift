// `issuers:`: each entry's keys, its one key source, and the algorithms that fit it.
import GatewayJOSE
import Yams

/// Reader of the `issuers` list.
enum IssuerSection {
    static let keySources = ["jwks_url", "jwks_file", "public_key_file", "secret_env", "discovery"]

    /// One entry as read so far; settings left nil keep `IssuerConfig`'s defaults.
    struct Draft {
        var ok = true
        var name: ScalarValue?
        var iss: ScalarValue?
        var audiences: [String] = []
        var sources: [Entry] = []
        var keySource: KeySource?
        /// `discovery: true`: the key source is derived from `issuer` once the entry is read.
        var discovery = false
        var keySourceLocation = ConfigLocation(path: "", line: 1, column: 1)
        var keyID: String?
        var algorithms: [JWSAlgorithm] = []
        var jwksRefresh: Double?
        var clockSkew: Double?
        var maxTokenLifetime: Double?
        var requireExp: Bool?
        var requireSub: Bool?
        var scopeClaim: String?
        var rolesClaim: [String]?
        var introspection: IntrospectionConfig?

        var isSecret: Bool { sources.count == 1 && sources[0].key == "secret_env" }
        var isSingleKey: Bool {
            sources.count == 1 && (sources[0].key == "secret_env" || sources[0].key == "public_key_file")
        }
    }

    static let fields = FieldTable<Draft>([
        .key("name", required: true) { b, e, d in d.name = b.reader.string(e.value, path: e.path) },
        .key("issuer", required: true) { b, e, d in d.iss = b.reader.string(e.value, path: e.path) },
        .key("audiences") { b, a, d in
            if let list = b.reader.stringList(a.value, path: a.path) { d.audiences = list.map(\.value) } else { d.ok = false }
        },
        .group(keySources, readKeySource),
        .key("secret_encoding") { b, enc, d in
            if d.sources.count == 1, !d.isSecret {
                b.reader.fail(enc.keyNode, "`secret_encoding` is only allowed with `secret_env`")
                d.ok = false
            } else if let es = b.reader.string(enc.value, path: enc.path) {
                if let v = SecretEncoding(rawValue: es.value) {
                    if case .secretEnv(let variable, _) = d.keySource { d.keySource = .secretEnv(variable, v) }
                } else {
                    let choices = ["raw", "base64", "base64url"]
                    b.reader.fail(es.location, "`\(enc.path)` must be raw, base64 or base64url, not `\(es.shown)`"
                        + b.reader.didYouMean(es.value, among: choices))
                    d.ok = false
                }
            } else {
                d.ok = false
            }
        },
        .key("key_id") { b, k, d in
            if d.sources.count == 1, !d.isSingleKey {
                b.reader.fail(k.keyNode, "`key_id` is only allowed with `public_key_file` or `secret_env`")
                d.ok = false
            } else if let s = b.reader.string(k.value, path: k.path) {
                d.keyID = s.value
            } else {
                d.ok = false
            }
        },
        .key("algorithms", required: true, readAlgorithms),
        .key("jwks_refresh") { b, f, d in
            guard let v = b.reader.duration(f.value, path: f.path, positive: true) else { d.ok = false; return }
            // A JWK Set is never fetched more often than this, whatever the configuration says.
            if v < IssuerConfig.minimumJWKSRefresh {
                b.reader.fail(f.value, "`\(f.path)` must be at least \(Int(IssuerConfig.minimumJWKSRefresh))s")
                d.ok = false
            }
            d.jwksRefresh = v
        },
        .key("clock_skew") { b, f, d in
            if let v = b.reader.duration(f.value, path: f.path, positive: false) { d.clockSkew = v } else { d.ok = false }
        },
        .key("max_token_lifetime") { b, f, d in
            if let v = b.reader.duration(f.value, path: f.path, positive: true) { d.maxTokenLifetime = v } else { d.ok = false }
        },
        .key("require_exp") { b, f, d in
            if let v = b.reader.bool(f.value, path: f.path) { d.requireExp = v } else { d.ok = false }
        },
        .key("require_sub") { b, f, d in
            if let v = b.reader.bool(f.value, path: f.path) { d.requireSub = v } else { d.ok = false }
        },
        .key("scope_claim") { b, f, d in
            if let v = b.reader.string(f.value, path: f.path) { d.scopeClaim = v.value } else { d.ok = false }
        },
        .key("roles_claim") { b, f, d in
            guard let v = b.reader.string(f.value, path: f.path) else { d.ok = false; return }
            let parts = v.value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.contains(where: \.isEmpty) {
                b.reader.fail(v.location, "`\(f.path)` must be a dotted claim path like `realm_access.roles`, without empty parts")
                d.ok = false
            } else {
                d.rolesClaim = parts
            }
        },
        .key("introspection") { b, f, d in
            if let v = IntrospectionSection.introspection(f, b) { d.introspection = v } else { d.ok = false }
        },
    ])

    /// Exactly one key source.
    @Sendable static func readKeySource(_ b: ConfigBuilder, _ o: Object, _ sources: [Entry], _ d: inout Draft) {
        d.sources = sources
        d.keySourceLocation = b.reader.location(o.node)
        if sources.isEmpty {
            b.reader.fail(o.node, "`\(o.path)` needs exactly one key source: jwks_url, discovery, jwks_file, public_key_file or secret_env")
            d.ok = false
            return
        }
        if sources.count > 1 {
            b.reader.fail(sources[1].keyNode, "`\(o.path)` has several key sources (\(sources.map { "`\($0.key)`" }.joined(separator: ", "))); exactly one is allowed")
            d.ok = false
            return
        }
        let src = sources[0]
        d.keySourceLocation = b.reader.location(src.keyNode)
        if src.key == "discovery" {
            switch b.reader.bool(src.value, path: src.path) {
            case true?: d.discovery = true
            case false?:
                b.reader.fail(src.value, "`\(src.path)` must be true, or be removed in favour of another key source")
                d.ok = false
            case nil: d.ok = false
            }
            return
        }
        if let s = b.reader.string(src.value, path: src.path) {
            switch src.key {
            case "jwks_url":
                if let why = RemoteKeyURL.problem(s.value) {
                    b.reader.fail(s.location, "invalid `\(src.path)` `\(s.shown)`: \(why)")
                } else {
                    d.keySource = .jwksURL(s.value)
                }
            case "jwks_file": d.keySource = .jwksFile(b.resolve(s.value))
            case "public_key_file": d.keySource = .publicKeyFile(b.resolve(s.value))
            default:
                if b.reader.isVariableName(s.value) {
                    d.keySource = .secretEnv(s.value, .raw)
                } else {
                    b.reader.fail(s.location, "`\(src.path)` must be an environment variable name, not `\(s.shown)`")
                }
            }
        }
        if d.keySource == nil { d.ok = false }
    }

    /// The required allowlist, each algorithm fitting the key source.
    @Sendable static func readAlgorithms(_ b: ConfigBuilder, _ a: Entry, _ d: inout Draft) {
        guard let list = b.reader.stringList(a.value, path: a.path) else { d.ok = false; return }
        if list.isEmpty, case .sequence = a.value {
            b.reader.fail(a.value, "`\(a.path)` must not be empty")
            d.ok = false
        }
        for s in list {
            guard let alg = JWSAlgorithm(rawValue: s.value) else {
                d.ok = false
                if s.value.lowercased() == "none" {
                    b.reader.fail(s.location, "algorithm `none` is never accepted")
                } else {
                    b.reader.fail(s.location, "unknown algorithm `\(s.shown)`"
                        + b.reader.didYouMean(s.value, among: JWSAlgorithm.allCases.map(\.rawValue)))
                }
                continue
            }
            if d.algorithms.contains(alg) { continue }
            let hmac = alg.rawValue.hasPrefix("HS")
            if d.sources.count == 1 {
                let src = d.sources[0].key
                if hmac, src != "secret_env", src != "jwks_file" {
                    b.reader.fail(s.location, "algorithm `\(alg.rawValue)` needs a `secret_env` or `jwks_file` key source, not `\(src)`")
                    d.ok = false
                    continue
                }
                if !hmac, src == "secret_env" {
                    b.reader.fail(s.location, "algorithm `\(alg.rawValue)` needs a public key; `secret_env` only holds an HMAC secret (HS256, HS384, HS512)")
                    d.ok = false
                    continue
                }
            }
            d.algorithms.append(alg)
        }
    }

    /// One issuer entry: nil when it is not a mapping; else its name and `issuer` value when
    /// they are valid strings, and the issuer when the whole entry is valid.
    static func issuer(_ node: Node, path: String, _ b: ConfigBuilder)
        -> (issuer: IssuerConfig?, name: ScalarValue?, iss: ScalarValue?)? {
        var d = Draft()
        guard fields.read(node, path: path, builder: b, into: &d) != nil else { return nil }
        if d.name == nil || d.iss == nil { d.ok = false }
        if d.discovery, let iss = d.iss {
            // The discovery document's URL comes from `issuer`, under the same transport rule
            // as `jwks_url`.
            let url = RemoteKeyURL.discovery(issuer: iss.value)
            if let why = RemoteKeyURL.problem(url) {
                b.reader.fail(iss.location, "invalid discovery document URL `\(url)` from `issuer` (`discovery` is true): \(why)")
                d.ok = false
            } else {
                d.keySource = .discovery(url)
            }
        }
        guard d.ok, let name = d.name, let iss = d.iss, let keySource = d.keySource, !d.algorithms.isEmpty
        else { return (nil, d.name, d.iss) }
        var issuer = IssuerConfig(name: name.value, issuer: iss.value, audiences: d.audiences, algorithms: d.algorithms,
                                  keySource: keySource, keySourceLocation: d.keySourceLocation)
        issuer.keyID = d.keyID
        if let v = d.jwksRefresh { issuer.jwksRefresh = v }
        if let v = d.clockSkew { issuer.clockSkew = v }
        issuer.maxTokenLifetime = d.maxTokenLifetime
        if let v = d.requireExp { issuer.requireExp = v }
        if let v = d.requireSub { issuer.requireSub = v }
        if let v = d.scopeClaim { issuer.scopeClaim = v }
        issuer.rolesClaim = d.rolesClaim
        issuer.introspection = d.introspection
        return (issuer, name, iss)
    }

    static func issuers(_ e: Entry, _ b: ConfigBuilder) -> [IssuerConfig] {
        guard let items = b.reader.list(e.value, path: e.path) else { return [] }
        var out: [IssuerConfig] = []
        var names: Set<String> = []
        var values: [String: String] = [:]
        for (node, path) in items {
            if case .mapping(let m) = node, let n = m["name"]?.string, !b.declaredIssuers.contains(n) {
                b.declaredIssuers.append(n)
            }
            // Names and `issuer` values are compared even for entries with other errors.
            guard let parsed = issuer(node, path: path, b) else { continue }
            if let issuer = parsed.issuer { b.parsedIssuers.append(issuer) }
            if let name = parsed.name {
                guard names.insert(name.value).inserted else {
                    b.reader.fail(name.location, "duplicate issuer name `\(name.value)`")
                    continue
                }
            }
            if let iss = parsed.iss {
                if let other = values[iss.value] {
                    b.reader.fail(iss.location, "issuer `\(iss.value)` is already used by issuer `\(other)`; each `issuer` value must pick one entry")
                    continue
                }
                if let name = parsed.name { values[iss.value] = name.value }
            }
            if let issuer = parsed.issuer { out.append(issuer) }
        }
        return out
    }
}
