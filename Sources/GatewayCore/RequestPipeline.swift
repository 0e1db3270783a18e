import GatewayEvents
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy

/// Facts about one request that do not come from its head.
public struct RequestContext: Sendable {
    /// The client's IP address as text: the TCP peer, or behind a trusted proxy the address
    /// `ForwardedClient` found (for the access log).
    public var clientAddress: String
    /// "http" or "https": what the client used (for `X-Forwarded-Proto`).
    public var scheme: String
    /// Seconds since the Unix epoch (injected so expiry is testable).
    public var now: Double
    /// Generates a request id when the client sent none (or an invalid one).
    public var makeRequestID: @Sendable () -> String
    /// Whether an unknown `kid` from an issuer with `jwks_url` may answer
    /// `.needsKeyRefresh` (true on the first decision of a request, false once the
    /// caller has waited for the refetch: the request is then refused).
    public var mayRefetchKeys: Bool
    /// The introspection answer this request waited for (`Decision.needsIntrospection`),
    /// used when the issuer's cache does not hold one; nil on the first decision.
    public var introspectionAnswer: IntrospectionAnswer?
    /// What the connection's TLS handshake established (SNI, verified client certificate);
    /// nil for plain TCP.
    public var security: TransportSecurity?
    /// The TCP peer's address, appended to `X-Forwarded-For`; nil: `clientAddress`.
    public var peer: String?
    /// The TCP peer is in `listen.trusted_proxies`: its `X-Forwarded-Proto` and
    /// `X-Forwarded-Host` are kept.
    public var peerTrusted: Bool

    public init(clientAddress: String, scheme: String = "http", now: Double, mayRefetchKeys: Bool = true,
                security: TransportSecurity? = nil, peer: String? = nil, peerTrusted: Bool = false,
                makeRequestID: @escaping @Sendable () -> String) {
        self.clientAddress = clientAddress
        self.scheme = scheme
        self.now = now
        self.mayRefetchKeys = mayRefetchKeys
        self.security = security
        self.peer = peer
        self.peerTrusted = peerTrusted
        self.makeRequestID = makeRequestID
    }
}

/// An allowed request: where it goes and exactly what is sent.
public struct ForwardPlan: Sendable {
    public var routeName: String
    public var upstream: UpstreamConfig
    public var method: String
    /// Absolute upstream URL (normalised path, query as sent).
    public var url: String
    /// Header fields for the upstream, in order: cleaned client fields, then the gateway's.
    public var fields: [HTTPField]
    public var requestID: String
    /// `sub` of the verified token; nil on public routes.
    public var subject: String?
    /// The route's `cors`: the response's `Access-Control-*` fields are the gateway's.
    public var cors: CORSConfig? = nil
    /// Set on a report-only route (`auth.mode: report_only`) when the request was refused
    /// (`ReportOnlyRollout`): it is forwarded all the same, without identity headers and
    /// without the token, and logged and counted as `would_deny` with this reason.
    public var wouldDeny: DenialReason? = nil
}

/// The outcome for one request head.
public enum Decision: Sendable {
    case forward(ForwardPlan)
    case refuse(Refusal, routeName: String?, requestID: String)
    /// The token names a `kid` the issuer's remote JWK Set lacks: ask the issuer's
    /// `IssuerKeyStore.refetchForUnknownKey`, then decide again with
    /// `RequestContext.mayRefetchKeys` false. Carries the issuer's name.
    case needsKeyRefresh(issuer: String)
    /// A CORS preflight the route's `cors` allows, answered by the gateway itself: `204 No
    /// Content` with these fields and no body (RFC 9110 §15.3.5), upstream not contacted.
    case preflight(fields: [HTTPField], routeName: String, requestID: String)
    /// The route asks for introspection and no answer about this token is cached: make
    /// (or join) the call, then decide again with `RequestContext.introspectionAnswer`.
    case needsIntrospection(IntrospectionCall)
}

