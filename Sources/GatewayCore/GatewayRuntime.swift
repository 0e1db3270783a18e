import GatewayHTTP
import GatewayJOSE
import GatewayPolicy

/// An issuer with its keys loaded and its token requirements fixed.
public final class LoadedIssuer: Sendable {
    public let config: IssuerConfig
    /// The issuer's keys; swapped in place when a remote JWK Set is refetched.
    public let store: IssuerKeyStore
    public let requirements: TokenRequirements
    /// The RFC 7662 introspection endpoint (`introspection:`), nil without one.
    public let introspection: IssuerIntrospection?
    /// The keys now (a snapshot of `store`).
    public var keys: KeySet { store.snapshot.keys }

    /// A class, not a struct: every request on a protected route reads its issuer, and a
    /// reference is one retain where this many fields would be a dozen.
    public init(config: IssuerConfig, store: IssuerKeyStore, requirements: TokenRequirements,
                introspection: IssuerIntrospection? = nil) {
        self.config = config
        self.store = store
        self.requirements = requirements
        self.introspection = introspection
    }
}

/// Gives the key store of an issuer whose keys are remote (`jwks_url`, or `discovery`): the
/// server's JWKS service in `gateway serve`/`check`, a fixed set in tests.
/// - Throws: `ConfigError` located at the issuer's key source when the first fetch fails.
public typealias RemoteKeyStoreProvider = @Sendable (_ issuer: IssuerConfig) throws(ConfigError) -> IssuerKeyStore

/// Why a key file could not be read, in words ("No such file or directory").
public struct KeyFileError: Error, Sendable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}

/// Where an issuer's key material comes from. The runtime only parses what it is given:
/// the I/O side (the server or the command line) reads the files, the environment and the
/// network.
public struct KeyMaterialProvider: Sendable {
    /// Environment variables as read by the I/O side (for `secret_env`).
    public var environment: [String: String]
    /// The whole contents of a key file named in the config (`jwks_file`, `public_key_file`).
    public var readFile: @Sendable (_ path: String) throws(KeyFileError) -> [UInt8]
    /// Key stores for remote issuers; nil makes such an issuer a config error.
    public var remoteKeys: RemoteKeyStoreProvider?

    public init(environment: [String: String],
                readFile: @escaping @Sendable (_ path: String) throws(KeyFileError) -> [UInt8],
                remoteKeys: RemoteKeyStoreProvider? = nil) {
        self.environment = environment
        self.readFile = readFile
        self.remoteKeys = remoteKeys
    }
}

extension IssuerConfig {
    /// Whether the keys are fetched over the network (`jwks_url`, `discovery`).
    public var hasRemoteKeys: Bool {
        switch keySource {
        case .jwksURL, .discovery: true
        case .jwksFile, .publicKeyFile, .secretEnv: false
        }
    }

    /// The config key naming the key source (`jwks_url`, `jwks_file`...), for messages.
    public var keySourceKey: String {
        switch keySource {
        case .jwksURL: "jwks_url"
        case .discovery: "discovery"
        case .jwksFile: "jwks_file"
        case .publicKeyFile: "public_key_file"
        case .secretEnv: "secret_env"
        }
    }
}

/// Everything a request decision needs, built once per config load and then immutable:
/// the config, loaded keys, the route table and the identity-header matcher.
public final class GatewayRuntime: Sendable {
    public let config: GatewayConfig
    public let routeTable: RouteTable
    /// By issuer name.
    public let issuers: [String: LoadedIssuer]
    /// Normalised (lowercase, `_` → `-`) identity header names and strip prefixes.
    let identityNames: Set<String>
    let stripPrefixes: [String]
    /// The same rules on bytes, for the request path.
    let forwardedFieldFilter: ForwardedFieldFilter
    /// Warnings from loading keys (skipped JWKs...), safe to log.
    public let warnings: [String]
    /// Verified tokens of this config (nil when `token_cache.enabled` is false).
    public let tokenCache: VerifiedTokenCache?
    /// The revocation list in force (nil without `revocation:`); see `revocationDenial`.
    public let revocation: RevocationStore?
    /// Per route (same index as `routeTable.routes`): its upstream and URL parts, computed once.
    let routeForwarding: [RouteForwarding]

