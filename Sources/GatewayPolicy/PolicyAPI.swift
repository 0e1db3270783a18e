// The typed, validated configuration of gateway.yml. `ConfigLoader` builds it; `RouteTable` uses it.
import GatewayJOSE

/// Where in the config file something is (1-based, from Yams marks).
public struct ConfigLocation: Sendable, Equatable {
    public var path: String
    public var line: Int
    public var column: Int
    public init(path: String, line: Int, column: Int) {
        self.path = path
        self.line = line
        self.column = column
    }
}

/// One config problem, printed as `PATH:LINE:COLUMN: message`.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var location: ConfigLocation
    public var message: String
    public init(location: ConfigLocation, message: String) {
        self.location = location
        self.message = message
    }
    public var description: String { "\(location.path):\(location.line):\(location.column): \(message)" }
}

/// Every problem found in one config file.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]
    /// From `ConfigLoader`: the issuers whose own entries are valid although the file as a
    /// whole is not, so their keys can still be loaded and checked in the same run.
    public var parsedIssuers: [IssuerConfig] = []
    public init(_ errors: [ConfigError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }

    /// The errors in file order: by line, then column; errors at one place keep their order.
    public func sortedByLocation() -> ConfigErrors {
        var sorted = self
        sorted.errors = errors.enumerated().sorted {
            ($0.element.location.line, $0.element.location.column, $0.offset)
                < ($1.element.location.line, $1.element.location.column, $1.offset)
        }.map(\.element)
        return sorted
    }
}

/// host:port for a listener.
public struct ListenAddress: Sendable, Equatable {
    /// IPv4 dotted quad or IPv6 literal without brackets ("0.0.0.0", "::", "127.0.0.1").
    public var host: String
    public var port: UInt16
    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// The admin listener when `admin.address` is not set: loopback only.
    public static let defaultAdmin = ListenAddress(host: "127.0.0.1", port: 9090)
    /// The decision listener when `decision:` is written without an address: loopback only.
    public static let defaultDecision = ListenAddress(host: "127.0.0.1", port: 8081)
}

/// `limits:`. Durations in seconds, sizes in bytes.
public struct Limits: Sendable, Equatable {
    public var maxHeaderBytes: Int = 16 * 1024
    public var maxBodyBytes: Int = 10 * 1024 * 1024
    public var headerTimeout: Double = 10
    public var idleTimeout: Double = 60
    public var maxConnections: Int = 10_000
    public var drainTimeout: Double = 30
    /// `body_timeout`: longest wait for request body progress (bytes arriving) while the
    /// gateway is ready to take them; over it: 408 (or the connection closed once the
    /// response started).
    public var bodyTimeout: Double = 30
    public init() {}
}

/// `token_cache:` — the verified-token cache (one per loaded config, shared by the loops).
public struct TokenCacheConfig: Sendable, Equatable {
    public var enabled: Bool = true
    /// Most cached tokens.
    public var maxEntries: Int = 10_000
    /// Most bytes of cached tokens (an estimate: token length plus decoded claims).
    public var maxBytes: Int = 32 * 1024 * 1024
    public init() {}
}

/// How an HMAC secret is held in its environment variable.
public enum SecretEncoding: String, Sendable, Equatable {
    case raw, base64, base64url
}

/// Exactly one key source per issuer.
public enum KeySource: Sendable, Equatable {
    case jwksURL(String)
    /// `discovery: true`: the OpenID Provider configuration document at this URL
    /// (`<issuer without trailing slash>/.well-known/openid-configuration`, OpenID Connect
    /// Discovery 1.0 §4) names the JWK Set (`jwks_uri`).
    case discovery(String)
    case jwksFile(String)
    case publicKeyFile(String)
    /// The variable's name and encoding (the value is read when keys are loaded).
    case secretEnv(String, SecretEncoding)
}

