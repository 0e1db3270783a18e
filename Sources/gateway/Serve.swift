import ArgumentParser
import Dispatch
import GatewayCore
import GatewayPolicy
import GatewayServer
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `gateway serve`: runs the gateway until SIGTERM/SIGINT.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the gateway.",
        discussion: """
            SIGTERM/SIGINT: stop accepting, finish in-flight requests (up to limits.drain_timeout), exit 0.
            SIGHUP: reload gateway.yml; a bad file is logged and the running config stays.

            Example:
              gateway serve --config gateway.yml
            """)

    @OptionGroup var options: ConfigOption

    @Option(help: "Serial queues (event loops) to spread connections over; default one per core.")
    var loops: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        if let loops, loops < 1 || loops > 256 { throw ValidationError("--loops must be 1...256") }
        if Logger.Level(rawValue: logLevel) == nil { throw ValidationError("unknown --log-level \(logLevel)") }
    }

    func run() throws {
        let logger = makeLogger(level: Logger.Level(rawValue: logLevel) ?? .info)
        let runtime = try loadRuntime(path: options.config)
        for w in runtime.warnings { logger.warning("\(w)") }
        let server = GatewayServer(runtime: runtime, loopCount: loops, logger: logger)
        let listen = runtime.config.listen
        do {
            try server.start(host: listen.host, port: listen.port)
        } catch {
            printError("gateway: cannot listen on \(listen.host):\(listen.port): \(error)")
            throw ExitCode(1)
        }
        logger.info("listening", metadata: ["address": "\(listen.host)", "port": "\(server.port)",
                                            "routes": "\(runtime.config.routes.count)"])
        SignalHandling.install(server: server, configPath: options.config, initial: runtime, logger: logger)
        dispatchMain()
    }
}

/// SIGTERM/SIGINT (drain and exit) and SIGHUP (reload) through Dispatch signal sources.
enum SignalHandling {
    nonisolated(unsafe) static var sources: [DispatchSourceSignal] = []

    static func install(server: GatewayServer, configPath: String, initial: GatewayRuntime, logger: Logger) {
        let queue = DispatchQueue(label: "gateway.signals")
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            s.setEventHandler {
                logger.info("shutting down", metadata: ["signal": "\(sig)"])
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
        hup.setEventHandler {
            let env = processEnvironment()
            do {
                let config = try ConfigLoader.load(path: configPath, environment: env)
                let runtime = try GatewayRuntime(config: config, environment: env)
                if runtime.config.listen != initial.config.listen {
                    logger.warning("listen.address changed: takes effect after a restart")
                }
                server.replaceRuntime(runtime)
                logger.info("config reloaded", metadata: ["routes": "\(runtime.config.routes.count)"])
            } catch {
                logger.error("config reload refused; keeping the running config",
                             metadata: ["errors": "\(error)"])
            }
        }
        hup.resume()
        sources.append(hup)
    }
}