    /// Loads every issuer's keys from what `keyMaterial` gives.
    /// - Throws: `ConfigErrors` located at each issuer's key source.
    public init(config: GatewayConfig, keyMaterial: KeyMaterialProvider,
                revocation revocationProvider: RevocationStoreProvider? = nil) throws(ConfigErrors) {
        var errors: [ConfigError] = []
        var issuers: [String: LoadedIssuer] = [:]
        var warnings: [String] = config.warnings
        for issuer in config.issuers {
            do {
                let store: IssuerKeyStore
                if issuer.hasRemoteKeys {
                    guard let remoteKeys = keyMaterial.remoteKeys else {
                        throw ConfigError(location: issuer.keySourceLocation,
                                          message: "issuer \(issuer.name): \(issuer.keySourceKey) needs the gateway's JWK Set fetcher")
                    }
                    store = try remoteKeys(issuer)
                } else {
                    store = IssuerKeyStore(keys: try GatewayRuntime.keySet(of: issuer, keyMaterial: keyMaterial))
                }
                let snapshot = store.snapshot
                let at = issuer.keySourceLocation
                for w in snapshot.keys.warnings {
                    warnings.append("\(at.path):\(at.line):\(at.column): warning: issuer \(issuer.name): \(w)")
                }
                // An issuer still waiting for its first JWK Set has no keys to lint yet.
                if !snapshot.awaitingKeys { warnings += GatewayRuntime.lint(issuer, keys: snapshot.keys) }
                let requirements = TokenRequirements(
                    issuer: issuer.issuer, audiences: issuer.audiences, algorithms: Set(issuer.algorithms),
                    clockSkew: issuer.clockSkew, maxTokenLifetime: issuer.maxTokenLifetime,
                    requireExp: issuer.requireExp)
                issuers[issuer.name] = LoadedIssuer(
                    config: issuer, store: store, requirements: requirements,
                    introspection: try GatewayRuntime.introspection(of: issuer, environment: keyMaterial.environment))
            } catch let e as ConfigError {
                errors.append(e)
            } catch {
                errors.append(ConfigError(location: issuer.keySourceLocation, message: "\(error)"))
            }
        }
        var revocation: RevocationStore?
        do { revocation = try GatewayRuntime.loadRevocation(config, provider: revocationProvider) } catch { errors.append(error) }
        if !errors.isEmpty { throw ConfigErrors(errors) }
        self.revocation = revocation
        self.config = config
        self.routeTable = RouteTable(routes: config.routes)
        self.routeForwarding = config.routes.map { RouteForwarding(route: $0, upstream: config.upstreams[$0.upstream]) }
        self.issuers = issuers
        self.warnings = warnings
        let cache = config.tokenCache
        self.tokenCache = cache.enabled ? VerifiedTokenCache(maxEntries: cache.maxEntries, maxBytes: cache.maxBytes) : nil
        let id = config.identity
        var names = Set([id.subjectHeader, id.issuerHeader, id.scopesHeader].map(HeaderName.normalized))
        for c in id.claims { names.insert(HeaderName.normalized(c.header)) }
        self.identityNames = names
        self.stripPrefixes = id.stripPrefixes.map(HeaderName.normalized)
        self.forwardedFieldFilter = ForwardedFieldFilter(identityNames: names, stripPrefixes: stripPrefixes)
    }

    /// The keys of an issuer whose key source is local (a file or a secret), parsed from
    /// what `keyMaterial` gives.
    /// - Throws: `ConfigError` located at the issuer's key source.
    public static func keySet(of issuer: IssuerConfig, keyMaterial: KeyMaterialProvider) throws(ConfigError) -> KeySet {
        let at = issuer.keySourceLocation
        func fail(_ message: String) -> ConfigError { ConfigError(location: at, message: message) }
        func read(_ path: String) -> Result<[UInt8], KeyFileError> {
            do { return .success(try keyMaterial.readFile(path)) } catch { return .failure(error) }
        }
        switch issuer.keySource {
        case .jwksURL, .discovery:
            throw fail("issuer \(issuer.name): remote keys are fetched, not loaded from a file")
        case .jwksFile(let path):
            let bytes: [UInt8]
            switch read(path) {
            case .failure(let e): throw fail("issuer \(issuer.name): cannot read JWK Set file \(path): \(e.reason)")
            case .success(let b): bytes = b
            }
            do { return try KeySet.jwkSet(json: bytes) } catch {
                throw fail("issuer \(issuer.name): JWK Set file \(path): \(describe(error))")
            }
        case .publicKeyFile(let path):
            let bytes: [UInt8]
            switch read(path) {
            case .failure(let e): throw fail("issuer \(issuer.name): cannot read public key file \(path): \(e.reason)")
            case .success(let b): bytes = b
            }
            do { return try KeySet.publicKeyPEM(bytes, keyID: issuer.keyID) } catch {
                throw fail("issuer \(issuer.name): public key file \(path): \(describe(error))")
            }
        case .secretEnv(let name, let encoding):
            guard let value = keyMaterial.environment[name], !value.isEmpty else {
                throw fail("issuer \(issuer.name): environment variable \(name) is not set")
            }
            let secret: [UInt8]
            switch encoding {
            case .raw:
                secret = Array(value.utf8)
            case .base64url:
                guard let s = Base64URL.decode(Substring(value.trimmingTrailingNewlines())) else {
                    throw fail("issuer \(issuer.name): \(name) is not valid base64url")
                }
                secret = s
            case .base64:
                let urlForm = value.trimmingTrailingNewlines()
                    .replacingOccurrences("+", "-").replacingOccurrences("/", "_")
                    .trimmingPadding()
                guard let s = Base64URL.decode(Substring(urlForm)) else {
                    throw fail("issuer \(issuer.name): \(name) is not valid base64")
                }
                secret = s
            }
            do {
                var keys = try KeySet.hmacSecret(secret, keyID: issuer.keyID, algorithms: issuer.algorithms)
                if let why = HMACSecretStrength.weakness(secret) {
                    keys.warnings.append("the secret in \(name) \(why): tokens signed with it can be forged by guessing it; use at least 32 random bytes (e.g. `openssl rand -base64 32` with `secret_encoding: base64`)")
                }
                return keys
            } catch {
                throw fail("issuer \(issuer.name): secret from \(name): \(describe(error))")
            }
        }
    }

