// Every mapping of gateway.yml and the keys it accepts, derived from the field tables.

/// The schema as data, for documentation and for the test that every accepted key is read.
enum ConfigSchema {
    /// Each mapping's place (`[]` for "any list item", `*` for "any name") and its keys, in
    /// table order.
    static let mappings: [(path: String, keys: [String])] = [
        ("", ConfigBuilder.fields.known),
        ("listen", ServerSections.listenFields.known),
        ("admin", ServerSections.adminFields.known),
        ("decision", ServerSections.decisionFields.known),
        ("limits", ServerSections.limitsFields.known),
        ("token_cache", ServerSections.tokenCacheFields.known),
        ("log", ServerSections.logFields.known),
        ("revocation", RevocationSection.fields.known),
        ("tracing", TracingSection.fields.known),
        ("issuers[]", IssuerSection.fields.known),
        ("issuers[].introspection", IntrospectionSection.fields.known),
        ("upstreams.*", UpstreamSection.fields.known),
        ("upstreams.*.tls", UpstreamSection.tlsFields.known),
        ("identity", IdentitySection.fields.known),
        ("routes[]", RouteSection.fields.known),
        ("routes[].match", MatchSection.fields.known),
        ("routes[].auth", AuthSection.fields.known),
        ("routes[].cors", BrowserSection.corsFields.known),
    ]

    /// Every key as `mapping.key` (`key` alone at the top level).
    static var allKeys: [String] {
        mappings.flatMap { m in m.keys.map { m.path.isEmpty ? $0 : "\(m.path).\($0)" } }
    }
}
