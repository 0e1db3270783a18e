import GatewayCore
import GatewayHTTP
import GatewayJOSE
import GatewayPolicy
import GatewayServer
import Logging

/// A tiny upstream for `gateway demo`: answers every request with 200 and a JSON document
/// echoing the method, target and header fields it received, so a user can see the
/// identity headers the gateway injected.
final class EchoUpstream: Sendable {
    private let server: GatewayServer
    /// The bound port on 127.0.0.1.
    var port: UInt16 { server.port }

    /// Binds 127.0.0.1 on an ephemeral port and starts serving.
    /// - Throws: `SocketError`.
    init() throws(SocketError) {
        server = GatewayServer(runtime: EchoUpstream.defaultRuntime(), label: "gateway.demo.echo", maxConnections: 256,
                               localMaxBody: 1024 * 1024, logger: Logger(label: "gateway.demo"),
                               metrics: GatewayMetrics()) { request, respond in
            let head = request.head
            let headers = JSONValue.array(head.fields.map {
                // Credentials (cookies, Authorization) never appear in the demo output.
                .object([("name", .string($0.name)), ("value", .string(LogRedaction.redactedFieldValue(name: $0.name, value: $0.value)))])
            })
            let doc = JSONValue.object([
                ("upstream", .string("gateway demo echo")),
                ("method", .string(head.method)),
                ("target", .string(head.target)),
                ("headers", headers),
                ("body_bytes", .number(Double(request.body.count))),
            ])
            respond(GatewayResponse(status: 200, fields: [GatewayResponse.jsonContentType],
                                    body: Array((JSONWriter.serialize(doc) + "\n").utf8)))
        }
        try server.start(host: "127.0.0.1", port: 0)
    }

    /// A runtime with the default limits and nothing else (the echo server has no routes).
    private static func defaultRuntime() -> GatewayRuntime {
        let config = GatewayConfig(listen: ListenAddress(host: "127.0.0.1", port: 0), admin: nil, limits: Limits(),
                                   issuers: [], upstreams: [:], identity: IdentityConfig(), routes: [])
        do {
            let nothing = KeyMaterialProvider(environment: [:], readFile: { path throws(KeyFileError) in
                throw KeyFileError(reason: "the echo server reads no key files (\(path))")
            })
            return try GatewayRuntime(config: config, keyMaterial: nothing)
        } catch {
            preconditionFailure("a config without issuers always loads: \(error)")
        }
    }
}
