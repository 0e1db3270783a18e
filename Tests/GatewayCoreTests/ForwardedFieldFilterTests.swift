import GatewayHTTP
import XCTest
@testable import GatewayCore

/// The byte-level filter of forwarded client fields agrees with the rules written on
/// normalised names (`RequestPipeline.isProxyControlField`, identity look-alikes).
final class ForwardedFieldFilterTests: XCTestCase {
    private let identity: Set<String> = ["x-auth-subject", "x-auth-issuer", "x-auth-scopes", "x-user-email"]
    private let prefixes = ["x-auth-", "x-internal-"]

    /// The rules as written on normalised Strings.
    private func oracle(_ name: String, forwardToken: Bool) -> Bool {
        let n = HTTPSyntax.comparableFieldName(name)
        switch n {
        case "authorization": return forwardToken
        case "host", "content-length", "expect", "proxy-authorization", "x-request-id", "forwarded", "x-forwarded",
             "x-client-cert-subject", "x-client-cert-sha256":
            return false
        default: break
        }
        if RequestPipeline.isProxyControlField(n) { return false }
        for p in prefixes where n.hasPrefix(p) { return false }
        return !identity.contains(n)
    }

    func testAgreesWithTheRulesOnNormalisedNames() {
        let filter = ForwardedFieldFilter(identityNames: identity, stripPrefixes: prefixes)
        let names = [
            "Accept", "User-Agent", "authorization", "AUTHORIZATION", "Authorization_", "Host", "HOST", "hosts",
            "Content-Length", "content_length", "Expect", "Proxy-Authorization", "X-Request-Id", "x_request_id",
            "Forwarded", "X-Forwarded", "X-Forwarded-For", "x_forwarded_host", "X-Forwardedx", "X-Original-URL",
            "x-original-anything", "X-Envoy-Retry-On", "X_ENVOY_x", "Fastly-Client-IP", "X-Cluster-Client-Ip",
            "client-ip", "-client-ip", "CF-Connecting-IP", "x-connecting-ip", "X-Real-IP", "True-Client-IP",
            "X-HTTP-Method-Override", "x_http_method", "Front-End-Https", "X-Auth-Subject", "X_AUTH_SUBJECT",
            "X-Auth-Anything", "X-Authx", "X-User-Email", "x-user-emails", "X-Internal-Debug", "X-Internal",
            "X-Client-Cert-Subject", "x_client_cert_sha256", "Cookie", "traceparent", "X", "x-", "_",
        ]
        for name in names {
            for forwardToken in [false, true] {
                let bytes = Array(name.utf8)
                let filtered = bytes.withUnsafeBytes { filter.forwards($0, forwardToken: forwardToken) }
                XCTAssertEqual(filtered, oracle(name, forwardToken: forwardToken), "\(name) forwardToken=\(forwardToken)")
            }
        }
    }

    func testTheFixedFamiliesAreDropped() {
        let filter = ForwardedFieldFilter(identityNames: [], stripPrefixes: [])
        func forwards(_ name: String) -> Bool { Array(name.utf8).withUnsafeBytes { filter.forwards($0, forwardToken: false) } }
        XCTAssertTrue(forwards("Accept"))
        XCTAssertFalse(forwards("X-Forwarded-For"))
        XCTAssertFalse(forwards("Fastly-Client-IP"))
        XCTAssertFalse(forwards("Authorization"))
        XCTAssertFalse(forwards("X-Real-IP"))
    }
}
