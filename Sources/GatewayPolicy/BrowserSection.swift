// The browser-client keys of a route (docs/browser-apps.md): `auth.token_from`,
// `auth.csrf_origins`, `auth.login_url`, and the route's `cors`.
import GatewayHTTP
import Yams

/// Reader of the browser-client keys.
enum BrowserSection {
    /// The keys this section adds to a route's `auth` mapping.
    static let authFields: [ConfigField<AuthSection.Draft>] = [
        .key("token_from") { b, f, d in if !read(f, b, into: &d.requirements.browser) { d.ok = false } },
        .key("csrf_origins") { b, f, d in if !read(f, b, into: &d.requirements.browser) { d.ok = false } },
        .key("login_url") { b, f, d in if !read(f, b, into: &d.requirements.browser) { d.ok = false } },
    ]

    /// Field names a token may not be read from: the ones that frame, route or carry other
    /// credentials, and those the gateway sets itself.
    static let forbiddenTokenHeaders: Set<String> = IdentitySection.forbiddenHeaders.union([
        "cookie", "set-cookie", "forwarded", "x-request-id", "expect",
    ])

    /// One of the `authFields` keys into `browser`. False when the value is invalid (reported).
    static func read(_ f: Entry, _ b: ConfigBuilder, into browser: inout BrowserAuth) -> Bool {
        let reader = b.reader
        switch f.key {
        case "token_from":
            guard let sources = tokenFrom(f, b) else { return false }
            browser.tokenFrom = sources
            browser.tokenFromLocation = reader.location(f.keyNode)
            return true
        case "csrf_origins":
            guard let list = reader.stringList(f.value, path: f.path) else { return false }
            var ok = true
            for (i, s) in list.enumerated() {
                if let o = origin(s, path: "\(f.path)[\(i)]", b, warnings: &browser.parseWarnings) {
                    browser.csrfOrigins.append(o)
                } else {
                    ok = false
                }
            }
            return ok
        case "login_url":
            guard let s = reader.string(f.value, path: f.path) else { return false }
            if let problem = Self.loginURLProblem(s.value) {
                reader.fail(s.location, "`\(f.path)`: \(problem)")
                return false
            }
            browser.loginURL = s.value
            return true
        default:
            return true
        }
    }

    /// `token_from`: a non-empty list of `authorization`, `{cookie: NAME}`, `{header: NAME}`,
    /// each at most once.
    static func tokenFrom(_ f: Entry, _ b: ConfigBuilder) -> [TokenSource]? {
        let reader = b.reader
        guard let items = reader.list(f.value, path: f.path) else { return nil }
        if items.isEmpty {
            reader.fail(f.value, "`\(f.path)` must list at least one token source")
            return nil
        }
        var ok = true
        var out: [TokenSource] = []
        for (node, path) in items {
            var source: TokenSource?
            if case .scalar = node {
                guard let s = reader.string(node, path: path) else { ok = false; continue }
                if s.value == "authorization" {
                    source = .authorization
                } else {
                    reader.fail(s.location, "`\(path)` must be `authorization`, `cookie: NAME` or `header: NAME`, not `\(s.shown)`"
                        + reader.didYouMean(s.value, among: ["authorization"]))
                }
            } else if let o = reader.object(node, path: path, known: ["cookie", "header"]) {
                if o.entries.count > 1 || (o.entries.isEmpty && Self.isEmptyMapping(node)) {
                    reader.fail(node, "`\(path)` must hold exactly one of `cookie` or `header`")
                } else if o.entries.isEmpty {
                    // Only unknown keys: already reported.
                } else if let e = o.entries.first, let s = reader.string(e.value, path: e.path) {
                    if e.key == "cookie" {
                        // RFC 6265 §4.1.1: cookie-name = token.
                        if HTTPSyntax.isToken(s.value) { source = .cookie(s.value) } else {
                            reader.fail(s.location, "`\(e.path)`: `\(s.shown)` is not a valid cookie name")
                        }
                    } else if !HTTPSyntax.isValidFieldName(s.value) {
                        reader.fail(s.location, "`\(e.path)`: `\(s.shown)` is not a valid header field name")
                    } else if Self.forbiddenTokenHeaders.contains(HTTPSyntax.comparableFieldName(s.value))
                        || HTTPSyntax.comparableFieldName(s.value).hasPrefix("x-forwarded-") {
                        reader.fail(s.location, "`\(e.path)`: `\(s.value)` cannot carry a token"
                            + (HTTPSyntax.comparableFieldName(s.value) == "authorization" ? " (use `authorization`)" : ""))
                    } else {
                        source = .header(s.value)
                    }
                }
            }
            guard let source else { ok = false; continue }
            let duplicate = out.contains { have in
                switch (have, source) {
                case (.authorization, .authorization): true
                case let (.cookie(a), .cookie(b)): a == b
                case let (.header(a), .header(b)): HTTPSyntax.comparableFieldName(a) == HTTPSyntax.comparableFieldName(b)
                default: false
                }
            }
            if duplicate {
                reader.fail(node, "`\(path)`: `\(source)` is listed twice")
                ok = false
                continue
            }
            out.append(source)
        }
        return ok ? out : nil
    }

