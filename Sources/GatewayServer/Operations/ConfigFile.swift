// Reading gateway.yml from disk: the I/O half of loading a config (GatewayPolicy parses bytes).
import Foundation
import GatewayCore
import GatewayPolicy

/// The config file on disk.
public enum ConfigFile {
    /// The bytes of the file at `path`: at most `ConfigLoader.maxFileBytes` + 1 (so the parser
    /// can tell a file that is too large).
    /// - Throws: `ConfigErrors` with one error at `path`:1:1 when the file cannot be read.
    public static func read(_ path: String) throws(ConfigErrors) -> [UInt8] {
        let start = ConfigLocation(path: path, line: 1, column: 1)
        func unreadable() -> ConfigErrors {
            ConfigErrors([ConfigError(location: start,
                                      message: "cannot read the configuration file: \(FileProblem.describe(path))")])
        }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw unreadable() }
        defer { try? handle.close() }
        do {
            return [UInt8](try handle.read(upToCount: ConfigLoader.maxFileBytes + 1) ?? Data())
        } catch {
            throw unreadable()
        }
    }

    /// Reads the file at `path`, then validates it and loads its keys (`RuntimeLoader.load`).
    public static func loadRuntime(path: String, environment: [String: String],
                                   remoteKeys: RemoteKeyStoreProvider?,
                                   revocation: RevocationStoreProvider? = nil) throws(ConfigErrors) -> GatewayRuntime {
        try RuntimeLoader.load(path: path, environment: environment, remoteKeys: remoteKeys, revocation: revocation)
    }
}
