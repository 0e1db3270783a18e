import ArgumentParser

/// `gateway`: the root command (SPEC §2).
struct GatewayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "A reverse-proxy authentication gateway: verifies Bearer JWTs per route, then forwards upstream.",
        discussion: """
            Exit codes: 0 success, 1 invalid config or input, 2 usage error.

            Examples:
              gateway serve --config gateway.yml
              gateway check --config gateway.yml
              gateway demo
              gateway token mint --key keys/rsa.pem --alg RS256 --claim sub=alice --ttl 1h
              gateway jwks --key keys/rsa.pem --kid rsa-1 > keys/jwks.json
            """,
        version: GatewayVersion.current,
        subcommands: [Serve.self, Check.self, Explain.self, PolicyTest.self, Demo.self, Token.self, Jwks.self])
}

/// `--config PATH`, shared by the commands that read `gateway.yml`.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Path to gateway.yml.")
    var config: String = "gateway.yml"
}

/// The release this binary was built from.
enum GatewayVersion {
    static let current = "0.1.0"
}