    static func isEmptyMapping(_ node: Node) -> Bool {
        if case .mapping(let m) = node { return m.count == 0 }
        return false
    }

    /// An origin from config (`csrf_origins`, `cors.allowed_origins`): `http[s]://host[:port]`.
    /// A trailing `/` (a URL pasted for an origin) is a warning and ignored; anything else
    /// that is not an origin is an error, since it could never match an `Origin` field.
    static func origin(_ s: ScalarValue, path: String, _ b: ConfigBuilder, warnings: inout [String]) -> Origin? {
        var text = s.value
        if text.hasSuffix("/"), Origin.parse(String(text.dropLast())) != nil {
            text.removeLast()
            let l = s.location
            warnings.append("\(l.path):\(l.line):\(l.column): warning: `\(path)`: `\(s.shown)` is a URL, not an origin; read as `\(text)`")
        }
        guard let o = Origin.parse(text) else {
            b.reader.fail(s.location, "`\(path)`: `\(s.shown)` is not an origin (`https://host` or `https://host:port`, nothing after it)")
            return nil
        }
        return o
    }

    /// Why `text` cannot be a `login_url`, or nil: an absolute http(s) URL with a host and
    /// no whitespace, control or non-ASCII characters (it is written into `Location`).
    static func loginURLProblem(_ text: String) -> String? {
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return "must not hold spaces, control or non-ASCII characters"
        }
        let lower = text.lowercased()
        guard let scheme = ["https://", "http://"].first(where: lower.hasPrefix) else {
            return "must be an absolute http:// or https:// URL"
        }
        let rest = text.dropFirst(scheme.count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !authority.contains("@"), HTTPSyntax.isValidHostValue(authority.utf8) else {
            return "must name a host (`https://login.example.com/...`), without userinfo"
        }
        return nil
    }

    /// A route's `cors` as read so far.
    struct CORSDraft {
        var cors = CORSConfig()
        var ok = true
    }

    static let corsFields = FieldTable<CORSDraft>([
        .key("allowed_origins", required: true) { b, f, d in
            guard let list = b.reader.stringList(f.value, path: f.path) else { d.ok = false; return }
            for (i, s) in list.enumerated() {
                if s.value == "*" {
                    if list.count > 1 {
                        b.reader.fail(s.location, "`\(f.path)`: `*` allows every origin and cannot be listed with others")
                        d.ok = false
                    }
                    d.cors.anyOrigin = true
                } else if let origin = origin(s, path: "\(f.path)[\(i)]", b, warnings: &d.cors.parseWarnings) {
                    d.cors.allowedOrigins.append(origin)
                } else {
                    d.ok = false
                }
            }
        },
        .key("allowed_methods") { b, f, d in
            guard let list = b.reader.stringList(f.value, path: f.path) else { d.ok = false; return }
            d.cors.allowedMethods = []
            for (i, s) in list.enumerated() {
                if HTTPSyntax.isToken(s.value), s.value != "*" {
                    let m = s.value.uppercased()
                    if !d.cors.allowedMethods.contains(m) { d.cors.allowedMethods.append(m) }
                } else {
                    b.reader.fail(s.location, "`\(f.path)[\(i)]`: `\(s.shown)` is not a method (wildcards are not supported)")
                    d.ok = false
                }
            }
            if list.isEmpty, case .sequence = f.value {
                b.reader.fail(f.value, "`\(f.path)` must not be empty")
                d.ok = false
            }
        },
        .key("allowed_headers") { b, f, d in if let v = fieldNames(f, b, &d.ok) { d.cors.allowedHeaders = v } },
        .key("expose_headers") { b, f, d in if let v = fieldNames(f, b, &d.ok) { d.cors.exposeHeaders = v } },
        .key("max_age") { b, f, d in
            if let v = b.reader.duration(f.value, path: f.path, positive: false) { d.cors.maxAge = Int(v) } else { d.ok = false }
        },
        .key("allow_credentials") { b, f, d in
            if let v = b.reader.bool(f.value, path: f.path) { d.cors.allowCredentials = v } else { d.ok = false }
        },
    ])

