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
/// `PATH:LINE:COLUMN: message`, then exit code 1. Remote JWK Sets (`jwks_url`) are fetched
/// through `jwks` (waiting for each first fetch).
/// Without `revocation`, a one-shot revocation loader on `jwks` validates `revocation:` documents
/// (url fetched once, nothing watched); without `jwks` either, only a revocation file can be read.
func loadRuntime(path: String, jwks: JWKSService?, revocation: RevocationService? = nil) throws -> GatewayRuntime {
    let env = ProcessEnvironment.current()
    let revocation = revocation
        ?? jwks.map { RevocationService(jwks: $0, metrics: nil, logger: makeLogger(level: .warning), watch: false) }
    do {
        return try ConfigFile.loadRuntime(path: path, environment: env, remoteKeys: jwks.map { $0.keyStore(for:url:) },
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
