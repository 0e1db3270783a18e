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
              gateway explain --cookie "access_token=$TOKEN" --header "Origin:https://app.example.com" \
                POST http://api.example.com/api/orders

            Printed fields are redacted: cookies show their names only, Authorization its
            scheme, a route's token header REDACTED.
            """)

    @OptionGroup var options: ConfigOption
    @Option(help: "The Bearer token, or - to read it from standard input.") var token: String?
    @Option(name: .customLong("cookie"), help: ArgumentHelp("A cookie NAME=VALUE the request carries (repeatable).",
                                                            valueName: "NAME=VALUE"))
    var cookies: [String] = []
    @Option(name: .customLong("header"), help: ArgumentHelp("A header field NAME:VALUE the request carries (repeatable).",
                                                            valueName: "NAME:VALUE"))
    var headers: [String] = []
    @Flag(help: "Exit 0 when the request would be forwarded, 3 when it would be refused.") var exitCode = false
    @Argument(help: "The request method, e.g. GET.") var method: String
    @Argument(help: "The request URL, e.g. http://api.example.com/orders/42?x=1.") var url: String

    func validate() throws {
        if !HTTPSyntax.isToken(method) { throw ValidationError("METHOD must be an HTTP method token") }
        if ExplainURL.split(url) == nil { throw ValidationError("URL must look like http://host[:port]/path[?query]") }
        for c in cookies where ExplainRequestFields.cookie(c) == nil {
            throw ValidationError("--cookie must be NAME=VALUE with a cookie name (RFC 6265 token) before '='")
        }
        for h in headers where ExplainRequestFields.header(h) == nil {
            throw ValidationError("--header must be NAME:VALUE with a field name (RFC 9110 token) before ':'")
        }
    }

    func run() throws {
        let runtime = try loadRuntime(path: options.config, jwks: JWKSService(logger: makeLogger(level: .warning)))
        let (host, target) = ExplainURL.split(url)!
        var fields = [HTTPField(name: "Host", value: host)]
        var bearer = token
        if bearer == "-" { bearer = readLine(strippingNewline: true) }
        if let bearer, !bearer.isEmpty { fields.append(HTTPField(name: "Authorization", value: "Bearer " + bearer)) }
        fields.append(contentsOf: headers.compactMap(ExplainRequestFields.header))
        if !cookies.isEmpty {
            // One `Cookie` field, as a browser sends them (RFC 6265 §5.4).
            fields.append(HTTPField(name: "Cookie", value: cookies.compactMap(ExplainRequestFields.cookie).joined(separator: "; ")))
        }
        let head = HTTPRequestHead(method: method, target: target, version: .http11, fields: fields, framing: .none,
                                   keepAlive: true, expectsContinue: false)
        // The JWK Sets were just fetched: an unknown kid is reported, not refetched.
        // The URL's scheme stands for the listener's: it makes the gateway's own origin (the
        // cross-site guard) and the login redirect's URL.
        let scheme = url.lowercased().hasPrefix("https://") ? "https" : "http"
        let context = RequestContext(clientAddress: "127.0.0.1", scheme: scheme, now: SystemClock().wholeWallSeconds, mayRefetchKeys: false,
                                     makeRequestID: { "explain" })
        let (steps, decision) = DecisionExplainer.explain(head, context: context, runtime: runtime)
        let tokenHeaders = ExplainRequestFields.tokenHeaders(runtime)
        func shown(_ f: HTTPField) -> String {
            LogRedaction.redactedFieldValue(name: f.name, value: f.value, tokenHeaders: tokenHeaders)
        }
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
            for f in plan.fields { print("  \(f.name): \(shown(f))") }
        case .refuse(let refusal, let route, _):
            print("decision: refuse \(refusal.status)\(route.map { " (route \($0))" } ?? "") — the upstream is not contacted")
            for f in refusal.fields { print("  \(f.name): \(shown(f))") }
            print("  " + String(decoding: refusal.body, as: UTF8.self))
        case .preflight(let fields, let route, _):
            print("decision: answer 204 (CORS preflight, route \(route)) — the upstream is not contacted")
            for f in fields { print("  \(f.name): \(shown(f))") }
        case .needsKeyRefresh(let issuer):
            print("decision: the JWK Set of issuer \(issuer) would be refetched first")
        case .needsIntrospection(let call):
            print("decision: depends on the introspection answer from \(call.introspection.config.url) (issuer \(call.issuerName))")
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

/// The request fields `gateway explain --cookie/--header` add.
enum ExplainRequestFields {
    /// `NAME=VALUE` (the name a cookie-name token) as the `name=value` pair of a `Cookie` field.
    static func cookie(_ text: String) -> String? {
        guard let eq = text.firstIndex(of: "="), HTTPSyntax.isToken(String(text[..<eq])) else { return nil }
        guard !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0x3B }) else { return nil }
        return text
    }

    /// `NAME:VALUE` as a field; spaces after `:` are not part of the value (RFC 9112 §5.1).
    static func header(_ text: String) -> HTTPField? {
        guard let colon = text.firstIndex(of: ":"), HTTPSyntax.isToken(String(text[..<colon])) else { return nil }
        let value = text[text.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
        guard !value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else { return nil }
        return HTTPField(name: String(text[..<colon]), value: String(value))
    }

    /// Every route's `header:` token sources: their values are never printed.
    static func tokenHeaders(_ runtime: GatewayRuntime) -> [String] {
        var out: [String] = []
        for route in runtime.routeTable.routes {
            guard case .required(let req) = route.auth else { continue }
            for case .header(let name) in req.browser.tokenFrom { out.append(name) }
        }
        return out
    }
}
