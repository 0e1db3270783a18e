// `upstreams:`: a mapping of names to upstream servers.
import Yams

/// Reader of the `upstreams` mapping.
enum UpstreamSection {
    /// One upstream as read so far; `upstream` is nil until `url` is valid.
    struct Draft {
        var name: String
        var ok = true
        var upstream: UpstreamConfig?
    }

    static let fields = FieldTable<Draft>([
        .key("url", required: true, readURL),
        .key("connect_timeout") { b, f, d in
            if let v = b.reader.duration(f.value, path: f.path, positive: true) { d.upstream?.connectTimeout = v } else { d.ok = false }
        },
        .key("timeout") { b, f, d in
            if let v = b.reader.duration(f.value, path: f.path, positive: true) { d.upstream?.timeout = v } else { d.ok = false }
        },
        .key("tls", readTLS),
    ])

    @Sendable static func readURL(_ b: ConfigBuilder, _ u: Entry, _ d: inout Draft) {
        guard let s = b.reader.string(u.value, path: u.path) else { return }
        do {
            let p = try ConfigScalars.upstreamURL(s.value)
            d.upstream = UpstreamConfig(name: d.name, scheme: p.scheme, host: p.host, port: p.port, basePath: p.basePath)
        } catch {
            if case .invalid(let reason) = error {
                b.reader.fail(s.location, "invalid URL `\(s.shown)` for `\(u.path)`: \(reason)")
            }
        }
    }

    @Sendable static func readTLS(_ b: ConfigBuilder, _ f: Entry, _ d: inout Draft) {
        var t = TLSDraft()
        guard tlsFields.read(f.value, path: f.path, builder: b, into: &t) != nil else { d.ok = false; return }
        let tls = t.tls
        if !t.ok { d.ok = false }
        if (tls.clientCertificate == nil) != (tls.clientKey == nil) {
            b.reader.fail(f.value, "`\(f.path)` needs both `client_certificate` and `client_key`, or neither")
            d.ok = false
        }
        if let u = d.upstream, u.scheme != "https" {
            b.reader.fail(f.keyNode, "`\(f.path)` is only allowed for an https upstream")
            d.ok = false
        }
        d.upstream?.tls = tls
    }

    /// `tls:` as read so far; `ok` false once a value was invalid (reported).
    struct TLSDraft {
        var tls = UpstreamTLS()
        var ok = true
    }

    static let tlsFields = FieldTable<TLSDraft>([
        .key("ca_file") { b, g, t in t.tls.caFile = file(g, b, &t.ok) },
        .key("client_certificate") { b, g, t in t.tls.clientCertificate = file(g, b, &t.ok) },
        .key("client_key") { b, g, t in t.tls.clientKey = file(g, b, &t.ok) },
    ])

    /// A file path, resolved against the config file's directory; `ok` false when it is not a string.
    static func file(_ g: Entry, _ b: ConfigBuilder, _ ok: inout Bool) -> String? {
        guard let s = b.reader.string(g.value, path: g.path) else { ok = false; return nil }
        return b.resolve(s.value)
    }

    static func upstreams(_ e: Entry, _ b: ConfigBuilder) -> [String: UpstreamConfig] {
        guard let pairs = b.reader.pairs(e.value, path: e.path) else { return [:] }
        var out: [String: UpstreamConfig] = [:]
        for (name, _, value) in pairs {
            if !b.declaredUpstreams.contains(name) { b.declaredUpstreams.append(name) }
            var d = Draft(name: name)
            guard fields.read(value, path: "\(e.path).\(name)", builder: b, into: &d) != nil else { continue }
            if d.ok, let upstream = d.upstream { out[name] = upstream }
        }
        return out
    }
}
