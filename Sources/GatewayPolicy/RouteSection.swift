// `routes:`: the ordered route list; `match` and `auth` have their own readers.
import Yams

/// Reader of the `routes` list.
enum RouteSection {
    /// One route entry as read so far.
    struct Draft {
        let object: Object
        let issuers: [IssuerConfig]
        let upstreams: [String: UpstreamConfig]
        var ok = true
        var name: ScalarValue?
        var match: MatchSection.Match?
        var upstream: String?
        var stripPrefix = false
        var allowBodyOnGet = false
        var auth: RouteAuth?
        var cors: CORSConfig?
    }

    static let fields = FieldTable<Draft>([
        .key("name", required: true) { b, e, d in d.name = b.reader.string(e.value, path: e.path) },
        .key("match", required: true) { b, e, d in d.match = MatchSection.match(e, b) },
        .key("upstream", required: true) { b, u, d in
            guard let s = b.reader.string(u.value, path: u.path) else { return }
            if d.upstreams[s.value] != nil {
                d.upstream = s.value
            } else if b.declaredUpstreams.contains(s.value) {
                d.ok = false  // declared but invalid: its own error says why
            } else {
                b.reader.fail(s.location, "unknown upstream `\(s.shown)`" + b.reader.didYouMean(s.value, among: b.declaredUpstreams))
            }
        },
        .key("strip_prefix") { b, f, d in
            guard let v = b.reader.bool(f.value, path: f.path) else { d.ok = false; return }
            d.stripPrefix = v
            // Judged from the keys written, so it is reported even when `match` has other errors.
            var hasPrefix = false
            if let m = d.object["match"], case .mapping(let mm) = m.value { hasPrefix = mm["path_prefix"] != nil }
            if v, !hasPrefix {
                b.reader.fail(f.keyNode, "`\(f.path)` is only allowed with `match.path_prefix`")
                d.ok = false
            }
        },
        .key("allow_body_on_get") { b, f, d in
            if let v = b.reader.bool(f.value, path: f.path) { d.allowBodyOnGet = v } else { d.ok = false }
        },
        .key("auth", required: true, hint: " (use `auth: public` for a route without a token)") { b, a, d in
            d.auth = AuthSection.auth(a, b, issuers: d.issuers)
        },
        .key("cors") { b, e, d in
            d.cors = BrowserSection.cors(e, b)
            if d.cors == nil { d.ok = false }
        },
    ])

    /// One route entry: nil when it is not a mapping; else its name when that is a valid
    /// string, and the route when the whole entry is valid.
    static func route(_ node: Node, path: String, _ b: ConfigBuilder, issuers: [IssuerConfig],
                      upstreams: [String: UpstreamConfig]) -> (route: Route?, name: ScalarValue?)? {
        guard let o = b.reader.object(node, path: path, known: fields.known) else { return nil }
        var d = Draft(object: o, issuers: issuers, upstreams: upstreams)
        fields.read(o, builder: b, into: &d)
        guard d.ok, let name = d.name, let match = d.match, let upstream = d.upstream, let auth = d.auth
        else { return (nil, d.name) }
        var route = Route(name: name.value, host: match.host, path: match.path, methods: match.methods,
                          upstream: upstream, auth: auth, location: b.reader.location(node))
        route.caseInsensitive = match.caseInsensitive
        route.stripPrefix = d.stripPrefix
        route.cors = d.cors
        route.allowBodyOnGet = d.allowBodyOnGet
        return (route, name)
    }

    static func routes(_ e: Entry, _ b: ConfigBuilder, issuers: [IssuerConfig],
                       upstreams: [String: UpstreamConfig]) -> [Route] {
        guard let items = b.reader.list(e.value, path: e.path) else { return [] }
        if items.isEmpty {
            b.reader.fail(e.value, "`routes` must hold at least one route")
            return []
        }
        var out: [Route] = []
        var names: Set<String> = []
        for (node, path) in items {
            // Names are compared even for routes with other errors.
            guard let parsed = route(node, path: path, b, issuers: issuers, upstreams: upstreams) else { continue }
            if let name = parsed.name, !names.insert(name.value).inserted {
                b.reader.fail(name.location, "duplicate route name `\(name.value)`")
                continue
            }
            if let route = parsed.route { out.append(route) }
        }
        return out
    }
}
