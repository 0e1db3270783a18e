import ArgumentParser
import Dispatch
import GatewayCore
import GatewayPolicy
import GatewayServer
import GatewayTracing
import GatewayTLS
import Logging
import Metrics
import Prometheus

#if canImport(Glibc)
import Glibc
#endif

/// `gateway serve`: runs the gateway until SIGTERM/SIGINT.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway.",
        discussion: """
            Logs are JSON lines on standard output: one "request" line per request, plus
            diagnostics. The admin listener (admin.address) serves /healthz, /readyz, /metrics
            and POST /reload. With `decision:` in the config, the decision listener
            (decision.address; HTTPS and mutual TLS with decision.tls) answers forward-auth
            requests from an ingress (docs/forward-auth.md).

            SIGTERM/SIGINT: stop accepting, finish in-flight requests (up to limits.drain_timeout), exit 0.
            SIGHUP (or POST /reload): reload gateway.yml; a bad file is logged and the running config stays.

            --listen and --admin override listen.address and admin.address (HOST:PORT, [IPv6]:PORT;
            port 0 = any free port); they stay in force across reloads.

            An identity provider that cannot be reached at startup does not stop the gateway: the
            error is logged, its JWK Set is retried (1 s doubling to 60 s), /readyz answers 503
            naming the issuer, and requests whose token names it get 503 with Retry-After.

            Examples:
              gateway serve --config gateway.yml --log-level info
              gateway serve --listen 0.0.0.0:8080 --admin 127.0.0.1:9090
            """)

    @OptionGroup var options: ConfigOption

    @Option(help: "Serial queues (event loops) to spread connections over; default one per core.")
    var loops: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (default: log.level from the config, else info).")
    var logLevel: String?

    @Option(help: "Address to listen on (HOST:PORT), instead of listen.address.")
    var listen: String?

    @Option(help: "Admin listener address (HOST:PORT), instead of admin.address.")
    var admin: String?

    func validate() throws {
        for (flag, value) in [("--listen", listen), ("--admin", admin)] {
            guard let value else { continue }
            do { _ = try ConfigScalars.listenAddress(value) } catch {
                guard case .invalid(let why) = error else { continue }
                throw ValidationError("\(flag) \(value): \(why)")
            }
        }
        if let loops, loops < 1 || loops > 256 { throw ValidationError("--loops must be 1...256") }
        if let logLevel, Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() throws {
        // Signals are caught from here on: a SIGHUP while the keys load (systemd's
        // ExecReload can send one at any time) is remembered, never fatal.
        let signals = SignalHandling()
        // The level comes from --log-level, else from the config's log.level (read once at start).
        let environment = ProcessEnvironment.current()
        let configured = logLevel ?? (try? ConfigLoader.parse(contents: ConfigFile.read(options.config), path: options.config,
                                                              environment: { environment[$0] }))?.logLevel
        let level = configured.flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
        let logger = Logger(label: "gateway")
        signals.logger = logger
        let metrics = GatewayMetrics()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))

        let jwks = JWKSService(logger: logger)
        // An identity provider that is down does not stop the start: its issuer's requests are
        // answered 503 and /readyz names it until its keys arrive.
        let revocation = RevocationService(jwks: jwks, metrics: metrics, logger: logger, watch: true)
        let runtime = try loadRuntime(path: options.config, jwks: jwks, startWithoutKeys: true, revocation: revocation)
        let tls: TLSServerContext?
        let decisionTLS: TLSServerContext?
        do throws(ConfigErrors) {
            tls = try ListenTLS.context(runtime.config)
            decisionTLS = try ListenTLS.decisionContext(runtime.config)
        } catch {
            for e in error.errors { printError(e.description) }
            throw ExitCode(1)
        }
        let waiting = runtime.issuersWithoutKeys()
        logger.info("keys loaded", metadata: ["issuers": .stringConvertible(runtime.issuers.count),
                                             "issuers_without_keys": .array(waiting.map { .string($0) })])
        metrics.recordReload(success: true, now: SystemClock().wholeWallSeconds)
        for w in runtime.warnings { logger.warning("\(w)") }
        // Span export is set at start; a reload does not change it.
        let exporter = runtime.config.tracing.map { t in
            var settings = OTLPExporter.Settings(url: t.tracesURL, serviceName: t.serviceName)
            settings.sampleRatio = t.sampleRatio
            return OTLPExporter(settings: settings, logger: logger)
        }
        exporter?.start()
        let server = GatewayServer(runtime: runtime, loopCount: loops, jwks: jwks, tls: tls, logger: logger, metrics: metrics,
                                   exporter: exporter)
        let listen = self.listen.flatMap { try? ConfigScalars.listenAddress($0) } ?? runtime.config.listen
        do {
            try server.start(host: listen.host, port: listen.port)
        } catch {
            printError("gateway: cannot listen on \(listen.host):\(listen.port): \(error)")
            throw ExitCode(1)
        }
        let reloader = ConfigReloader(path: options.config, initial: runtime, server: server, metrics: metrics,
                                      jwks: jwks, revocation: revocation, logger: logger)
        let adminAddress = admin.flatMap { try? ConfigScalars.listenAddress($0) }
            ?? runtime.config.admin ?? .defaultAdmin
        let adminServer: AdminServer
        do {
            adminServer = try AdminServer(host: adminAddress.host, port: adminAddress.port, metrics: metrics, reloader: reloader,
                                    jwks: jwks)
        } catch {
            printError("gateway: cannot listen on admin address \(adminAddress.host):\(adminAddress.port): \(error)")
            throw ExitCode(1)
        }
        // The decision listener (docs/forward-auth.md): the same loops' code, its own address.
        var decisionServer: GatewayServer?
        if let decision = runtime.config.decision {
            let d = GatewayServer(runtime: runtime, loopCount: loops, jwks: jwks, tls: decisionTLS, logger: logger,
                                  metrics: metrics, role: .decision)
            do {
                try d.start(host: decision.host, port: decision.port)
            } catch {
                printError("gateway: cannot listen on decision address \(decision.host):\(decision.port): \(error)")
                throw ExitCode(1)
            }
            reloader.alsoUpdateDecisions(d)
            decisionServer = d
        }
        var listening: Logger.Metadata = [
            "address": .string(listen.host), "port": .stringConvertible(Int(server.port)),
            "admin_port": .stringConvertible(Int(adminServer.port)), "routes": .stringConvertible(runtime.config.routes.count),
            "scheme": .string(tls == nil ? "http" : "https"),
        ]
        if let decisionServer {
            listening["decision_port"] = .stringConvertible(Int(decisionServer.port))
            listening["decision_scheme"] = .string(decisionTLS == nil ? "http" : "https")
        }
        logger.info("listening", metadata: listening)
        signals.started(server: server, reloader: reloader)
        withExtendedLifetime((adminServer, signals, decisionServer)) { MainThread.park() }
    }
}

