import Foundation
import GatewayCore
import GatewayEvents
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayTestSupport
import XCTest

/// Decision inputs from the connection, without sockets: client-certificate routes, RFC 8705
/// certificate-bound tokens (plain HTTP included), the `X-Client-Cert-*` fields, and the
/// client address behind trusted proxies.
final class TransportDecisionTests: XCTestCase {
    static let yaml = """
        listen: {address: 127.0.0.1:0}
        issuers:
          - name: test
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
        upstreams:
          u: {url: "http://127.0.0.1:9"}
        routes:
          - {name: mtls, match: {path: /mtls}, upstream: u, auth: {client_certificate: required}}
          - {name: both, match: {path: /both}, upstream: u, auth: {issuers: [test], client_certificate: required}}
          - {name: orders, match: {path: /orders}, upstream: u, auth: {issuers: [test]}}
          - {name: open, match: {path: /open}, upstream: u, auth: public}
        """

    var runtime: GatewayRuntime!
    let certificate = ClientCertificate(subject: "CN=client one,O=Example", sha256: Array(repeating: 0xAB, count: 32))

    override func setUpWithError() throws {
        let config = try ConfigLoader.parse(yaml: Self.yaml, path: "test.yml", environment: [:])
        runtime = try GatewayRuntime(config: config, keyMaterial: .readingFiles())
    }

    func security(_ certificate: ClientCertificate?) -> TransportSecurity {
        TransportSecurity(protocolVersion: "TLSv1.3", serverName: "a.example.com", certificateNames: ["a.example.com"],
                          clientCertificate: certificate, resumed: false)
    }

    func decide(_ target: String, token: String? = nil, fields: [(String, String)] = [], security: TransportSecurity?) -> Decision {
        var all = [HTTPField(name: "Host", value: "a.example.com")]
        if let token { all.append(HTTPField(name: "Authorization", value: "Bearer " + token)) }
        all += fields.map { HTTPField(name: $0.0, value: $0.1) }
        let head = HTTPRequestHead(method: "GET", target: target, version: .http11, fields: all, framing: .none,
                                   keepAlive: true, expectsContinue: false)
        let context = RequestContext(clientAddress: "192.0.2.7", scheme: security == nil ? "http" : "https",
                                     now: Date().timeIntervalSince1970, security: security, makeRequestID: { "id" })
        return RequestPipeline.decide(head, context: context, runtime: runtime)
    }

    func reason(_ d: Decision) -> DenialReason? {
        if case .refuse(let r, _, _) = d { return r.reason }
        return nil
    }

