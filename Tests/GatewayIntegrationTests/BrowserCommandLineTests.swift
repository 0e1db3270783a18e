import Foundation
import GatewayTestSupport
import XCTest

/// `gateway explain --cookie/--header` and `gateway check`'s browser findings, as a user
/// runs them (docs/browser-apps.md).
final class BrowserCommandLineTests: XCTestCase {
    var directory = ""
    let token = Fixtures.token("valid-RS256")

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "gw-browser-cli-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: directory) }

    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    func write(_ yaml: String) throws -> String {
        let path = directory + "/gateway.yml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func config(routes: String) -> String {
        """
        listen: {address: 127.0.0.1:8080}
        issuers:
          - name: test
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
        upstreams:
          main: {url: "http://127.0.0.1:9"}
        routes:
        \(routes)
        """
    }

    static let routes = """
          - name: app
            match: {path_prefix: /app}
            upstream: main
            auth:
              issuers: [test]
              token_from: [authorization, {cookie: access_token}]
              csrf_origins: [https://app.example.com]
            cors: {allowed_origins: [https://app.example.com], allowed_methods: [GET, POST], allow_credentials: true}
          - name: hdr
            match: {path_prefix: /hdr}
            upstream: main
            auth: {issuers: [test], token_from: [{header: X-Access-Token}], forward_token: true}
        """

    func testExplainShowsTheTokensSourceAndRedactsCookiesAndTokenHeaders() throws {
        let path = try write(Self.config(routes: Self.routes))
        let cookie = try run(["explain", "--config", path, "--cookie", "theme=dark", "--cookie", "access_token=\(token)",
                              "--header", "Origin: https://app.example.com", "POST", "http://api.test/app/orders"])
        XCTAssertEqual(cookie.status, 0, cookie.err)
        XCTAssertTrue(cookie.out.contains("[pass] token: from cookie: access_token, \(token.utf8.count) bytes"), cookie.out)
        XCTAssertTrue(cookie.out.contains("decision: forward to http://127.0.0.1:9/app/orders (route app)"), cookie.out)
        // The other cookie goes upstream; its value is not printed.
        XCTAssertTrue(cookie.out.contains("  Cookie: theme=REDACTED\n"), cookie.out)
        XCTAssertFalse(cookie.out.contains("dark"), cookie.out)

        let header = try run(["explain", "--config", path, "--header", "X-Access-Token:\(token)", "GET", "http://api.test/hdr/x"])
        XCTAssertEqual(header.status, 0, header.err)
        XCTAssertTrue(header.out.contains("[pass] token: from header: X-Access-Token"), header.out)
        XCTAssertTrue(header.out.contains("  X-Access-Token: REDACTED\n"), header.out)
        for r in [cookie, header] {
            XCTAssertFalse(r.out.contains(String(token.split(separator: ".")[2])), "the token was printed")
        }
    }

    func testExplainShowsTheCrossSiteGuardAndPreflights() throws {
        let path = try write(Self.config(routes: Self.routes))
        let csrf = try run(["explain", "--config", path, "--exit-code", "--cookie", "access_token=\(token)",
                            "--header", "Origin:https://evil.example", "POST", "http://api.test/app/orders"])
        XCTAssertEqual(csrf.status, 3, csrf.err)
        XCTAssertTrue(csrf.out.contains("[FAIL] csrf: "), csrf.out)
        XCTAssertTrue(csrf.out.contains("decision: refuse 403 (route app)"), csrf.out)

        let preflight = try run(["explain", "--config", path, "--exit-code", "--header", "Origin:https://app.example.com",
                                 "--header", "Access-Control-Request-Method:POST", "OPTIONS", "http://api.test/app/orders"])
        XCTAssertEqual(preflight.status, 3, preflight.err)  // not forwarded: the gateway answers it
        XCTAssertTrue(preflight.out.contains("[pass] cors: preflight for route app answered by the gateway (204)"), preflight.out)
        XCTAssertTrue(preflight.out.contains("decision: answer 204 (CORS preflight, route app)"), preflight.out)
        XCTAssertTrue(preflight.out.contains("  Access-Control-Allow-Origin: https://app.example.com\n"), preflight.out)

        let bad = try run(["explain", "--config", path, "--cookie", "no-equals-sign", "GET", "http://api.test/app/x"])
        XCTAssertEqual(bad.status, 2, bad.err)
        XCTAssertTrue(bad.err.contains("--cookie must be NAME=VALUE"), bad.err)
    }

    func testCheckWarnsForACookieOnPlainHTTPAndRefusesWildcardWithCredentials() throws {
        let warn = try run(["check", "--config", try write(Self.config(routes: Self.routes))])
        XCTAssertEqual(warn.status, 0, warn.err)
        XCTAssertTrue(warn.err.contains("warning: route `app` reads the token from a cookie on a plain-HTTP listener"), warn.err)

        let wildcard = try run(["check", "--config", try write(Self.config(routes: """
              - name: app
                match: {path_prefix: /app}
                upstream: main
                auth: {issuers: [test]}
                cors: {allowed_origins: ["*"], allow_credentials: true}
            """))])
        XCTAssertEqual(wildcard.status, 1, wildcard.out)
        XCTAssertTrue(wildcard.err.contains("`allowed_origins: [\"*\"]` cannot be used with `allow_credentials: true`"), wildcard.err)

        let notOrigin = try run(["check", "--config", try write(Self.config(routes: """
              - name: app
                match: {path_prefix: /app}
                upstream: main
                auth: {issuers: [test], token_from: [{cookie: t}], csrf_origins: [app.example.com]}
            """))])
        XCTAssertEqual(notOrigin.status, 1, notOrigin.out)
        XCTAssertTrue(notOrigin.err.contains("`app.example.com` is not an origin"), notOrigin.err)
    }
}
