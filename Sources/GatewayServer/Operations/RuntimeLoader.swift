import GatewayCore
import GatewayPolicy

#if canImport(Glibc)
import Glibc
#endif

/// Reads `gateway.yml` and the key material it names, then builds the runtime: the I/O
/// side of `GatewayRuntime`, which only parses what it is given.
public enum RuntimeLoader {
    /// Reads `path` (`ConfigFile.read`), parses it (`ConfigLoader.parse`) and loads every
    /// issuer's keys, reporting every
    /// problem in one pass: when the file has errors, the keys of each issuer whose own entry
    /// is valid are still loaded from files and the environment, and their errors join the
    /// file's. Remote keys are fetched only for a valid file.
    /// - Parameters:
    ///   - environment: the process environment (for `${NAME}` and `secret_env`).
    ///   - remoteKeys: key stores for issuers with remote keys; without it such an issuer is
    ///     a config error.
    ///   - revocation: the `revocation:` lists' loader; without it a `revocation:` section is
    ///     a config error.
    /// - Throws: `ConfigErrors` in file order (line, then column).
    public static func load(path: String, environment: [String: String],
                            remoteKeys: RemoteKeyStoreProvider? = nil,
                            revocation: RevocationStoreProvider? = nil) throws(ConfigErrors) -> GatewayRuntime {
        try load(path: path, environment: environment, remoteKeys: remoteKeys, revocation: revocation, prefetch: nil)
    }

    /// `load` with remote keys from `jwks`, whose first fetches all start at once.
    /// - Parameter startWithoutKeys: an issuer whose first fetch fails starts without keys
    ///   (retried) instead of being a config error — for `serve` at startup only.
    public static func load(path: String, environment: [String: String], jwks: JWKSService,
                            startWithoutKeys: Bool,
                            revocation: RevocationStoreProvider? = nil) throws(ConfigErrors) -> GatewayRuntime {
        try load(path: path, environment: environment, remoteKeys: jwks.remoteKeys(startWithoutKeys: startWithoutKeys),
                 revocation: revocation, prefetch: { jwks.prefetch($0) })
    }

    private static func load(path: String, environment: [String: String], remoteKeys: RemoteKeyStoreProvider?,
                             revocation: RevocationStoreProvider?,
                             prefetch: ((_ issuers: [IssuerConfig]) -> Void)?) throws(ConfigErrors) -> GatewayRuntime {
        let material = KeyMaterialProvider.files(environment: environment, remoteKeys: remoteKeys)
        let config: GatewayConfig
        do {
            config = try ConfigLoader.parse(contents: ConfigFile.read(path), path: path, environment: { environment[$0] })
        } catch {
            var errors = error.errors
            for issuer in error.parsedIssuers where !issuer.hasRemoteKeys {
                do {
                    _ = try GatewayRuntime.keySet(of: issuer, keyMaterial: material)
                } catch {
                    errors.append(error)
                }
            }
            throw ConfigErrors(errors).sortedByLocation()
        }
        prefetch?(config.issuers.filter(\.hasRemoteKeys))
        do {
            return try GatewayRuntime(config: config, keyMaterial: material, revocation: revocation)
        } catch {
            throw error.sortedByLocation()
        }
    }
}

extension KeyMaterialProvider {
    /// Key files read from the file system (`KeyFiles.read`), secrets from `environment`.
    public static func files(environment: [String: String], remoteKeys: RemoteKeyStoreProvider? = nil) -> KeyMaterialProvider {
        KeyMaterialProvider(environment: environment, readFile: { path throws(KeyFileError) in try KeyFiles.read(path) },
                            remoteKeys: remoteKeys)
    }
}

/// Reading key files. Key files are read at config load only, never per request.
public enum KeyFiles {
    /// Largest key file read, bytes.
    public static let maxBytes = 16 * 1024 * 1024

    /// The whole file at `path`.
    /// - Throws: `KeyFileError` saying why it cannot be read (missing, a directory, no
    ///   permission, over `maxBytes`).
    public static func read(_ path: String) throws(KeyFileError) -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw KeyFileError(reason: FileProblem.describe(path)) }
        defer { fclose(f) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n > 0 { out.append(contentsOf: chunk[0..<n]) }
            if out.count > maxBytes { throw KeyFileError(reason: "larger than \(maxBytes) bytes") }
            if n < chunk.count { break }
        }
        guard ferror(f) == 0 else { throw KeyFileError(reason: FileProblem.describe(path)) }
        return out
    }
}
