import Foundation
import GatewayHTTP
#if canImport(Glibc)
import Glibc
#endif

/// One request as the recording upstream received it.
public struct RecordedRequest: Sendable, Equatable {
    public var method: String
    /// The request-target exactly as sent.
    public var target: String
    /// "HTTP/1.1" or "HTTP/1.0".
    public var version: String
    /// Header fields in arrival order, names in their original case, values trimmed.
    public var fields: [HTTPField]
    /// The body, de-chunked.
    public var body: [UInt8]
    /// The body came with `Transfer-Encoding: chunked`.
    public var chunked: Bool
    /// 1-based number of the TCP connection it arrived on.
    public var connection: Int

    /// Values of every field named `name` (ASCII case-insensitive), in order.
    public func values(_ name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }
}

/// What the recording upstream answers.
public indirect enum CannedResponse: Sendable {
    /// A body with `Content-Length`.
    case fixed(status: Int, fields: [HTTPField], body: [UInt8])
    /// A body with `Transfer-Encoding: chunked`, one chunk per element.
    case chunked(status: Int, fields: [HTTPField], chunks: [[UInt8]])
    /// `length` bytes of `RecordingUpstream.patternByte`, streamed (never held in memory),
    /// with `Content-Length` or chunked (64 KiB chunks).
    case generated(status: Int, fields: [HTTPField], length: Int, chunked: Bool)
    /// Waits `seconds` (interrupted by `stop()`), then sends `then`.
    case delayed(seconds: Double, then: CannedResponse)
    /// Declares `Content-Length: declared`, sends only `sent` bytes, then closes.
    case truncated(declared: Int, sent: [UInt8])
    /// Writes these bytes as they are, then closes the connection.
    case raw([UInt8])
    /// Writes these bytes as they are and keeps the connection for the next request.
    case rawKeepOpen([UInt8])
    /// Writes each piece as it is, waiting `pause` seconds between pieces, then closes the
    /// connection (a response that fails after its head went out).
    case rawPieces([[UInt8]], pause: Double)
    /// Closes the connection without answering.
    case close

    /// 200 with a Content-Length body.
    public static func ok(body: [UInt8] = [], fields: [HTTPField] = []) -> CannedResponse {
        .fixed(status: 200, fields: fields, body: body)
    }

    /// 200 with a Content-Length body.
    public static func ok(_ text: String, fields: [HTTPField] = []) -> CannedResponse {
        .fixed(status: 200, fields: fields, body: Array(text.utf8))
    }
}

/// Why the recording upstream could not start.
public enum RecordingUpstreamError: Error, Sendable, Equatable {
    case socket(String)
}

/// A small HTTP/1.1 origin server for tests, on 127.0.0.1 with an ephemeral port.
///
/// Blocking sockets on plain threads (one accepting, one per connection). Each request is
/// recorded, then answered by `handler`. Connections are kept alive unless the request
/// or the response says `Connection: close`. Every socket has 10 s send/receive
/// timeouts; request heads are limited to 64 KiB and bodies to 64 MiB. `stop()` (also
/// run by deinit) shuts every socket down and waits up to 2 s for the threads.
///
/// `@unchecked Sendable`: the mutable state is guarded by `lock`.
public final class RecordingUpstream: @unchecked Sendable {
    public typealias Handler = @Sendable (RecordedRequest) -> CannedResponse

    /// The TCP port on 127.0.0.1.
    public let port: Int
    private let handler: Handler
    private let listener: Int32
    private let lock = NSLock()
    private var recorded: [RecordedRequest] = []
    private var accepted = 0
    private var openSockets: Set<Int32> = []
    private var stopped = false
    private let threadsDone = DispatchGroup()

    private static let maxHeadBytes = 64 * 1024
    private static let maxBodyBytes = 64 * 1024 * 1024

    /// Starts listening on 127.0.0.1:`port` (0: any free port).
    /// - Throws: `RecordingUpstreamError.socket` when the socket cannot be set up.
    public init(port: Int = 0, handler: @escaping Handler) throws {
        self.handler = handler
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RecordingUpstreamError.socket("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            let e = errno
            close(fd)
            throw RecordingUpstreamError.socket("bind/listen: errno \(e)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.listener = fd
        threadsDone.enter()
        let thread = Thread { [self] in
            acceptLoop()
            threadsDone.leave()
        }
        thread.name = "RecordingUpstream.accept"
        thread.start()
    }

    deinit {
        stop()
    }

    /// "http://127.0.0.1:PORT" + `path`.
    public func url(_ path: String = "/") -> String {
        "http://127.0.0.1:\(port)\(path)"
    }

    /// A snapshot of every request received so far, in arrival order.
    public var requests: [RecordedRequest] {
        lock.withLock { recorded }
    }

    /// How many TCP connections were accepted so far.
    public var connectionCount: Int {
        lock.withLock { accepted }
    }

    /// Closes the listener and every connection; waits up to 2 s for the threads to end.
    public func stop() {
        let sockets: Set<Int32>? = lock.withLock {
            if stopped { return nil }
            stopped = true
            return openSockets
        }
        guard let sockets else { return }
        // shutdown wakes threads blocked in recv/send; each thread closes its own socket.
        for fd in sockets { shutdown(fd, Int32(SHUT_RDWR)) }
        _ = threadsDone.wait(timeout: .now() + 2)
    }

    /// A port on 127.0.0.1 that nothing listens on (bound, then closed), for refused connects.
    public static func unusedPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return 1 }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        return ok ? Int(UInt16(bigEndian: address.sin_port)) : 1
    }

