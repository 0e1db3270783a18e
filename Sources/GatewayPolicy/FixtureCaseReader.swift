// One entry of a policy-test file's `cases:` (see PolicyFixture).
import GatewayHTTP
import GatewayJOSE
import Yams

/// Reader of `cases[i]`: `name`, `request`, `token`, `expect`.
enum FixtureCaseReader {
    typealias Draft = PolicyFixtureLoader.CaseDraft

    static let fields = FieldTable<Draft>([
        .key("name", required: true) { b, e, d in
            if let s = b.reader.string(e.value, path: e.path) { d.name = s.value } else { d.ok = false }
        },
        .key("request", required: true) { b, e, d in
            var r = RequestDraft()
            guard requestFields.read(e.value, path: e.path, builder: b, into: &r) != nil, r.ok,
                  let method = r.method, let url = r.url else { d.ok = false; return }
            d.request = PolicyFixture.Request(method: method, url: url.url, scheme: url.scheme, host: url.host,
                                              target: url.target, headers: r.headers)
        },
        .key("token") { b, e, d in readToken(e, b, &d) },
        .key("expect", required: true) { b, e, d in
            var x = PolicyFixture.Expectation()
            var ok = true
            guard let object = expectFields.read(e.value, path: e.path, builder: b, into: &x) else { d.ok = false; return }
            if object.entries.isEmpty {
                b.reader.fail(e.value, "`\(e.path)` must hold at least one of: \(expectFields.known.map { "`\($0)`" }.joined(separator: ", "))")
                ok = false
            }
            d.expect = ok ? x : nil
        },
    ])

    // MARK: Request

    struct RequestDraft {
        var method: String?
        var url: (url: String, scheme: String, host: String, target: String)?
        var headers: [(name: String, value: String)] = []
        var ok = true
    }

    static let requestFields = FieldTable<RequestDraft>([
        .key("method", required: true) { b, e, d in
            guard let s = b.reader.string(e.value, path: e.path) else { d.ok = false; return }
            guard HTTPSyntax.isToken(s.value) else {
                b.reader.fail(s.location, "`\(e.path)` must be an HTTP method token, not `\(ConfigScalars.printable(s.shown))`")
                d.ok = false
                return
            }
            d.method = s.value
        },
        .key("url", required: true) { b, e, d in
            guard let s = b.reader.string(e.value, path: e.path) else { d.ok = false; return }
            guard let split = splitURL(s.value) else {
                b.reader.fail(s.location, "`\(e.path)` must look like http://host[:port]/path[?query] (or https://), not `\(ConfigScalars.printable(s.shown))`")
                d.ok = false
                return
            }
            d.url = (s.value, split.scheme, split.host, split.target)
        },
        .key("headers") { b, e, d in
            guard let pairs = b.reader.pairs(e.value, path: e.path) else { d.ok = false; return }
            for (name, keyNode, value) in pairs {
                let path = "\(e.path).\(name)"
                guard HTTPSyntax.isValidFieldName(name) else {
                    b.reader.fail(keyNode, "`\(ConfigScalars.printable(name))` in `\(e.path)` is not a valid header field name")
                    d.ok = false
                    continue
                }
                if HTTPSyntax.comparableFieldName(name) == "host" {
                    b.reader.fail(keyNode, "`\(path)`: the Host field comes from `url`")
                    d.ok = false
                    continue
                }
                // A list sends the field once per item (e.g. two Authorization fields).
                let items: [(Node, String)] = if case .sequence = value { b.reader.list(value, path: path) ?? [] } else { [(value, path)] }
                for (item, itemPath) in items {
                    guard let s = b.reader.scalar(item, path: itemPath, expected: "a string or a list of strings") else {
                        d.ok = false
                        continue
                    }
                    let text = !s.quoted && s.tag == .null ? "" : s.value
                    guard HTTPSyntax.isValidFieldValue(text) else {
                        b.reader.fail(s.location, "`\(itemPath)` is not a valid header field value (no control characters)")
                        d.ok = false
                        continue
                    }
                    d.headers.append((name, text))
                }
            }
        },
    ])

    /// `http[s]://authority[/path][?query]` → scheme, authority (the `Host` value) and the
    /// origin-form target ("/" when the URL has no path).
    static func splitURL(_ url: String) -> (scheme: String, host: String, target: String)? {
        for scheme in ["http", "https"] {
            let prefix = scheme + "://"
            guard url.lowercased().hasPrefix(prefix) else { continue }
            let rest = url.dropFirst(prefix.count)
            let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let host = String(rest[..<end])
            guard !host.isEmpty, HTTPSyntax.isValidHostValue(Array(host.utf8)) else { return nil }
            var target = String(rest[end...])
            if target.isEmpty { target = "/" } else if target.hasPrefix("?") { target = "/" + target }
            guard target.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
            return (scheme, host, target)
        }
        return nil
    }

    // MARK: Token

    struct TokenDraft {
        var key: (name: String, node: Node)?
        var claims: [String] = []
        var names: [String] = []
        var ttl: Double = 3600
        var ok = true
    }