    func fields(_ d: Decision, _ name: String) -> [String] {
        guard case .forward(let p) = d else { return ["<refused>"] }
        return p.fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    func boundToken(_ sha256: [UInt8]) throws -> String {
        try TestTokens.rs256(["cnf": .object([("x5t#S256", .string(Base64URL.encode(sha256)))])])
    }

    func testCertificateOnlyRouteNeedsAVerifiedCertificateAndNoToken() throws {
        XCTAssertEqual(reason(decide("/mtls", security: nil)), .clientCertificateRequired)
        XCTAssertEqual(reason(decide("/mtls", security: security(nil))), .clientCertificateRequired)
        let allowed = decide("/mtls", security: security(certificate))
        XCTAssertEqual(fields(allowed, "X-Client-Cert-Subject"), ["CN=client one,O=Example"])
        XCTAssertEqual(fields(allowed, "X-Client-Cert-SHA256"), [Base64URL.encode(certificate.sha256)])
        XCTAssertEqual(fields(allowed, "X-Forwarded-Proto"), ["https"])
        // Both: the certificate and a token.
        XCTAssertEqual(reason(decide("/both", security: security(certificate))), .missingToken)
        XCTAssertEqual(reason(decide("/both", token: try TestTokens.rs256(), security: security(nil))), .clientCertificateRequired)
        XCTAssertNil(reason(decide("/both", token: try TestTokens.rs256(), security: security(certificate))))
        let refusal = Refusal(.clientCertificateRequired)
        XCTAssertEqual(refusal.status, 401)
        XCTAssertEqual(refusal.fields.first { $0.name == "WWW-Authenticate" }?.value,
                       #"Bearer realm="gateway", error="invalid_token", error_description="client certificate required""#)
    }

    func testCertificateBoundTokenNeedsTheMatchingCertificateAlsoOverPlainHTTP() throws {
        let bound = try boundToken(certificate.sha256)
        XCTAssertNil(reason(decide("/orders", token: bound, security: security(certificate))))
        // Twice more: the second decision of the same token is a verified-token cache hit.
        XCTAssertEqual(reason(decide("/orders", token: bound, security: nil)), .certificateBindingMismatch)
        XCTAssertEqual(reason(decide("/orders", token: bound, security: security(nil))), .certificateBindingMismatch)
        let other = ClientCertificate(subject: "CN=other", sha256: Array(repeating: 0xCD, count: 32))
        XCTAssertEqual(reason(decide("/orders", token: bound, security: security(other))), .certificateBindingMismatch)
        XCTAssertGreaterThan(runtime.tokenCache?.statistics.hits ?? 0, 0)
        // Without cnf: unaffected; a cnf this gateway cannot check (a DPoP key thumbprint): refused.
        XCTAssertNil(reason(decide("/orders", token: try TestTokens.rs256(), security: nil)))
        let dpop = try TestTokens.rs256(["cnf": .object([("jkt", .string("0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"))])])
        XCTAssertEqual(reason(decide("/orders", token: dpop, security: security(certificate))), .certificateBindingMismatch)
        XCTAssertEqual(Refusal(.certificateBindingMismatch).fields.first { $0.name == "WWW-Authenticate" }?.value,
                       #"Bearer realm="gateway", error="invalid_token", error_description="certificate binding mismatch""#)
    }

    func testClientCertificateFieldsFromClientsAreAlwaysRemoved() throws {
        let spoofed = [("X-Client-Cert-Subject", "CN=admin"), ("x_client_cert_sha256", "AAAA"), ("X-CLIENT-CERT-SUBJECT", "CN=root")]
        let plain = decide("/open", fields: spoofed, security: nil)
        XCTAssertEqual(fields(plain, "X-Client-Cert-Subject"), [])
        XCTAssertEqual(fields(plain, "X-Client-Cert-SHA256") + fields(plain, "x_client_cert_sha256"), [])
        XCTAssertEqual(fields(plain, "X-Forwarded-Proto"), ["http"])
        let verified = decide("/open", fields: spoofed, security: security(certificate))
        XCTAssertEqual(fields(verified, "X-Client-Cert-Subject"), ["CN=client one,O=Example"])
        XCTAssertEqual(fields(verified, "x_client_cert_sha256"), [])
    }

    func testMisdirectedRequestIs421WithoutChallenge() {
        let refusal = Refusal(.misdirectedRequest)
        XCTAssertEqual(refusal.status, 421)
        XCTAssertNil(refusal.fields.first { $0.name == "WWW-Authenticate" })
        XCTAssertEqual(refusal.reason.code, "misdirected_request")
    }

    func testClientBehindTrustedProxies() throws {
        let trusted = [try IPNetwork(cidr: "10.0.0.0/8"), try IPNetwork(cidr: "2001:db8::/32")]
        func client(_ peer: String, _ xff: [String]) -> ForwardedClient {
            ForwardedClient.resolve(peer: peer, forwardedFor: xff, trusted: trusted)
        }
        // An untrusted peer is the client, whatever it claims.
        XCTAssertEqual(client("192.0.2.1", ["198.51.100.1"]), ForwardedClient(address: "192.0.2.1", peerTrusted: false))
        // The right-most entry that is not trusted (a client-written prefix proves nothing).
        XCTAssertEqual(client("10.0.0.1", ["1.1.1.1, 203.0.113.9", "10.2.3.4"]),
                       ForwardedClient(address: "203.0.113.9", peerTrusted: true))
        XCTAssertEqual(client("::ffff:10.0.0.1", ["203.0.113.9:4711"]).address, "203.0.113.9")
        XCTAssertEqual(client("2001:db8::1", ["[2001:db9::5]:443"]).address, "2001:db9::5")
        XCTAssertEqual(client("10.0.0.1", []), ForwardedClient(address: "10.0.0.1", peerTrusted: true))
        // Every entry trusted: the left-most one.
        XCTAssertEqual(client("10.0.0.1", ["10.9.9.9, 10.8.8.8"]).address, "10.9.9.9")
        // Garbage stops the walk at the nearest trusted hop, never taken as an address.
        XCTAssertEqual(client("10.0.0.1", ["203.0.113.9, unknown, 10.5.5.5"]).address, "10.5.5.5")
        XCTAssertEqual(client("10.0.0.1", ["<script>"]).address, "10.0.0.1")
    }
}