    // MARK: - Generated bodies

    /// Byte `offset` of the deterministic body of `.generated` (not periodic at small periods).
    @inline(__always)
    public static func patternByte(_ offset: Int) -> UInt8 {
        let x = UInt64(truncatingIfNeeded: offset) &* 0x9E37_79B9_7F4A_7C15
        return UInt8(truncatingIfNeeded: (x >> 56) ^ (x >> 29))
    }

    /// FNV-1a (64-bit) running hash, to compare large bodies without keeping them.
    public struct Hash: Sendable, Equatable {
        public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325
        public init() {}
        public mutating func update(_ bytes: UnsafeRawBufferPointer) {
            var v = value
            for b in bytes {
                v = (v ^ UInt64(b)) &* 0x0000_0100_0000_01B3
            }
            value = v
        }
    }

    /// The hash of the first `length` bytes of the pattern.
    public static func patternHash(length: Int) -> Hash {
        var hash = Hash()
        var piece = [UInt8](repeating: 0, count: 64 * 1024)
        var offset = 0
        while offset < length {
            let n = min(piece.count, length - offset)
            for i in 0..<n { piece[i] = patternByte(offset + i) }
            piece.withUnsafeBytes { hash.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            offset += n
        }
        return hash
    }

    // MARK: - Threads

    private var isStopped: Bool { lock.withLock { stopped } }

    private func acceptLoop() {
        defer { close(listener) }
        while !isStopped {
            var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            // Poll in short steps so that stop() is noticed without closing under accept().
            guard poll(&pfd, 1, 50) > 0 else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            let number: Int? = lock.withLock {
                if stopped { return nil }
                accepted += 1
                openSockets.insert(fd)
                return accepted
            }
            guard let number else {
                close(fd)
                break
            }
            threadsDone.enter()
            let thread = Thread { [self] in
                serve(Connection(fd: fd), number: number)
                lock.withLock { _ = openSockets.remove(fd) }
                close(fd)
                threadsDone.leave()
            }
            thread.name = "RecordingUpstream.connection"
            thread.start()
        }
    }

    /// Requests on one connection, until it closes, fails, or asks to close.
    private func serve(_ connection: Connection, number: Int) {
        for _ in 0..<10_000 {
            guard !isStopped, let request = readRequest(connection, number: number) else { return }
            lock.withLock { recorded.append(request) }
            let response = handler(request)
            let keepOpen = send(response, to: connection, request: request)
            let wantsClose = request.values("Connection").contains { $0.lowercased() == "close" }
                || request.version == "HTTP/1.0"
            if !keepOpen || wantsClose { return }
        }
    }

    private func readRequest(_ c: Connection, number: Int) -> RecordedRequest? {
        guard let headBytes = c.readUntilEmptyLine(limit: Self.maxHeadBytes) else { return nil }
        let lines = String(decoding: headBytes, as: UTF8.self)
            .components(separatedBy: "\r\n").filter { !$0.isEmpty }
        guard let requestLine = lines.first else { return nil }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        var fields: [HTTPField] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            fields.append(HTTPField(
                name: String(line[..<colon]),
                value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var request = RecordedRequest(
            method: String(parts[0]), target: String(parts[1]), version: String(parts[2]),
            fields: fields, body: [], chunked: false, connection: number)
        if request.values("Expect").contains(where: { $0.lowercased() == "100-continue" }) {
            guard c.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { return nil }
        }
        if request.values("Transfer-Encoding").contains(where: { $0.lowercased().contains("chunked") }) {
            request.chunked = true
            guard let body = readChunkedBody(c) else { return nil }
            request.body = body
        } else if let text = request.values("Content-Length").first {
            guard let length = Int(text), length >= 0, length <= Self.maxBodyBytes,
                  let body = c.read(count: length) else { return nil }
            request.body = body
        }
        return request
    }

    private func readChunkedBody(_ c: Connection) -> [UInt8]? {
        var body: [UInt8] = []
        for _ in 0..<1_000_000 {
            guard let line = c.readLine(limit: 1024) else { return nil }
            let sizeText = String(decoding: line, as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16),
                  size >= 0, body.count + size <= Self.maxBodyBytes else { return nil }
            if size == 0 {
                // Trailer section, up to the empty line.
                for _ in 0..<100 {
                    guard let trailer = c.readLine(limit: 8192) else { return nil }
                    if trailer.isEmpty { return body }
                }
                return nil
            }
            guard let data = c.read(count: size), let end = c.readLine(limit: 2), end.isEmpty else { return nil }
            body += data
        }
        return nil
    }

    /// Writes the response. - Returns: whether the connection may carry another request.
    private func send(_ response: CannedResponse, to c: Connection, request: RecordedRequest) -> Bool {
        let isHead = request.method == "HEAD"
        func head(_ status: Int, _ fields: [HTTPField], _ framing: String) -> [UInt8] {
            var text = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
            for f in fields { text += "\(f.name): \(f.value)\r\n" }
            text += framing + "\r\n"
            return Array(text.utf8)
        }
        func closes(_ fields: [HTTPField]) -> Bool {
            fields.contains { $0.name.lowercased() == "connection" && $0.value.lowercased() == "close" }
        }
        switch response {
        case .fixed(let status, let fields, let body):
            var bytes = head(status, fields, "Content-Length: \(body.count)\r\n")
            if !isHead { bytes += body }
            return c.write(bytes) && !closes(fields)
        case .chunked(let status, let fields, let chunks):
            var bytes = head(status, fields, "Transfer-Encoding: chunked\r\n")
            if !isHead {
                for chunk in chunks where !chunk.isEmpty {
                    bytes += Array(String(chunk.count, radix: 16).utf8) + [13, 10] + chunk + [13, 10]
                }
                bytes += Array("0\r\n\r\n".utf8)
            }
            return c.write(bytes) && !closes(fields)
        case .generated(let status, let fields, let length, let chunked):
            let framing = chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: \(length)\r\n"
            guard c.write(head(status, fields, framing)) else { return false }
            if isHead { return !closes(fields) }
            var piece = [UInt8](repeating: 0, count: 64 * 1024)
            var offset = 0
            while offset < length {
                if isStopped { return false }
                let n = min(piece.count, length - offset)
                for i in 0..<n { piece[i] = Self.patternByte(offset + i) }
                var out = chunked ? Array(String(n, radix: 16).utf8) + [13, 10] : []
                out += piece[0..<n]
                if chunked { out += [13, 10] }
                guard c.write(out) else { return false }
                offset += n
            }
            if chunked, !c.write(Array("0\r\n\r\n".utf8)) { return false }
            return !closes(fields)
        case .delayed(let seconds, let then):
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if isStopped { return false }
                usleep(10_000)
            }
            return send(then, to: c, request: request)
        case .truncated(let declared, let sent):
            _ = c.write(head(200, [], "Content-Length: \(declared)\r\n") + sent)
            return false
        case .raw(let bytes):
            _ = c.write(bytes)
            return false
        case .rawKeepOpen(let bytes):
            return c.write(bytes)
        case .rawPieces(let pieces, let pause):
            for (i, piece) in pieces.enumerated() {
                if i > 0 {
                    let deadline = Date().addingTimeInterval(pause)
                    while Date() < deadline {
                        if isStopped { return false }
                        usleep(10_000)
                    }
                }
                guard c.write(piece) else { return false }
            }
            return false
        case .close:
            return false
        }
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 404: "Not Found"
        case 500: "Internal Server Error"
        default: "Status"
        }
    }
}

/// A blocking socket with a read buffer (bounded by the callers' limits).
private final class Connection {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(fd: Int32) { self.fd = fd }