    static func fieldNames(_ f: Entry, _ b: ConfigBuilder, _ ok: inout Bool) -> [String]? {
        guard let list = b.reader.stringList(f.value, path: f.path) else { ok = false; return nil }
        var names: [String] = []
        for (i, s) in list.enumerated() {
            if HTTPSyntax.isValidFieldName(s.value), s.value != "*" {
                names.append(s.value)
            } else {
                b.reader.fail(s.location, "`\(f.path)[\(i)]`: `\(s.shown)` is not a header field name (wildcards are not supported)")
                ok = false
            }
        }
        return names
    }

    /// A route's `cors` mapping; nil when invalid (reported).
    static func cors(_ e: Entry, _ b: ConfigBuilder) -> CORSConfig? {
        var d = CORSDraft()
        guard let o = corsFields.read(e.value, path: e.path, builder: b, into: &d) else { return nil }
        if d.cors.anyOrigin, d.cors.allowCredentials, let f = o["allow_credentials"] {
            // Fetch standard: a credentialed response never matches `*`; echoing every origin
            // instead would let any site read responses made with the user's cookies.
            b.reader.fail(f.keyNode, "`\(e.path)`: `allowed_origins: [\"*\"]` cannot be used with `allow_credentials: true`; list the origins")
            d.ok = false
        }
        return d.ok && o.has("allowed_origins") ? d.cors : nil
    }

    /// Warnings about the browser-client keys of every route. `listenerIsTLS`: whether the
    /// client listener terminates TLS (a cookie sent over plain HTTP is not `Secure`).
    static func warnings(_ config: GatewayConfig, listenerIsTLS: Bool) -> [String] {
        var out: [String] = []
        for route in config.routes {
            out.append(contentsOf: route.cors?.parseWarnings ?? [])
            guard case .required(let req) = route.auth else { continue }
            let browser = req.browser
            out.append(contentsOf: browser.parseWarnings)
            let l = browser.tokenFromLocation ?? route.location
            if browser.usesCookies, !listenerIsTLS {
                out.append("\(l.path):\(l.line):\(l.column): warning: route `\(route.name)` reads the token from a cookie on a plain-HTTP listener: browsers send a `Secure` cookie only over HTTPS, and a cookie that is not `Secure` can be read and set by anyone on the network")
            }
            for case .header(let name) in browser.tokenFrom where req.forwardToken {
                let n = HTTPSyntax.comparableFieldName(name)
                let id = config.identity
                let identityHeaders = [id.subjectHeader, id.issuerHeader, id.scopesHeader] + id.claims.map(\.header)
                if identityHeaders.contains(where: { HTTPSyntax.comparableFieldName($0) == n })
                    || id.stripPrefixes.contains(where: { n.hasPrefix(HTTPSyntax.comparableFieldName($0)) }) {
                    out.append("\(l.path):\(l.line):\(l.column): warning: route `\(route.name)`: token field `\(name)` looks like an identity header and is removed before forwarding, `forward_token` notwithstanding")
                }
            }
            if !browser.csrfOrigins.isEmpty, !browser.usesCookies {
                out.append("\(l.path):\(l.line):\(l.column): warning: route `\(route.name)`: `csrf_origins` has no effect without a cookie in `token_from`")
            }
        }
        return out
    }
}
