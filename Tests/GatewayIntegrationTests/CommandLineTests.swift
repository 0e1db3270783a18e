import Foundation
import GatewayJOSE
import GatewayTestSupport
import XCTest

/// The `gateway` binary's commands as a user runs them.
final class CommandLineTests: XCTestCase {
    func run(_ args: [String], env: [String: String] = [:], stdin: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = args
        var e = ProcessInfo.processInfo.environment
        for (k, v) in env { e[k] = v }
        p.environment = e
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let input = Pipe()
        if stdin != nil { p.standardInput = input }
        try p.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let r = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: r, as: UTF8.self))
    }

    var repoRoot: String {
        URL(fileURLWithPath: Fixtures.directory).deletingLastPathComponent().deletingLastPathComponent().path
    }

    func testCheckAcceptsTheRepositoryExampleAndPrintsRoutes() throws {
        let r = try run(["check", "--config", repoRoot + "/gateway.yml"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("orders-read"))
        XCTAssertTrue(r.out.contains("ROUTE"))
    }

    func testCheckReportsErrorsWithLocationsAndExitsOne() throws {
        let dir = NSTemporaryDirectory() + "gw-check-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/gateway.yml"
        try "listen:\n  adress: 127.0.0.1:8080\nroutes: []\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try run(["check", "--config", path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("\(path):2:3:"), r.err)
        XCTAssertTrue(r.err.contains("address"), r.err)
    }

    func testCheckReportsAMissingConfigFile() throws {
        let (dir, cleanup) = try temporaryDirectory()
        defer { cleanup() }
        let missing = dir + "/nope.yml"
        let r = try run(["check", "--config", missing])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.err, "\(missing):1:1: cannot read the configuration file: No such file or directory\n")
    }

    /// A GET-only protected route before a public catch-all: `check` warns and exits 0,
    /// `check --strict` prints the same finding as an error and exits 1.
    func testCheckStrictRefusesMethodFallThroughToAPublicRoute() throws {
        let (dir, cleanup) = try temporaryDirectory()
        defer { cleanup() }
        let path = dir + "/gateway.yml"
        try """
            listen: {address: 127.0.0.1:8080}
            issuers:
              - {name: corp, issuer: "https://corp.example/", audiences: [api], algorithms: [HS256], secret_env: GW_TEST_STRICT_SECRET}
            upstreams: {u: {url: "http://127.0.0.1:9"}}
            routes:
              - {name: admin, match: {path_prefix: /admin, methods: [GET]}, upstream: u, auth: {issuers: [corp]}}
              - {name: all, match: {path_prefix: /}, upstream: u, auth: public}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let env = ["GW_TEST_STRICT_SECRET": "q8V2mX7rT1zL9cB4nW6yH3kP0sD5fG8j"]
        let message = "route `admin` is protected only for GET: requests with any method except GET to `/admin*` reach public route `all` without a token (list the methods on a protected route before `all`, or narrow `all`)"

        let plain = try run(["check", "--config", path], env: env)
        XCTAssertEqual(plain.status, 0, plain.err)
        XCTAssertEqual(plain.err, "\(path):6:5: warning: \(message)\n")
        XCTAssertTrue(plain.out.hasPrefix("\(path): valid, 2 route(s)"), plain.out)

        let strict = try run(["check", "--strict", "--config", path], env: env)
        XCTAssertEqual(strict.status, 1)
        XCTAssertEqual(strict.err, "\(path):6:5: \(message)\n")
        XCTAssertEqual(strict.out, "")

        // Without the fall-through, --strict accepts the same file.
        try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(of: "methods: [GET]", with: "methods: [GET, HEAD]")
            .replacingOccurrences(of: "path_prefix: /}", with: "path_prefix: /public}")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let fixed = try run(["check", "--strict", "--config", path], env: env)
        XCTAssertEqual(fixed.status, 0, fixed.err)
        XCTAssertEqual(fixed.err, "")
    }

    /// `serve` logs the same fall-through warning at start (and still starts: it is a warning).
    func testServeLogsMethodFallThroughAtStart() throws {
        let g = try GatewayProcess(config: """
            listen: {address: 127.0.0.1:0}
            issuers:
              - {name: corp, issuer: "https://corp.example/", audiences: [api], algorithms: [HS256], secret_env: GW_TEST_STRICT_SECRET}
            upstreams: {u: {url: "http://127.0.0.1:9"}}
            routes:
              - {name: admin, match: {path_prefix: /admin, methods: [GET]}, upstream: u, auth: {issuers: [corp]}}
              - {name: all, match: {path_prefix: /}, upstream: u, auth: public}
            """, environment: ["GW_TEST_STRICT_SECRET": "q8V2mX7rT1zL9cB4nW6yH3kP0sD5fG8j"])
        defer { g.stop() }
        let logs = g.stdout + g.stderr
        XCTAssertTrue(logs.contains("warning: route `admin` is protected only for GET: requests with any method except GET to"), logs)
    }

    /// A temporary directory for one test's files (removed by the returned closure).
    func temporaryDirectory() throws -> (String, () -> Void) {
        let dir = NSTemporaryDirectory() + "gw-check-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return (dir, { try? FileManager.default.removeItem(atPath: dir) })
    }

    /// Every problem in one run: variables, schema, duplicate names, references, enumerated
    /// values, duplicate keys, and the keys of every issuer whose own entry is valid — while a
    /// `jwks_url` of an invalid file is not fetched.
    func testCheckReportsEveryErrorInOneRun() throws {
        let (dir, cleanup) = try temporaryDirectory()
        defer { cleanup() }
        try "{\"keys\": 5}".write(toFile: dir + "/bad.json", atomically: true, encoding: .utf8)
        let path = dir + "/bad2.yml"
        try """
            listen: {address: 127.0.0.1:8080}
            issuers:
              - name: widgets
                issuer: https://widgets.example/
                algorithms: [HS256]
                secret_env: GW_TEST_WIDGETS_SECRET_MISSING
              - name: short
                issuer: https://short.example/
                algorithms: [HS256]
                secret_env: GW_TEST_SHORT_SECRET
              - name: pem
                issuer: https://pem.example/
                algorithms: [RS256]
                public_key_file: nope.pem
              - name: jwks
                issuer: https://jwks.example/
                algorithms: [RS256]
                jwks_file: bad.json
              - name: remote
                issuer: https://remote.example/
                algorithms: [RS256]
                jwks_url: http://127.0.0.1:1/jwks.json
            upstreams:
              w: {url: "http://${GW_TEST_UPSTREAM_HOST}:8080"}
            routes:
              - name: w
                match: {path_regex: "/w("}
                upstream: w
                auth: publc
              - name: w
                match: {path: /x}
                upstream: ww
                auth: {issuers: [widget, pem, jwks, remote, short]}
            listen: {address: 127.0.0.1:8081}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try run(["check", "--config", path], env: ["GW_TEST_SHORT_SECRET": "too-short"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.out, "")
        XCTAssertEqual(r.err.split(separator: "\n").map(String.init), [
            "\(path):6:5: issuer widgets: environment variable GW_TEST_WIDGETS_SECRET_MISSING is not set",
            "\(path):10:5: issuer short: secret from GW_TEST_SHORT_SECRET: HMAC secret of 9 bytes: 32 required for HS256 (RFC 7518 §3.2)",
            "\(path):14:5: issuer pem: cannot read public key file \(dir)/nope.pem: No such file or directory",
            "\(path):18:5: issuer jwks: JWK Set file \(dir)/bad.json: JWK Set has no \"keys\" array (RFC 7517 §5)",
            "\(path):24:12: environment variable `GW_TEST_UPSTREAM_HOST` is not set (used in `upstreams.w.url`)",
            "\(path):27:25: `routes[0].match.path_regex` is not a valid regular expression: expected ')'",
            "\(path):29:11: `routes[0].auth` must be `public` or a mapping with `issuers`, not `publc`; did you mean `public`?",
            "\(path):30:11: duplicate route name `w`",
            "\(path):32:15: unknown upstream `ww`; did you mean `w`?",
            "\(path):33:22: unknown issuer `widget`; did you mean `widgets`?",
            "\(path):34:1: duplicate key `listen` (first at line 1, column 1)",
        ])
    }

    func testCheckNamesTheConfigurationWhenTheTopLevelIsNotAMapping() throws {
        let (dir, cleanup) = try temporaryDirectory()
        defer { cleanup() }
        let path = dir + "/b7.yml"
        try "- listen: {address: 127.0.0.1:8080}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let r = try run(["check", "--config", path])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.err, "\(path):1:1: the configuration must be a mapping, not a list\n")
    }

    func testExplainShowsEachCheckTheDecisionAndRedactsTheToken() throws {
        let config = repoRoot + "/gateway.yml"
        let token = try TestTokens.rs256(["scope": .string("read:orders")])
        let allowed = try run(["explain", "--config", config, "--token", token, "GET", "http://api.test/orders/7?q=1"])
        XCTAssertEqual(allowed.status, 0, allowed.err)
        XCTAssertTrue(allowed.out.contains("[pass] route: orders-read"), allowed.out)
        XCTAssertTrue(allowed.out.contains("decision: forward to http://127.0.0.1:9000/orders/7?q=1"), allowed.out)
        XCTAssertTrue(allowed.out.contains("X-Auth-Subject: user-42"), allowed.out)
        XCTAssertTrue(allowed.out.contains("[pass] verify: RS256"), allowed.out)
        XCTAssertFalse(allowed.out.contains(token.split(separator: ".")[2]), "token printed")
        let expired = try run(["explain", "--config", config, "--token", Fixtures.token("expired"), "GET", "http://api.test/orders/7"])
        XCTAssertTrue(expired.out.contains("[FAIL] verify: token expired"), expired.out)
        XCTAssertTrue(expired.out.contains("decision: refuse 401"), expired.out)
        let noRoute = try run(["explain", "--config", config, "GET", "http://api.test/nothing"])
        XCTAssertTrue(noRoute.out.contains("decision: refuse 404"), noRoute.out)
    }

    func testExplainNamesTheMethodCheckThatRefusesALowercaseMethod() throws {
        let r = try run(["explain", "--config", repoRoot + "/gateway.yml", "get", "http://api.test/orders/7"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("[FAIL] method: get: methods must be uppercase"), r.out)
        XCTAssertFalse(r.out.contains("[pass] route"), r.out)
        XCTAssertTrue(r.out.contains("decision: refuse 400"), r.out)
    }

    func testUsageErrorExitsTwo() throws {
        XCTAssertEqual(try run(["serve", "--no-such-flag"]).status, 2)
    }

    func testMintedTokenDecodesAndIsMarkedUnverified() throws {
        let key = Fixtures.directory + "/vectors/keys/ec-256.pem"
        let m = try run(["token", "mint", "--key", key, "--alg", "ES256", "--kid", "ec-256", "--claim", "sub=alice",
                         "--claim", "n=5", "--ttl", "10m"])
        XCTAssertEqual(m.status, 0, m.err)
        let token = m.out.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertEqual(token.split(separator: ".").count, 3)
        let d = try run(["token", "decode", token])
        XCTAssertEqual(d.status, 0)
        XCTAssertTrue(d.out.contains("UNVERIFIED"))
        XCTAssertTrue(d.out.contains("\"sub\":\"alice\""), d.out)
        XCTAssertTrue(d.out.contains("\"n\":5"), d.out)
        XCTAssertTrue(d.out.contains("\"kid\":\"ec-256\""), d.out)
    }

    func testMintedHMACTokenVerifiesWithTheSecretAsTheIssuerReadsIt() throws {
        let m = try run(["token", "mint", "--key", Fixtures.directory + "/vectors/hmac.secret", "--key-encoding", "base64url",
                         "--alg", "HS256", "--claim", "iss=https://hmac.test.example/", "--ttl", "5m"])
        XCTAssertEqual(m.status, 0, m.err)
        let token = m.out.trimmingCharacters(in: .whitespacesAndNewlines)
        let secret = Base64URL.decode(Substring(try Fixtures.text("vectors/hmac.secret").trimmingCharacters(in: .whitespacesAndNewlines)))!
        let keys = try KeySet.hmacSecret(secret, keyID: nil, algorithms: [.HS256])
        let verified = try TokenVerifier.verify(Substring(token), keys: keys, requirements: TokenRequirements(
            issuer: "https://hmac.test.example/", audiences: [], algorithms: [.HS256]), now: Date().timeIntervalSince1970)
        XCTAssertEqual(verified.algorithm, .HS256)
        XCTAssertEqual(try run(["token", "mint", "--key", Fixtures.directory + "/vectors/hmac.secret",
                                "--key-encoding", "hex", "--alg", "HS256"]).status, 2)
    }

    func testMintRefusesAnHMACSecretTheGatewayWouldRefuse() throws {
        let path = NSTemporaryDirectory() + "gw-short-" + UUID().uuidString
        try "short\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try run(["token", "mint", "--key", path, "--alg", "HS256"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("HMAC secret of 5 bytes: 32 required for HS256 (RFC 7518 §3.2)"), r.err)
        XCTAssertTrue(r.out.isEmpty, r.out)
    }

    func testDecodeReadsTheTokenFromStandardInput() throws {
        let m = try run(["token", "mint", "--key", Fixtures.directory + "/vectors/keys/ec-256.pem", "--alg", "ES256",
                         "--claim", "sub=bob"])
        XCTAssertEqual(m.status, 0, m.err)
        let d = try run(["token", "decode", "-"], stdin: m.out)
        XCTAssertEqual(d.status, 0, d.err)
        XCTAssertTrue(d.out.contains("\"sub\":\"bob\""), d.out)
    }

    func testEveryCommandHasHelpWithAnExample() throws {
        for command in [["serve"], ["check"], ["explain"], ["test"], ["demo"], ["token", "mint"], ["token", "decode"], ["jwks"]] {
            let r = try run(command + ["--help"])
            XCTAssertEqual(r.status, 0, command.joined(separator: " "))
            XCTAssertTrue(r.out.contains("Example"), "\(command): \(r.out)")
        }
    }

    func testVersion() throws {
        let r = try run(["--version"])
        XCTAssertEqual(r.status, 0)
        XCTAssertFalse(r.out.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }

    /// `gateway demo` prints four request commands, each giving the status it promises, then
    /// complete commands for the admin listener's /metrics (counting those requests) and /readyz.
    func testDemoCommandsGiveThePromisedStatuses() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = ["demo", "--port", "0", "--admin-port", "0"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        defer { p.terminate(); p.waitUntilExit() }
        var text = ""
        let deadline = Date().addingTimeInterval(20)
        while !text.contains("\nready") && Date() < deadline {
            let d = out.fileHandleForReading.availableData
            if d.isEmpty { break }
            text += String(decoding: d, as: UTF8.self)
        }
        let commands = text.split(separator: "\n").filter { $0.hasPrefix("curl ") }
        XCTAssertEqual(commands.count, 6, text)
        let curls = commands.prefix(4)
        var statuses: [Int] = []
        for line in curls {
            // curl -s -i URL [-H 'Authorization: Bearer T']
            let parts = line.split(separator: " ")
            let url = URL(string: String(parts[3]))!
            var headers: [(String, String)] = []
            if let r = line.range(of: "'Authorization: ") {
                headers.append(("Authorization", String(line[r.upperBound...].dropLast())))
            }
            let c = try RawHTTPClient(port: UInt16(url.port!))
            var req = "GET \(url.path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            for (n, v) in headers { req += "\(n): \(v)\r\n" }
            try c.send(req + "\r\n")
            let r = try c.readResponse()
            statuses.append(r.status)
            if r.status == 200 { XCTAssertTrue(r.bodyText.contains("X-Auth-Subject"), r.bodyText) }
        }
        XCTAssertEqual(statuses, [200, 403, 401, 401])
        guard commands.count == 6 else { return }
        // curl -s http://127.0.0.1:PORT/metrics | grep -E '^gateway_(requests|auth_decisions)_total'
        XCTAssertTrue(commands[4].hasSuffix("| grep -E '^gateway_(requests|auth_decisions)_total'"), String(commands[4]))
        let metricsURL = URL(string: String(commands[4].split(separator: " ")[2]))!
        XCTAssertEqual(metricsURL.path, "/metrics")
        // The access-log record of the last request may land just after its response: poll briefly.
        var scraped: RawResponse?
        for _ in 0..<20 {
            let c = try RawHTTPClient(port: UInt16(metricsURL.port!))
            try c.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            scraped = try c.readResponse()
            if scraped?.bodyText.contains("status=\"401\"} 2") == true { break }
            usleep(100_000)
        }
        let metrics = try XCTUnwrap(scraped)
        XCTAssertEqual(metrics.status, 200)
        XCTAssertTrue(metrics.bodyText.contains("gateway_requests_total{route=\"orders\",status=\"403\"} 1"), metrics.bodyText)
        let readyURL = URL(string: String(commands[5].split(separator: " ")[3]))!
        XCTAssertEqual(readyURL.path, "/readyz")
        XCTAssertEqual(readyURL.port, metricsURL.port)
    }
}
