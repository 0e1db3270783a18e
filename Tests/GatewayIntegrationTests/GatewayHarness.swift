import Foundation
import GatewayHTTP
import GatewayTestSupport
import XCTest

/// A recording upstream plus the real gateway process in front of it, with the vector keys.
final class GatewayHarness {
    let upstream: RecordingUpstream
    let gateway: GatewayProcess

    static func config(upstreamPort: Int, extraLimits: String = "", upstreamTimeout: String = "5s") -> String {
        """
        listen:
          address: 127.0.0.1:0
        limits:
          max_body_bytes: 64MiB
        \(extraLimits)
        issuers:
          - name: test
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256, RS384, RS512, PS256, ES256, ES384, ES512, EdDSA]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
          - name: hmac
            issuer: https://hmac.test.example/
            algorithms: [HS256]
            secret_env: TEST_HMAC_SECRET
            secret_encoding: base64url
        upstreams:
          main:
            url: http://127.0.0.1:\(upstreamPort)
            connect_timeout: 2s
            timeout: \(upstreamTimeout)
        identity:
          claims: {email: X-Auth-Email}
        routes:
          - name: status
            match: {path: /status}
            upstream: main
            auth: public
          - name: upload
            match: {path_prefix: /upload}
            upstream: main
            auth: {issuers: [test], scopes: [write:orders]}
          - name: orders
            match: {path_prefix: /orders}
            upstream: main
            auth: {issuers: [test, hmac], scopes: [read:orders]}
        """
    }

    init(extraLimits: String = "", upstreamTimeout: String = "5s",
         handler: @escaping RecordingUpstream.Handler = { _ in .ok("hello from upstream\n") }) throws {
        upstream = try RecordingUpstream(handler: handler)
        do {
            gateway = try GatewayProcess(
                config: GatewayHarness.config(upstreamPort: upstream.port, extraLimits: extraLimits,
                                              upstreamTimeout: upstreamTimeout),
                environment: ["TEST_HMAC_SECRET": Fixtures.text("vectors/hmac.secret")
                    .trimmingCharacters(in: .whitespacesAndNewlines)])
        } catch {
            upstream.stop()
            throw error
        }
    }

    func client() throws -> RawHTTPClient { try RawHTTPClient(port: gateway.port) }

    /// One request on a new connection.
    func request(_ method: String = "GET", _ target: String, headers: [(String, String)] = [],
                 body: [UInt8]? = nil) throws -> RawResponse {
        let c = try client()
        var text = "\(method) \(target) HTTP/1.1\r\nHost: api.test\r\n"
        for (n, v) in headers { text += "\(n): \(v)\r\n" }
        if let body { text += "Content-Length: \(body.count)\r\n" }
        text += "\r\n"
        try c.send(Array(text.utf8) + (body ?? []))
        return try c.readResponse(headRequest: method == "HEAD")
    }

    func stop() {
        gateway.stop()
        upstream.stop()
    }
}
