import GatewayCore
import GatewayHTTP
import GatewayJOSE
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The admin listener: `/healthz`, `/readyz`, `/metrics`, `POST /reload`, on its own address
/// (default 127.0.0.1:9090), never on the public listener.
///
/// It runs on the same connection code as the public listener, with the same header, idle
/// and write-progress timeouts, and its own connection cap (`maxConnections`); at the cap a
/// new connection takes the place of the one that waited longest without a request, so
/// silent clients cannot keep the probes out. `POST /reload` is accepted from a loopback peer,
/// or with `Authorization: Bearer <value of the variable named by admin.token_env>`; else 403.
public final class AdminServer: Sendable {
    private let server: GatewayServer
    public var port: UInt16 { server.port }
    /// Connections the admin listener keeps open at most.
    public static let maxConnections = 64

    /// - Throws: `SocketError` when the address cannot be bound.
    public init(host: String, port: UInt16, metrics: GatewayMetrics, reloader: ConfigReloader,
                jwks: JWKSService?, logger: Logger = Logger(label: "gateway.admin"),
                environment: @escaping @Sendable (String) -> String? = AdminServer.environmentValue) throws(SocketError) {
        server = GatewayServer(runtime: reloader.current, label: "gateway.admin", maxConnections: AdminServer.maxConnections,
                               localMaxBody: 64 * 1024, logger: logger, metrics: metrics) { request, respond in
            AdminServer.handle(request, metrics: metrics, reloader: reloader, jwks: jwks, environment: environment,
                               respond: respond)
        }
        try server.start(host: host, port: port)
        reloader.alsoUpdate(server)
    }

    public func stop() { server.stop() }

    /// The value of an environment variable, read when a reload is asked for (so a rotated
    /// secret applies without a restart).
    public static let environmentValue: @Sendable (String) -> String? = { name in
        getenv(name).map { String(cString: $0) }
    }

    static func json(_ status: Int, _ value: JSONValue) -> GatewayResponse {
        GatewayResponse(status: status, fields: [GatewayResponse.jsonContentType],
                        body: Array((JSONWriter.serialize(value) + "\n").utf8))
    }

    static func handle(_ request: LocalRequest, metrics: GatewayMetrics, reloader: ConfigReloader, jwks: JWKSService?,
                       environment: (String) -> String?, respond: @escaping @Sendable (GatewayResponse) -> Void) {
        let path = request.head.target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let method = request.head.method
        func only(_ allowed: String, _ body: () -> Void) {
            if method == allowed || (allowed == "GET" && method == "HEAD") { body() } else {
                var r = json(405, .object([("error", .string("method_not_allowed"))]))
                r.fields.append(HTTPField(name: "Allow", value: allowed))
                respond(r)
            }
        }
        switch path {
        case "/healthz":
            only("GET") { respond(json(200, .object([("status", .string("ok"))]))) }
        case "/readyz":
            only("GET") {
                let runtime = reloader.current
                let missing = runtime.issuersWithoutKeys()
                let revocation = runtime.revocationReadinessProblem(now: wallClockSeconds())
                if missing.isEmpty && revocation == nil {
                    respond(json(200, .object([("status", .string("ready"))])))
                } else {
                    var body: [(String, JSONValue)] = [("status", .string("not_ready"))]
                    if !missing.isEmpty { body.append(("issuers_without_keys", .array(missing.map { .string($0) }))) }
                    if let revocation { body.append(("revocation", .string(revocation))) }
                    respond(json(503, .object(body)))
                }
            }
        case "/metrics":
            only("GET") {
                metrics.sync(runtime: reloader.current, jwksRefreshTotals: jwks?.refreshTotals ?? [:],
                             jwksAges: jwks?.keySetAges(now: wallClockSeconds()) ?? [:])
                respond(GatewayResponse(status: 200,
                                        fields: [HTTPField(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")],
                                        body: metrics.exposition()))
            }
        case "/reload":
            only("POST") {
                let tokenEnv = reloader.current.config.adminTokenEnv
                guard AdminAccess.mayReload(peer: request.peer, fields: request.head.fields,
                                            expectedToken: tokenEnv.flatMap(environment)) else {
                    respond(json(403, .object([
                        ("error", .string("forbidden")),
                        ("error_description", .string("reload needs a loopback peer or the admin token")),
                    ])))
                    return
                }
                reloader.reload { result in
                    switch result {
                    case .success(let runtime):
                        respond(json(200, .object([
                            ("status", .string("reloaded")),
                            ("routes", .number(Double(runtime.config.routes.count))),
                        ])))
                    case .failure(let errors):
                        respond(json(400, .object([
                            ("status", .string("refused")),
                            ("errors", .array(errors.errors.map { .string($0.description) })),
                        ])))
                    }
                }
            }
        default:
            respond(json(404, .object([("error", .string("not_found"))])))
        }
    }
}
