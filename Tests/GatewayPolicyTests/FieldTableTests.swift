@testable import GatewayPolicy
import XCTest

/// Every key a mapping accepts is read: one config sets every key of every mapping to a value
/// other than its default, and a check per key finds that value in the parsed config. The
/// checks are keyed by the schema derived from the field tables, so a key added to a table
/// without a check here (or a check for a key no table has) fails the test.
final class FieldTableTests: XCTestCase {
    static let everyKey = """
        listen: {address: 127.0.0.1:8081, tls: {certificate: t.crt, private_key: t.key}, trusted_proxies: [10.0.0.0/8]}
        admin: {address: 127.0.0.1:9091, token_env: GATEWAY_ADMIN_TOKEN}
        decision: {address: 127.0.0.2:8082, tls: {certificates: [{certificate: d.crt, private_key: d.key}], min_version: "1.3",
                   client_ca_file: ingress-ca.pem, client_certificate: required}}
        limits: {max_header_bytes: 1KiB, max_body_bytes: 2KiB, header_timeout: 1s, idle_timeout: 2s,
                 max_connections: 3, drain_timeout: 4s, body_timeout: 5s}
        token_cache: {enabled: false, max_entries: 6, max_bytes: 7KiB}
        log: {level: debug}
        revocation: {file: revoked.json, url: "https://r/revoked.json", refresh: 2s, max_stale: 3m, max_entries: 8}
        tracing: {otlp_endpoint: "http://collector:4318", service_name: edge, sample_ratio: 0.25}
        issuers:
          - {name: remote, issuer: "https://r", audiences: [api], algorithms: [RS256], jwks_url: "https://r/jwks",
             jwks_refresh: 31s, clock_skew: 1s, max_token_lifetime: 1h, require_exp: false, require_sub: false, scope_claim: scp,
             roles_claim: realm.roles,
             introspection: {url: "https://r/introspect", client_id: gw, client_secret_env: INTROSPECTION_SECRET, cache: 9s}}
          - {name: file, issuer: "https://f", algorithms: [ES256], jwks_file: keys/jwks.json}
          - {name: pem, issuer: "https://p", algorithms: [EdDSA], public_key_file: keys/p.pem, key_id: p1}
          - {name: hmac, issuer: "https://h", algorithms: [HS256], secret_env: SECRET, secret_encoding: base64url}
          - {name: oidc, issuer: "https://o/", algorithms: [RS256], discovery: true}
        upstreams:
          u: {url: "https://u.example:8443/base", connect_timeout: 1s, timeout: 2s,
              tls: {ca_file: ca.pem, client_certificate: c.crt, client_key: c.key}}
        identity: {subject_header: X-S, issuer_header: X-I, scopes_header: X-Sc, claims: {email: X-E},
                   strip_prefixes: [X-P-]}
        routes:
          - name: r
            match: {host: api.example.com, path_prefix: /a, methods: [GET], case_insensitive: true}
            upstream: u
            strip_prefix: true
            allow_body_on_get: true
            auth: {issuers: [remote], scopes: [s1], any_scopes: [s2], roles: [r1], claims: {tenant: acme},
                   forward_token: true, token_from: [{cookie: at}], csrf_origins: ["https://app.test"],
                   login_url: "https://login.test/?rd={url}", client_certificate: required, mode: report_only,
                   introspect: true}
            cors: {allowed_origins: ["https://app.test"], allowed_methods: [PUT], allowed_headers: [X-H],
                   expose_headers: [X-E], max_age: 1m, allow_credentials: true}
          - {name: e, match: {path: /exact}, upstream: u, auth: public}
          - {name: x, match: {path_regex: "/x/[0-9]+"}, upstream: u, auth: {issuers: [file, pem, hmac]}}
        """

    typealias Check = @Sendable (GatewayConfig) -> Bool

    static func issuer(_ c: GatewayConfig, _ name: String) -> IssuerConfig? { c.issuers.first { $0.name == name } }
    static func auth(_ c: GatewayConfig) -> AuthRequirements? {
        if case .required(let r) = c.routes.first?.auth { return r }
        return nil
    }