/// The decision for one request: pure, no I/O (docs/request-handling.md, docs/architecture.md).
///
/// Order: normalise the path → a CORS preflight is answered here (`preflightDecision`) →
/// first matching route → (protected routes) the token from the route's sources, with the
/// cross-site guard and login redirect (`routeCredentials`) → choose the issuer by `iss` →
/// verify signature, then claims → authorize scopes, roles and claims → build the upstream
/// request.
public enum RequestPipeline {
    public static func decide(_ head: HTTPRequestHead, context: RequestContext, runtime: GatewayRuntime) -> Decision {
        let requestID = requestIDFrom(head) ?? context.makeRequestID()
        func refuse(_ r: DenialReason, _ route: String? = nil) -> Decision {
            .refuse(Refusal(r), routeName: route, requestID: requestID)
        }

        // RFC 9112 §3.2: the parser already refused CONNECT, a `*` without OPTIONS and an
        // absolute-form whose authority differs from Host; here it reduces to origin-form.
        var originTarget = head.target
        var targetAuthority: String?
        switch try? HTTPRequestTarget.form(head.target) {
        case .origin?: break
        case .absolute(_, let authority, let origin)?:
            originTarget = origin
            targetAuthority = authority
        case .asterisk?:
            // `OPTIONS *` asks about the server as a whole: no route can match it.
            return refuse(.noRoute)
        case .authority?, nil:
            return refuse(.badPath("request target is not origin-form"))
        }
        if let refused = methodRefusal(head.method) { return refuse(refused) }
        let target: NormalizedTarget
        do { target = try PathNormalizer.normalize(originTarget) } catch {
            if case .invalid(let why) = error { return refuse(.badPath(why)) }
            return refuse(.badPath("invalid request target"))
        }
        let host = head.fields.first(where: { HTTPSyntax.equalsIgnoringASCIICase($0.name, "host") })?.value ?? targetAuthority
        if let answer = preflightDecision(head, host: host, path: target.path, runtime: runtime, requestID: requestID) {
            return answer
        }
        guard let index = runtime.routeTable.match(host: host, path: target.path, method: head.method) else {
            return refuse(.noRoute)
        }
        let route = runtime.routeTable.routes[index]
        guard let upstream = runtime.config.upstreams[route.upstream] else { return refuse(.noRoute, route.name) }
        if let refused = contentRefusal(head, route: route) { return refuse(refused, route.name) }

        var identity: [HTTPField] = []
        var subject: String?
        var forwardToken = false
        var tokenEdits: [TokenFieldEdit]?
        var wouldDeny: DenialReason?
        if case .required(let req) = route.auth, let denial = clientCertificateDenial(req, context: context) {
            wouldDeny = ReportOnlyRollout.reported(denial, requirements: req)
            if wouldDeny == nil { return refuse(denial, route.name) }
            // Reported, not refused: forwarded without the token, whatever `forward_token` says.
            tokenEdits = sourceRemovals(head, requirements: req)
        }
        if wouldDeny == nil, case .required(let req) = route.auth, !req.issuers.isEmpty {
            var token: Substring?
            var forwardAuthorization = false
            switch routeCredentials(head, requirements: req, target: originTarget, scheme: context.scheme) {
            case .refused(let reason):
                wouldDeny = ReportOnlyRollout.reported(reason, requirements: req)
                if wouldDeny == nil { return refuse(reason, route.name) }
            case .token(let t, _, let edits, let forwardAuth):
                token = t
                tokenEdits = edits
                forwardAuthorization = forwardAuth
            }
            if let token {
                switch authenticate(token: token, requirements: req, runtime: runtime, now: context.now,
                                    mayRefetchKeys: context.mayRefetchKeys,
                                    introspectionAnswer: context.introspectionAnswer) {
                case .needsKeys(let issuer):
                    return .needsKeyRefresh(issuer: issuer)
                case .needsIntrospection(let call):
                    return .needsIntrospection(call)
                case .failure(let reason):
                    wouldDeny = ReportOnlyRollout.reported(reason, requirements: req)
                    if wouldDeny == nil { return refuse(reason, route.name) }
                case .success(let verified):
                    // On every request, verified-token cache hits included: the binding is to the
                    // connection, not to the token.
                    if let denial = certificateBindingDenial(verified.token, context: context) {
                        wouldDeny = ReportOnlyRollout.reported(denial, requirements: req)
                        if wouldDeny == nil { return refuse(denial, route.name) }
                        break
                    }
                    switch identityFields(verified.token, issuer: verified.issuer, runtime: runtime) {
                    case .failure(let reason):
                        wouldDeny = ReportOnlyRollout.reported(reason, requirements: req)
                        if wouldDeny == nil { return refuse(reason, route.name) }
                    case .success(let fields):
                        identity = fields
                        subject = verified.token.claims[member: "sub"]?.stringValue
                        forwardToken = forwardAuthorization
                    }
                }
                // Reported, not refused: forwarded without the token, whatever `forward_token` says.
                if wouldDeny != nil { tokenEdits = sourceRemovals(head, requirements: req) }
            }
        }

        var fields = upstreamFields(head, edits: tokenEdits, runtime: runtime, forwardToken: forwardToken)
        appendForwarded(&fields, head: head, host: host, context: context, requestID: requestID)
        fields.append(contentsOf: identity)
        fields.append(contentsOf: clientCertificateFields(context))
        let url = upstreamURL(upstream, route: route, target: target)
        return .forward(ForwardPlan(routeName: route.name, upstream: upstream, method: head.method, url: url,
                                    fields: fields, requestID: requestID, subject: subject, cors: route.cors,
                                    wouldDeny: wouldDeny))
    }

