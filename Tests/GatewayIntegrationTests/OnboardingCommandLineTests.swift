import Foundation
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// The onboarding helpers as a user runs them: `gateway jwks`, `serve --listen/--admin`,
/// `explain --exit-code`.
final class OnboardingCommandLineTests: XCTestCase {
    func run(_ args: [String]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let r = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: r, as: UTF8.self))
    }

    func key(_ name: String) -> String { Fixtures.directory + "/vectors/keys/" + name }

    func temporaryDirectory() throws -> (String, () -> Void) {
        let dir = NSTemporaryDirectory() + "gw-onboard-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return (dir, { try? FileManager.default.removeItem(atPath: dir) })
    }

    /// Private and public PEM keys of every type in; public members only out; the output is a
    /// `jwks_file` that verifies tokens signed by the matching private keys.
    func testJWKSPrintsPublicPartsThatJWKSFileAcceptsAndVerifiesWith() throws {
        let r = try run(["jwks", "--key", key("rsa-1.pem"), "--kid", "rsa-1", "--key", key("ec-384.pem"), "--kid", "ec-384",
                         "--key", key("ed-1.pub.pem"), "--kid", "ed-1"])
        XCTAssertEqual(r.status, 0, r.err)
        let doc = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any]
        let keys = try XCTUnwrap(doc?["keys"] as? [[String: Any]])
        XCTAssertEqual(keys.map { $0["kty"] as? String }, ["RSA", "EC", "OKP"])
        XCTAssertEqual(keys.map { $0["kid"] as? String }, ["rsa-1", "ec-384", "ed-1"])
        XCTAssertEqual(keys[1]["crv"] as? String, "P-384")
        for k in keys {
            for privateMember in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
                XCTAssertNil(k[privateMember], "private member \(privateMember) in \(k)")
            }
        }
        // The same keys as the fixture set's public halves.
        let fixture = try KeySet.jwkSet(json: Fixtures.bytes("vectors/jwks.json"))
        XCTAssertEqual(try KeySet.jwkSet(json: Array(r.out.utf8)).keys.count, 3)
        XCTAssertFalse(fixture.keys.isEmpty)

        let (dir, cleanup) = try temporaryDirectory()
        defer { cleanup() }
        try r.out.write(toFile: dir + "/jwks.json", atomically: true, encoding: .utf8)
        let upstream = try RecordingUpstream { _ in .ok("ok\n") }
        defer { upstream.stop() }
        let config = """
            listen: {address: 127.0.0.1:0}
            issuers:
              - name: corp
                issuer: https://corp.example/
                audiences: [api]
                algorithms: [RS256, ES384, EdDSA]
                jwks_file: \(dir)/jwks.json
            upstreams:
              main: {url: "http://127.0.0.1:\(upstream.port)"}
            routes:
              - name: api
                match: {path_prefix: /}
                upstream: main
                auth: {issuers: [corp]}
            """
        try config.write(toFile: dir + "/gateway.yml", atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(["check", "--config", dir + "/gateway.yml"]).status, 0)
        let g = try GatewayProcess(config: config)
        defer { g.stop() }
        for (file, alg, kid) in [("rsa-1.pem", "RS256", "rsa-1"), ("ec-384.pem", "ES384", "ec-384"), ("ed-1.pem", "EdDSA", "ed-1")] {
            let m = try run(["token", "mint", "--key", key(file), "--alg", alg, "--kid", kid,
                             "--claim", "iss=https://corp.example/", "--claim", "aud=api", "--claim", "sub=alice"])
            XCTAssertEqual(m.status, 0, m.err)
            let c = try RawHTTPClient(port: g.port)
            try c.send("GET /x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(m.out.trimmingCharacters(in: .whitespacesAndNewlines))\r\n\r\n")
            XCTAssertEqual(try c.readResponse().status, 200, "\(alg) token verified by the printed JWK Set")
        }
        // A token from a key not in the set is refused.
        let other = try run(["token", "mint", "--key", key("rsa-2.pem"), "--alg", "RS256", "--kid", "rsa-1",
                             "--claim", "iss=https://corp.example/", "--claim", "aud=api"])
        let c = try RawHTTPClient(port: g.port)
        try c.send("GET /x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer \(other.out.trimmingCharacters(in: .whitespacesAndNewlines))\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 401)
    }

    func testJWKSRefusesBadInput() throws {
        var r = try run(["jwks", "--key", key("rsa-1.pem"), "--key", key("ec-256.pem"), "--kid", "only-one"])
        XCTAssertEqual(r.status, 2, r.err)
        XCTAssertTrue(r.err.contains("one --kid per --key"), r.err)
        r = try run(["jwks"])
        XCTAssertTrue(r.err.contains("at least one --key"), r.err)
        XCTAssertEqual(r.status, 2)
        r = try run(["jwks", "--key", "/nonexistent/key.pem"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("cannot read key file /nonexistent/key.pem"), r.err)
        let (dir, cleanup) = try temporaryDirectory()
        defer { cleanup() }
        try "not a key\n".write(toFile: dir + "/junk.pem", atomically: true, encoding: .utf8)
        r = try run(["jwks", "--key", dir + "/junk.pem"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("not a PEM file"), r.err)
        XCTAssertTrue(r.out.isEmpty)
    }

    func testServeListenAndAdminOverrideTheConfig() throws {
        let upstream = try RecordingUpstream { _ in .ok("ok\n") }
        defer { upstream.stop() }
        let listenPort = RecordingUpstream.unusedPort()
        let adminPort = RecordingUpstream.unusedPort()
        let config = """
            listen: {address: 127.0.0.1:1}
            admin: {address: 127.0.0.1:2}
            upstreams:
              main: {url: "http://127.0.0.1:\(upstream.port)"}
            routes:
              - {name: open, match: {path_prefix: /}, upstream: main, auth: public}
            """
        let g = try GatewayProcess(config: config, arguments: ["--listen", "127.0.0.1:\(listenPort)",
                                                                "--admin", "127.0.0.1:\(adminPort)"])
        defer { g.stop() }
        XCTAssertEqual(Int(g.port), listenPort)
        XCTAssertEqual(Int(g.adminPort), adminPort)
        let c = try RawHTTPClient(port: UInt16(listenPort))
        try c.send("GET /hello HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try c.readResponse().status, 200)
        let a = try RawHTTPClient(port: UInt16(adminPort))
        try a.send("GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try a.readResponse().status, 200)

        let bad = try run(["serve", "--listen", "nowhere", "--config", "/nonexistent.yml"])
        XCTAssertEqual(bad.status, 2, "a bad flag is a usage error")
        XCTAssertTrue(bad.err.contains("--listen nowhere"), bad.err)
    }

    func testExplainExitCodeSaysForwardedOrRefused() throws {
        let (dir, cleanup) = try temporaryDirectory()
        defer { cleanup() }
        let config = """
            listen: {address: 127.0.0.1:8080}
            issuers:
              - name: test
                issuer: \(TestTokens.issuer)
                audiences: [\(TestTokens.audience)]
                algorithms: [RS256]
                jwks_file: \(Fixtures.directory)/vectors/jwks.json
            upstreams:
              main: {url: "http://127.0.0.1:9"}
            routes:
              - {name: status, match: {path: /status}, upstream: main, auth: public}
              - {name: orders, match: {path_prefix: /orders}, upstream: main, auth: {issuers: [test]}}
            """
        let path = dir + "/gateway.yml"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        var r = try run(["explain", "--config", path, "--exit-code", "GET", "http://api.example/status"])
        XCTAssertEqual(r.status, 0, r.out + r.err)
        r = try run(["explain", "--config", path, "--exit-code", "GET", "http://api.example/orders/1"])
        XCTAssertEqual(r.status, 3, r.out + r.err)
        XCTAssertTrue(r.out.contains("decision: refuse 401"), r.out)
        r = try run(["explain", "--config", path, "--exit-code", "--token", Fixtures.token("valid-RS256"),
                     "GET", "http://api.example/orders/1"])
        XCTAssertEqual(r.status, 0, r.out)
        r = try run(["explain", "--config", path, "--exit-code", "GET", "http://api.example/nothing"])
        XCTAssertEqual(r.status, 3, r.out)
        // Without the flag, a refusal still exits 0 (the dry run ran).
        r = try run(["explain", "--config", path, "GET", "http://api.example/orders/1"])
        XCTAssertEqual(r.status, 0, r.out + r.err)
        // An invalid config stays 1.
        try "routes: 5\n".write(toFile: path, atomically: true, encoding: .utf8)
        r = try run(["explain", "--config", path, "--exit-code", "GET", "http://api.example/orders/1"])
        XCTAssertEqual(r.status, 1)
    }
}
