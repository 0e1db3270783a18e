/// Which client fields may travel upstream, decided on the field name's bytes: the byte
/// form of `RequestPipeline.upstreamFields`'s rules (proxy-control families, identity
/// look-alikes, the fields the gateway sets itself), built once per runtime.
///
/// Names compare as `HTTPSyntax.comparableFieldName` compares them (ASCII case-insensitive,
/// `_` the same as `-`), without building a String per field.
struct ForwardedFieldFilter: Sendable {
    /// Exact names never forwarded (normalised bytes).
    private let names: [[UInt8]]
    /// Prefixes and suffixes whose names are never forwarded (normalised bytes).
    private let prefixes: [[UInt8]]
    private let suffixes: [[UInt8]]

    /// - Parameters:
    ///   - identityNames: the identity header names (normalised).
    ///   - stripPrefixes: the configured look-alike prefixes (normalised).
    init(identityNames: Set<String>, stripPrefixes: [String]) {
        let fixed = ["host", "content-length", "expect", "proxy-authorization", "x-request-id", "forwarded", "x-forwarded",
                     "x-client-cert-subject", "x-client-cert-sha256"]
        names = (fixed + RequestPipeline.overrideFields.sorted() + identityNames.sorted()).map { Array($0.utf8) }
        prefixes = (["x-forwarded-", "x-original-", "x-envoy-"] + stripPrefixes).map { Array($0.utf8) }
        suffixes = ["-client-ip", "-connecting-ip"].map { Array($0.utf8) }
    }

    /// Whether a client field named `name` is forwarded (`Authorization` only when the
    /// route forwards the token). Hop-by-hop fields are removed before this is asked.
    func forwards(_ name: UnsafeRawBufferPointer, forwardToken: Bool) -> Bool {
        if name.count == 13 && Self.matches(name, at: 0, "authorization") { return forwardToken }
        for n in names where n.count == name.count && Self.matches(name, at: 0, n) { return false }
        for p in prefixes where name.count >= p.count && Self.matches(name, at: 0, p) { return false }
        for s in suffixes where name.count >= s.count && Self.matches(name, at: name.count - s.count, s) { return false }
        return true
    }

    /// Whether `name[start...]` begins with `pattern` (normalised), comparing each name byte
    /// lowercased with `_` as `-`.
    private static func matches(_ name: UnsafeRawBufferPointer, at start: Int, _ pattern: [UInt8]) -> Bool {
        pattern.withUnsafeBufferPointer { p in
            for i in 0..<p.count where normalized(name[start + i]) != p[i] { return false }
            return true
        }
    }

    private static func matches(_ name: UnsafeRawBufferPointer, at start: Int, _ pattern: StaticString) -> Bool {
        let p = pattern.utf8Start
        for i in 0..<pattern.utf8CodeUnitCount where normalized(name[start + i]) != p[i] { return false }
        return true
    }

    @inline(__always)
    private static func normalized(_ b: UInt8) -> UInt8 {
        (b >= 0x41 && b <= 0x5A) ? b | 0x20 : (b == 0x5F ? 0x2D : b)
    }
}
