// Checks across routes and issuers, run on a config whose entries are each valid.

/// Routes that can never match, protected routes a public route opens, unused issuers.
enum ConfigCrossChecks {
    /// What the checks found: errors (the file is refused), warnings (as printed, with
    /// `PATH:LINE:COLUMN: warning:`), and the warnings `gateway check --strict` refuses.
    struct Findings {
        var errors: [ConfigError] = []
        var warnings: [String] = []
        var strict: [ConfigError] = []

        mutating func warn(_ at: ConfigLocation, _ message: String, strict isStrict: Bool = false) {
            warnings.append("\(at.path):\(at.line):\(at.column): warning: \(message)")
            if isStrict { strict.append(ConfigError(location: at, message: message)) }
        }
    }

    static func check(_ config: GatewayConfig) -> Findings {
        var out = Findings()
        let routes = config.routes
        for (j, later) in routes.enumerated() {
            if let earlier = routes[..<j].first(where: { covers($0, later) }) {
                if later.auth != .publicAccess, earlier.auth == .publicAccess {
                    out.errors.append(ConfigError(location: later.location, message:
                        "route `\(later.name)` is protected but can never match: public route `\(earlier.name)` before it matches every request it would, so those requests are served without a token (move `\(later.name)` before `\(earlier.name)`)"))
                } else {
                    out.warn(later.location, "route `\(later.name)` can never match: route `\(earlier.name)` before it matches every request it would")
                }
                continue
            }
            guard case .required = later.auth else { continue }
            methodShadowing(later, at: j, routes: routes, into: &out)
            methodFallThrough(later, at: j, routes: routes, into: &out)
            trailingSlash(later, routes: routes, into: &out)
        }
        for r in routes {
            guard case .required(let req) = r.auth, req.mode == .reportOnly else { continue }
            out.warn(r.location, "route `\(r.name)` is report-only (`auth.mode: report_only`): requests it would refuse for their token are forwarded without identity headers and logged as `would_deny`, not refused; set `mode: enforce` once the logs show no unexpected `would_deny`")
        }
        var used: Set<String> = []
        for r in routes { if case .required(let req) = r.auth { used.formUnion(req.issuers) } }
        for issuer in config.issuers where !used.contains(issuer.name) {
            out.warn(issuer.keySourceLocation, "issuer `\(issuer.name)` is not used by any route")
        }
        out.warnings.append(contentsOf: BrowserSection.warnings(config, listenerIsTLS: config.listenTLS != nil))
        if config.listenTLS?.clientCAFile == nil {
            // Without a client CA no certificate is ever asked for, so such a route refuses everything.
            for r in routes {
                guard case .required(let req) = r.auth, req.clientCertificate else { continue }
                out.warn(r.location, "route `\(r.name)` requires a client certificate, but `listen.tls.client_ca_file` is not set: every request to it is refused (401)")
            }
        }
        if config.decision != nil {
            // A decision listener's TLS peer is the ingress: its certificate is never taken
            // for the client's (docs/forward-auth.md), so such a route refuses every decision.
            for r in routes {
                guard case .required(let req) = r.auth, req.clientCertificate else { continue }
                out.warn(r.location, "route `\(r.name)` requires a client certificate: the decision listener refuses every request to it (401), because the certificate of a decision connection is the ingress's, not the client's; serve it on the proxy listener")
            }
        }
        return out
    }

    /// Whether every request `later` matches is matched by `earlier` (hosts and paths as far
    /// as provable, see `RouteOverlap.covers`; earlier methods absent or ⊇ later methods).
    static func covers(_ earlier: Route, _ later: Route) -> Bool {
        if let em = earlier.methods {
            guard let lm = later.methods, lm.isSubset(of: em) else { return false }
        }
        return RouteOverlap.covers(earlier, later)
    }

    /// A public route before a protected one that matches all its paths for some of its
    /// methods (e.g. `GET /` before a protected `/admin`): those requests never reach the
    /// protected route. (A public route matching only part of its paths is taken as a
    /// deliberate exception, such as a public health path under a protected prefix.)
    static func methodShadowing(_ protected: Route, at index: Int, routes: [Route], into out: inout Findings) {
        for open in routes[..<index] where open.auth == .publicAccess {
            guard let taken = open.methods, RouteOverlap.covers(open, protected) else { continue }
            let shadowed = protected.methods.map { taken.intersection($0) } ?? taken
            if shadowed.isEmpty { continue }
            let paths = "`\(RouteOverlap.describe(protected.path))`" + (protected.host.map { " on host `\($0)`" } ?? "")
            out.warn(protected.location, "route `\(protected.name)` is protected, but public route `\(open.name)` before it takes its \(shadowed.sorted().joined(separator: ", ")) requests to \(paths) without a token (move `\(protected.name)` before `\(open.name)`)", strict: true)
        }
    }

    /// A protected route limited to some methods, and a public route that provably matches
    /// some of its paths: requests with the other methods on those paths reach the public
    /// route without a token (unless a protected route before it covers those methods too).
    static func methodFallThrough(_ protected: Route, at index: Int, routes: [Route], into out: inout Findings) {
        guard let methods = protected.methods else { return }
        for (qi, open) in routes.enumerated() where open.auth == .publicAccess {
            guard RouteOverlap.intersect(protected, open) else { continue }
            // A public route inside the protected route's paths (`/admin/login` under a
            // protected `/admin`) is a carve-out written on purpose, whatever its methods.
            if RouteOverlap.covers(protected, open), !RouteOverlap.covers(open, protected) { continue }
            // Requests the public route takes before the protected route with its own methods
            // are an exception written on purpose (e.g. a public health path under a protected prefix).
            var covered = methods
            var everything = false
            for (pi, other) in routes.enumerated() where pi < qi && pi != index {
                guard case .required = other.auth, RouteOverlap.covers(other, protected) else { continue }
                if let m = other.methods { covered.formUnion(m) } else { everything = true }
            }
            if everything { continue }
            let paths = "`\(RouteOverlap.describe(protected.path))`" + (protected.host.map { " on host `\($0)`" } ?? "")
            let which: String
            if let m = open.methods {
                let leaking = m.subtracting(covered)
                if leaking.isEmpty { continue }
                which = leaking.sorted().joined(separator: ", ") + " requests"
            } else {
                which = "requests with any method except " + covered.sorted().joined(separator: ", ")
            }
            out.warn(protected.location, "route `\(protected.name)` is protected only for \(methods.sorted().joined(separator: ", ")): \(which) to \(paths) reach public route `\(open.name)` without a token (list the methods on a protected route before `\(open.name)`, or narrow `\(open.name)`)", strict: true)
        }
    }

    /// `path_prefix: /admin/` matches `/admin/...` but not `/admin`, which then goes on to later routes.
    static func trailingSlash(_ protected: Route, routes: [Route], into out: inout Findings) {
        guard case .prefix(let p) = protected.path, p.count > 1, p.hasSuffix("/") else { return }
        let bare = String(p.dropLast())
        var probe = protected
        probe.path = .exact(bare)
        probe.methods = protected.methods
        if routes.contains(where: { route in
            guard case .required = route.auth else { return false }
            return covers(route, probe)
        }) { return }
        out.warn(protected.location, "route `\(protected.name)`: `path_prefix: \(p)` does not cover `\(bare)` itself (requests for it go on to later routes); write `path_prefix: \(bare)` to protect `\(bare)` and `\(p)...`")
    }
}