    // MARK: Authentication

    struct Verified {
        var token: VerifiedToken
        var issuer: LoadedIssuer
    }

    /// RFC 6750 §2.1: `Authorization: Bearer <b64token>`, scheme case-insensitive.
    enum Credentials: Equatable {
        case none
        case bearer(Substring)
        case invalid(String)
    }

    static func extractBearer(_ head: HTTPRequestHead) -> Credentials {
        var found: String?
        for f in head.fields where HeaderName.equals(f.name, "authorization") {
            if found != nil { return .invalid("several Authorization header fields") }
            found = f.value
        }
        guard var value = found else { return .none }
        value.makeContiguousUTF8()
        // Read in place (a native string's UTF-8 is contiguous): no copy of the token.
        return value.utf8.withContiguousStorageIfAvailable { bytes in bearer(value, bytes) } ?? bearer(value, Array(value.utf8))
    }

    private static func bearer<Bytes: RandomAccessCollection<UInt8>>(_ value: String, _ bytes: Bytes) -> Credentials
        where Bytes.Index == Int
    {
        // Scheme: "Bearer" (case-insensitive) then one or more spaces.
        guard bytes.count >= 6, HeaderName.equals(String(decoding: bytes[0..<6], as: UTF8.self), "bearer") else {
            // Another scheme (Basic...): no Bearer credentials at all (RFC 6750 §3.1).
            return .none
        }
        if bytes.count == 6 { return .invalid("bearer token missing") }
        if bytes[6] == 0x09 { return .invalid("malformed bearer credentials") }  // RFC 6750 §2.1: one or more SP
        guard bytes[6] == 0x20 else {
            // "Bearerx..." is a different scheme name.
            return .none
        }
        var start = 6
        while start < bytes.count && bytes[start] == 0x20 { start += 1 }
        guard start < bytes.count else { return .invalid("bearer token missing") }
        // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
        var i = start
        while i < bytes.count, isB64TokenChar(bytes[i]) { i += 1 }
        while i < bytes.count, bytes[i] == 0x3D { i += 1 }
        guard i == bytes.count, i > start else { return .invalid("malformed bearer credentials") }
        let token = Substring(value).utf8.dropFirst(start)
        return .bearer(Substring(token))
    }

