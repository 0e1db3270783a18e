import GatewayHTTP
import GatewayJOSE
import GatewayPolicy

/// Runs one `gateway test` case through `RequestPipeline.decide` — the decision `serve`
/// makes — and lists how the outcome differs from the case's expectation. Pure: keys are
/// loaded and the clock read by the caller; no upstream is contacted.
public enum PolicyCaseRunner {
    /// A signing key of the fixture, loaded.
    public struct LoadedKey: Sendable {
        public var key: SigningKey
        public var algorithm: JWSAlgorithm
        public var keyID: String?
        public init(key: SigningKey, algorithm: JWSAlgorithm, keyID: String?) {
            self.key = key
            self.algorithm = algorithm
            self.keyID = keyID
        }
    }

    /// What the gateway did with a case's request, in the access log's terms.
    public struct Observed: Sendable, Equatable {
        /// `.forward`, or the refusal's status.
        public var status: PolicyFixture.Expectation.Status
        public var reason: String
        public var route: String?
        public var decision: String
        /// Header fields sent upstream; nil when refused.
        public var upstreamFields: [HTTPField]?
    }

    /// Why a case could not run (its token could not be signed).
    public struct CaseError: Error, Sendable, Equatable {
        public var message: String
    }

    /// Runs `c` at Unix time `now`; `keys` by the fixture's key names.
    public static func run(_ c: PolicyFixture.Case, keys: [String: LoadedKey], runtime: GatewayRuntime,
                           now: Double) throws(CaseError) -> Observed {
        var fields = [HTTPField(name: "Host", value: c.request.host)]
        switch c.token {
        case .literal(let token)?:
            fields.append(HTTPField(name: "Authorization", value: "Bearer " + token))
        case .minted(let name, let claims, let hasIssuedAt, let hasExpiry, let ttl)?:
            guard let key = keys[name] else { throw CaseError(message: "key `\(name)` is not loaded") }
            let token = try mint(claims: claims, hasIssuedAt: hasIssuedAt, hasExpiry: hasExpiry, ttl: ttl, key: key, now: now)
            fields.append(HTTPField(name: "Authorization", value: "Bearer " + token))
        case nil:
            break
        }
        fields += c.request.headers.map { HTTPField(name: $0.name, value: $0.value) }
        let head = HTTPRequestHead(method: c.request.method, target: c.request.target, version: .http11, fields: fields,
                                   framing: .none, keepAlive: true, expectsContinue: false)
        // Keys were loaded (and remote sets fetched) once: an unknown kid is refused, not refetched.
        var context = RequestContext(clientAddress: "127.0.0.1", scheme: c.request.scheme, now: now,
                                     mayRefetchKeys: false, makeRequestID: { "policy-test" })
        var decision = RequestPipeline.decide(head, context: context, runtime: runtime)
        if case .needsIntrospection = decision {
            // No introspection endpoint is called (no network, the token goes nowhere): the
            // case runs as if it answered `"active": true` (docs/revocation.md).
            context.introspectionAnswer = .active(exp: nil)
            decision = RequestPipeline.decide(head, context: context, runtime: runtime)
        }
        switch decision {
        case .forward(let plan):
            return Observed(status: .forward, reason: plan.wouldDeny?.code ?? "ok", route: plan.routeName,
                            decision: plan.wouldDeny == nil ? "allow" : "would_deny", upstreamFields: plan.fields)
        case .refuse(let refusal, let route, _):
            return Observed(status: .refused(refusal.status), reason: refusal.reason.code, route: route,
                            decision: "deny", upstreamFields: nil)
        case .preflight(_, let route, _):
            // A CORS preflight the gateway answers itself (204): nothing goes upstream.
            return Observed(status: .refused(204), reason: "cors_preflight", route: route, decision: "allow",
                            upstreamFields: nil)
        case .needsKeyRefresh(let issuer):
            throw CaseError(message: "the JWK Set of issuer \(issuer) would be refetched")
        case .needsIntrospection(let call):
            throw CaseError(message: "issuer \(call.issuerName) would be asked about the token")
        }
    }

    /// Signs the case's claims, with `iat`/`exp` from `now` and `ttl` unless written.
    static func mint(claims: [String], hasIssuedAt: Bool, hasExpiry: Bool, ttl: Double, key: LoadedKey,
                     now: Double) throws(CaseError) -> String {
        let seconds = Int64(now.rounded(.down))
        var members = claims
        if !hasIssuedAt { members.append("\"iat\":\(seconds)") }
        if !hasExpiry { members.append("\"exp\":\(seconds + Int64(ttl.rounded(.up)))") }
        let payload: JSONValue
        do { payload = try JSONReader.parse(Array(("{" + members.joined(separator: ",") + "}").utf8)) } catch {
            throw CaseError(message: "the claims are not a valid JSON object: \(error)")
        }
        do {
            return try key.key.sign(claims: payload, algorithm: key.algorithm, keyID: key.keyID)
        } catch {
            throw CaseError(message: "cannot sign the token: \(error)")
        }
    }

    /// One line per difference between `expected` and `observed` (empty: the case passes).
    /// Values from the request or the token are shown, except credentials: fields are shown
    /// through `LogRedaction.redactedFieldValue` (Authorization keeps its scheme, Cookie its
    /// names, the route's custom token fields in `tokenHeaders` nothing), and an expected
    /// credential value is never echoed.
    public static func differences(_ expected: PolicyFixture.Expectation, _ observed: Observed,
                                   tokenHeaders: [String] = []) -> [String] {
        var out: [String] = []
        func quoted(_ s: String?) -> String { s.map { "\"\($0)\"" } ?? "(none)" }
        if let status = expected.status, status != observed.status {
            out.append("status: expected \(status), got \(observed.status)" + summary(observed))
        }
        if let reason = expected.reason, reason != observed.reason {
            out.append("reason: expected \(reason), got \(observed.reason)")
        }
        if let route = expected.route, route != observed.route {
            out.append("route: expected \(route), got \(observed.route ?? "(no route)")")
        }
        if let decision = expected.decision, decision != observed.decision {
            out.append("decision: expected \(decision), got \(observed.decision)")
        }
        guard !expected.upstreamHeaders.isEmpty else { return out }
        guard let fields = observed.upstreamFields else {
            out.append("upstream headers: not compared, the request was not forwarded")
            return out
        }
        for (name, value) in expected.upstreamHeaders {
            let got = fields.filter { HeaderName.equals($0.name, name) }.map(\.value)
            let shown = got.isEmpty ? "(absent)" : got.map {
                quoted(LogRedaction.redactedFieldValue(name: name, value: $0, tokenHeaders: tokenHeaders))
            }.joined(separator: ", ")
            let secret = LogRedaction.isCredentialField(name, tokenHeaders: tokenHeaders)
            switch value {
            case nil where !got.isEmpty:
                out.append("upstream header \(name): expected absent, got \(shown)")
            case let v? where got != [v]:
                let want = secret ? "a value (not shown)" : quoted(v)
                out.append("upstream header \(name): expected \(want), got \(shown)")
            default:
                break
            }
        }
        return out
    }

    /// " (403 insufficient_scope, route orders)" — context for a status line.
    static func summary(_ o: Observed) -> String {
        " (\(o.status == .forward ? "forwarded" : "refused") with reason \(o.reason)" + (o.route.map { ", route \($0)" } ?? ", no route") + ")"
    }
}