/// SIGTERM/SIGINT (drain and exit 0) and SIGHUP (reload) through Dispatch signal sources,
/// installed when `serve` starts. Until the server runs (keys still loading), SIGTERM/SIGINT
/// exit at once (nothing is in flight) and a SIGHUP is kept and performed once the server
/// runs (the config it loaded may already be stale).
///
/// `@unchecked Sendable`: mutable state is touched on `queue` only.
final class SignalHandling: @unchecked Sendable {
    private let queue = DispatchQueue(label: "gateway.signals")
    private var sources: [DispatchSourceSignal] = []
    private var server: GatewayServer?
    private var reloader: ConfigReloader?
    private var reloadPending = false
    private var stopping = false
    private var _logger: Logger?
    /// Set once logging is bootstrapped (signals before that are handled but not logged).
    var logger: Logger? {
        get { queue.sync { _logger } }
        set { queue.sync { _logger = newValue } }
    }

    init() {
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            // The default action (terminate) must never run: Dispatch sees the signal instead.
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            s.setEventHandler { [unowned self] in self.received(sig) }
            s.resume()
            sources.append(s)
        }
    }

    /// The server runs: later signals act on it; a SIGHUP received during start-up reloads now.
    func started(server: GatewayServer, reloader: ConfigReloader) {
        queue.sync {
            self.server = server
            self.reloader = reloader
            if reloadPending {
                reloadPending = false
                _logger?.info("reloading: SIGHUP received during start-up")
                reloader.reload()
            }
        }
    }

    private func received(_ sig: Int32) {
        switch sig {
        case SIGHUP:
            if let reloader { reloader.reload() } else {
                reloadPending = true
                _logger?.info("SIGHUP during start-up: reload queued until the server runs")
            }
        default:
            guard !stopping else { return }
            stopping = true
            _logger?.info("shutting down", metadata: ["signal": .stringConvertible(Int(sig))])
            guard let server else {
                exit(0)  // still starting: nothing in flight
            }
            let logger = _logger
            server.shutdown {  // the current config's drain_timeout (reloads included)
                logger?.info("stopped")
                exit(0)
            }
        }
    }
}
