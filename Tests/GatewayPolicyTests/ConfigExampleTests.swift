import GatewayJOSE
import GatewayPolicy
import XCTest

/// The configuration reference example (jwks_url → jwks_file, listen.tls removed) parses into the documented values.
final class ConfigExampleTests: XCTestCase {
    static let example = """
        listen:
          address: 0.0.0.0:8080            # host:port; [::]:8080 for IPv6
        admin:
          address: 127.0.0.1:9090
        limits:
          max_header_bytes: 16KiB
          max_body_bytes: 10MiB
          header_timeout: 10s
          idle_timeout: 60s
          max_connections: 10000
          drain_timeout: 30s

        issuers:
          - name: corp
            issuer: https://auth.example.com/
            audiences: [orders-api]
            algorithms: [RS256, ES256]
            jwks_file: keys/jwks.json
            jwks_refresh: 10m
            clock_skew: 30s
            max_token_lifetime: 24h
            require_exp: true
            scope_claim: scope
            roles_claim: realm_access.roles

        upstreams:
          orders:
            url: http://orders.internal:8080
            connect_timeout: 5s
            timeout: 30s
            tls:
              ca_file: /etc/gateway/ca.pem
              client_certificate: /etc/gateway/client.crt
              client_key: /etc/gateway/client.key

        identity:
          subject_header: X-Auth-Subject
          issuer_header: X-Auth-Issuer
          scopes_header: X-Auth-Scopes
          claims:
            email: X-Auth-Email
          strip_prefixes: [X-Auth-]

        routes:
          - name: orders-read
            match:
              host: api.example.com
              path_prefix: /orders
              methods: [GET, HEAD]
            upstream: orders
            strip_prefix: false
            auth:
              issuers: [corp]
              scopes: [read:orders]
              any_scopes: []
              roles: []
              claims: {tenant: acme}
              forward_token: false
          - name: status
            match: {path: /status}
            upstream: orders
            auth: public

        """

    func testSpecExampleParsesIntoTheDocumentedValues() throws {
        // The example's upstream has `tls` on an http URL, which is refused; use https here.
        let yaml = Self.example.replacingOccurrences(of: "http://orders.internal:8080", with: "https://orders.internal:8443/api/")
        let config = try ConfigLoader.parse(yaml: yaml, path: "/etc/gateway/gateway.yml", environment: [:])

        XCTAssertEqual(config.listen, ListenAddress(host: "0.0.0.0", port: 8080))
        XCTAssertEqual(config.admin, ListenAddress(host: "127.0.0.1", port: 9090))
        XCTAssertEqual(config.limits, Limits())
        XCTAssertEqual(config.limits.maxHeaderBytes, 16384)
        XCTAssertEqual(config.limits.maxBodyBytes, 10_485_760)

        XCTAssertEqual(config.issuers.count, 1)
        let corp = config.issuers[0]
        XCTAssertEqual(corp.name, "corp")
        XCTAssertEqual(corp.issuer, "https://auth.example.com/")
        XCTAssertEqual(corp.audiences, ["orders-api"])
        XCTAssertEqual(corp.algorithms, [.RS256, .ES256])
        XCTAssertEqual(corp.keySource, .jwksFile("/etc/gateway/keys/jwks.json"))
        XCTAssertEqual(corp.keySourceLocation, ConfigLocation(path: "/etc/gateway/gateway.yml", line: 18, column: 5))
        XCTAssertNil(corp.keyID)
        XCTAssertEqual(corp.jwksRefresh, 600)
        XCTAssertEqual(corp.clockSkew, 30)
        XCTAssertEqual(corp.maxTokenLifetime, 86400)
        XCTAssertTrue(corp.requireExp)
        XCTAssertEqual(corp.scopeClaim, "scope")
        XCTAssertEqual(corp.rolesClaim, ["realm_access", "roles"])

        var orders = UpstreamConfig(name: "orders", scheme: "https", host: "orders.internal", port: 8443, basePath: "/api")
        var tls = UpstreamTLS()
        tls.caFile = "/etc/gateway/ca.pem"
        tls.clientCertificate = "/etc/gateway/client.crt"
        tls.clientKey = "/etc/gateway/client.key"
        orders.tls = tls
        XCTAssertEqual(config.upstreams, ["orders": orders])

        var identity = IdentityConfig()
        identity.claims = [(claim: "email", header: "X-Auth-Email")]
        XCTAssertEqual(config.identity, identity)

        XCTAssertEqual(config.routes.map(\.name), ["orders-read", "status"])
        let read = config.routes[0]
        XCTAssertEqual(read.host, "api.example.com")
        guard case .prefix("/orders") = read.path else { return XCTFail("path \(read.path)") }
        XCTAssertEqual(read.methods, ["GET", "HEAD"])
        XCTAssertFalse(read.caseInsensitive)
        XCTAssertEqual(read.upstream, "orders")
        XCTAssertFalse(read.stripPrefix)
        var req = AuthRequirements(issuers: ["corp"])
        req.scopes = ["read:orders"]
        req.claims = [(name: "tenant", value: .string("acme"))]
        XCTAssertEqual(read.auth, .required(req))
        XCTAssertEqual(read.location, ConfigLocation(path: "/etc/gateway/gateway.yml", line: 45, column: 5))

        let status = config.routes[1]
        XCTAssertNil(status.host)
        guard case .exact("/status") = status.path else { return XCTFail("path \(status.path)") }
        XCTAssertNil(status.methods)
        XCTAssertEqual(status.auth, .publicAccess)
        XCTAssertEqual(config.warnings, [])
    }