    static func isB64TokenChar(_ b: UInt8) -> Bool {
        (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (b >= 0x30 && b <= 0x39)
            || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E || b == 0x2B || b == 0x2F
    }

    enum Authentication {
        case success(Verified)
        case failure(DenialReason)
        /// Unknown `kid` from this issuer, whose keys are remote.
        case needsKeys(String)
        /// Verified, not revoked; the route asks the issuer's introspection endpoint.
        case needsIntrospection(IntrospectionCall)
    }

    /// The first of the route's issuers whose configured `iss` equals `iss`.
    static func issuer(for iss: String?, among names: [String], runtime: GatewayRuntime) -> LoadedIssuer? {
        for name in names {
            if let candidate = runtime.issuers[name], iss.map(candidate.config.issuer.exactlyEquals) == true { return candidate }
        }
        return nil
    }

    /// `authenticate(token:...)` with the Bearer token of `Authorization`.
    static func authenticate(_ head: HTTPRequestHead, requirements: AuthRequirements, runtime: GatewayRuntime,
                             now: Double, mayRefetchKeys: Bool = true,
                             introspectionAnswer: IntrospectionAnswer? = nil) -> Authentication {
        switch extractBearer(head) {
        case .none: return .failure(.missingToken)
        case .invalid(let why): return .failure(.invalidRequest(why))
        case .bearer(let t):
            return authenticate(token: t, requirements: requirements, runtime: runtime, now: now, mayRefetchKeys: mayRefetchKeys,
                                introspectionAnswer: introspectionAnswer)
        }
    }

    /// Verifies `token` (from any of the route's sources) and authorizes it for the route.
    static func authenticate(token: Substring, requirements: AuthRequirements, runtime: GatewayRuntime,
                             now: Double, mayRefetchKeys: Bool = true,
                             introspectionAnswer: IntrospectionAnswer? = nil) -> Authentication {
        // A token verified before by the same issuer's current keys: claims only.
        if let cache = runtime.tokenCache,
           let hit = cache.lookup(token, now: now, isCurrent: { e in
               runtime.issuers[e.issuerName]?.store.snapshot.generation == e.generation
           }), let issuer = runtime.issuers[hit.issuerName] {
            // `issuer` values are unique, so the full path would choose this issuer or none.
            guard requirements.issuers.contains(hit.issuerName) else { return .failure(.invalidToken(.issuer)) }
            do {
                try TokenVerifier.checkClaims(of: hit.token, requirements: issuer.requirements, now: now)
            } catch {
                return .failure(.invalidToken(error))
            }
            if let denial = subjectDenial(hit.token, issuer: issuer) { return .failure(denial) }
            if let denial = runtime.revocationDenial(hit.token, issuer: issuer) { return .failure(denial) }
            if requirements.introspect, let step = introspection(token, hit.token, issuer: issuer, now: now,
                                                                 answer: introspectionAnswer) { return step }
            if let denial = authorize(hit.token, issuer: issuer, requirements: requirements) { return .failure(denial) }
            return .success(Verified(token: hit.token, issuer: issuer))
        }
        // The unverified `iss` only chooses among the route's issuers (docs/request-handling.md).
        let claimedIssuer: String?
        do { claimedIssuer = try TokenVerifier.unverifiedIssuer(token) } catch {
            return .failure(.invalidToken(error))
        }
        guard let issuer = issuer(for: claimedIssuer, among: requirements.issuers, runtime: runtime) else {
            return .failure(.invalidToken(.issuer))
        }
        let keys = issuer.store.snapshot
        // The issuer's identity provider has not answered since startup: not the token's fault.
        if keys.awaitingKeys { return .failure(.keysUnavailable(issuer: issuer.config.name)) }
        let verified: VerifiedToken
        do {
            verified = try TokenVerifier.verify(token, keys: keys.keys, requirements: issuer.requirements, now: now)
        } catch {
            if error == .unknownKey && mayRefetchKeys && issuer.store.jwksURL != nil {
                return .needsKeys(issuer.config.name)
            }
            return .failure(.invalidToken(error))
        }
        if let cache = runtime.tokenCache, let iss = claimedIssuer {
            let exp = TokenVerifier.expiry(of: verified).map { $0 + max(0, issuer.requirements.clockSkew) } ?? .infinity
            cache.insert(token, entry: VerifiedTokenCache.Entry(
                token: verified, iss: iss, issuerName: issuer.config.name, generation: keys.generation, expiresAt: exp))
        }
        if let denial = subjectDenial(verified, issuer: issuer) { return .failure(denial) }
        if let denial = runtime.revocationDenial(verified, issuer: issuer) { return .failure(denial) }
        if requirements.introspect, let step = introspection(token, verified, issuer: issuer, now: now,
                                                             answer: introspectionAnswer) { return step }
        if let denial = authorize(verified, issuer: issuer, requirements: requirements) {
            return .failure(denial)
        }
        return .success(Verified(token: verified, issuer: issuer))
    }

    /// 401 unless `sub` is a non-empty string, when the issuer requires one (`require_sub`,
    /// default true): an absent, empty, numeric or array `sub` would reach the upstream as an
    /// empty, missing or `a,b` subject header.
    static func subjectDenial(_ token: VerifiedToken, issuer: LoadedIssuer) -> DenialReason? {
        guard issuer.config.requireSub else { return nil }
        if case .string(let sub)? = token.claims[member: "sub"], !sub.isEmpty { return nil }
        return .invalidToken(.invalidSubject)
    }

    // MARK: Authorization

    /// Scopes from the issuer's scope claim (space-separated string, or array) and `scp`.
    static func scopes(of token: VerifiedToken, issuer: IssuerConfig) -> [String] {
        var out: [String] = []
        func add(_ v: JSONValue?) {
            switch v {
            case .string(let s)?:
                for part in s.split(separator: " ", omittingEmptySubsequences: true) { out.append(String(part)) }
            case .array(let items)?:
                for item in items { if case .string(let s) = item { out.append(s) } }
            default: break
            }
        }
        add(token.claims[member: issuer.scopeClaim])
        if issuer.scopeClaim != "scp" { add(token.claims[member: "scp"]) }
        // Exact (byte) de-duplication: Set<String> would merge canonically equivalent scopes.
        var unique: [String] = []
        for s in out where !unique.containsExactly(s) { unique.append(s) }
        return unique
    }

    static func claim(_ claims: JSONValue, path: [String]) -> JSONValue? {
        var current: JSONValue? = claims
        for part in path { current = current?[member: part] }
        return current
    }

    static func authorize(_ token: VerifiedToken, issuer: LoadedIssuer, requirements: AuthRequirements) -> DenialReason? {
        let required = requirements.scopes.isEmpty ? requirements.anyScopes : requirements.scopes
        func deny(_ detail: String) -> DenialReason { .insufficientScope(requiredScopes: required, detail: detail) }
        let granted = scopes(of: token, issuer: issuer.config)
        for s in requirements.scopes where !granted.containsExactly(s) { return deny("required scope missing") }
        if !requirements.anyScopes.isEmpty && !requirements.anyScopes.contains(where: granted.containsExactly) {
            return deny("none of the accepted scopes granted")
        }
        if !requirements.roles.isEmpty {
            var roles: [String] = []
            if let path = issuer.config.rolesClaim, case .array(let items)? = claim(token.claims, path: path) {
                for item in items { if case .string(let s) = item { roles.append(s) } }
            }
            for r in requirements.roles where !roles.containsExactly(r) { return deny("required role missing") }
        }
        for (name, expected) in requirements.claims {
            let actual = token.claims[member: name]
            if !claimSatisfies(actual, expected) { return deny("required claim \(name) missing or different") }
        }
        return nil
    }

    /// Equality, or membership when the token's claim is an array. Numbers compare by exact
    /// value (`JSONNumber`), strings byte for byte.
    static func claimSatisfies(_ actual: JSONValue?, _ expected: ClaimValue) -> Bool {
        func scalarEquals(_ v: JSONValue) -> Bool {
            switch (v, expected) {
            case let (.string(a), .string(b)): a.exactlyEquals(b)
            case let (.number(a), .number(b)): a == b
            case let (.bool(a), .bool(b)): a == b
            default: false
            }
        }
        switch actual {
        case .array(let items)?: return items.contains(where: scalarEquals)
        case let v?: return scalarEquals(v)
        case nil: return false
        }
    }

    // MARK: Identity headers

    /// Identity header fields for a verified token (`identity` in docs/configuration.md). A value holding a
    /// control character refuses the request (401 naming the claim).
    static func identityFields(_ token: VerifiedToken, issuer: LoadedIssuer, runtime: GatewayRuntime)
        -> Result<[HTTPField], DenialReason>
    {
        let id = runtime.config.identity
        var out: [HTTPField] = []
        func add(_ header: String, _ claimName: String, _ text: HeaderText) -> DenialReason? {
            switch text {
            case .absent: return nil
            case .ambiguous: return .invalidToken(.unsafeClaim(claimName))
            case .value(let value):
                if !isSafeHeaderValue(value) { return .invalidToken(.unsafeClaim(claimName)) }
                out.append(HTTPField(name: header, value: value))
                return nil
            }
        }
        if let d = add(id.subjectHeader, "sub", headerText(token.claims[member: "sub"])) { return .failure(d) }
        if let d = add(id.issuerHeader, "iss", headerText(token.claims[member: "iss"])) { return .failure(d) }
        let scopes = scopes(of: token, issuer: issuer.config)
        // The scopes header is space-separated: a scope (from an `scp` array) holding
        // whitespace would read upstream as several scopes.
        if scopes.contains(where: { $0.isEmpty || $0.utf8.contains(where: { $0 == 0x20 || $0 == 0x09 }) }) {
            return .failure(.invalidToken(.unsafeClaim("scp")))
        }
        if !scopes.isEmpty, let d = add(id.scopesHeader, issuer.config.scopeClaim, .value(scopes.joined(separator: " "))) {
            return .failure(d)
        }
        for (claimName, header) in id.claims {
            if let d = add(header, claimName, headerText(token.claims[member: claimName])) { return .failure(d) }
        }
        return .success(out)
    }

    /// A claim as header text.
    enum HeaderText: Equatable {
        /// Absent, null or an object: no header.
        case absent
        case value(String)
        /// An array item holds "," (the list separator): the upstream could not tell items apart.
        case ambiguous
    }

    /// Claim value as header text: strings as is, numbers exactly as written in the token
    /// (integers as their digits, never in floating-point form), booleans, arrays of those
    /// joined by ","; objects and null give no header.
    static func headerText(_ v: JSONValue?) -> HeaderText {
        switch v {
        case .string(let s)?: return .value(s)
        case .number(let n)?: return .value(n.text)
        case .bool(let b)?: return .value(b ? "true" : "false")
        case .array(let items)?:
            var parts: [String] = []
            for item in items {
                switch item {
                case .array, .object, .null: continue
                default:
                    guard case .value(let text) = headerText(item) else { continue }
                    if text.utf8.contains(0x2C) { return .ambiguous }
                    parts.append(text)
                }
            }
            return parts.isEmpty ? .absent : .value(parts.joined(separator: ","))
        default: return .absent
        }
    }

    /// RFC 9110 §5.5 field-value that reaches the upstream unchanged: no control characters
    /// (HTAB included), and no leading or trailing whitespace (which every HTTP server trims,
    /// so `"admin "` would arrive as `admin`).
    static func isSafeHeaderValue(_ s: String) -> Bool {
        let bytes = s.utf8
        for b in bytes where b < 0x20 || b == 0x7F { return false }
        if let first = bytes.first, first == 0x20 { return false }
        if let last = bytes.last, last == 0x20 { return false }
        return true
    }

    /// Why `method` is never routed, or nil. Methods are case-sensitive (RFC 9110 §9.1), but
    /// many upstream frameworks uppercase them: `get` must not slip past a route restricted
    /// to GET (400). TRACE would echo the request, identity headers included, back to the
    /// client, and CONNECT asks for a tunnel (405).
    public static func methodRefusal(_ method: String) -> DenialReason? {
        if method.utf8.contains(where: { $0 >= 0x61 && $0 <= 0x7A }) { return .badMethod("method must be uppercase") }
        // TRACK is IIS's TRACE.
        if method == "TRACE" || method == "TRACK" || method == "CONNECT" { return .methodNotAllowed }
        return nil
    }

    /// 400 for a GET or HEAD request with content (a non-zero `Content-Length` or a
    /// `Transfer-Encoding`) unless the route sets `allow_body_on_get`: content on these
    /// methods has no defined meaning (RFC 9110 §9.3.1), and an upstream that ignores it
    /// would read the body as the next request (a CL.0 desync).
    static func contentRefusal(_ head: HTTPRequestHead, route: Route) -> DenialReason? {
        guard head.method == "GET" || head.method == "HEAD", !route.allowBodyOnGet else { return nil }
        switch head.framing {
        case .none: return nil
        case .contentLength(let n): return n > 0 ? .contentNotAllowed : nil
        case .chunked: return .contentNotAllowed
        }
    }
}

extension JSONValue {
    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }
}
