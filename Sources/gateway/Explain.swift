import ArgumentParser
import GatewayCore
import GatewayHTTP
import GatewayPolicy
import GatewayServer

#if canImport(Glibc)
import Glibc
#endif

/// `gateway explain`: a dry run of one request against the config.
struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dry run: which route matches, each check, the decision and the upstream headers.",
        discussion: """
            No request is sent anywhere. The token is never printed.

            Exit status: 0 whenever the dry run ran; with --exit-code, 0 when the request would be
            forwarded and 3 when it would be refused (1 invalid config, 2 usage error either way).
            A report-only route (auth.mode: report_only) forwards what it would refuse for the token:
            the output names the would-deny reason, and --exit-code gives 0.

            Examples:
              gateway explain --config gateway.yml GET http://api.example.com/orders/42
              gateway explain --token "$TOKEN" GET http://localhost:8080/orders/42
              echo "$TOKEN" | gateway explain --token - POST http://localhost:8080/orders
              gateway explain --exit-code --token "$TOKEN" GET http://localhost:8080/orders/42 || echo refused
            """)

    @OptionGroup var options: ConfigOption
    @Option(help: "The Bearer token, or - to read it from standard input.") var token: String?
    @Flag(help: "Exit 0 when the request would be forwarded, 3 when it would be refused.") var exitCode = false
    @Argument(help: "The request method, e.g. GET.") var method: String
    @Argument(help: "The request URL, e.g. http://api.example.com/orders/42?x=1.") var url: String

    func validate() throws {
        if !HTTPSyntax.isToken(method) { throw ValidationError("METHOD must be an HTTP method token") }
        if ExplainURL.split(url) == nil { throw ValidationError("URL must look like http://host[:port]/path[?query]") }
    }

    func run() throws {
        let runtime = try loadRuntime(path: options.config, jwks: JWKSService(logger: makeLogger(level: .warning)))
        let (host, target) = ExplainURL.split(url)!
        var fields = [HTTPField(name: "Host", value: host)]
        var bearer = token
        if bearer == "-" { bearer = readLine(strippingNewline: true) }
        if let bearer, !bearer.isEmpty { fields.append(HTTPField(name: "Authorization", value: "Bearer " + bearer)) }
        let head = HTTPRequestHead(method: method, target: target, version: .http11, fields: fields, framing: .none,
                                   keepAlive: true, expectsContinue: false)
        // The JWK Sets were just fetched: an unknown kid is reported, not refetched.
        let context = RequestContext(clientAddress: "127.0.0.1", now: SystemClock().wholeWallSeconds, mayRefetchKeys: false,
                                     makeRequestID: { "explain" })
        let (steps, decision) = DecisionExplainer.explain(head, context: context, runtime: runtime)
        print("request: \(method) \(url)")
        for s in steps { print("  [\(s.passed ? "pass" : "FAIL")] \(s.check): \(s.detail)") }
        switch decision {
        case .forward(let plan):
            print("decision: forward to \(plan.url) (route \(plan.routeName))")
            if let reason = plan.wouldDeny {
                let refusal = Refusal(reason)
                print("  report-only route: would refuse \(refusal.status) \(reason.code) under `mode: enforce`;"
                      + " forwarded without identity headers and without the token, logged as would_deny")
            }
            print("upstream headers:")
            for f in plan.fields {
                let value = HeaderName.equals(f.name, "authorization") ? "Bearer <redacted>" : f.value
                print("  \(f.name): \(value)")
            }
        case .refuse(let refusal, let route, _):
            print("decision: refuse \(refusal.status)\(route.map { " (route \($0))" } ?? "") — the upstream is not contacted")
            for f in refusal.fields { print("  \(f.name): \(f.value)") }
            print("  " + String(decoding: refusal.body, as: UTF8.self))
        case .needsKeyRefresh(let issuer):
            print("decision: the JWK Set of issuer \(issuer) would be refetched first")
        }
        if exitCode {
            if case .forward = decision { return }
            throw ExitCode(Explain.refusedExitCode)
        }
    }

    /// `--exit-code` status of a request that would not be forwarded.
    static let refusedExitCode: Int32 = 3
}

/// Splits `http://host[:port]/path?query` into the Host value and the origin-form target.
enum ExplainURL {
    static func split(_ url: String) -> (host: String, target: String)? {
        for scheme in ["http://", "https://"] where url.lowercased().hasPrefix(scheme) {
            let rest = url.dropFirst(scheme.count)
            let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let host = String(rest[..<slash])
            guard !host.isEmpty else { return nil }
            var target = String(rest[slash...])
            if target.isEmpty { target = "/" } else if target.hasPrefix("?") { target = "/" + target }
            return (host, target)
        }
        return nil
    }
}
