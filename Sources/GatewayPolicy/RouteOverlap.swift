// Which requests two routes both match, decided only where it is provable: paths compared
// as the route table compares them (RouteTable.prefixMatches), hosts as exact names or
// `*.` wildcards, regular expressions only through a path they can be run on.
import GatewayHTTP

/// Provable relations between the host and path parts of two routes (methods aside).
enum RouteOverlap {
    /// Regular expressions that match every path (every normalised path starts with `/`).
    static let universalRegexes: Set<String> = [
        ".*", "^.*$", "^.*", ".*$", "/.*", "^/.*$", "^/.*", "/.*$", ".+", "^.+$", "(.*)", "^(.*)$", "/(.*)",
    ]

    /// Whether `route` matches every path (of its hosts).
    static func matchesEveryPath(_ route: Route) -> Bool {
        switch route.path {
        case .prefix(let p): return p == "/"
        case .regex(let source, _): return universalRegexes.contains(source)
        case .exact: return false
        }
    }

    /// Whether every host `later` matches is matched by `earlier`.
    static func hostCovers(_ earlier: String?, _ later: String?) -> Bool {
        guard let eh = earlier else { return true }
        guard let lh = later else { return false }
        if eh == lh { return true }
        // `*.example.com` covers `a.example.com` and `*.a.example.com`.
        return eh.hasPrefix("*.") && lh.hasSuffix(eh.dropFirst()) && lh.count > eh.count - 1
    }

    /// Whether some host is matched by both.
    static func hostsIntersect(_ a: String?, _ b: String?) -> Bool {
        guard let a, let b else { return true }
        return hostCovers(a, b) || hostCovers(b, a)
    }

    /// Whether every request path `later` matches is matched by `earlier`, on every host
    /// `later` matches (true only when provable).
    static func covers(_ earlier: Route, _ later: Route) -> Bool {
        guard hostCovers(earlier.host, later.host) else { return false }
        if matchesEveryPath(earlier) { return true }
        // A case-sensitive earlier route does not cover a case-insensitive later one.
        if later.caseInsensitive, !earlier.caseInsensitive { return false }
        let fold: (String) -> String = earlier.caseInsensitive ? { HTTPSyntax.asciiLowercased($0) } : { $0 }
        switch (earlier.path, later.path) {
        case let (.exact(a), .exact(b)):
            return fold(a) == fold(b)
        case let (.prefix(p), .exact(b)):
            return RouteTable.prefixMatches(Array(fold(p).utf8), Array(fold(b).utf8)[...])
        case let (.prefix(p), .prefix(q)):
            // Every path under q is under p when q itself is under p.
            return RouteTable.prefixMatches(Array(fold(p).utf8), Array(fold(q).utf8)[...])
        case let (.regex(_, re), .exact(b)):
            // One path: run the expression on it (case-insensitive routes: compiled ignoring case).
            return (try? re.wholeMatch(in: b)) != nil
        default:
            // A regex covering a prefix or another regex is not decided (unless it matches every path).
            return false
        }
    }

    /// Whether some request path is provably matched by both routes on some host.
    static func intersect(_ a: Route, _ b: Route) -> Bool {
        guard hostsIntersect(a.host, b.host) else { return false }
        if matchesEveryPath(a) || matchesEveryPath(b) { return true }
        let fold: (String) -> String = a.caseInsensitive || b.caseInsensitive ? { HTTPSyntax.asciiLowercased($0) } : { $0 }
        func under(_ p: String, _ x: String) -> Bool { RouteTable.prefixMatches(Array(fold(p).utf8), Array(fold(x).utf8)[...]) }
        func runs(_ re: Regex<AnyRegexOutput>, _ paths: [String]) -> Bool {
            paths.contains { (try? re.wholeMatch(in: $0)) != nil }
        }
        switch (a.path, b.path) {
        case let (.exact(x), .exact(y)): return fold(x) == fold(y)
        case let (.exact(x), .prefix(p)), let (.prefix(p), .exact(x)): return under(p, x)
        case let (.prefix(p), .prefix(q)): return under(p, q) || under(q, p)
        case let (.regex(_, re), .exact(x)), let (.exact(x), .regex(_, re)): return runs(re, [x])
        case let (.regex(_, re), .prefix(p)), let (.prefix(p), .regex(_, re)):
            // Witnesses inside the prefix: the prefix itself and the prefix with a slash.
            return runs(re, p.hasSuffix("/") ? [p] : [p, p + "/"])
        case (.regex, .regex):
            return false
        }
    }

    /// The path part as `gateway check` shows it: `/exact`, `/prefix*`, `~regex`.
    static func describe(_ path: PathMatch) -> String {
        switch path {
        case .exact(let p): return p
        case .prefix(let p): return p + "*"
        case .regex(let source, _): return "~" + source
        }
    }
}
