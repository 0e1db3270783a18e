import Dispatch
import GatewayHTTP
import GatewayJOSE

#if canImport(Glibc)
import Glibc
#endif

/// A tiny upstream for `gateway demo`: answers every request with 200 and a JSON document
/// echoing the method, target and header fields it received, so a user can see the
/// identity headers the gateway injected. Runs on one serial queue with Dispatch sources;
/// request bodies are read and discarded.
///
/// `@unchecked Sendable`: all state is confined to `queue`.
public final class EchoUpstream: @unchecked Sendable {
    private let queue = DispatchQueue(label: "gateway.demo.echo")
    private var acceptSource: DispatchSourceRead?
    private var connections: [Int32: EchoConnection] = [:]
    /// The bound port on 127.0.0.1.
    public let port: UInt16
    private let fd: Int32

    /// Binds 127.0.0.1 on an ephemeral port and starts serving.
    /// - Throws: `SocketError`.
    public init() throws(SocketError) {
        let (fd, port) = try Socket.listen(host: "127.0.0.1", port: 0)
        self.fd = fd
        self.port = port
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [weak self] in self?.acceptAll() }
        source.setCancelHandler { Glibc.close(fd) }
        acceptSource = source
        source.resume()
    }

    private func acceptAll() {
        while let (cfd, _) = Socket.accept(fd) {
            let c = EchoConnection(fd: cfd, queue: queue) { [weak self] in self?.connections[cfd] = nil }
            connections[cfd] = c
            c.start()
        }
    }
}

/// One connection of `EchoUpstream`.
final class EchoConnection: @unchecked Sendable {
    let fd: Int32
    let source: DispatchSourceRead
    var parser = HTTPRequestParser()
    var buffer: [UInt8] = []
    var head: HTTPRequestHead?
    let onClose: () -> Void
    var closed = false

    init(fd: Int32, queue: DispatchQueue, onClose: @escaping () -> Void) {
        self.fd = fd
        self.onClose = onClose
        self.source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
    }

    func start() {
        source.setEventHandler { [weak self] in self?.readable() }
        let fd = self.fd
        source.setCancelHandler { Glibc.close(fd) }
        source.resume()
    }

    private func readable() {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { close(); return }
        if n < 0 { return }
        buffer.append(contentsOf: chunk[0..<n])
        while !closed {
            let r: (event: HTTPParserEvent?, consumed: Int)
            do {
                r = try buffer.withUnsafeBytes { try parser.parse($0) }
            } catch {
                close()
                return
            }
            buffer.removeFirst(r.consumed)
            switch r.event {
            case .head(let h)?: head = h
            case .end?: if let h = head { respond(h) }; head = nil
            case .body?: continue
            case nil: if r.consumed == 0 { return }
            }
        }
    }

    private func respond(_ head: HTTPRequestHead) {
        let headers = JSONValue.array(head.fields.map {
            .object([("name", .string($0.name)), ("value", .string($0.value))])
        })
        let doc = JSONValue.object([
            ("upstream", .string("gateway demo echo")),
            ("method", .string(head.method)),
            ("target", .string(head.target)),
            ("headers", headers),
        ])
        let body = Array((JSONWriter.serialize(doc) + "\n").utf8)
        var out = HTTPResponseHead(status: 200, fields: [
            HTTPField(name: "Content-Type", value: "application/json"),
            HTTPField(name: "Content-Length", value: String(body.count)),
        ]).serialized()
        out.append(contentsOf: body)
        var sent = 0
        var attempts = 0
        while sent < out.count && attempts < 10_000 {
            attempts += 1
            let n = out.withUnsafeBytes { send(fd, $0.baseAddress! + sent, out.count - sent, Int32(MSG_NOSIGNAL)) }
            if n > 0 { sent += n } else if n < 0 && (errno == EAGAIN || errno == EINTR) { usleep(1000) } else { break }
        }
        if !head.keepAlive { close() }
    }

    private func close() {
        guard !closed else { return }
        closed = true
        source.cancel()
        onClose()
    }
}
