import GatewayPolicy
import XCTest

/// `decision:`: the forward-auth decision listener's address, loopback by default, distinct
/// from the other listeners, and a warning when it is not loopback.
final class DecisionConfigTests: XCTestCase {
    static let tail = """
        listen: {address: 127.0.0.1:8080}
        admin: {address: 127.0.0.1:9090}
        upstreams: {u: {url: "http://127.0.0.1:9000"}}
        routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
        """

    func parse(_ yaml: String) throws -> GatewayConfig {
        try ConfigLoader.parse(yaml: yaml + "\n" + Self.tail, path: "gw.yml", environment: [:])
    }

    func errors(_ yaml: String) -> [String] {
        do {
            _ = try parse(yaml)
            return []
        } catch {
            return (error as? ConfigErrors)?.errors.map(\.description) ?? ["\(error)"]
        }
    }

    func testAbsentMeansNoDecisionListener() throws {
        XCTAssertNil(try parse("").decision)
    }

    func testWithoutAddressItListensOnLoopback() throws {
        let config = try parse("decision: {}")
        XCTAssertEqual(config.decision, ListenAddress(host: "127.0.0.1", port: 8081))
        XCTAssertFalse(config.warnings.contains { $0.contains("decision") }, "\(config.warnings)")
    }

    func testLoopbackAddressHasNoWarning() throws {
        for address in ["127.0.0.1:7000", "127.0.0.5:7000", "\"[::1]:7000\""] {
            let config = try parse("decision: {address: \(address)}")
            XCTAssertNotNil(config.decision, address)
            XCTAssertFalse(config.warnings.contains { $0.contains("decision") }, "\(address): \(config.warnings)")
        }
    }

    func testNonLoopbackAddressWarnsAtTheAddress() throws {
        let config = try parse("decision: {address: 0.0.0.0:7000}")
        XCTAssertEqual(config.decision, ListenAddress(host: "0.0.0.0", port: 7000))
        let warning = config.warnings.first { $0.contains("decision.address") }
        XCTAssertNotNil(warning, "\(config.warnings)")
        XCTAssertTrue(warning?.hasPrefix("gw.yml:1:21: warning: decision.address 0.0.0.0:7000 is not a loopback address") ?? false,
                      warning ?? "")
    }

    func testMustDifferFromListenAndAdmin() {
        XCTAssertEqual(errors("decision: {address: 127.0.0.1:8080}"), [
            "gw.yml:1:21: `decision.address` 127.0.0.1:8080 and `listen.address` 127.0.0.1:8080 would listen on the same port; each listener needs its own address",
        ])
        XCTAssertEqual(errors("decision: {address: 0.0.0.0:9090}"), [
            "gw.yml:1:21: `decision.address` 0.0.0.0:9090 and `admin.address` 127.0.0.1:9090 would listen on the same port; each listener needs its own address",
        ])
    }

    func testUnknownKeyAndBadAddressAreErrors() {
        XCTAssertTrue(errors("decision: {adress: 127.0.0.1:7000}").joined().contains("adress"))
        XCTAssertTrue(errors("decision: {address: nowhere}").joined().contains("invalid address `nowhere` for `decision.address`"),
                      errors("decision: {address: nowhere}").joined())
    }

    // MARK: decision.tls — the listen.tls block, read by the same code

    func testTLSBlockIsReadLikeListenTLS() throws {
        let block = """
            {certificates: [{certificate: a.pem, private_key: a.key}, {certificate: /b.pem, private_key: /b.key}],
                  min_version: "1.3", client_ca_file: ingress-ca.pem, client_certificate: required}
            """
        let config = try ConfigLoader.parse(yaml: """
            decision:
              address: 127.0.0.1:7000
              tls: \(block)
            listen:
              address: 127.0.0.1:8443
              tls: \(block)
            admin: {address: 127.0.0.1:9090}
            upstreams: {u: {url: "http://127.0.0.1:9000"}}
            routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
            """, path: "/etc/gw/gw.yml", environment: [:])
        let decision = try XCTUnwrap(config.decisionTLS)
        var listen = try XCTUnwrap(config.listenTLS)
        XCTAssertEqual(decision.certificates.map(\.certificate), ["/etc/gw/a.pem", "/b.pem"])
        XCTAssertEqual(decision.certificates.map(\.privateKey), ["/etc/gw/a.key", "/b.key"])
        XCTAssertEqual(decision.minVersion, "1.3")
        XCTAssertEqual(decision.clientCAFile, "/etc/gw/ingress-ca.pem")
        XCTAssertEqual(decision.clientCertificate, "required")
        XCTAssertEqual(decision.location, ConfigLocation(path: "/etc/gw/gw.yml", line: 3, column: 3))
        // The same block gives the same configuration on both listeners (only the places differ).
        listen.location = decision.location
        for i in listen.certificates.indices { listen.certificates[i].location = decision.certificates[i].location }
        XCTAssertEqual(listen, decision)
        XCTAssertNil(try parse("decision: {address: 127.0.0.1:7000}").decisionTLS)
        XCTAssertNil(try parse("decision: {address: 127.0.0.1:7000}").listenTLS)
    }