    func testDefaultsWhenOptionalSectionsAreMissing() throws {
        let config = try ConfigLoader.parse(yaml: """
            listen: {address: "[::]:0"}
            upstreams: {echo: {url: "http://[::1]"}}
            routes:
              - {name: all, match: {path_prefix: /}, upstream: echo, auth: public}
            """, path: "gateway.yml", environment: [:])
        XCTAssertEqual(config.listen, ListenAddress(host: "::", port: 0))
        XCTAssertEqual(config.admin, ListenAddress(host: "127.0.0.1", port: 9090))
        XCTAssertEqual(config.limits, Limits())
        XCTAssertEqual(config.identity, IdentityConfig())
        XCTAssertEqual(config.issuers.count, 0)
        XCTAssertEqual(config.upstreams["echo"], UpstreamConfig(name: "echo", scheme: "http", host: "::1", port: 80, basePath: ""))
    }

    func testIssuerKeySourcesAndOptions() throws {
        let config = try ConfigLoader.parse(yaml: """
            listen: {address: "localhost:8080"}
            issuers:
              - name: hmac
                issuer: https://hmac.example
                algorithms: [HS256, HS512]
                secret_env: HMAC_SECRET
                secret_encoding: base64url
                key_id: k1
                require_exp: false
                clock_skew: 0s
                scope_claim: scp
              - name: pem
                issuer: https://pem.example
                algorithms: [EdDSA]
                public_key_file: ../keys/ed.pem
                key_id: "2026"
              - name: plain
                issuer: https://plain.example
                algorithms: [HS384]
                secret_env: PLAIN
            upstreams: {u: {url: "http://127.0.0.1:9000"}}
            routes:
              - {name: r, match: {path: /x}, upstream: u, auth: {issuers: [hmac, pem, plain]}}
            """, path: "conf/gateway.yml", environment: [:])
        XCTAssertEqual(config.listen, ListenAddress(host: "127.0.0.1", port: 8080))
        let hmac = config.issuers[0]
        XCTAssertEqual(hmac.keySource, .secretEnv("HMAC_SECRET", .base64url))
        XCTAssertEqual(hmac.algorithms, [.HS256, .HS512])
        XCTAssertEqual(hmac.keyID, "k1")
        XCTAssertFalse(hmac.requireExp)
        XCTAssertEqual(hmac.clockSkew, 0)
        XCTAssertEqual(hmac.scopeClaim, "scp")
        XCTAssertNil(hmac.maxTokenLifetime)
        XCTAssertNil(hmac.rolesClaim)
        XCTAssertEqual(config.issuers[1].keySource, .publicKeyFile("conf/../keys/ed.pem"))
        XCTAssertEqual(config.issuers[1].keyID, "2026")
        XCTAssertEqual(config.issuers[2].keySource, .secretEnv("PLAIN", .raw))
        XCTAssertEqual(config.warnings, [])
    }

    func testFileContentsAreParsedWithKeyPathsRelativeToTheFile() throws {
        let yaml = """
            listen: {address: 127.0.0.1:0}
            issuers: [{name: a, issuer: "https://a", algorithms: [RS256], jwks_file: jwks.json}]
            upstreams: {u: {url: "http://127.0.0.1:1"}}
            routes: [{name: r, match: {path: /}, upstream: u, auth: {issuers: [a]}}]
            """
        let config = try ConfigLoader.parse(contents: Array(yaml.utf8), path: "/srv/gw/gateway.yml", environment: { _ in nil })
        XCTAssertEqual(config.issuers[0].keySource, .jwksFile("/srv/gw/jwks.json"))

        XCTAssertThrowsError(try ConfigLoader.parse(contents: [0x6C, 0xFF], path: "g.yml", environment: { _ in nil })) { error in
            XCTAssertEqual((error as? ConfigErrors)?.description, "g.yml:1:1: the configuration file is not valid UTF-8")
        }
        let large = [UInt8](repeating: 0x20, count: ConfigLoader.maxFileBytes + 1)
        XCTAssertThrowsError(try ConfigLoader.parse(contents: large, path: "g.yml", environment: { _ in nil })) { error in
            XCTAssertEqual((error as? ConfigErrors)?.description, "g.yml:1:1: the configuration file is larger than 1048576 bytes")
        }
    }
}
