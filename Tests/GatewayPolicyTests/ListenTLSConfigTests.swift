import GatewayPolicy
import XCTest

/// `listen.tls`, `listen.trusted_proxies` and route `auth.client_certificate` in gateway.yml.
final class ListenTLSConfigTests: XCTestCase {
    func parse(_ yaml: String) throws(ConfigErrors) -> GatewayConfig {
        try ConfigLoader.parse(yaml: yaml, path: "/etc/gateway/gw.yml", environment: ["KEY": "tls.key"])
    }

    func errors(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            _ = try parse(yaml)
            XCTFail("expected errors", file: file, line: line)
            return []
        } catch {
            return error.errors.map(\.description)
        }
    }

    static let tail = """
        upstreams: {u: {url: "http://127.0.0.1:9000"}}
        routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
        """

    func testOneCertificateWithRelativePathsResolvedAgainstTheConfigDirectory() throws {
        let config = try parse("""
            listen:
              address: 0.0.0.0:8443
              tls: {certificate: tls.crt, private_key: "${KEY}", client_ca_file: /ca/clients.pem, client_certificate: required}
            \(Self.tail)
            """)
        let tls = try XCTUnwrap(config.listenTLS)
        XCTAssertEqual(tls.certificates.map(\.certificate), ["/etc/gateway/tls.crt"])
        XCTAssertEqual(tls.certificates.map(\.privateKey), ["/etc/gateway/tls.key"])
        XCTAssertEqual(tls.minVersion, "1.2")
        XCTAssertEqual(tls.clientCAFile, "/ca/clients.pem")
        XCTAssertEqual(tls.clientCertificate, "required")
        XCTAssertEqual(tls.location, ConfigLocation(path: "/etc/gateway/gw.yml", line: 3, column: 3))
        XCTAssertEqual(config.trustedProxies, [])
        XCTAssertNil(try parse("listen: {address: 0.0.0.0:8080}\n\(Self.tail)").listenTLS)
    }

    func testSeveralCertificatesInOrderAndMinimumVersion() throws {
        let config = try parse("""
            listen:
              address: 0.0.0.0:8443
              tls:
                certificates:
                  - {certificate: a.pem, private_key: a.key}
                  - {certificate: /b.pem, private_key: /b.key}
                min_version: 1.3
            \(Self.tail)
            """)
        let tls = try XCTUnwrap(config.listenTLS)
        XCTAssertEqual(tls.certificates.map(\.certificate), ["/etc/gateway/a.pem", "/b.pem"])
        XCTAssertEqual(tls.certificates.map(\.location.line), [5, 6])
        XCTAssertEqual(tls.minVersion, "1.3")
        XCTAssertEqual(tls.clientCertificate, "optional")
    }

    func testTLSShapeErrors() {
        XCTAssertEqual(errors("""
            listen:
              address: 0.0.0.0:8443
              tls:
                certificate: a.pem
                certificates: []
                min_version: "1.1"
                client_certificate: requird
                ciphers: all
            \(Self.tail)
            """), [
                "/etc/gateway/gw.yml:5:5: `listen.tls` has both `certificates` and `certificate`/`private_key`; use one form",
                "/etc/gateway/gw.yml:5:19: `listen.tls.certificates` must list at least one certificate",
                "/etc/gateway/gw.yml:6:18: `listen.tls.min_version` must be \"1.2\" or \"1.3\", not `1.1`",
                "/etc/gateway/gw.yml:7:5: `listen.tls.client_certificate` needs `client_ca_file` (the CAs client certificates must chain to)",
                "/etc/gateway/gw.yml:7:25: `listen.tls.client_certificate` must be `optional` or `required`, not `requird`; did you mean `required`?",
                "/etc/gateway/gw.yml:8:5: unknown key `ciphers` in `listen.tls`",
            ])
        XCTAssertEqual(errors("listen: {address: 0.0.0.0:8443, tls: {min_version: \"1.2\"}}\n\(Self.tail)"),
                       ["/etc/gateway/gw.yml:1:33: `listen.tls` needs `certificate` and `private_key`, or `certificates`"])
        XCTAssertEqual(errors("listen: {address: 0.0.0.0:8443, tls: {certificates: [{certificate: a.pem}]}}\n\(Self.tail)"),
                       ["/etc/gateway/gw.yml:1:54: missing required key `private_key` in `listen.tls.certificates[0]`"])
    }

    func testTrustedProxiesAreCIDRs() throws {
        let config = try parse("""
            listen:
              address: 0.0.0.0:8080
              trusted_proxies: [10.0.0.0/8, 127.0.0.1, "2001:db8::/32", "::1"]
            \(Self.tail)
            """)
        XCTAssertEqual(config.trustedProxies.map(\.description), ["10.0.0.0/8", "127.0.0.1/32", "2001:db8::/32", "::1/128"])
        XCTAssertEqual(config.trustedProxiesLocation?.line, 3)
        let net = config.trustedProxies[0]
        XCTAssertTrue(net.contains([10, 200, 3, 4]))
        XCTAssertFalse(net.contains([11, 0, 0, 1]))
        XCTAssertTrue(net.contains(IPNetwork.address("::ffff:10.1.2.3")!), "IPv4-mapped IPv6 peer")
        XCTAssertTrue(config.trustedProxies[2].contains(IPNetwork.address("2001:db8:ffff::1")!))
        XCTAssertFalse(config.trustedProxies[2].contains(IPNetwork.address("2001:db9::1")!))
        XCTAssertFalse(config.trustedProxies[2].contains([10, 0, 0, 1]))
        XCTAssertTrue(try IPNetwork(cidr: "0.0.0.0/0").contains([8, 8, 8, 8]))

        XCTAssertEqual(errors("""
            listen:
              address: 0.0.0.0:8080
              trusted_proxies: [10.0.0.1/8, 10.0.0.0/33, example.com, "::1/129", "10.0.0.0/", 10.0.0.0/08]
            \(Self.tail)
            """), [
                "/etc/gateway/gw.yml:3:21: invalid network `10.0.0.1/8` in `listen.trusted_proxies`: address has bits set after the /8 prefix; the network is 10.0.0.0/8",
                "/etc/gateway/gw.yml:3:33: invalid network `10.0.0.0/33` in `listen.trusted_proxies`: prefix length must be a number from 0 to 32",
                "/etc/gateway/gw.yml:3:46: invalid network `example.com` in `listen.trusted_proxies`: not an IPv4 or IPv6 address",
                "/etc/gateway/gw.yml:3:59: invalid network `::1/129` in `listen.trusted_proxies`: prefix length must be a number from 0 to 128",
                "/etc/gateway/gw.yml:3:70: invalid network `10.0.0.0/` in `listen.trusted_proxies`: prefix length must be a number from 0 to 32",
            ])
        XCTAssertEqual(errors("listen: {address: 0.0.0.0:8080, trusted_proxies: 10.0.0.0/8}\n\(Self.tail)"),
                       ["/etc/gateway/gw.yml:1:50: `listen.trusted_proxies` must be a list, not a string"])
    }

    static let issuer = """
        issuers: [{name: corp, issuer: "https://corp", algorithms: [HS256], secret_env: S}]
        upstreams: {u: {url: "http://127.0.0.1:9000"}}
        """

    func testRouteClientCertificateWithAndWithoutIssuers() throws {
        let config = try parse("""
            listen: {address: 0.0.0.0:8080}
            \(Self.issuer)
            routes:
              - {name: both, match: {path: /a}, upstream: u, auth: {issuers: [corp], client_certificate: required}}
              - {name: cert, match: {path: /b}, upstream: u, auth: {client_certificate: required}}
              - {name: token, match: {path: /c}, upstream: u, auth: {issuers: [corp]}}
            """)
        guard case .required(let both) = config.routes[0].auth, case .required(let cert) = config.routes[1].auth,
              case .required(let token) = config.routes[2].auth
        else { return XCTFail("every route is protected") }
        XCTAssertEqual(both.issuers, ["corp"])
        XCTAssertTrue(both.clientCertificate)
        XCTAssertEqual(cert.issuers, [])
        XCTAssertTrue(cert.clientCertificate)
        XCTAssertFalse(token.clientCertificate)

        XCTAssertEqual(errors("""
            listen: {address: 0.0.0.0:8080}
            \(Self.issuer)
            routes:
              - {name: a, match: {path: /a}, upstream: u, auth: {client_certificate: optional}}
              - {name: b, match: {path: /b}, upstream: u, auth: {client_certificate: required, scopes: [x]}}
              - {name: c, match: {path: /c}, upstream: u, auth: {scopes: [x]}}
            """), [
                "/etc/gateway/gw.yml:5:74: `routes[0].auth.client_certificate` must be `required`, not `optional`",
                "/etc/gateway/gw.yml:6:84: `routes[1].auth.scopes` needs `issuers` (with only `client_certificate` no token is read)",
                "/etc/gateway/gw.yml:7:53: missing required key `issuers` in `routes[2].auth`",
            ])
    }
}

extension ListenTLSConfigTests {
    func testClientCertificateRouteWithoutAClientCAIsAWarning() throws {
        let routes = """
            routes:
              - {name: cert, match: {path: /b}, upstream: u, auth: {client_certificate: required}}
            """
        let withoutCA = try parse("""
            listen:
              address: 0.0.0.0:8443
              tls: {certificate: a.pem, private_key: a.key}
            \(Self.issuer)
            \(routes)
            """)
        XCTAssertTrue(withoutCA.warnings.contains(
            "/etc/gateway/gw.yml:7:5: warning: route `cert` requires a client certificate, but `listen.tls.client_ca_file` is not set: every request to it is refused (401)"),
            "\(withoutCA.warnings)")
        let withCA = try parse("""
            listen:
              address: 0.0.0.0:8443
              tls: {certificate: a.pem, private_key: a.key, client_ca_file: ca.pem}
            \(Self.issuer)
            \(routes)
            """)
        XCTAssertFalse(withCA.warnings.contains { $0.contains("client_ca_file") }, "\(withCA.warnings)")
    }
}