    /// Receives more bytes into the buffer. - Returns: false on EOF, error or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return false }
        buffer += chunk[0..<n]
        return true
    }

    /// Bytes up to and excluding the first "\r\n\r\n" (consumed).
    func readUntilEmptyLine(limit: Int) -> [UInt8]? {
        var searchFrom = 0
        while true {
            if buffer.count >= 4 {
                for i in max(0, searchFrom - 3)...(buffer.count - 4)
                where buffer[i] == 13 && buffer[i + 1] == 10 && buffer[i + 2] == 13 && buffer[i + 3] == 10 {
                    let head = Array(buffer[0..<i])
                    buffer.removeFirst(i + 4)
                    return head
                }
                searchFrom = buffer.count
            }
            if buffer.count > limit { return nil }
            guard fill() else { return nil }
        }
    }

    /// One line without its "\r\n" (consumed).
    func readLine(limit: Int) -> [UInt8]? {
        while true {
            if let i = buffer.firstIndex(of: 10) {
                var line = Array(buffer[0..<i])
                buffer.removeFirst(i + 1)
                if line.last == 13 { line.removeLast() }
                return line
            }
            if buffer.count > limit { return nil }
            guard fill() else { return nil }
        }
    }

    /// Exactly `count` bytes (consumed).
    func read(count: Int) -> [UInt8]? {
        while buffer.count < count {
            guard fill() else { return nil }
        }
        let bytes = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return bytes
    }

    /// Writes everything. - Returns: false on error or timeout.
    func write(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }
}
