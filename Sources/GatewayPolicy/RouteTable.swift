// First-match route lookup over the normalised request path. Called once per
// request: everything that can be is precomputed in `init`.
import GatewayHTTP

/// First-match route lookup: routes in file order, the first whose host, method and path fit.
public struct RouteTable: Sendable {
    public let routes: [Route]
    private let compiled: [CompiledRoute]

    /// Precomputes lowercased hosts and patterns, and compiles regexes once.
    public init(routes: [Route]) {
        self.routes = routes
        self.compiled = routes.map(CompiledRoute.init)
    }

    /// - Parameters:
    ///   - host: the Host header value (port ignored, `[v6]:port` accepted, case-insensitive,
    ///     one trailing dot ignored), nil when absent. A route with a `host` never matches nil.
    ///   - path: the normalised path (percent-decoded unreserved characters, dot-segments removed, RFC 3986 §5.2.4), without the query.
    ///   - method: the request method; compared case-sensitively (RFC 9110 §9.1).
    /// - Returns: the index in `routes` of the first route that fits, or nil (404).
    public func match(host: String?, path: String, method: String) -> Int? {
        // Compared in place over the UTF-8 of `host` and `path` (native strings are
        // contiguous): no copy, no lowercased copy, per request.
        var host = host
        var path = path
        host?.makeContiguousUTF8()
        path.makeContiguousUTF8()
        return path.utf8.withContiguousStorageIfAvailable { p in
            guard let h = host else { return match(host: nil, path: p, pathString: path, method: method) }
            return h.utf8.withContiguousStorageIfAvailable { hb in
                match(host: Self.bareHost(hb), path: p, pathString: path, method: method)
            } ?? nil
        } ?? nil
    }

    private func match(host: UnsafeBufferPointer<UInt8>?, path p: UnsafeBufferPointer<UInt8>, pathString: String,
                       method: String) -> Int? {
        for (i, r) in compiled.enumerated() {
            switch r.host {
            case .any: break
            case .exact(let h):
                guard let host, host.count == h.count, Self.equalsLowercased(host[...], h) else { continue }
            case .wildcard(let suffix):
                guard let host, host.count > suffix.count,
                      Self.equalsLowercased(host[(host.count - suffix.count)...], suffix) else { continue }
            }
            if let methods = r.methods, !methods.contains(method) { continue }
            switch r.path {
            case .exact(let e):
                guard p.count == e.count, r.caseInsensitive ? Self.equalsLowercased(p[...], e) : p.elementsEqual(e)
                else { continue }
            case .prefix(let prefix):
                guard Self.prefixMatches(prefix, p, foldingCase: r.caseInsensitive) else { continue }
            case .regex(let box):
                guard (try? box.regex.wholeMatch(in: pathString)) != nil else { continue }
            }
            return i
        }
        return nil
    }

    /// Whether `bytes`, ASCII-lowercased, equal `lowered` (already lowercase).
    @inline(__always)
    static func equalsLowercased(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ lowered: [UInt8]) -> Bool {
        guard bytes.count == lowered.count else { return false }
        var j = 0
        for b in bytes {
            if HTTPSyntax.lowercased(b) != lowered[j] { return false }
            j += 1
        }
        return true
    }

    /// `normalizedHost` without the lowercasing, as a slice of `bytes`: `[v6]:port` → `v6`,
    /// `name:port` → `name`, one trailing dot dropped.
    static func bareHost(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = bytes.count
        if bytes.first == UInt8(ascii: "[") {
            if let close = bytes.firstIndex(of: UInt8(ascii: "]")) {
                start = 1
                end = close
            }
        } else if let colon = bytes.firstIndex(of: UInt8(ascii: ":")), bytes.lastIndex(of: UInt8(ascii: ":")) == colon {
            end = colon
        }
        if end - start > 1, bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[start..<end])
    }

    /// `prefixMatches` over the path's bytes, ASCII-lowercased first when `foldingCase`.
    static func prefixMatches(_ prefix: [UInt8], _ path: UnsafeBufferPointer<UInt8>, foldingCase: Bool) -> Bool {
        guard path.count >= prefix.count else { return false }
        let head = path[..<prefix.count]
        guard foldingCase ? equalsLowercased(head, prefix) : head.elementsEqual(prefix) else { return false }
        if path.count == prefix.count || prefix.last == UInt8(ascii: "/") { return true }
        return path[prefix.count] == UInt8(ascii: "/")
    }

    /// `prefix` matches `path` when equal, or when `path` continues with "/" after it, or when
    /// `prefix` itself ends in "/" (so `/orders` never matches `/ordersX`).
    static func prefixMatches(_ prefix: [UInt8], _ path: ArraySlice<UInt8>) -> Bool {
        guard path.count >= prefix.count, path.prefix(prefix.count).elementsEqual(prefix) else { return false }
        if path.count == prefix.count || prefix.last == UInt8(ascii: "/") { return true }
        return path[path.startIndex + prefix.count] == UInt8(ascii: "/")
    }

    /// Host header → bare lowercased host: `[v6]:port` → `v6`, `name:port` → `name`, one
    /// trailing dot dropped.
    static func normalizedHost(_ value: String) -> [UInt8] {
        var bytes = Array(value.utf8)
        if bytes.first == UInt8(ascii: "[") {
            if let close = bytes.firstIndex(of: UInt8(ascii: "]")) {
                bytes = Array(bytes[1..<close])
            }
        } else if let colon = bytes.firstIndex(of: UInt8(ascii: ":")),
                  bytes.lastIndex(of: UInt8(ascii: ":")) == colon {
            bytes = Array(bytes[..<colon])
        }
        if bytes.count > 1, bytes.last == UInt8(ascii: ".") { bytes.removeLast() }
        return asciiLowercased(bytes)
    }

    static func asciiLowercased<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8 {
        bytes.map(HTTPSyntax.lowercased)
    }
}

/// A compiled regex; `Regex` is a value type whose lazily lowered program is published
/// atomically, so sharing it across threads is safe. Lowered in `init`.
private final class RegexBox: @unchecked Sendable {
    let regex: Regex<AnyRegexOutput>
    init(_ regex: Regex<AnyRegexOutput>) {
        self.regex = regex
        _ = try? regex.wholeMatch(in: "")
    }
}

/// One route in the form `match` compares against.
private struct CompiledRoute: Sendable {
    enum Host: Sendable {
        case any
        case exact([UInt8])
        /// ".example.com" for "*.example.com".
        case wildcard([UInt8])
    }

    enum Path: Sendable {
        case exact([UInt8])
        case prefix([UInt8])
        case regex(RegexBox)
    }

    let host: Host
    let methods: Set<String>?
    let caseInsensitive: Bool
    let path: Path

    init(_ route: Route) {
        if let h = route.host {
            let bytes = RouteTable.asciiLowercased(h.utf8)
            host = h.hasPrefix("*.") ? .wildcard(Array(bytes.dropFirst())) : .exact(bytes)
        } else {
            host = .any
        }
        methods = route.methods
        caseInsensitive = route.caseInsensitive
        let fold: (String) -> [UInt8] = route.caseInsensitive ? { RouteTable.asciiLowercased($0.utf8) } : { Array($0.utf8) }
        switch route.path {
        case .exact(let e): path = .exact(fold(e))
        case .prefix(let p): path = .prefix(fold(p))
        case .regex(_, let re): path = .regex(RegexBox(route.caseInsensitive ? re.ignoresCase() : re))
        }
    }
}
