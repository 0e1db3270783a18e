// Checks across routes and issuers, run on a config whose entries are each valid.

/// Warnings about the whole configuration (routes that can never match, unused issuers).
enum ConfigCrossChecks {

    static func warnings(_ config: GatewayConfig) -> [String] {
        var out: [String] = []
        let routes = config.routes
        for (j, later) in routes.enumerated() {
            for earlier in routes[..<j] where covers(earlier, later) {
                let l = later.location
                out.append("\(l.path):\(l.line):\(l.column): warning: route `\(later.name)` can never match: route `\(earlier.name)` before it matches every request it would")
                break
            }
        }
        var used: Set<String> = []
        for r in routes { if case .required(let req) = r.auth { used.formUnion(req.issuers) } }
        for issuer in config.issuers where !used.contains(issuer.name) {
            let l = issuer.keySourceLocation
            out.append("\(l.path):\(l.line):\(l.column): warning: issuer `\(issuer.name)` is not used by any route")
        }
        return out
    }

    /// Whether every request `later` matches is matched by `earlier` (conservative: only
    /// exact/prefix paths; earlier host absent, equal, or a wildcard covering the later host;
    /// earlier methods absent or ⊇ later methods).
    static func covers(_ earlier: Route, _ later: Route) -> Bool {
        if let eh = earlier.host {
            guard let lh = later.host else { return false }
            let wildcardCovers = eh.hasPrefix("*.") && lh.hasSuffix(eh.dropFirst()) && lh.count > eh.count - 1
            guard eh == lh || wildcardCovers else { return false }
        }
        if let em = earlier.methods {
            guard let lm = later.methods, lm.isSubset(of: em) else { return false }
        }
        // A case-sensitive earlier route does not cover a case-insensitive later one.
        if later.caseInsensitive, !earlier.caseInsensitive { return false }
        let fold: (String) -> String = earlier.caseInsensitive ? { $0.lowercased() } : { $0 }
        switch (earlier.path, later.path) {
        case let (.exact(a), .exact(b)):
            return fold(a) == fold(b)
        case let (.prefix(p), .exact(b)):
            return RouteTable.prefixMatches(Array(fold(p).utf8), Array(fold(b).utf8)[...])
        case let (.prefix(p), .prefix(q)):
            let pp = Array(fold(p).utf8), qq = Array(fold(q).utf8)
            // Every path under q is under p when q itself is under p.
            return RouteTable.prefixMatches(pp, qq[...])
        default:
            return false
        }
    }
}