/// One `issuers:` entry.
public struct IssuerConfig: Sendable, Equatable {
    public var name: String
    public var issuer: String
    public var audiences: [String]
    public var algorithms: [JWSAlgorithm]
    public var keySource: KeySource
    /// Location of the key source key, for key-loading errors.
    public var keySourceLocation: ConfigLocation
    public var keyID: String?
    /// Seconds.
    public var jwksRefresh: Double = 600
    /// Shortest `jwks_refresh`, and the shortest wait between two fetches of one issuer's
    /// JWK Set for any reason (unknown `kid` refetches, retries), in seconds.
    public static let minimumJWKSRefresh: Double = 30
    public var clockSkew: Double = 30
    public var maxTokenLifetime: Double?
    public var requireExp: Bool = true
    /// A token must carry `sub` as a non-empty string (default true).
    public var requireSub: Bool = true
    /// Claim holding space-separated scopes (default "scope"); `scp` arrays are also read.
    public var scopeClaim: String = "scope"
    /// Dotted path split into components (`realm_access.roles` → ["realm_access", "roles"]).
    public var rolesClaim: [String]?
    /// `introspection:` (RFC 7662); nil: routes with `introspect: true` may not name this issuer.
    public var introspection: IntrospectionConfig?

    public init(name: String, issuer: String, audiences: [String], algorithms: [JWSAlgorithm],
                keySource: KeySource, keySourceLocation: ConfigLocation) {
        self.name = name
        self.issuer = issuer
        self.audiences = audiences
        self.algorithms = algorithms
        self.keySource = keySource
        self.keySourceLocation = keySourceLocation
    }
}

/// TLS settings for an https upstream.
public struct UpstreamTLS: Sendable, Equatable {
    public var caFile: String?
    public var clientCertificate: String?
    public var clientKey: String?
    public init() {}
}

/// One `upstreams:` entry.
public struct UpstreamConfig: Sendable, Equatable {
    public var name: String
    /// "http" or "https".
    public var scheme: String
    /// Host as written (IPv6 without brackets).
    public var host: String
    public var port: UInt16
    /// Path prefix from the URL, without trailing "/" ("" when none).
    public var basePath: String
    public var connectTimeout: Double = 5
    public var timeout: Double = 30
    public var tls: UpstreamTLS?
    public init(name: String, scheme: String, host: String, port: UInt16, basePath: String) {
        self.name = name
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
    }
}

/// `identity:`: the headers the verified identity is sent upstream in.
public struct IdentityConfig: Sendable, Equatable {
    public var subjectHeader: String = "X-Auth-Subject"
    public var issuerHeader: String = "X-Auth-Issuer"
    public var scopesHeader: String = "X-Auth-Scopes"
    /// claim name → header name, in file order.
    public var claims: [(claim: String, header: String)] = []
    public var stripPrefixes: [String] = ["X-Auth-"]
    public init() {}
    public static func == (a: IdentityConfig, b: IdentityConfig) -> Bool {
        a.subjectHeader == b.subjectHeader && a.issuerHeader == b.issuerHeader && a.scopesHeader == b.scopesHeader
            && a.claims.map(\.claim) == b.claims.map(\.claim) && a.claims.map(\.header) == b.claims.map(\.header)
            && a.stripPrefixes == b.stripPrefixes
    }
}

/// How a route matches the path.
public enum PathMatch: @unchecked Sendable {
    case exact(String)
    /// Matches the prefix itself and prefix + "/..." (never prefix + "X").
    case prefix(String)
    /// Whole-path match, compiled at load time.
    case regex(source: String, compiled: Regex<AnyRegexOutput>)
}

/// A route's `auth:`.
public enum RouteAuth: Sendable, Equatable {
    case publicAccess
    case required(AuthRequirements)
}

/// Requirements of a protected route.
public struct AuthRequirements: Sendable, Equatable {
    /// Issuer names (keys into `GatewayConfig.issuers`), in file order.
    public var issuers: [String]
    public var scopes: [String] = []
    public var anyScopes: [String] = []
    public var roles: [String] = []
    /// claim name → required value (string, number or bool as JSON text-free scalar).
    public var claims: [(name: String, value: ClaimValue)] = []
    public var forwardToken: Bool = false
    /// `auth.mode`: enforce refusals (default) or only report them.
    public var mode: AuthMode = .enforce
    /// `token_from`, `csrf_origins`, `login_url`.
    public var browser = BrowserAuth()
    /// `client_certificate: required`: the connection must carry a verified client
    /// certificate (mutual TLS). With no `issuers`, no token is asked for.
    public var clientCertificate: Bool = false
    /// `introspect: true`: every token is also checked at its issuer's RFC 7662
    /// introspection endpoint (each issuer named has `introspection`).
    public var introspect: Bool = false
    public init(issuers: [String]) { self.issuers = issuers }
    public static func == (a: AuthRequirements, b: AuthRequirements) -> Bool {
        a.issuers == b.issuers && a.scopes == b.scopes && a.anyScopes == b.anyScopes && a.roles == b.roles
            && a.claims.map(\.name) == b.claims.map(\.name) && a.claims.map(\.value) == b.claims.map(\.value)
            && a.forwardToken == b.forwardToken && a.browser == b.browser && a.clientCertificate == b.clientCertificate
            && a.introspect == b.introspect && a.mode == b.mode
    }
}

