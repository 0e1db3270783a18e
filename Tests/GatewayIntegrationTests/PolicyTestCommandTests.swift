import Foundation
import GatewayHTTP
import GatewayTestSupport
import XCTest

/// `gateway test`: policy fixtures run by the real binary, as in CI.
final class PolicyTestCommandTests: XCTestCase {
    func run(_ args: [String], env: [String: String] = [:]) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let r = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: r, as: UTF8.self))
    }

    var repoRoot: String {
        URL(fileURLWithPath: Fixtures.directory).deletingLastPathComponent().deletingLastPathComponent().path
    }

    /// A fresh directory with `gateway.yml` (`config`), `keys/rsa-1.pem` and the given files.
    func directory(config: String, files: [String: String]) throws -> (String, () -> Void) {
        let dir = NSTemporaryDirectory() + "gw-policy-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir + "/keys", withIntermediateDirectories: true)
        try Fixtures.text("vectors/keys/rsa-1.pem").write(toFile: dir + "/keys/rsa-1.pem", atomically: true, encoding: .utf8)
        try config.write(toFile: dir + "/gateway.yml", atomically: true, encoding: .utf8)
        for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
        return (dir, { try? FileManager.default.removeItem(atPath: dir) })
    }

    static let config = """
        listen: {address: 127.0.0.1:8080}
        issuers:
          - name: corp
            issuer: https://issuer.test.example/
            audiences: [orders-api]
            algorithms: [RS256]
            jwks_file: \(Fixtures.directory)/vectors/jwks.json
          - name: internal
            issuer: https://internal.test.example/
            algorithms: [HS256]
            secret_env: GW_POLICY_TEST_SECRET
            secret_encoding: base64url
        upstreams: {orders: {url: "http://127.0.0.1:9"}}
        routes:
          - name: orders
            match: {path_prefix: /orders}
            upstream: orders
            auth: {issuers: [corp], scopes: [read:orders]}
          - name: rollout
            match: {path_prefix: /reports}
            upstream: orders
            auth: {issuers: [internal], scopes: [reports], mode: report_only}
        """

    static let secret = "S3ZtbW5yT2dCbjNyQ2lSaW4yR2tQWTZpV2R4cXJ1TnY"
    static let env = ["GW_POLICY_TEST_SECRET": secret]

    /// Every fixture in tests/policy (what `make policy-test` runs) passes against gateway.yml.
    func testTheRepositoryPolicyFixturesPass() throws {
        let dir = repoRoot + "/tests/policy"
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".yml") }.sorted()
        XCTAssertTrue(files.contains("orders.yml"), "\(files)")
        let r = try run(["test", "--config", repoRoot + "/gateway.yml"] + files.map { dir + "/" + $0 })
        XCTAssertEqual(r.status, 0, r.out + r.err)
        let lines = r.out.split(separator: "\n").map(String.init)
        XCTAssertGreaterThanOrEqual(lines.filter { $0.hasPrefix("ok   \(dir)/orders.yml:") }.count, 11, r.out)
        XCTAssertEqual(lines.filter { $0.hasPrefix("FAIL") }, [])
        XCTAssertTrue(lines.last?.hasSuffix(" failed") == true && lines.last?.hasSuffix(", 0 failed") == true, r.out)
        XCTAssertTrue(r.out.contains("ok   \(repoRoot)/tests/policy/orders.yml:12: a reader can read an order\n"), r.out)
        XCTAssertEqual(r.err, "")
    }

    func testPassingAndFailingCasesWithTheirDifferences() throws {
        let fixture = """
            keys:
              corp: {alg: RS256, kid: rsa-1, private_key_file: keys/rsa-1.pem}
              internal: {alg: HS256, secret_env: GW_POLICY_TEST_SECRET, secret_encoding: base64url}
            cases:
              - name: reader reads
                request: {method: GET, url: "http://api.test/orders/1"}
                token: {key: corp, claims: {iss: "https://issuer.test.example/", sub: alice, aud: orders-api, scope: "read:orders"}, ttl: 5m}
                expect: {status: forward, route: orders, decision: allow, upstream_headers: {X-Auth-Subject: alice, Authorization: null}}
              - name: wrong on every count
                request: {method: GET, url: "http://api.test/orders/1"}
                token: {key: corp, claims: {iss: "https://issuer.test.example/", sub: alice, aud: orders-api, scope: "read:orders"}}
                expect: {status: 403, reason: insufficient_scope, route: other, decision: deny,
                         upstream_headers: {X-Auth-Subject: bob, X-Auth-Issuer: null, Authorization: secret}}
              - name: refused where a forward was expected
                request: {method: GET, url: "http://api.test/orders/1"}
                expect: {status: forward, upstream_headers: {X-Auth-Subject: alice}}
              - name: report-only forwards without identity
                request: {method: POST, url: "http://api.test/reports/7"}
                token: {key: internal, claims: {iss: "https://internal.test.example/", sub: svc, scope: other}}
                expect: {status: forward, decision: would_deny, reason: insufficient_scope, route: rollout,
                         upstream_headers: {X-Auth-Subject: null, X-Auth-Scopes: null, Authorization: null}}
              - name: literal token
                request: {method: GET, url: "http://api.test/orders/1"}
                token: "abc.def.ghi"
                expect: {status: 401, decision: deny, route: orders}
            """
        let (dir, cleanup) = try directory(config: Self.config, files: ["cases.yml": fixture])
        defer { cleanup() }
        let path = dir + "/cases.yml"
        let r = try run(["test", "--config", dir + "/gateway.yml", path], env: Self.env)
        XCTAssertEqual(r.status, 1, r.err)
        XCTAssertEqual(r.out, """
            ok   \(path):5: reader reads
            FAIL \(path):9: wrong on every count
                   status: expected 403, got forward (forwarded with reason ok, route orders)
                   reason: expected insufficient_scope, got ok
                   route: expected other, got orders
                   decision: expected deny, got allow
                   upstream header X-Auth-Subject: expected "bob", got "alice"
                   upstream header X-Auth-Issuer: expected absent, got "https://issuer.test.example/"
                   upstream header Authorization: expected a value (not shown), got (absent)
            FAIL \(path):14: refused where a forward was expected
                   status: expected forward, got 401 (refused with reason missing_token, route orders)
                   upstream headers: not compared, the request was not forwarded
            ok   \(path):17: report-only forwards without identity
            ok   \(path):22: literal token
            5 case(s): 3 passed, 2 failed

            """)
        XCTAssertFalse(r.out.contains("abc.def"), "a token is printed")
        // The same file without its failing cases passes.
        let passing = fixture.components(separatedBy: "\n").enumerated()
            .filter { !(8..<16).contains($0.offset) }.map(\.element).joined(separator: "\n")
        try passing.write(toFile: path, atomically: true, encoding: .utf8)
        let ok = try run(["test", "--config", dir + "/gateway.yml", path], env: Self.env)
        XCTAssertEqual(ok.status, 0, ok.out + ok.err)
        XCTAssertTrue(ok.out.hasSuffix("3 case(s): 3 passed, 0 failed\n"), ok.out)
    }

    func testFixtureErrorsAreReportedWithLocationsAndNothingRuns() throws {
        let fixture = """
            keys:
              corp: {alg: RS257, private_key_file: keys/rsa-1.pem}
              hmac: {alg: HS256, secret_env: GW_POLICY_TEST_UNSET}
              missing: {alg: RS256, private_key_file: keys/none.pem}
            cases:
              - name: a
                request: {method: GET, url: "ftp://x/", headers: {Host: other}}
                token: {key: crop, claims: {sub: alice}, tll: 1m}
                expect: {status: forwrd}
              - name: a
                request: {method: GET, url: "http://api.test/"}
                expect: {}
            """
        let (dir, cleanup) = try directory(config: Self.config, files: ["bad.yml": fixture])
        defer { cleanup() }
        let path = dir + "/bad.yml"
        let r = try run(["test", "--config", dir + "/gateway.yml", path, dir + "/absent.yml"], env: Self.env)
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.out, "")
        XCTAssertEqual(r.err.split(separator: "\n").map(String.init), [
            "\(path):2:15: `keys.corp.alg` must be one of HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519, not `RS257`; did you mean `RS256`?",
            "\(path):7:33: `cases[0].request.url` must look like http://host[:port]/path[?query] (or https://), not `ftp://x/`",
            "\(path):7:55: `cases[0].request.headers.Host`: the Host field comes from `url`",
            "\(path):8:18: unknown signing key `crop`; did you mean `corp`?",
            "\(path):8:46: unknown key `tll` in `cases[0].token`; did you mean `ttl`?",
            "\(path):9:22: `cases[0].expect.status` must be `forward` or a status code such as 401, not `forwrd`; did you mean `forward`?",
            "\(path):10:5: duplicate case name `a` (first at line 6)",
            "\(path):12:13: `cases[1].expect` must hold at least one of: `status`, `reason`, `route`, `decision`, `upstream_headers`",
            "\(dir)/absent.yml:1:1: cannot read the fixture file: No such file or directory",
        ])
        // Valid files whose keys cannot be loaded: reported at the key, nothing runs either.
        let keysOnly = """
            keys:
              hmac: {alg: HS256, secret_env: GW_POLICY_TEST_UNSET}
              missing: {alg: RS256, private_key_file: keys/none.pem}
              encoded: {alg: HS256, secret_env: GW_POLICY_TEST_SECRET, secret_encoding: base64}
            cases:
              - {name: a, request: {method: GET, url: "http://api.test/status"}, expect: {status: 404}}
            """
        try keysOnly.write(toFile: path, atomically: true, encoding: .utf8)
        let k = try run(["test", "--config", dir + "/gateway.yml", path], env: Self.env)
        XCTAssertEqual(k.status, 1)
        XCTAssertEqual(k.out, "")
        XCTAssertEqual(k.err.split(separator: "\n").map(String.init), [
            "\(path):2:3: key `hmac`: environment variable GW_POLICY_TEST_UNSET is not set",
            "\(path):3:3: key `missing`: cannot read \(dir)/keys/none.pem: No such file or directory",
        ])
    }

    /// A `jwks_url` is fetched once, when the config loads; the cases (an unknown `kid`
    /// included) never fetch again, and nothing else is contacted.
    func testARemoteKeySetIsFetchedOnceAndNothingElseIsContacted() throws {
        let jwks = try Fixtures.text("vectors/jwks.json")
        let keys = try RecordingUpstream { _ in
            .ok(jwks, fields: [HTTPField(name: "Content-Type", value: "application/json")])
        }
        defer { keys.stop() }
        let upstream = try RecordingUpstream { _ in .ok("never") }
        defer { upstream.stop() }
        let config = """
            listen: {address: 127.0.0.1:8080}
            issuers:
              - {name: idp, issuer: "https://idp.test.example/", algorithms: [RS256], jwks_url: "http://127.0.0.1:\(keys.port)/jwks.json"}
            upstreams: {api: {url: "http://127.0.0.1:\(upstream.port)"}}
            routes:
              - {name: api, match: {path_prefix: /}, upstream: api, auth: {issuers: [idp]}}
            """
        let fixture = """
            keys:
              idp: {alg: RS256, kid: rsa-1, private_key_file: keys/rsa-1.pem}
              stranger: {alg: RS256, kid: not-in-the-set, private_key_file: keys/rsa-1.pem}
            cases:
              - name: signed by a key of the set
                request: {method: GET, url: "http://api.test/x"}
                token: {key: idp, claims: {iss: "https://idp.test.example/", sub: alice}}
                expect: {status: forward, upstream_headers: {X-Auth-Subject: alice}}
              - name: unknown kid is refused without a refetch
                request: {method: GET, url: "http://api.test/x"}
                token: {key: stranger, claims: {iss: "https://idp.test.example/", sub: alice}}
                expect: {status: 401, reason: unknown_key}
            """
        let (dir, cleanup) = try directory(config: config, files: ["remote.yml": fixture])
        defer { cleanup() }
        let r = try run(["test", "--config", dir + "/gateway.yml", dir + "/remote.yml"])
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssertTrue(r.out.hasSuffix("2 case(s): 2 passed, 0 failed\n"), r.out)
        XCTAssertEqual(keys.requests.map(\.target), ["/jwks.json"])
        XCTAssertEqual(upstream.requests.count, 0)
    }

    func testAnInvalidConfigOrMissingFilesAreNotPolicyFailures() throws {
        let usage = try run(["test", "--config", repoRoot + "/gateway.yml"])
        XCTAssertEqual(usage.status, 2)
        XCTAssertTrue(usage.err.contains("Missing expected argument"), usage.err)
        let (dir, cleanup) = try directory(config: "listen: {adress: 1}\nroutes: []\n", files: [:])
        defer { cleanup() }
        let bad = try run(["test", "--config", dir + "/gateway.yml", repoRoot + "/tests/policy/orders.yml"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertEqual(bad.out, "")
        XCTAssertTrue(bad.err.contains("\(dir)/gateway.yml:1:10: unknown key `adress` in `listen`"), bad.err)
    }
}