    /// One check per `mapping.key` (listen.tls, refused for now, is checked by its error).
    static let checks: [String: Check] = [
        "listen": { $0.listen.port == 8081 }, "listen.address": { $0.listen == ListenAddress(host: "127.0.0.1", port: 8081) },
        "admin": { $0.admin?.port == 9091 }, "admin.address": { $0.admin == ListenAddress(host: "127.0.0.1", port: 9091) },
        "admin.token_env": { $0.adminTokenEnv == "GATEWAY_ADMIN_TOKEN" },
        "decision": { $0.decision != nil },
        "decision.address": { $0.decision == ListenAddress(host: "127.0.0.2", port: 8082) },
        "decision.tls": {
            guard let t = $0.decisionTLS else { return false }
            return t.certificates.map { [$0.certificate, $0.privateKey] } == [["/etc/gw/d.crt", "/etc/gw/d.key"]]
                && t.minVersion == "1.3" && t.clientCAFile == "/etc/gw/ingress-ca.pem" && t.clientCertificate == "required"
                && $0.listenTLS?.certificates.map(\.certificate) == ["/etc/gw/t.crt"]
        },
        "limits": { $0.limits != Limits() },
        "limits.max_header_bytes": { $0.limits.maxHeaderBytes == 1024 },
        "limits.max_body_bytes": { $0.limits.maxBodyBytes == 2048 },
        "limits.header_timeout": { $0.limits.headerTimeout == 1 },
        "limits.idle_timeout": { $0.limits.idleTimeout == 2 },
        "limits.max_connections": { $0.limits.maxConnections == 3 },
        "limits.drain_timeout": { $0.limits.drainTimeout == 4 },
        "limits.body_timeout": { $0.limits.bodyTimeout == 5 },
        "token_cache": { $0.tokenCache != TokenCacheConfig() },
        "revocation": { $0.revocation != nil },
        "revocation.file": { $0.revocation?.file?.hasSuffix("revoked.json") == true },
        "revocation.url": { $0.revocation?.url == "https://r/revoked.json" },
        "revocation.refresh": { $0.revocation?.refresh == 2 },
        "revocation.max_stale": { $0.revocation?.maxStale == 180 },
        "revocation.max_entries": { $0.revocation?.maxEntries == 8 },
        "token_cache.enabled": { !$0.tokenCache.enabled },
        "token_cache.max_entries": { $0.tokenCache.maxEntries == 6 },
        "token_cache.max_bytes": { $0.tokenCache.maxBytes == 7 * 1024 },
        "log": { $0.logLevel != nil }, "log.level": { $0.logLevel == "debug" },
        "tracing": { $0.tracing != nil },
        "tracing.otlp_endpoint": { $0.tracing?.tracesURL == "http://collector:4318/v1/traces" },
        "tracing.service_name": { $0.tracing?.serviceName == "edge" },
        "tracing.sample_ratio": { $0.tracing?.sampleRatio == 0.25 },
        "issuers": { $0.issuers.count == 5 },
        "issuers[].name": { $0.issuers.map(\.name) == ["remote", "file", "pem", "hmac", "oidc"] },
        "issuers[].issuer": { issuer($0, "remote")?.issuer == "https://r" },
        "issuers[].audiences": { issuer($0, "remote")?.audiences == ["api"] },
        "issuers[].algorithms": { issuer($0, "pem")?.algorithms == [.EdDSA] },
        "issuers[].jwks_url": { issuer($0, "remote")?.keySource == .jwksURL("https://r/jwks") },
        "issuers[].discovery": { issuer($0, "oidc")?.keySource == .discovery("https://o/.well-known/openid-configuration") },
        "issuers[].jwks_file": { issuer($0, "file")?.keySource == .jwksFile("/etc/gw/keys/jwks.json") },
        "issuers[].public_key_file": { issuer($0, "pem")?.keySource == .publicKeyFile("/etc/gw/keys/p.pem") },
        "issuers[].secret_env": {
            if case .secretEnv("SECRET", _) = issuer($0, "hmac")?.keySource { return true }
            return false
        },
        "issuers[].secret_encoding": { issuer($0, "hmac")?.keySource == .secretEnv("SECRET", .base64url) },
        "issuers[].key_id": { issuer($0, "pem")?.keyID == "p1" },
        "issuers[].jwks_refresh": { issuer($0, "remote")?.jwksRefresh == 31 },
        "issuers[].clock_skew": { issuer($0, "remote")?.clockSkew == 1 },
        "issuers[].max_token_lifetime": { issuer($0, "remote")?.maxTokenLifetime == 3600 },
        "issuers[].require_exp": { issuer($0, "remote")?.requireExp == false },
        "issuers[].require_sub": { issuer($0, "remote")?.requireSub == false && issuer($0, "file")?.requireSub == true },
        "issuers[].scope_claim": { issuer($0, "remote")?.scopeClaim == "scp" },
        "issuers[].roles_claim": { issuer($0, "remote")?.rolesClaim == ["realm", "roles"] },
        "issuers[].introspection": { issuer($0, "remote")?.introspection != nil && issuer($0, "file")?.introspection == nil },
        "issuers[].introspection.url": { issuer($0, "remote")?.introspection?.url == "https://r/introspect" },
        "issuers[].introspection.client_id": { issuer($0, "remote")?.introspection?.clientID == "gw" },
        "issuers[].introspection.client_secret_env": {
            issuer($0, "remote")?.introspection?.clientSecretEnv == "INTROSPECTION_SECRET"
        },
        "issuers[].introspection.cache": { issuer($0, "remote")?.introspection?.cache == 9 },
        "upstreams": { $0.upstreams.count == 1 },
        "upstreams.*.url": { $0.upstreams["u"].map { ($0.scheme, $0.host, $0.port, $0.basePath) == ("https", "u.example", 8443, "/base") } ?? false },
        "upstreams.*.connect_timeout": { $0.upstreams["u"]?.connectTimeout == 1 },
        "upstreams.*.timeout": { $0.upstreams["u"]?.timeout == 2 },
        "upstreams.*.tls": { $0.upstreams["u"]?.tls != nil },
        "upstreams.*.tls.ca_file": { $0.upstreams["u"]?.tls?.caFile == "/etc/gw/ca.pem" },
        "upstreams.*.tls.client_certificate": { $0.upstreams["u"]?.tls?.clientCertificate == "/etc/gw/c.crt" },
        "upstreams.*.tls.client_key": { $0.upstreams["u"]?.tls?.clientKey == "/etc/gw/c.key" },
        "identity": { $0.identity != IdentityConfig() },
        "identity.subject_header": { $0.identity.subjectHeader == "X-S" },
        "identity.issuer_header": { $0.identity.issuerHeader == "X-I" },
        "identity.scopes_header": { $0.identity.scopesHeader == "X-Sc" },
        "identity.claims": { $0.identity.claims.map { "\($0.claim)=\($0.header)" } == ["email=X-E"] },
        "identity.strip_prefixes": { $0.identity.stripPrefixes == ["X-P-"] },
        "routes": { $0.routes.count == 3 },
        "routes[].name": { $0.routes.map(\.name) == ["r", "e", "x"] },
        "routes[].match": { $0.routes.first?.host != nil },
        "routes[].match.host": { $0.routes.first?.host == "api.example.com" },
        "routes[].match.path": {
            if case .exact("/exact") = $0.routes[1].path { return true }
            return false
        },
        "routes[].match.path_prefix": {
            if case .prefix("/a") = $0.routes[0].path { return true }
            return false
        },
        "routes[].match.path_regex": {
            if case .regex("/x/[0-9]+", _) = $0.routes[2].path { return true }
            return false
        },
        "routes[].match.methods": { $0.routes.first?.methods == ["GET"] },
        "routes[].match.case_insensitive": { $0.routes.first?.caseInsensitive == true },
        "routes[].upstream": { $0.routes.allSatisfy { $0.upstream == "u" } },
        "routes[].strip_prefix": { $0.routes.first?.stripPrefix == true },
        "routes[].allow_body_on_get": { $0.routes.first?.allowBodyOnGet == true && $0.routes[1].allowBodyOnGet == false },
        "routes[].auth": { $0.routes[1].auth == .publicAccess },
        "routes[].auth.issuers": { auth($0)?.issuers == ["remote"] },
        "routes[].auth.scopes": { auth($0)?.scopes == ["s1"] },
        "routes[].auth.any_scopes": { auth($0)?.anyScopes == ["s2"] },
        "routes[].auth.roles": { auth($0)?.roles == ["r1"] },
        "routes[].auth.claims": { auth($0).map { $0.claims.map(\.name) == ["tenant"] && $0.claims.first?.value == .string("acme") } ?? false },
        "routes[].auth.forward_token": { auth($0)?.forwardToken == true },
        "routes[].auth.mode": { auth($0)?.mode == .reportOnly },
        "routes[].auth.token_from": { auth($0)?.browser.tokenFrom == [.cookie("at")] },
        "routes[].auth.csrf_origins": { auth($0)?.browser.csrfOrigins.map(\.description) == ["https://app.test"] },
        "routes[].auth.login_url": { auth($0)?.browser.loginURL == "https://login.test/?rd={url}" },
        "routes[].cors": { $0.routes.first?.cors != nil },
        "routes[].cors.allowed_origins": { $0.routes.first?.cors?.allowedOrigins.map(\.description) == ["https://app.test"] },
        "routes[].cors.allowed_methods": { $0.routes.first?.cors?.allowedMethods == ["PUT"] },
        "routes[].cors.allowed_headers": { $0.routes.first?.cors?.allowedHeaders == ["X-H"] },
        "routes[].cors.expose_headers": { $0.routes.first?.cors?.exposeHeaders == ["X-E"] },
        "routes[].cors.max_age": { $0.routes.first?.cors?.maxAge == 60 },
        "routes[].cors.allow_credentials": { $0.routes.first?.cors?.allowCredentials == true },
        "routes[].auth.client_certificate": { auth($0)?.clientCertificate == true },
        "routes[].auth.introspect": {
            guard case .required(let x) = $0.routes[2].auth else { return false }
            return auth($0)?.introspect == true && !x.introspect
        },
        "listen.tls": { $0.listenTLS?.certificates.map(\.certificate) == ["/etc/gw/t.crt"] },
        "listen.trusted_proxies": { $0.trustedProxies.map(\.description) == ["10.0.0.0/8"] },
    ]

