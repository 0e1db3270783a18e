import Dispatch
import GatewayHTTP

#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server for the gateway's own endpoints (the admin listener, the demo
/// echo upstream): one serial queue, Dispatch sources, the same strict request parser as
/// the public listener. Request bodies are capped at `maxBodyBytes` and handed to the
/// handler whole; responses are small and written with Content-Length.
///
/// `@unchecked Sendable`: all mutable state is confined to `queue`.
public final class SimpleHTTPServer: @unchecked Sendable {
    /// One request as the handler sees it.
    public struct Request: Sendable {
        public var head: HTTPRequestHead
        public var body: [UInt8]
    }

    /// What the handler answers.
    public struct Response: Sendable {
        public var status: Int
        public var fields: [HTTPField]
        public var body: [UInt8]
        public init(status: Int, contentType: String, body: [UInt8]) {
            self.status = status
            self.fields = [HTTPField(name: "Content-Type", value: contentType)]
            self.body = body
        }
    }

    /// Called on `queue`; `respond` may be called later (asynchronously), exactly once.
    public typealias Handler = @Sendable (Request, _ respond: @escaping @Sendable (Response) -> Void) -> Void

    let queue: DispatchQueue
    private let fd: Int32
    private var acceptSource: DispatchSourceRead?
    private var connections: [Int32: SimpleHTTPConnection] = [:]
    private let handler: Handler
    let maxBodyBytes: Int
    /// The bound port.
    public let port: UInt16

    /// Binds `host:port` (port 0: any free port) and starts serving.
    /// - Throws: `SocketError`.
    public init(host: String, port: UInt16, label: String, maxBodyBytes: Int = 64 * 1024,
                handler: @escaping Handler) throws(SocketError) {
        let (fd, bound) = try Socket.listen(host: host, port: port, backlog: 128)
        self.fd = fd
        self.port = bound
        self.queue = DispatchQueue(label: label)
        self.handler = handler
        self.maxBodyBytes = maxBodyBytes
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [weak self] in self?.acceptAll() }
        source.setCancelHandler { Glibc.close(fd) }
        acceptSource = source
        source.resume()
    }

    /// Stops accepting and closes every connection.
    public func stop() {
        queue.async {
            self.acceptSource?.cancel()
            self.acceptSource = nil
            for c in self.connections.values { c.close() }
        }
    }

    private func acceptAll() {
        var accepted = 0
        while accepted < 64, let (cfd, _) = Socket.accept(fd) {
            accepted += 1
            guard connections.count < 256 else { Glibc.close(cfd); continue }
            let c = SimpleHTTPConnection(fd: cfd, server: self, handler: handler)
            connections[cfd] = c
            c.start()
        }
    }

    func closed(_ fd: Int32) { connections[fd] = nil }
}

/// One connection of a `SimpleHTTPServer`; requests are answered one at a time, in order.
final class SimpleHTTPConnection: @unchecked Sendable {
    let fd: Int32
    weak var server: SimpleHTTPServer?
    let queue: DispatchQueue
    let maxBodyBytes: Int
    /// Response bytes not yet written, and the write source waiting for room.
    var pending: [UInt8] = []
    var pendingKeepAlive = false
    var writer: DispatchSourceWrite?
    /// Live Dispatch sources plus the connection itself; the descriptor is closed at zero.
    var live = 2
    let handler: SimpleHTTPServer.Handler
    let source: DispatchSourceRead
    var parser = HTTPRequestParser()
    var buffer: [UInt8] = []
    var head: HTTPRequestHead?
    var body: [UInt8] = []
    var busy = false
    var isClosed = false

    init(fd: Int32, server: SimpleHTTPServer, handler: @escaping SimpleHTTPServer.Handler) {
        self.fd = fd
        self.server = server
        self.queue = server.queue
        self.maxBodyBytes = server.maxBodyBytes
        self.handler = handler
        self.source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: server.queue)
    }

    func start() {
        source.setEventHandler { [weak self] in self?.readable() }
        source.setCancelHandler { [self] in released() }
        source.resume()
    }

    /// One holder (a source's cancel handler, or `close`) is done with the descriptor.
    private func released() {
        live -= 1
        if live == 0 { Glibc.close(fd) }
    }

    private func readable() {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) { close(); return }
        if n < 0 { return }
        buffer.append(contentsOf: chunk[0..<n])
        if buffer.count > 64 * 1024 + maxBodyBytes { close(); return }
        process()
    }

    private func process() {
        while !isClosed && !busy {
            let r: (event: HTTPParserEvent?, consumed: Int)
            do {
                r = try buffer.withUnsafeBytes { try parser.parse($0) }
            } catch let e as HTTPParseError {
                send(SimpleHTTPServer.Response(status: e.status, contentType: "text/plain", body: Array((e.reason + "\n").utf8)),
                     keepAlive: false)
                return
            } catch {
                close()
                return
            }
            let base = buffer.startIndex
            switch r.event {
            case .head(let h)?:
                head = h
                body = []
            case .body(let range)?:
                body.append(contentsOf: buffer[(base + range.lowerBound)..<(base + range.upperBound)])
                if body.count > maxBodyBytes {
                    buffer.removeFirst(r.consumed)
                    send(SimpleHTTPServer.Response(status: 413, contentType: "text/plain", body: Array("body too large\n".utf8)),
                         keepAlive: false)
                    return
                }
            case .end?:
                if let h = head {
                    busy = true
                    let request = SimpleHTTPServer.Request(head: h, body: body)
                    let keepAlive = h.keepAlive
                    handler(request) { [weak self] response in
                        guard let self else { return }
                        self.queue.async { self.send(response, keepAlive: keepAlive) }
                    }
                }
                head = nil
            case nil:
                if r.consumed == 0 { buffer.removeFirst(r.consumed); return }
            }
            buffer.removeFirst(r.consumed)
        }
    }

    private func send(_ response: SimpleHTTPServer.Response, keepAlive: Bool) {
        guard !isClosed else { return }
        var fields = response.fields
        fields.append(HTTPField(name: "Content-Length", value: String(response.body.count)))
        if !keepAlive { fields.append(HTTPField(name: "Connection", value: "close")) }
        pending = HTTPResponseHead(status: response.status, fields: fields).serialized()
        pending.append(contentsOf: response.body)
        pendingKeepAlive = keepAlive
        writePending()
    }

    /// Writes what the socket takes; waits on a write source for the rest, so a client that
    /// does not read never blocks the queue (the admin endpoints share it).
    private func writePending() {
        guard !isClosed else { return }
        while !pending.isEmpty {
            let n = pending.withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { pending.removeFirst(n); continue }
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                if writer == nil {
                    let w = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
                    w.setEventHandler { [weak self] in self?.writePending() }
                    live += 1
                    w.setCancelHandler { [self] in released() }
                    writer = w
                    w.resume()
                }
                return
            }
            close()
            return
        }
        if let w = writer {
            writer = nil
            w.cancel()
        }
        busy = false
        if !pendingKeepAlive { close(); return }
        process()
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        source.cancel()
        writer?.cancel()
        writer = nil
        server?.closed(fd)
        released()
    }
}
