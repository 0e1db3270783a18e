// A route's `auth:`: `public`, or the issuers, scopes, roles and claims a token must carry.

/// Reader of a route's `auth`.
enum AuthSection {
    /// Requirements as read so far.
    struct Draft {
        let issuers: [IssuerConfig]
        var ok = true
        var requirements = AuthRequirements(issuers: [])
        /// The issuers named, in file order (for `roles`, which needs their `roles_claim`).
        var used: [IssuerConfig] = []
    }

    static let fields = FieldTable<Draft>([
        // Required unless `client_certificate` stands alone (checked in `auth`).
        .key("issuers", readIssuers),
        .key("scopes") { b, f, d in if let v = scopeTokens(f, b, &d, "scope") { d.requirements.scopes = v } },
        .key("any_scopes") { b, f, d in if let v = scopeTokens(f, b, &d, "scope") { d.requirements.anyScopes = v } },
        .key("roles") { b, f, d in
            guard let values = scopeTokens(f, b, &d, "role") else { return }
            d.requirements.roles = values
            if !values.isEmpty {
                for issuer in d.used where issuer.rolesClaim == nil {
                    b.reader.fail(f.keyNode, "`\(f.path)` needs `roles_claim` on issuer `\(issuer.name)`")
                    d.ok = false
                }
            }
        },
        .key("claims", readClaims),
        .key("forward_token") { b, f, d in
            if let v = b.reader.bool(f.value, path: f.path) { d.requirements.forwardToken = v } else { d.ok = false }
        },
        .key("mode") { b, f, d in
            guard let s = b.reader.string(f.value, path: f.path) else { d.ok = false; return }
            guard let mode = AuthMode(rawValue: s.value) else {
                let modes = AuthMode.allCases.map(\.rawValue)
                b.reader.fail(s.location, "`\(f.path)` must be \(modes.map { "`\($0)`" }.joined(separator: " or ")), not `\(ConfigScalars.printable(s.shown))`"
                    + b.reader.didYouMean(s.value, among: modes))
                d.ok = false
                return
            }
            d.requirements.mode = mode
        },
        .key("client_certificate") { b, f, d in
            if let v = b.parseRouteClientCertificate(f) { d.requirements.clientCertificate = v } else { d.ok = false }
        },
    ] + BrowserSection.authFields)

    /// A list of RFC 6749 §3.3 scope-tokens (`%x21 / %x23-5B / %x5D-7E`): scopes travel
    /// space-separated in tokens and in `WWW-Authenticate` (RFC 6750 §3), so a space, quote,
    /// backslash or control character could never match, and would break the challenge.
    static func scopeTokens(_ f: Entry, _ b: ConfigBuilder, _ d: inout Draft, _ what: String) -> [String]? {
        guard let list = b.reader.stringList(f.value, path: f.path) else { d.ok = false; return nil }
        for (i, s) in list.enumerated() where !isScopeToken(s.value) {
            b.reader.fail(s.location, "`\(f.path)[\(i)]`: `\(ConfigScalars.printable(s.shown))` is not a valid \(what): printable ASCII without spaces, `\"` or `\\` (RFC 6749 §3.3 scope-token)")
            d.ok = false
        }
        return list.map(\.value)
    }

    static func isScopeToken(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { $0 == 0x21 || (0x23...0x5B).contains($0) || (0x5D...0x7E).contains($0) }
    }

    @Sendable static func readIssuers(_ b: ConfigBuilder, _ f: Entry, _ d: inout Draft) {
        guard let list = b.reader.stringList(f.value, path: f.path) else { d.ok = false; return }
        if list.isEmpty, case .sequence = f.value {
            b.reader.fail(f.value, "`\(f.path)` must name at least one issuer")
            d.ok = false
        }
        for s in list {
            if let issuer = d.issuers.first(where: { $0.name == s.value }) {
                if !d.requirements.issuers.contains(s.value) {
                    d.requirements.issuers.append(s.value)
                    d.used.append(issuer)
                }
            } else if b.declaredIssuers.contains(s.value) {
                d.ok = false  // declared but invalid: its own error says why
            } else {
                b.reader.fail(s.location, "unknown issuer `\(s.shown)`" + b.reader.didYouMean(s.value, among: b.declaredIssuers))
                d.ok = false
            }
        }
    }

    @Sendable static func readClaims(_ b: ConfigBuilder, _ f: Entry, _ d: inout Draft) {
        guard let pairs = b.reader.pairs(f.value, path: f.path) else { d.ok = false; return }
        for (claim, _, value) in pairs {
            let path = "\(f.path).\(claim)"
            guard let s = b.reader.scalar(value, path: path, expected: "a string, number or boolean") else {
                d.ok = false
                continue
            }
            if s.quoted || s.interpolated {
                d.requirements.claims.append((claim, .string(s.value)))
                continue
            }
            switch ClaimValueTyping.resolvePlain(s.value) {
            case .null:
                b.reader.fail(s.location, "`\(path)` must be a string, number or boolean, not empty")
                d.ok = false
            case .notFinite:
                b.reader.fail(s.location, "`\(path)` must be a decimal number, not `\(s.shown)`")
                d.ok = false
            case .value(let v): d.requirements.claims.append((claim, v))
            }
        }
    }

    static func auth(_ e: Entry, _ b: ConfigBuilder, issuers: [IssuerConfig]) -> RouteAuth? {
        if case .scalar = e.value {
            guard let s = b.reader.scalar(e.value, path: e.path, expected: "`public` or a mapping") else { return nil }
            if s.value == "public" { return .publicAccess }
            let found = !s.quoted && s.tag == .null ? "empty" : "`\(s.shown)`"
            b.reader.fail(s.location, "`\(e.path)` must be `public` or a mapping with `issuers`, not \(found)"
                + b.reader.didYouMean(s.value, among: ["public"]))
            return nil
        }
        var d = Draft(issuers: issuers)
        guard let object = fields.read(e.value, path: e.path, builder: b, into: &d) else { return nil }
        // `client_certificate: required` alone is certificate-only authentication: no token.
        if object.has("client_certificate"), !object.has("issuers") {
            guard b.tokenKeysNeedIssuers(object), d.ok else { return nil }
            return .required(d.requirements)
        }
        guard b.reader.require(object, "issuers") != nil, d.ok else { return nil }
        return .required(d.requirements)
    }
}
