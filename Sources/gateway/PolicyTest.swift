import ArgumentParser
import Foundation
import GatewayCore
import GatewayJOSE
import GatewayPolicy
import GatewayServer

/// `gateway test`: runs policy fixtures through the decision `serve` makes, offline.
struct PolicyTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run policy test fixtures (YAML) against the config, offline; ok or FAIL per case.",
        discussion: """
            Each case's request (with a token signed by the fixture's keys, a literal token, or none)
            goes through the same decision code as `serve`. No upstream is contacted; a jwks_url is
            fetched once, when the config loads. One line per case: ok, or FAIL and what differed
            (status, reason, route, decision, each expected upstream header), then a summary.

            Exit status: 0 when every case passes, 1 when one fails or a file (config or fixture)
            is invalid (errors as PATH:LINE:COLUMN: message), 2 usage error.

            Fixture file:
              keys:
                corp: {alg: RS256, kid: rsa-1, private_key_file: keys/rsa-1.pem}   # or secret_env
              cases:
                - name: reader can read
                  request: {method: GET, url: "http://api.example.com/orders/1", headers: {}}
                  token: {key: corp, claims: {iss: "https://issuer.test.example/", sub: alice,
                          aud: orders-api, scope: "read:orders"}, ttl: 10m}
                  expect: {status: forward, route: orders-read, upstream_headers: {X-Auth-Subject: alice}}

            Examples:
              gateway test --config gateway.yml tests/policy/*.yml
              gateway test tests/policy/orders.yml
            """)

    @OptionGroup var options: ConfigOption
    @Argument(help: "Fixture files (YAML).") var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("at least one fixture FILE is required") }
    }

    func run() throws {
        let runtime = try loadRuntime(path: options.config, jwks: JWKSService(logger: makeLogger(level: .warning)))
        let environment = ProcessEnvironment.current()
        var fixtures: [(PolicyFixture, [String: PolicyCaseRunner.LoadedKey])] = []
        var errors: [ConfigError] = []
        for file in files {
            do {
                let fixture = try PolicyFixtureLoader.parse(contents: readFixture(file), path: file,
                                                            environment: { environment[$0] })
                var keys: [String: PolicyCaseRunner.LoadedKey] = [:]
                for key in fixture.keys {
                    do { keys[key.name] = try FixtureKeys.load(key, environment: environment) } catch { errors.append(error) }
                }
                fixtures.append((fixture, keys))
            } catch {
                errors += error.errors
            }
        }
        guard errors.isEmpty else {
            for e in errors { printError(e.description) }
            throw ExitCode(1)
        }
        var passed = 0, failed = 0
        for (fixture, keys) in fixtures {
            for c in fixture.cases {
                let at = "\(c.location.path):\(c.location.line)"
                let differences: [String]
                do {
                    let observed = try PolicyCaseRunner.run(c, keys: keys, runtime: runtime, now: SystemClock().wallSeconds)
                    differences = PolicyCaseRunner.differences(c.expect, observed,
                                                               tokenHeaders: ExplainRequestFields.tokenHeaders(runtime))
                } catch {
                    differences = [error.message]
                }
                if differences.isEmpty {
                    passed += 1
                    print("ok   \(at): \(c.name)")
                } else {
                    failed += 1
                    print("FAIL \(at): \(c.name)")
                    for d in differences { print("       \(d)") }
                }
            }
        }
        print("\(passed + failed) case(s): \(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode(1) }
    }

    /// The fixture file's bytes (one byte over the limit, so the parser can tell).
    func readFixture(_ path: String) throws(ConfigErrors) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path),
              let data = try? handle.read(upToCount: PolicyFixtureLoader.maxFileBytes + 1) ?? Data()
        else {
            throw ConfigErrors([ConfigError(location: ConfigLocation(path: path, line: 1, column: 1),
                                            message: "cannot read the fixture file: \(FileProblem.describe(path))")])
        }
        try? handle.close()
        return [UInt8](data)
    }
}