    func testTLSBlockErrorsNameDecisionTLS() {
        XCTAssertEqual(errors("""
            decision:
              address: 127.0.0.1:7000
              tls:
                certificate: a.pem
                certificates: []
                min_version: "1.1"
                client_certificate: requird
                ciphers: all
            """), [
                "gw.yml:5:5: `decision.tls` has both `certificates` and `certificate`/`private_key`; use one form",
                "gw.yml:5:19: `decision.tls.certificates` must list at least one certificate",
                "gw.yml:6:18: `decision.tls.min_version` must be \"1.2\" or \"1.3\", not `1.1`",
                "gw.yml:7:5: `decision.tls.client_certificate` needs `client_ca_file` (the CAs client certificates must chain to)",
                "gw.yml:7:25: `decision.tls.client_certificate` must be `optional` or `required`, not `requird`; did you mean `required`?",
                "gw.yml:8:5: unknown key `ciphers` in `decision.tls`",
            ])
        XCTAssertEqual(errors("decision: {tls: {min_version: \"1.2\"}}"),
                       ["gw.yml:1:12: `decision.tls` needs `certificate` and `private_key`, or `certificates`"])
        XCTAssertEqual(errors("decision: {tls: {certificates: [{certificate: a.pem}]}}"),
                       ["gw.yml:1:33: missing required key `private_key` in `decision.tls.certificates[0]`"])
    }

    /// A non-loopback decision listener is warned about unless it requires the ingress's
    /// certificate: TLS alone, or an optional client certificate, lets anyone ask.
    func testNonLoopbackWarningStaysUnlessMutualTLSIsRequired() throws {
        let keys = "certificate: d.pem, private_key: d.key"
        var warned: [String] = []
        for (block, warns) in [("", true), (", tls: {\(keys)}", true), (", tls: {\(keys), client_ca_file: ca.pem}", true),
                               (", tls: {\(keys), client_ca_file: ca.pem, client_certificate: optional}", true),
                               (", tls: {\(keys), client_ca_file: ca.pem, client_certificate: required}", false)] {
            let config = try parse("decision: {address: 0.0.0.0:7000\(block)}")
            let warning = config.warnings.first { $0.contains("decision.address") }
            if warning != nil { warned.append(block) }
            XCTAssertEqual(warning != nil, warns, "\(block): \(config.warnings)")
            if let warning {
                XCTAssertTrue(warning.hasSuffix("(firewall it, bind 127.0.0.1, or require the ingress's certificate: decision.tls with client_ca_file and client_certificate: required)"),
                              warning)
            }
        }
        // Only required client certificates silence it: no TLS, TLS alone, and optional ones warn.
        XCTAssertEqual(warned.count, 4, "\(warned)")
        XCTAssertFalse(warned.contains { $0.contains("client_certificate: required") })
    }

    /// The certificate of a decision connection is the ingress's: a route that requires the
    /// client's certificate can never be allowed there, and `gateway check` says so.
    func testClientCertificateRouteWithADecisionListenerIsAWarning() throws {
        let yaml = """
            decision: {address: 127.0.0.1:7000}
            listen: {address: 127.0.0.1:8080}
            upstreams: {u: {url: "http://127.0.0.1:9000"}}
            routes:
              - {name: open, match: {path: /}, upstream: u, auth: public}
              - {name: cert, match: {path: /b}, upstream: u, auth: {client_certificate: required}}
            """
        let config = try ConfigLoader.parse(yaml: yaml, path: "gw.yml", environment: [:])
        XCTAssertTrue(config.warnings.contains(
            "gw.yml:6:5: warning: route `cert` requires a client certificate: the decision listener refuses every request to it (401), because the certificate of a decision connection is the ingress's, not the client's; serve it on the proxy listener"),
            "\(config.warnings)")
        let withoutDecision = try ConfigLoader.parse(yaml: yaml.replacingOccurrences(of: "decision: {address: 127.0.0.1:7000}\n", with: ""),
                                                     path: "gw.yml", environment: [:])
        XCTAssertFalse(withoutDecision.warnings.contains { $0.contains("decision listener") }, "\(withoutDecision.warnings)")
    }
}
