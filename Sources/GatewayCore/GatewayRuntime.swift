import GatewayHTTP
import GatewayJOSE
import GatewayPolicy

#if canImport(Glibc)
import Glibc
#endif

/// An issuer with its keys loaded and its token requirements fixed.
public struct LoadedIssuer: Sendable {
    public var config: IssuerConfig
    /// The issuer's keys; swapped in place when a remote JWK Set is refetched.
    public var store: IssuerKeyStore
    public var requirements: TokenRequirements
    /// The keys now (a snapshot of `store`).
    public var keys: KeySet { store.snapshot.keys }
}

/// Gives the key store of an issuer with `jwks_url` (the first fetch done): the server's
/// JWKS service in `gateway serve`/`check`, a fixed set in tests.
/// - Throws: `ConfigError` located at the issuer's `jwks_url` when the first fetch fails.
public typealias RemoteKeyStoreProvider = (_ issuer: IssuerConfig, _ url: String) throws(ConfigError) -> IssuerKeyStore

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
    /// Warnings from loading keys (skipped JWKs...), safe to log.
    public let warnings: [String]
    /// Verified tokens of this config (nil when `token_cache.enabled` is false).
    public let tokenCache: VerifiedTokenCache?
    /// The revocation list in force (nil without `revocation:`); see `revocationDenial`.
    public let revocation: RevocationStore?

    /// Loads every issuer's keys from files and the environment.
    /// - Parameters:
    ///   - environment: the process environment (for `secret_env`).
    ///   - remoteKeys: key stores for issuers with `jwks_url`; without it such an issuer
    ///     is a config error.
    /// - Throws: `ConfigErrors` located at each issuer's key source.
    public init(config: GatewayConfig, environment: [String: String],
                remoteKeys: RemoteKeyStoreProvider? = nil,
                revocation revocationProvider: RevocationStoreProvider? = nil) throws(ConfigErrors) {
        var errors: [ConfigError] = []
        var issuers: [String: LoadedIssuer] = [:]
        var warnings: [String] = config.warnings
        for issuer in config.issuers {
            do {
                let store: IssuerKeyStore
                if case .jwksURL(let url) = issuer.keySource {
                    guard let remoteKeys else {
                        throw ConfigError(location: issuer.keySourceLocation,
                                          message: "issuer \(issuer.name): jwks_url needs the gateway's JWK Set fetcher")
                    }
                    store = try remoteKeys(issuer, url)
                } else {
                    store = IssuerKeyStore(keys: try GatewayRuntime.loadKeys(issuer, environment: environment))
                }
                for w in store.snapshot.keys.warnings { warnings.append("issuer \(issuer.name): \(w)") }
                warnings += GatewayRuntime.lint(issuer, keys: store.snapshot.keys)
                let requirements = TokenRequirements(
                    issuer: issuer.issuer, audiences: issuer.audiences, algorithms: Set(issuer.algorithms),
                    clockSkew: issuer.clockSkew, maxTokenLifetime: issuer.maxTokenLifetime,
                    requireExp: issuer.requireExp)
                issuers[issuer.name] = LoadedIssuer(config: issuer, store: store, requirements: requirements)
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
        self.issuers = issuers
        self.warnings = warnings
        let cache = config.tokenCache
        self.tokenCache = cache.enabled ? VerifiedTokenCache(maxEntries: cache.maxEntries, maxBytes: cache.maxBytes) : nil
        let id = config.identity
        var names = Set([id.subjectHeader, id.issuerHeader, id.scopesHeader].map(HeaderName.normalized))
        for c in id.claims { names.insert(HeaderName.normalized(c.header)) }
        self.identityNames = names
        self.stripPrefixes = id.stripPrefixes.map(HeaderName.normalized)
    }

    /// Parses `contents`, the bytes of the config file at `path` (`ConfigLoader.parse`), and
    /// loads every issuer's keys, reporting every
    /// problem in one pass: when the file has errors, the keys of each issuer whose own entry
    /// is valid are still loaded from files and the environment, and their errors join the
    /// file's. Remote JWK Sets (`jwks_url`) are fetched only for a valid file, as by `init`.
    /// - Throws: `ConfigErrors` in file order (line, then column).
    public static func load(path: String, contents: [UInt8], environment: [String: String],
                            remoteKeys: RemoteKeyStoreProvider? = nil,
                            revocation: RevocationStoreProvider? = nil) throws(ConfigErrors) -> GatewayRuntime {
        let config: GatewayConfig
        do {
            config = try ConfigLoader.parse(contents: contents, path: path, environment: { environment[$0] })
        } catch {
            var errors = error.errors
            for issuer in error.parsedIssuers {
                if case .jwksURL = issuer.keySource { continue }
                do {
                    _ = try loadKeys(issuer, environment: environment)
                } catch let e as ConfigError {
                    errors.append(e)
                } catch {
                    errors.append(ConfigError(location: issuer.keySourceLocation, message: "\(error)"))
                }
            }
            throw ConfigErrors(errors).sortedByLocation()
        }
        do {
            return try GatewayRuntime(config: config, environment: environment, remoteKeys: remoteKeys,
                                      revocation: revocation)
        } catch {
            throw error.sortedByLocation()
        }
    }

    static func loadKeys(_ issuer: IssuerConfig, environment: [String: String]) throws -> KeySet {
        let at = issuer.keySourceLocation
        func fail(_ message: String) -> ConfigError { ConfigError(location: at, message: message) }
        switch issuer.keySource {
        case .jwksURL:
            throw fail("issuer \(issuer.name): jwks_url keys are fetched, not loaded from a file")
        case .jwksFile(let path):
            guard let bytes = readFile(path) else { throw fail("issuer \(issuer.name): cannot read JWK Set file \(path): \(FileProblem.describe(path))") }
            do { return try KeySet.jwkSet(json: bytes) } catch {
                throw fail("issuer \(issuer.name): JWK Set file \(path): \(describe(error))")
            }
        case .publicKeyFile(let path):
            guard let bytes = readFile(path) else { throw fail("issuer \(issuer.name): cannot read public key file \(path): \(FileProblem.describe(path))") }
            do { return try KeySet.publicKeyPEM(bytes, keyID: issuer.keyID) } catch {
                throw fail("issuer \(issuer.name): public key file \(path): \(describe(error))")
            }
        case .secretEnv(let name, let encoding):
            guard let value = environment[name], !value.isEmpty else {
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
                return try KeySet.hmacSecret(secret, keyID: issuer.keyID, algorithms: issuer.algorithms)
            } catch {
                throw fail("issuer \(issuer.name): secret from \(name): \(describe(error))")
            }
        }
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

    /// Reads a whole (small) file; nil when it cannot be read. Key files are read at config
    /// load only, never per request.
    public static func readFile(_ path: String) -> [UInt8]? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { out.append(contentsOf: chunk[0..<n]) }
            if n < chunk.count { break }
            if out.count > 16 * 1024 * 1024 { return nil }
        }
        return ferror(f) == 0 ? out : nil
    }

    /// Whether an incoming header with this name must be removed because it looks like an
    /// identity header (SPEC §4 Forwarding: case-insensitive, `_` same as `-`).
    public func isSpoofableIdentityHeader(_ name: String) -> Bool {
        let n = HeaderName.normalized(name)
        if identityNames.contains(n) { return true }
        for p in stripPrefixes where n.hasPrefix(p) { return true }
        return false
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

    /// ASCII case-insensitive equality.
    public static func equals(_ a: String, _ b: String) -> Bool {
        let x = a.utf8, y = b.utf8
        guard x.count == y.count else { return false }
        for (p, q) in zip(x, y) {
            let lp = (p >= 0x41 && p <= 0x5A) ? p | 0x20 : p
            let lq = (q >= 0x41 && q <= 0x5A) ? q | 0x20 : q
            if lp != lq { return false }
        }
        return true
    }
}

extension GatewayRuntime {
    /// Names of issuers that have no usable key now (for `/readyz`).
    public func issuersWithoutKeys() -> [String] {
        config.issuers.map(\.name).filter { (issuers[$0]?.keys.keys.isEmpty) ?? true }
    }
}