    static let tokenFields = FieldTable<TokenDraft>([
        .key("key", required: true) { b, e, d in
            if let s = b.reader.string(e.value, path: e.path) { d.key = (s.value, e.value) } else { d.ok = false }
        },
        .key("claims") { b, e, d in
            guard let pairs = b.reader.pairs(e.value, path: e.path) else { d.ok = false; return }
            for (name, _, value) in pairs {
                guard let json = jsonText(value, path: "\(e.path).\(name)", b) else { d.ok = false; continue }
                d.names.append(name)
                d.claims.append(JSONWriter.serialize(.string(name)) + ":" + json)
            }
        },
        .key("ttl") { b, e, d in
            if let v = b.reader.duration(e.value, path: e.path, positive: true) { d.ttl = v } else { d.ok = false }
        },
    ])

    /// `token:` is a literal string, or `{key, claims, ttl}` for a token signed at run time.
    static func readToken(_ e: Entry, _ b: ConfigBuilder, _ d: inout Draft) {
        if case .scalar = e.value {
            guard let s = b.reader.string(e.value, path: e.path) else { d.ok = false; return }
            d.token = .literal(s.value)
            return
        }
        var t = TokenDraft()
        guard tokenFields.read(e.value, path: e.path, builder: b, into: &t) != nil, t.ok, let key = t.key else {
            d.ok = false
            return
        }
        d.keyReference = key
        d.token = .minted(key: key.name, claims: t.claims, hasIssuedAt: t.names.contains("iat"),
                          hasExpiry: t.names.contains("exp"), ttl: t.ttl)
    }

    /// A YAML value as JSON text (YAML 1.2 core schema: plain `true`/`false`, `null`/`~`/empty
    /// and JSON-shaped numbers keep their type; everything else, and every quoted scalar, is a
    /// string). Lists become arrays, mappings objects.
    static func jsonText(_ node: Node, path: String, _ b: ConfigBuilder) -> String? {
        switch node {
        case .scalar:
            guard let s = b.reader.scalar(node, path: path, expected: "a claim value") else { return nil }
            if !s.quoted && !s.interpolated {
                switch s.value {
                case "true", "false": return s.value
                case "null", "Null", "NULL", "~", "": return "null"
                default:
                    let bytes = Array(s.value.utf8)
                    if case .number? = try? JSONReader.parse(bytes) { return s.value }
                }
            }
            return JSONWriter.serialize(.string(s.value))
        case .sequence:
            guard let items = b.reader.list(node, path: path) else { return nil }
            var parts: [String] = []
            for (item, itemPath) in items {
                guard let t = jsonText(item, path: itemPath, b) else { return nil }
                parts.append(t)
            }
            return "[" + parts.joined(separator: ",") + "]"
        case .mapping:
            guard let pairs = b.reader.pairs(node, path: path) else { return nil }
            var parts: [String] = []
            for (name, _, value) in pairs {
                guard let t = jsonText(value, path: "\(path).\(name)", b) else { return nil }
                parts.append(JSONWriter.serialize(.string(name)) + ":" + t)
            }
            return "{" + parts.joined(separator: ",") + "}"
        case .alias:
            b.reader.fail(node, "`\(path)`: YAML aliases are not supported")
            return nil
        }
    }

    // MARK: Expect

    static let expectFields = FieldTable<PolicyFixture.Expectation>([
        .key("status") { b, e, x in
            guard let s = b.reader.string(e.value, path: e.path) else { return }
            if s.value == "forward" {
                x.status = .forward
            } else if s.value.utf8.count == 3, s.value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let code = Int(s.value),
                      (100...599).contains(code) {
                x.status = .refused(code)
            } else {
                b.reader.fail(s.location, "`\(e.path)` must be `forward` or a status code such as 401, not `\(ConfigScalars.printable(s.shown))`"
                    + b.reader.didYouMean(s.value, among: ["forward"]))
            }
        },
        .key("reason") { b, e, x in
            if let s = b.reader.string(e.value, path: e.path) { x.reason = s.value }
        },
        .key("route") { b, e, x in
            if let s = b.reader.string(e.value, path: e.path) { x.route = s.value }
        },
        .key("decision") { b, e, x in
            guard let s = b.reader.string(e.value, path: e.path) else { return }
            let all = ["allow", "deny", "would_deny"]
            guard all.contains(s.value) else {
                b.reader.fail(s.location, "`\(e.path)` must be allow, deny or would_deny, not `\(ConfigScalars.printable(s.shown))`"
                    + b.reader.didYouMean(s.value, among: all))
                return
            }
            x.decision = s.value
        },
        .key("upstream_headers") { b, e, x in
            guard let pairs = b.reader.pairs(e.value, path: e.path) else { return }
            for (name, keyNode, value) in pairs {
                guard HTTPSyntax.isValidFieldName(name) else {
                    b.reader.fail(keyNode, "`\(ConfigScalars.printable(name))` in `\(e.path)` is not a valid header field name")
                    continue
                }
                guard let s = b.reader.scalar(value, path: "\(e.path).\(name)", expected: "a string, or null for an absent field") else {
                    continue
                }
                // `null` (or `~`, or nothing): the upstream must not receive the field.
                x.upstreamHeaders.append((name, !s.quoted && s.tag == .null ? nil : s.value))
            }
        },
    ])
}
