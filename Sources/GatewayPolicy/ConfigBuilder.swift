// The walk from the composed YAML root to a GatewayConfig; each section's keys live in its
// own field table (ServerSections, TracingSection, IssuerSection, UpstreamSection, IdentitySection,
// RouteSection, MatchSection, AuthSection), cross-checks in ConfigCrossChecks.
import Yams

/// Walks the root mapping into a GatewayConfig, collecting errors in `reader`.
final class ConfigBuilder {
    let reader: ConfigReader
    let baseDirectory: String
    /// Names declared in the file, valid or not (so a reference to an invalid entry is not
    /// reported a second time as unknown).
    var declaredIssuers: [String] = []
    var declaredUpstreams: [String] = []
    /// Issuers whose own entries are valid, in file order, duplicates included: their keys
    /// can be loaded (and their errors reported) even when other parts of the file are wrong.
    var parsedIssuers: [IssuerConfig] = []
    /// `listen.tls` and `listen.trusted_proxies` (ConfigBuilder+ListenTLS.swift).
    var listenTLS: ListenTLSConfig?
    var trustedProxies: [IPNetwork] = []
    var trustedProxiesLocation: ConfigLocation?

    init(reader: ConfigReader, baseDirectory: String) {
        self.reader = reader
        self.baseDirectory = baseDirectory
    }

    /// A file path from the config, resolved against the config file's directory.
    func resolve(_ file: String) -> String {
        if file.hasPrefix("/") || baseDirectory.isEmpty { return file }
        return baseDirectory == "/" ? "/" + file : baseDirectory + "/" + file
    }

    /// The top level as read so far.
    struct Draft {
        var listen = ServerSections.Address()
        var admin = ServerSections.Address(address: ListenAddress.defaultAdmin)
        /// Nil without a `decision:` key.
        var decision: ServerSections.Address?
        var decisionKey: ConfigLocation?
        var limits = Limits()
        var issuers: [IssuerConfig] = []
        var upstreams: [String: UpstreamConfig] = [:]
        var identity = IdentityConfig()
        var routes: [Route] = []
        var tokenCache = TokenCacheConfig()
        var logLevel: String?
        var revocation: RevocationConfig?
        var tracing: TracingConfig?
    }

    /// The top-level keys. Routes come after issuers and upstreams, which they refer to.
    static let fields = FieldTable<Draft>([
        .key("listen", required: true) { b, e, d in d.listen = ServerSections.listen(e, b) },
        .key("admin") { b, e, d in d.admin = ServerSections.admin(e, b) },
        .key("decision") { b, e, d in
            d.decision = ServerSections.decision(e, b)
            d.decisionKey = b.reader.location(e.keyNode)
        },
        .key("limits") { b, e, d in d.limits = ServerSections.limits(e, b) },
        .key("issuers") { b, e, d in d.issuers = IssuerSection.issuers(e, b) },
        .key("upstreams") { b, e, d in d.upstreams = UpstreamSection.upstreams(e, b) },
        .key("identity") { b, e, d in d.identity = IdentitySection.identity(e, b) },
        .key("routes", required: true) { b, e, d in
            d.routes = RouteSection.routes(e, b, issuers: d.issuers, upstreams: d.upstreams)
        },
        .key("token_cache") { b, e, d in d.tokenCache = ServerSections.tokenCache(e, b) },
        .key("log") { b, e, d in d.logLevel = ServerSections.logLevel(e, b) },
        .key("revocation") { b, e, d in d.revocation = RevocationSection.revocation(e, b) },
        .key("tracing") { b, e, d in d.tracing = TracingSection.tracing(e, b) },
    ])

    func build(_ root: Node) -> GatewayConfig? {
        var draft = Draft()
        guard Self.fields.read(root, path: "", builder: self, into: &draft) != nil, let listen = draft.listen.address
        else { return nil }
        var listeners = [("listen.address", draft.listen), ("admin.address", draft.admin)]
        if let decision = draft.decision { listeners.append(("decision.address", decision)) }
        ServerSections.checkDistinct(listeners.map { (key: $0.0, address: $0.1) }, self)
        var config = GatewayConfig(listen: listen, admin: draft.admin.address, limits: draft.limits, issuers: draft.issuers,
                                   upstreams: draft.upstreams, identity: draft.identity, routes: draft.routes)
        config.tokenCache = draft.tokenCache
        config.logLevel = draft.logLevel
        config.listenTLS = listenTLS
        config.trustedProxies = trustedProxies
        config.trustedProxiesLocation = trustedProxiesLocation
        config.adminTokenEnv = draft.admin.tokenEnv
        config.decision = draft.decision?.address
        config.decisionTLS = draft.decision?.tls
        config.revocation = draft.revocation
        config.tracing = draft.tracing
        let findings = ConfigCrossChecks.check(config)
        for e in findings.errors { reader.fail(e.location, e.message) }
        config.warnings = findings.warnings
        // The decision listener believes the X-Forwarded-* / X-Original-* fields it is sent:
        // anyone who can reach it can ask about any request. Mutual TLS with a required
        // client certificate limits it to the holders of a certificate from `client_ca_file`
        // (the ingress), as loopback does.
        if let d = config.decision, !ServerSections.isLoopback(d.host), config.decisionTLS?.clientCertificate != "required",
           let at = draft.decision?.location ?? draft.decisionKey {
            config.warnings.append("\(at.path):\(at.line):\(at.column): warning: decision.address \(d.host):\(d.port) is not a loopback address; the decision listener trusts the X-Forwarded-* and X-Original-* fields it receives, so only the ingress may reach it (firewall it, bind 127.0.0.1, or require the ingress's certificate: decision.tls with client_ca_file and client_certificate: required)")
        }
        config.strictWarnings = findings.strict
        return config
    }
}
