import ArgumentParser
import Dispatch
import GatewayCore
import GatewayJOSE
import GatewayPolicy
import GatewayServer
import Metrics
import Prometheus

#if canImport(Glibc)
import Glibc
#endif

/// `gateway demo`: an echo upstream, the gateway in front of it with throw-away keys, and
/// ready-to-paste curl commands.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a self-contained demo: echo upstream, gateway, throw-away keys, curl commands.",
        discussion: """
            Prints complete commands to paste into another terminal: four requests (allowed,
            missing scope, expired, no token) and the admin listener's /metrics and /readyz.

            Example:
              gateway demo --port 8080 --admin-port 9090
            """)

    @Option(help: "Port for the gateway on 127.0.0.1 (0 = any free port).") var port: UInt16 = 8080
    @Option(help: "Port for the admin listener (/metrics, /readyz, /healthz) on 127.0.0.1 (0 = any free port).")
    var adminPort: UInt16 = 9090

    func run() throws {
        let echo = try EchoUpstream()
        var template = [CChar]("/tmp/gateway-demo-XXXXXX".utf8CString)
        guard let dirPtr = mkdtemp(&template) else {
            printError("gateway: cannot create a temporary directory")
            throw ExitCode(1)
        }
        let dir = String(cString: dirPtr)
        let removeFiles: @Sendable () -> Void = {
            // Throw-away keys and config: leave nothing behind.
            _ = unlink("\(dir)/gateway.yml")
            _ = unlink("\(dir)/jwks.json")
            _ = rmdir(dir)
        }
        let key = try SigningKey.generate(for: .ES256)
        let jwk = key.publicJWK(keyID: "demo-es256", algorithm: .ES256)!
        try writeFile("\(dir)/jwks.json", JSONWriter.serialize(.object([("keys", .array([jwk]))])))
        let issuer = "https://demo.gateway.invalid/"
        let yaml = """
            listen:
              address: 127.0.0.1:\(port)
            issuers:
              - name: demo
                issuer: \(issuer)
                audiences: [orders-api]
                algorithms: [ES256]
                jwks_file: jwks.json
            upstreams:
              echo:
                url: http://127.0.0.1:\(echo.port)
            routes:
              - name: status
                match: {path: /status}
                upstream: echo
                auth: public
              - name: orders
                match: {path_prefix: /orders}
                upstream: echo
                auth:
                  issuers: [demo]
                  scopes: [read:orders]

            """
        try writeFile("\(dir)/gateway.yml", yaml)
        let runtime = try loadRuntime(path: "\(dir)/gateway.yml", jwks: nil)
        let logger = makeLogger(level: .warning)
        let metrics = GatewayMetrics()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
        metrics.recordReload(success: true, now: SystemClock().wholeWallSeconds)
        let server = GatewayServer(runtime: runtime, loopCount: nil, logger: logger, metrics: metrics)
        do {
            try server.start(host: "127.0.0.1", port: port)
        } catch {
            removeFiles()
            printError("gateway: cannot listen on 127.0.0.1:\(port): \(error) (try --port 0)")
            throw ExitCode(1)
        }
        let reloader = ConfigReloader(path: "\(dir)/gateway.yml", initial: runtime, server: server, metrics: metrics,
                                      jwks: nil, logger: logger)
        let admin: AdminServer
        do {
            admin = try AdminServer(host: "127.0.0.1", port: adminPort, metrics: metrics, reloader: reloader, jwks: nil)
        } catch {
            removeFiles()
            printError("gateway: cannot listen on 127.0.0.1:\(adminPort): \(error) (try --admin-port 0)")
            throw ExitCode(1)
        }
        let now = SystemClock().wholeWallSeconds
        func mint(_ extra: [(String, JSONValue)], iat: Double, exp: Double) throws -> String {
            var claims: [(String, JSONValue)] = [
                ("iss", .string(issuer)), ("aud", .string("orders-api")), ("sub", .string("alice")),
                ("iat", .number(iat)), ("exp", .number(exp)),
            ]
            claims += extra
            return try key.sign(claims: .object(claims), algorithm: .ES256, keyID: "demo-es256")
        }
        let allowed = try mint([("scope", .string("read:orders"))], iat: now, exp: now + 3600)
        let noScope = try mint([("scope", .string("profile"))], iat: now, exp: now + 3600)
        let expired = try mint([("scope", .string("read:orders"))], iat: now - 7200, exp: now - 3600)
        let base = "http://127.0.0.1:\(server.port)"
        let adminBase = "http://127.0.0.1:\(admin.port)"
        print("""
            gateway demo: gateway on \(base), admin on \(adminBase), echo upstream on 127.0.0.1:\(echo.port)
            config: \(dir)/gateway.yml (keys: \(dir)/jwks.json)

            # 1. allowed (200, the echo shows X-Auth-Subject: alice and X-Auth-Scopes)
            curl -s -i \(base)/orders/42 -H 'Authorization: Bearer \(allowed)'

            # 2. token without the read:orders scope (403 insufficient_scope)
            curl -s -i \(base)/orders/42 -H 'Authorization: Bearer \(noScope)'

            # 3. expired token (401 invalid_token)
            curl -s -i \(base)/orders/42 -H 'Authorization: Bearer \(expired)'

            # 4. no token (401)
            curl -s -i \(base)/orders/42

            # 5. the requests above in the metrics (admin listener)
            curl -s \(adminBase)/metrics | grep -E '^gateway_(requests|auth_decisions)_total'

            # 6. readiness (admin listener)
            curl -s -i \(adminBase)/readyz

            ready; Ctrl-C to stop
            """)
        fflush(nil)
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let stop = { (sig: Int32) -> DispatchSourceSignal in
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .main)
            s.setEventHandler {
                removeFiles()
                Glibc.exit(0)
            }
            s.resume()
            return s
        }
        let sources = [stop(SIGINT), stop(SIGTERM)]
        withExtendedLifetime((echo, server, admin, reloader, sources)) { dispatchMain() }
    }
}

func writeFile(_ path: String, _ text: String) throws {
    guard let f = fopen(path, "wb") else {
        printError("gateway: cannot write \(path)")
        throw ExitCode(1)
    }
    defer { fclose(f) }
    let bytes = Array(text.utf8)
    _ = fwrite(bytes, 1, bytes.count, f)
}
