// `listen.tls`, `listen.trusted_proxies` and route `auth.client_certificate` (HTTPS on the
// listener; see docs/tls.md). Only the shape is checked here; the certificate and key files
// are read when the TLS context is built.
import Yams

extension ConfigBuilder {
    static let tlsKeys = ["certificate", "private_key", "certificates", "min_version", "client_ca_file", "client_certificate"]
    static let tlsVersions = ["1.2", "1.3"]
    static let clientCertificateModes = ["optional", "required"]

    func parseListenTLS(_ e: Entry) -> ListenTLSConfig? {
        guard let o = reader.object(e.value, path: e.path, known: Self.tlsKeys) else { return nil }
        var ok = true
        var pairs: [ListenTLSConfig.CertificatePair] = []
        if let list = o["certificates"] {
            if o.has("certificate") || o.has("private_key") {
                reader.fail(list.keyNode, "`\(e.path)` has both `certificates` and `certificate`/`private_key`; use one form")
                ok = false
            }
            if let items = reader.list(list.value, path: list.path) {
                if items.isEmpty {
                    reader.fail(list.value, "`\(list.path)` must list at least one certificate")
                    ok = false
                }
                for (node, path) in items {
                    guard let item = reader.object(node, path: path, known: ["certificate", "private_key"]),
                          let pair = certificatePair(item, location: reader.location(node))
                    else { ok = false; continue }
                    pairs.append(pair)
                }
            } else {
                ok = false
            }
        } else if o.has("certificate") || o.has("private_key") {
            if let pair = certificatePair(o, location: reader.location(e.keyNode)) { pairs.append(pair) } else { ok = false }
        } else {
            reader.fail(e.keyNode, "`\(e.path)` needs `certificate` and `private_key`, or `certificates`")
            ok = false
        }
        var config = ListenTLSConfig(certificates: pairs, location: reader.location(e.keyNode))
        if let f = o["min_version"] {
            if let s = reader.scalar(f.value, path: f.path, expected: "\"1.2\" or \"1.3\"") {
                if Self.tlsVersions.contains(s.value) {
                    config.minVersion = s.value
                } else {
                    reader.fail(s.location, "`\(f.path)` must be \"1.2\" or \"1.3\", not `\(s.shown)`")
                    ok = false
                }
            } else {
                ok = false
            }
        }
        if let f = o["client_ca_file"] {
            if let s = reader.string(f.value, path: f.path) { config.clientCAFile = resolve(s.value) } else { ok = false }
        }
        if let f = o["client_certificate"] {
            if let s = reader.string(f.value, path: f.path) {
                if Self.clientCertificateModes.contains(s.value) {
                    config.clientCertificate = s.value
                } else {
                    reader.fail(s.location, "`\(f.path)` must be `optional` or `required`, not `\(s.shown)`"
                        + reader.didYouMean(s.value, among: Self.clientCertificateModes))
                    ok = false
                }
                if !o.has("client_ca_file") {
                    reader.fail(f.keyNode, "`\(f.path)` needs `client_ca_file` (the CAs client certificates must chain to)")
                    ok = false
                }
            } else {
                ok = false
            }
        }
        return ok ? config : nil
    }

    /// `certificate` + `private_key` of `o`, both required.
    func certificatePair(_ o: Object, location: ConfigLocation) -> ListenTLSConfig.CertificatePair? {
        let certificate = reader.require(o, "certificate").flatMap { reader.string($0.value, path: $0.path) }
        let key = reader.require(o, "private_key").flatMap { reader.string($0.value, path: $0.path) }
        guard let certificate, let key else { return nil }
        return ListenTLSConfig.CertificatePair(certificate: resolve(certificate.value), privateKey: resolve(key.value),
                                               location: location)
    }

    /// CIDRs (IPv4 and IPv6; a bare address is one host).
    func parseTrustedProxies(_ e: Entry) -> [IPNetwork] {
        guard let list = reader.stringList(e.value, path: e.path) else { return [] }
        var out: [IPNetwork] = []
        for s in list {
            do {
                let network = try IPNetwork(cidr: s.value)
                if !out.contains(network) { out.append(network) }
            } catch {
                guard case .invalid(let reason) = error else { continue }
                reader.fail(s.location, "invalid network `\(s.shown)` in `\(e.path)`: \(reason)")
            }
        }
        return out
    }

    /// Route `auth.client_certificate`: only `required`.
    func parseRouteClientCertificate(_ f: Entry) -> Bool? {
        guard let s = reader.string(f.value, path: f.path) else { return nil }
        guard s.value == "required" else {
            reader.fail(s.location, "`\(f.path)` must be `required`, not `\(s.shown)`"
                + reader.didYouMean(s.value, among: ["required"]))
            return nil
        }
        return true
    }

    /// A route with `client_certificate` and no `issuers` takes no token, so token
    /// requirements there are errors (they could never be met). False when one is present.
    func tokenKeysNeedIssuers(_ auth: Object) -> Bool {
        var ok = true
        for f in auth.entries where ["scopes", "any_scopes", "roles", "claims", "forward_token"].contains(f.key) {
            reader.fail(f.keyNode, "`\(f.path)` needs `issuers` (with only `client_certificate` no token is read)")
            ok = false
        }
        return ok
    }
}