/// A scalar required claim value from config.
public enum ClaimValue: Sendable, Equatable {
    case string(String)
    /// Exact: compared by value with the token's number, never through `Double`.
    case number(JSONNumber)
    case bool(Bool)

    /// A number from a `Double` (finite; for tests and programmatic configs).
    public static func number(_ value: Double) -> ClaimValue { .number(JSONNumber(value)) }
}

/// One `routes:` entry.
public struct Route: Sendable {
    public var name: String
    /// Lowercased host without port, or "*.example.com"; nil = any host.
    public var host: String?
    public var path: PathMatch
    /// Uppercased methods; nil = all.
    public var methods: Set<String>?
    public var caseInsensitive: Bool = false
    public var upstream: String
    public var stripPrefix: Bool = false
    /// GET and HEAD requests may carry content (default false: 400).
    public var allowBodyOnGet: Bool = false
    public var auth: RouteAuth
    /// `cors:`; nil: `OPTIONS` is an ordinary method and `Access-Control-*` pass through.
    public var cors: CORSConfig?
    public var location: ConfigLocation
    public init(name: String, host: String?, path: PathMatch, methods: Set<String>?, upstream: String,
                auth: RouteAuth, location: ConfigLocation) {
        self.name = name
        self.host = host
        self.path = path
        self.methods = methods
        self.upstream = upstream
        self.auth = auth
        self.location = location
    }
}

/// The whole validated configuration.
public struct GatewayConfig: Sendable {
    public var listen: ListenAddress
    /// Parsed and validated; the admin listener comes later.
    public var admin: ListenAddress?
    /// `admin.token_env`: the name of the environment variable whose value, as
    /// `Authorization: Bearer <value>`, lets a non-loopback peer `POST /reload`; nil = loopback only.
    public var adminTokenEnv: String?
    /// `decision.address`: the forward-auth decision listener (docs/forward-auth.md); nil =
    /// no decision listener.
    public var decision: ListenAddress?
    /// `decision.tls`: HTTPS (and mutual TLS) on the decision listener, the `listen.tls`
    /// shape (docs/tls.md); nil = plain HTTP.
    public var decisionTLS: ListenTLSConfig?
    public var limits: Limits
    public var issuers: [IssuerConfig]
    public var upstreams: [String: UpstreamConfig]
    public var identity: IdentityConfig
    public var routes: [Route]
    /// Warnings (shadowed routes, unused issuers...), safe to print.
    public var warnings: [String]
    /// The warnings (also in `warnings`) that `gateway check --strict` turns into errors:
    /// requests with methods a protected route leaves out that reach a public route on its
    /// paths, and methods of a protected route that an earlier public route takes on all its paths.
    public var strictWarnings: [ConfigError] = []
    /// `token_cache:` (defaults when absent).
    public var tokenCache = TokenCacheConfig()
    /// `log.level`: a swift-log level name; nil = the command line's (default info).
    public var logLevel: String?
    /// `listen.tls` (nil: plain HTTP).
    public var listenTLS: ListenTLSConfig?
    /// `listen.trusted_proxies` (default none), and where the key is written.
    public var trustedProxies: [IPNetwork] = []
    public var trustedProxiesLocation: ConfigLocation?
    /// `revocation:`; nil when absent.
    public var revocation: RevocationConfig?
    /// `tracing:`; nil = no span export (trace context is still propagated).
    public var tracing: TracingConfig?
    public init(listen: ListenAddress, admin: ListenAddress?, limits: Limits, issuers: [IssuerConfig],
                upstreams: [String: UpstreamConfig], identity: IdentityConfig, routes: [Route], warnings: [String] = []) {
        self.listen = listen
        self.admin = admin
        self.limits = limits
        self.issuers = issuers
        self.upstreams = upstreams
        self.identity = identity
        self.routes = routes
        self.warnings = warnings
    }
}