    /// The introspection endpoint of `issuer` with its client secret from `environment`, or
    /// nil without `introspection`.
    /// - Throws: `ConfigError` at `introspection` when the secret's variable is not set.
    static func introspection(of issuer: IssuerConfig, environment: [String: String]) throws(ConfigError) -> IssuerIntrospection? {
        guard let config = issuer.introspection else { return nil }
        guard let secret = environment[config.clientSecretEnv], !secret.isEmpty else {
            throw ConfigError(location: config.location,
                              message: "issuer \(issuer.name): environment variable \(config.clientSecretEnv) (introspection.client_secret_env) is not set")
        }
        return IssuerIntrospection(config: config, secret: secret)
    }

    /// Configurations that are valid but probably not what was meant.
    static func lint(_ issuer: IssuerConfig, keys: KeySet) -> [String] {
        var out: [String] = []
        let at = issuer.keySourceLocation
        let prefix = "\(at.path):\(at.line):\(at.column): warning: issuer \(issuer.name)"
        if issuer.audiences.isEmpty {
            out.append("\(prefix) has no audiences: tokens minted for any audience are accepted")
        }
        for alg in issuer.algorithms where !keys.keys.contains(where: { $0.fits(alg) }) {
            out.append("\(prefix): no key fits algorithm \(alg.rawValue); tokens using it are refused")
        }
        return out
    }

    /// A key-loading error as one readable line (no key material).
    public static func describe(_ error: Error) -> String {
        if let e = error as? KeyLoadError, case .invalid(let why) = e { return why }
        return "\(error)"
    }

    /// Whether an incoming header with this name must be removed because it looks like an
    /// identity header (docs/request-handling.md, forwarding: case-insensitive, `_` same as `-`).
    public func isSpoofableIdentityHeader(_ name: String) -> Bool {
        isSpoofableIdentityHeader(normalized: HeaderName.normalized(name))
    }

    /// `isSpoofableIdentityHeader` of a name already normalised (`HeaderName.normalized`).
    func isSpoofableIdentityHeader(normalized n: String) -> Bool {
        for p in stripPrefixes where n.utf8.starts(with: p.utf8) { return true }
        return identityNames.contains(n)
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" || last == " " { s = s.dropLast() }
        return String(s)
    }
    func trimmingPadding() -> String {
        var s = Substring(self)
        while s.last == "=" { s = s.dropLast() }
        return String(s)
    }
    func replacingOccurrences(_ a: Character, _ b: Character) -> String {
        String(self.map { $0 == a ? b : $0 })
    }
}

/// Header-name comparisons used for identity-header stripping.
public enum HeaderName {
    /// ASCII-lowercased with `_` mapped to `-`, so `X_Auth_Subject` equals `x-auth-subject`.
    public static func normalized(_ name: String) -> String {
        HTTPSyntax.comparableFieldName(name)
    }

    /// ASCII case-insensitive equality (`HTTPSyntax.equalsIgnoringASCIICase`).
    public static func equals(_ a: String, _ b: String) -> Bool {
        HTTPSyntax.equalsIgnoringASCIICase(a, b)
    }
}

extension GatewayRuntime {
    /// Names of issuers that have no usable key now, in config order (for `/readyz`): a
    /// remote issuer whose identity provider has not answered since startup.
    public func issuersWithoutKeys() -> [String] {
        config.issuers.map(\.name).filter { name in
            guard let snapshot = issuers[name]?.store.snapshot else { return true }
            return snapshot.awaitingKeys || snapshot.keys.keys.isEmpty
        }
    }
}
