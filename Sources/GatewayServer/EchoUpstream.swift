import GatewayHTTP
import GatewayJOSE

/// A tiny upstream for `gateway demo`: answers every request with 200 and a JSON document
/// echoing the method, target and header fields it received, so a user can see the
/// identity headers the gateway injected.
public final class EchoUpstream: Sendable {
    private let server: SimpleHTTPServer
    /// The bound port on 127.0.0.1.
    public var port: UInt16 { server.port }

    /// Binds 127.0.0.1 on an ephemeral port and starts serving.
    /// - Throws: `SocketError`.
    public init() throws(SocketError) {
        server = try SimpleHTTPServer(host: "127.0.0.1", port: 0, label: "gateway.demo.echo",
                                      maxBodyBytes: 1024 * 1024) { request, respond in
            let head = request.head
            let headers = JSONValue.array(head.fields.map {
                .object([("name", .string($0.name)), ("value", .string($0.value))])
            })
            let doc = JSONValue.object([
                ("upstream", .string("gateway demo echo")),
                ("method", .string(head.method)),
                ("target", .string(head.target)),
                ("headers", headers),
                ("body_bytes", .number(Double(request.body.count))),
            ])
            respond(SimpleHTTPServer.Response(status: 200, contentType: "application/json",
                                              body: Array((JSONWriter.serialize(doc) + "\n").utf8)))
        }
    }
}
