import ArgumentParser
import GatewayCore
import GatewayPolicy
import GatewayServer
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Prints one line to standard error.
func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

/// Loads and validates the config and its keys; errors printed one per line as
/// `PATH:LINE:COLUMN: message`, then exit code 1. Remote JWK Sets are fetched through `jwks`
/// (waiting for each first fetch); with `startWithoutKeys` an issuer whose first fetch fails
/// is logged and retried instead of being an error (`serve` only).
/// Without `revocation`, a one-shot revocation loader on `jwks` validates `revocation:`
/// documents (url fetched once, nothing watched).
func loadRuntime(path: String, jwks: JWKSService?, startWithoutKeys: Bool = false,
                 revocation: RevocationService? = nil) throws -> GatewayRuntime {
    let env = ProcessEnvironment.current()
    let revocation = revocation
        ?? jwks.map { RevocationService(jwks: $0, metrics: nil, logger: makeLogger(level: .warning), watch: false) }
    do {
        guard let jwks else { return try RuntimeLoader.load(path: path, environment: env) }
        return try RuntimeLoader.load(path: path, environment: env, jwks: jwks, startWithoutKeys: startWithoutKeys,
                                      revocation: revocation.map { $0.store(for:) })
    } catch {
        for e in error.errors { printError(e.description) }
        throw ExitCode(1)
    }
}

/// A logger writing to standard error.
func makeLogger(level: Logger.Level = .info) -> Logger {
    var logger = Logger(label: "gateway") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = level
    return logger
}
