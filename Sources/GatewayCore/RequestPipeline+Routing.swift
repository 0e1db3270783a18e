import GatewayHTTP
import GatewayPolicy

// Stage 1 of `RequestPipeline.decide`: from the request-target and method to a route.
extension RequestPipeline {
    /// A routed request.
    struct Routed {
        /// Index of the route in `runtime.routeTable.routes`.
        var index: Int
        var upstream: UpstreamConfig
        /// The normalised path and the query as sent.
        var target: NormalizedTarget
        /// The `Host` field's value, or an absolute-form target's authority.
        var host: String?
        /// The request-target in origin-form, as sent.
        var originTarget: String
    }

    enum Routing {
        case routed(Routed)
        /// Refused or answered (a CORS preflight) before any credential is read.
        case decided(Decision)
    }

    /// Reduces the target to origin-form (RFC 9112 §3.2: the parser already refused CONNECT,
    /// a `*` without OPTIONS and an absolute-form whose authority differs from Host), checks
    /// the method, normalises the path, answers a CORS preflight, and finds the first route.
    static func routing(_ head: HTTPRequestHead, runtime: GatewayRuntime, requestID: String,
                        trace: inout DecisionTrace?) -> Routing {
        func refuse(_ r: DenialReason, _ route: String? = nil) -> Routing {
            .decided(.refuse(Refusal(r), routeName: route, requestID: requestID))
        }
        var originTarget = head.target
        var targetAuthority: String?
        if head.target.utf8.first != UInt8(ascii: "/") {
            switch try? HTTPRequestTarget.form(head.target) {
            case .origin?: break
            case .absolute(_, let authority, let origin)?:
                originTarget = origin
                targetAuthority = authority
            case .asterisk?:
                // `OPTIONS *` asks about the server as a whole: no route can match it.
                trace.record("route", false, "\(head.method) * asks about the server as a whole: no route matches it")
                return refuse(.noRoute)
            case .authority?, nil:
                trace.record("path", false, "refused: request target is not origin-form")
                return refuse(.badPath("request target is not origin-form"))
            }
        }
        if let refused = methodRefusal(head.method) {
            if case .badMethod = refused {
                trace.record("method", false, "\(head.method): methods must be uppercase (a lowercase one could slip past a route's methods)")
            } else {
                trace.record("method", false, "\(head.method) is never forwarded")
            }
            return refuse(refused)
        }
        let target: NormalizedTarget
        if let normal = alreadyNormalized(originTarget) {
            target = normal
        } else {
            do { target = try PathNormalizer.normalize(originTarget) } catch {
                let why: String
                if case .invalid(let w) = error { why = w } else { why = "invalid request target" }
                trace.record("path", false, "refused: \(why)")
                return refuse(.badPath(why))
            }
        }
        trace.record("path", true, "normalised to \(target.path)")
        let host = head.fields.first(where: { $0.hasName("host") })?.value ?? targetAuthority
        if head.method == "OPTIONS",
           let answer = preflightDecision(head, host: host, path: target.path, runtime: runtime, requestID: requestID) {
            switch answer {
            case .preflight(_, let route, _):
                trace.record("cors", true, "preflight for route \(route) answered by the gateway (204): no token needed, upstream not contacted")
            case .refuse(let r, let route, _):
                if case .corsPreflightRefused(let why) = r.reason {
                    trace.record("cors", false, "preflight refused on route \(route ?? "-"): \(why)")
                }
            default: break
            }
            return .decided(answer)
        }
        guard let index = runtime.routeTable.match(host: host, path: target.path, method: head.method) else {
            trace.record("route", false, "no route matches \(head.method) \(host ?? "-") \(target.path)")
            return refuse(.noRoute)
        }
        // Read in place: a copy of the route would retain each of its fields.
        let routes = runtime.routeTable.routes
        guard let upstream = runtime.routeForwarding[index].upstream else {
            trace.record("route", false, "\(routes[index].name): upstream \(routes[index].upstream) is not configured")
            return refuse(.noRoute, routes[index].name)
        }
        trace.record("route", true, "\(routes[index].name) (upstream \(routes[index].upstream))")
        if let refused = contentRefusal(head, allowBodyOnGet: routes[index].allowBodyOnGet) {
            trace.record("content", false, refused.errorDescription)
            return refuse(refused, routes[index].name)
        }
        return .routed(Routed(index: index, upstream: upstream, target: target, host: host, originTarget: originTarget))
    }

    /// `PathNormalizer.normalize(target)` for a target it would return unchanged, without its
    /// work: an origin-form target whose path has only unencoded `pchar`s and `/` (RFC 3986
    /// §3.3, `;` excluded), no empty segment but a trailing one, no `.` or `..` segment, and a
    /// query of visible ASCII without `#`. Nil for every other target (then `normalize`
    /// decides, or refuses).
    static func alreadyNormalized(_ target: String) -> NormalizedTarget? {
        guard target.utf8.first == UInt8(ascii: "/") else { return nil }
        let result: NormalizedTarget?? = target.utf8.withContiguousStorageIfAvailable { bytes -> NormalizedTarget? in
            var i = 1
            var segmentStart = 1
            var pathEnd = bytes.count
            func isDotSegment(_ start: Int, _ end: Int) -> Bool {
                let n = end - start
                return (n == 1 && bytes[start] == 0x2E) || (n == 2 && bytes[start] == 0x2E && bytes[start + 1] == 0x2E)
            }
            while i < bytes.count {
                let b = bytes[i]
                if b == UInt8(ascii: "/") {
                    // An empty segment ("//") or a dot-segment before it.
                    if i == segmentStart || isDotSegment(segmentStart, i) { return nil }
                    segmentStart = i + 1
                } else if b == UInt8(ascii: "?") {
                    pathEnd = i
                    break
                } else if pathCharacters[Int(b)] == 0 {
                    return nil
                }
                i += 1
            }
            if isDotSegment(segmentStart, pathEnd) { return nil }
            var q = pathEnd + 1
            while q < bytes.count {
                let b = bytes[q]
                if b <= 0x20 || b >= 0x7F || b == UInt8(ascii: "#") { return nil }
                q += 1
            }
            if pathEnd == bytes.count { return NormalizedTarget(path: target, query: nil) }
            return NormalizedTarget(path: String(decoding: UnsafeBufferPointer(rebasing: bytes[..<pathEnd]), as: UTF8.self),
                                    query: String(decoding: UnsafeBufferPointer(rebasing: bytes[(pathEnd + 1)...]), as: UTF8.self))
        }
        // nil: not contiguous (a bridged string), `normalize` does the work.
        return result ?? nil
    }

    /// 1 for the bytes a normal path may hold unencoded: unreserved, sub-delims but `;`, ":", "@".
    static let pathCharacters: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for b in UInt8(ascii: "a")...UInt8(ascii: "z") { table[Int(b)] = 1 }
        for b in UInt8(ascii: "A")...UInt8(ascii: "Z") { table[Int(b)] = 1 }
        for b in UInt8(ascii: "0")...UInt8(ascii: "9") { table[Int(b)] = 1 }
        for c in "-._~!$&'()*+,=:@".utf8 { table[Int(c)] = 1 }
        return table
    }()
}