    func testEveryKeyOfEveryMappingIsRead() throws {
        let config = try ConfigLoader.parse(yaml: Self.everyKey, path: "/etc/gw/gateway.yml", environment: [:])
        let schema = Set(ConfigSchema.allKeys)
        XCTAssertFalse(schema.isEmpty)
        let checked = Set(Self.checks.keys)
        XCTAssertEqual(schema.subtracting(checked).sorted(), [], "keys a table accepts without a check in this test")
        XCTAssertEqual(checked.subtracting(schema).sorted(), [], "checks for keys no table accepts")
        for (key, check) in Self.checks.sorted(by: { $0.key < $1.key }) {
            XCTAssertTrue(check(config), "`\(key)` was accepted but its value is not in the parsed config")
        }
    }

    func testListenTLSIsRead() {
        let yaml = Self.everyKey.replacingOccurrences(of: "tls: {certificate: t.crt, private_key: t.key}", with: "tls: {}")
        XCTAssertThrowsError(try ConfigLoader.parse(yaml: yaml, path: "g.yml", environment: [:])) { error in
            XCTAssertEqual((error as? ConfigErrors)?.description,
                           "g.yml:1:35: `listen.tls` needs `certificate` and `private_key`, or `certificates`")
        }
    }

    func testTheKnownKeysAreTheTableKeys() {
        // An unknown key's "did you mean" comes from the same table that reads the keys.
        XCTAssertThrowsError(try ConfigLoader.parse(yaml: Self.everyKey + "\n    tiemout: 1s", path: "g.yml", environment: [:]))
        XCTAssertEqual(ServerSections.limitsFields.known, ["max_header_bytes", "max_body_bytes", "header_timeout",
                                                           "idle_timeout", "max_connections", "drain_timeout", "body_timeout"])
    }
}
