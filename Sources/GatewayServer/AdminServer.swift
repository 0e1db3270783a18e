import GatewayCore
import GatewayHTTP
import GatewayJOSE

/// The admin listener (SPEC §5): `/healthz`, `/readyz`, `/metrics`, `POST /reload`, on its
/// own address (default 127.0.0.1:9090), never on the public listener.
public final class AdminServer: Sendable {
    private let server: SimpleHTTPServer
    public var port: UInt16 { server.port }

    /// - Throws: `SocketError` when the address cannot be bound.
    public init(host: String, port: UInt16, metrics: GatewayMetrics, reloader: ConfigReloader,
                jwks: JWKSService?) throws(SocketError) {
        server = try SimpleHTTPServer(host: host, port: port, label: "gateway.admin") { request, respond in
            AdminServer.handle(request, metrics: metrics, reloader: reloader, jwks: jwks, respond: respond)
        }
    }

    public func stop() { server.stop() }

    static func json(_ status: Int, _ value: JSONValue) -> SimpleHTTPServer.Response {
        SimpleHTTPServer.Response(status: status, contentType: "application/json",
                                  body: Array((JSONWriter.serialize(value) + "\n").utf8))
    }

    static func handle(_ request: SimpleHTTPServer.Request, metrics: GatewayMetrics, reloader: ConfigReloader,
                       jwks: JWKSService?, respond: @escaping @Sendable (SimpleHTTPServer.Response) -> Void) {
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
                respond(SimpleHTTPServer.Response(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                                                  body: metrics.exposition()))
            }
        case "/reload":
            only("POST") {
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
