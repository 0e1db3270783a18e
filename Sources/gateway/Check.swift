import ArgumentParser
import GatewayCore
import GatewayPolicy
import GatewayServer

#if canImport(Glibc)
import Glibc
#endif

/// `gateway check`: validates the config and its keys, prints the route table.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate gateway.yml (and load its keys); print the route table.",
        discussion: """
            Exit 0 when valid, 1 when invalid (each error as PATH:LINE:COLUMN: message, every
            error in one run). Warnings (PATH:LINE:COLUMN: warning: message) do not change the
            exit code, except with --strict: then requests with a method that reach a public
            route on a protected route's paths (the protected route leaves the method out, or
            an earlier public route takes it) are errors.

            Examples:
              gateway check --config gateway.yml
              gateway check --strict --config gateway.yml   # in CI
            """)

    @OptionGroup var options: ConfigOption

    @Flag(help: "Refuse the config (exit 1) when some methods on a protected route's paths reach a public route.")
    var strict = false

    func run() throws {
        let jwks = JWKSService(logger: makeLogger(level: .warning))
        let runtime = try loadRuntime(path: options.config, jwks: jwks)
        let refused = strict ? runtime.config.strictWarnings : []
        let refusedAsWarnings = Set(refused.map {
            "\($0.location.path):\($0.location.line):\($0.location.column): warning: \($0.message)"
        })
        for w in runtime.warnings where !refusedAsWarnings.contains(w) {
            printError(w.contains("warning:") ? w : "warning: \(w)")
        }
        if !refused.isEmpty {
            for e in refused { printError(e.description) }
            throw ExitCode(1)
        }
        let tls = ListenTLSCheck.findings(runtime.config, now: SystemClock().wholeWallSeconds)
        for line in tls.warnings + tls.errors { printError(line) }
        if !tls.errors.isEmpty { throw ExitCode(1) }
        print("\(options.config): valid, \(runtime.config.routes.count) route(s)")
        print(RouteTableText.render(runtime.config))
    }
}

/// The route table as aligned text columns.
enum RouteTableText {
    static func render(_ config: GatewayConfig) -> String {
        var rows: [[String]] = [["ROUTE", "HOST", "PATH", "METHODS", "UPSTREAM", "AUTH"]]
        for r in config.routes {
            let path: String
            switch r.path {
            case .exact(let p): path = p
            case .prefix(let p): path = p + "*"
            case .regex(let source, _): path = "~" + source
            }
            let auth: String
            switch r.auth {
            case .publicAccess: auth = "public"
            case .required(let req):
                var parts = req.issuers.isEmpty ? [] : ["issuers=" + req.issuers.joined(separator: ",")]
                if req.clientCertificate { parts.append("client_certificate=required") }
                if !req.scopes.isEmpty { parts.append("scopes=" + req.scopes.joined(separator: ",")) }
                if !req.anyScopes.isEmpty { parts.append("any_scopes=" + req.anyScopes.joined(separator: ",")) }
                if !req.roles.isEmpty { parts.append("roles=" + req.roles.joined(separator: ",")) }
                if !req.claims.isEmpty { parts.append("claims=" + req.claims.map(\.name).joined(separator: ",")) }
                if req.mode == .reportOnly { parts.append("mode=report_only") }
                auth = parts.joined(separator: " ")
            }
            rows.append([r.name, r.host ?? "*", path, r.methods.map { $0.sorted().joined(separator: ",") } ?? "*",
                         r.upstream, auth])
        }
        let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
