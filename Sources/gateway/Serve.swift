import ArgumentParser
import Dispatch
import GatewayCore
import GatewayPolicy
import GatewayServer
import GatewayTracing
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
            and POST /reload.

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
        // The level comes from --log-level, else from the config's log.level (read once at start).
        let environment = ProcessEnvironment.current()
        let configured = logLevel ?? (try? ConfigLoader.parse(contents: ConfigFile.read(options.config), path: options.config,
                                                              environment: { environment[$0] }))?.logLevel
        let level = configured.flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
        let logger = Logger(label: "gateway")
        let metrics = GatewayMetrics()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))

        let jwks = JWKSService(logger: logger)
        // An identity provider that is down does not stop the start: its issuer's requests are
        // answered 503 and /readyz names it until its keys arrive.
        let runtime = try loadRuntime(path: options.config, jwks: jwks, startWithoutKeys: true)
        let waiting = runtime.issuersWithoutKeys()
        logger.info("keys loaded", metadata: ["issuers": .stringConvertible(runtime.issuers.count),
                                             "issuers_without_keys": .array(waiting.map { .string($0) })])
        metrics.recordReload(success: true, now: Double(time(nil)))
        for w in runtime.warnings { logger.warning("\(w)") }
        // Span export is set at start; a reload does not change it.
        let exporter = runtime.config.tracing.map { t in
            var settings = OTLPExporter.Settings(url: t.tracesURL, serviceName: t.serviceName)
            settings.sampleRatio = t.sampleRatio
            return OTLPExporter(settings: settings, logger: logger)
        }
        exporter?.start()
        let server = GatewayServer(runtime: runtime, loopCount: loops, jwks: jwks, logger: logger, metrics: metrics,
                                   exporter: exporter)
        let listen = self.listen.flatMap { try? ConfigScalars.listenAddress($0) } ?? runtime.config.listen
        do {
            try server.start(host: listen.host, port: listen.port)
        } catch {
            printError("gateway: cannot listen on \(listen.host):\(listen.port): \(error)")
            throw ExitCode(1)
        }
        let reloader = ConfigReloader(path: options.config, initial: runtime, server: server, metrics: metrics,
                                      jwks: jwks, logger: logger)
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
        logger.info("listening", metadata: [
            "address": .string(listen.host), "port": .stringConvertible(Int(server.port)),
            "admin_port": .stringConvertible(Int(adminServer.port)), "routes": .stringConvertible(runtime.config.routes.count),
        ])
        SignalHandling.install(server: server, reloader: reloader, logger: logger)
        withExtendedLifetime(adminServer) { dispatchMain() }
    }
}

/// SIGTERM/SIGINT (drain and exit 0) and SIGHUP (reload) through Dispatch signal sources.
enum SignalHandling {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []

    static func install(server: GatewayServer, reloader: ConfigReloader, logger: Logger) {
        let queue = DispatchQueue(label: "gateway.signals")
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            s.setEventHandler {
                logger.info("shutting down", metadata: ["signal": .stringConvertible(Int(sig))])
                server.shutdown {  // the current config's drain_timeout (reloads included)
                    logger.info("stopped")
                    exit(0)
                }
            }
            s.resume()
            sources.append(s)
        }
        signal(SIGHUP, SIG_IGN)
        let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        hup.setEventHandler { reloader.reload() }
        hup.resume()
        sources.append(hup)
    }
}
