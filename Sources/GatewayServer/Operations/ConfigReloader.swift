import Dispatch
import GatewayCore
import GatewayPolicy
import GatewayTLS
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Reloads `gateway.yml` on SIGHUP or `POST /reload`: parse and validate the new
/// file, load its keys and re-read the listeners' certificates and keys; on any error keep serving the old config and say why; on
/// success swap it in for new requests (requests in flight finish on the config they
/// started with). Reloads are serialised on one queue.
///
/// `@unchecked Sendable`: `current` is guarded by `lock`; reloads run on `queue`.
public final class ConfigReloader: @unchecked Sendable {
    let path: String
    let server: GatewayServer
    let metrics: GatewayMetrics
    let jwks: JWKSService?
    let revocation: RevocationService?
    let logger: Logger
    private let queue = DispatchQueue(label: "gateway.reload")
    private let lock = Mutex()
    private var runtime: GatewayRuntime
    /// Other listeners whose limits follow reloads (the admin listener); touched on `queue`.
    private var followers: [GatewayServer] = []
    /// The decision listener, whose certificates (`decision.tls`) follow reloads; touched on `queue`.
    private var decisionServer: GatewayServer?

    /// - Parameters:
    ///   - jwks: fetches and keeps refreshing the JWK Sets of `jwks_url` issuers.
    ///   - revocation: loads and keeps current the `revocation:` lists (the file is re-read on reload).
    public init(path: String, initial: GatewayRuntime, server: GatewayServer, metrics: GatewayMetrics,
                jwks: JWKSService?, revocation: RevocationService? = nil, logger: Logger) {
        self.path = path
        self.jwks = jwks
        self.revocation = revocation
        self.runtime = initial
        self.server = server
        self.metrics = metrics
        self.logger = logger
    }

    /// The config new requests use.
    public var current: GatewayRuntime {
        lock.withLock { runtime }
    }

    /// Makes `server` take each reloaded runtime too (its timeouts follow the config).
    public func alsoUpdate(_ server: GatewayServer) {
        queue.async { self.followers.append(server) }
    }

    /// Makes the decision listener take each reloaded runtime and its `decision.tls`
    /// certificates (new handshakes use them; open connections keep theirs).
    public func alsoUpdateDecisions(_ server: GatewayServer) {
        queue.async {
            self.followers.append(server)
            self.decisionServer = server
        }
    }

    /// Reloads asynchronously; `done` gets the new runtime or the errors.
    public func reload(done: @escaping @Sendable (Result<GatewayRuntime, ConfigErrors>) -> Void = { _ in }) {
        queue.async {
            let result = self.reloadNow()
            done(result)
        }
    }

    private func reloadNow() -> Result<GatewayRuntime, ConfigErrors> {
        let env = ProcessEnvironment.current()
        let next: GatewayRuntime
        let tls: TLSServerContext?
        let decisionTLS: TLSServerContext?
        do throws(ConfigErrors) {
            // A new remote key source must answer: a reload never starts an issuer without keys.
            if let jwks {
                next = try RuntimeLoader.load(path: path, environment: env, jwks: jwks, startWithoutKeys: false,
                                              revocation: revocation.map { $0.store(for:) })
            } else {
                next = try RuntimeLoader.load(path: path, environment: env)
            }
            // New handshakes use the new certificates; an unreadable or mismatched pair refuses
            // the reload and the running context stays.
            tls = try ListenTLS.context(next.config)
            // The decision listener's likewise: a bad pair there refuses the whole reload.
            decisionTLS = try ListenTLS.decisionContext(next.config)
        } catch {
            metrics.recordReload(success: false, now: wallClockSeconds())
            // Sources fetched for the refused file are dropped; the running config's stay.
            jwks?.retain(runtime: current)
            revocation?.retain(runtime: current)
            logger.error("config reload refused; keeping the running config",
                         metadata: ["errors": .array(error.errors.map { .string($0.description) })])
            return .failure(error)
        }
        let previous = current
        if next.config.listen != previous.config.listen {
            logger.warning("listen.address changed: it takes effect after a restart")
        }
        if next.config.admin != previous.config.admin {
            logger.warning("admin.address changed: it takes effect after a restart")
        }
        if next.config.decision != previous.config.decision {
            logger.warning("decision.address changed: it takes effect after a restart")
        }
        // The old config's token cache goes away with it: fold its counts into the metrics first.
        metrics.sync(runtime: previous, jwksRefreshTotals: jwks?.refreshTotals ?? [:])
        // Issuers dropped from the config stop refreshing.
        jwks?.retain(runtime: next)
        revocation?.retain(runtime: next)
        lock.withLock { runtime = next }
        server.replaceRuntime(next)
        server.replaceTLSContext(tls)
        decisionServer?.replaceTLSContext(decisionTLS)
        for f in followers { f.replaceRuntime(next) }
        metrics.recordReload(success: true, now: wallClockSeconds())
        for w in next.warnings { logger.warning("\(w)") }
        logger.info("config reloaded", metadata: ["routes": .stringConvertible(next.config.routes.count)])
        return .success(next)
    }
}

/// The process environment (for `${NAME}` interpolation and `secret_env`).
public enum ProcessEnvironment {
    public static func current() -> [String: String] {
        var env: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") {
                env[String(s[..<eq])] = String(s[s.index(after: eq)...])
            }
            p += 1
        }
        return env
    }
}
