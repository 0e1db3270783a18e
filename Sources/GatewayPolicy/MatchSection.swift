// A route's `match:`: host, one path form, methods.

/// Reader of a route's `match` mapping.
enum MatchSection {
    /// A valid `match`.
    struct Match {
        var host: String?
        var path: PathMatch
        var methods: Set<String>?
        var caseInsensitive: Bool
    }

    /// `match` as read so far.
    struct Draft {
        var ok = true
        var host: String?
        var path: PathMatch?
        var methods: Set<String>?
        var caseInsensitive = false
    }

    static let pathKeys = ["path", "path_prefix", "path_regex"]

    /// The methods a route may name: RFC 9110 §9, PATCH (RFC 5789), and the rest of the IANA
    /// HTTP Method Registry (WebDAV and its extensions, QUERY). Anything else is a typo.
    static let knownMethods = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
        "ACL", "BASELINE-CONTROL", "BIND", "CHECKIN", "CHECKOUT", "COPY", "LABEL", "LINK", "LOCK", "MERGE",
        "MKACTIVITY", "MKCALENDAR", "MKCOL", "MKREDIRECTREF", "MKWORKSPACE", "MOVE", "ORDERPATCH", "PROPFIND",
        "PROPPATCH", "QUERY", "REBIND", "REPORT", "SEARCH", "UNBIND", "UNCHECKOUT", "UNLINK", "UNLOCK", "UPDATE",
        "UPDATEREDIRECTREF", "VERSION-CONTROL",
    ]

    static let fields = FieldTable<Draft>([
        .key("host") { b, h, d in
            guard let s = b.reader.string(h.value, path: h.path) else { d.ok = false; return }
            var v = s.value.lowercased()
            if v.hasPrefix("["), v.hasSuffix("]") { v = String(v.dropFirst().dropLast()) }
            let valid: Bool
            if v.hasPrefix("*.") {
                valid = ConfigScalars.isHostName(String(v.dropFirst(2)))
            } else {
                valid = ConfigScalars.isHostName(v) || ConfigScalars.isIPv6(v)
            }
            if valid {
                d.host = v
            } else {
                b.reader.fail(s.location, "`\(h.path)` must be a host name without port (e.g. `api.example.com`) or a wildcard like `*.example.com`, not `\(s.shown)`")
                d.ok = false
            }
        },
        .key("case_insensitive") { b, f, d in
            if let v = b.reader.bool(f.value, path: f.path) { d.caseInsensitive = v } else { d.ok = false }
        },
        .group(pathKeys, readPath),
        .key("methods", readMethods),
    ])

    /// Exactly one of `path`, `path_prefix`, `path_regex` (read after `case_insensitive`, which a regex uses).
    @Sendable static func readPath(_ b: ConfigBuilder, _ o: Object, _ kinds: [Entry], _ d: inout Draft) {
        if kinds.isEmpty {
            b.reader.fail(o.node, "`\(o.path)` needs exactly one of `path`, `path_prefix` or `path_regex`")
            d.ok = false
            return
        }
        if kinds.count > 1 {
            b.reader.fail(kinds[1].keyNode, "`\(o.path)` has both `\(kinds[0].key)` and `\(kinds[1].key)`; exactly one of `path`, `path_prefix` or `path_regex` is allowed")
            d.ok = false
            return
        }
        let k = kinds[0]
        guard let s = b.reader.string(k.value, path: k.path) else { d.ok = false; return }
        switch k.key {
        case "path_regex":
            do {
                var re = try Regex(s.value)
                if d.caseInsensitive { re = re.ignoresCase() }
                d.path = .regex(source: s.value, compiled: re)
            } catch {
                b.reader.fail(s.location, "`\(k.path)` is not a valid regular expression: \(error)")
            }
        default:
            if !s.value.hasPrefix("/") {
                b.reader.fail(s.location, "`\(k.path)` must start with `/`")
            } else if s.value.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) {
                b.reader.fail(s.location, "`\(k.path)` must not hold spaces, control or non-ASCII characters")
            } else {
                d.path = k.key == "path" ? .exact(s.value) : .prefix(s.value)
            }
        }
        if d.path == nil { d.ok = false }
    }

    @Sendable static func readMethods(_ b: ConfigBuilder, _ m: Entry, _ d: inout Draft) {
        guard let list = b.reader.stringList(m.value, path: m.path) else { d.ok = false; return }
        var set: Set<String> = []
        for (i, s) in list.enumerated() {
            if ConfigScalars.isToken(s.value) {
                let method = s.value.uppercased()
                if knownMethods.contains(method) {
                    set.insert(method)
                } else {
                    b.reader.fail(s.location, "`\(m.path)[\(i)]`: unknown method `\(s.shown)`"
                        + b.reader.didYouMean(method, among: knownMethods))
                    d.ok = false
                }
            } else {
                b.reader.fail(s.location, "`\(m.path)[\(i)]`: `\(s.shown)` is not a valid method")
                d.ok = false
            }
        }
        if list.isEmpty, case .sequence = m.value {
            b.reader.fail(m.value, "`\(m.path)` must not be empty (leave it out to allow every method)")
            d.ok = false
        }
        d.methods = set
    }

    static func match(_ e: Entry, _ b: ConfigBuilder) -> Match? {
        var d = Draft()
        guard fields.read(e.value, path: e.path, builder: b, into: &d) != nil, d.ok, let path = d.path else { return nil }
        return Match(host: d.host, path: path, methods: d.methods, caseInsensitive: d.caseInsensitive)
    }
}
