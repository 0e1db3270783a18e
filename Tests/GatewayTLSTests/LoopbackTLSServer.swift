import Foundation
import GatewayTestSupport
import GatewayEvents
import GatewayTLS

#if canImport(Glibc)
import Glibc
#endif

/// A listening socket on 127.0.0.1 and a test-only poll(2) loop that serves one connection
/// through `TLSServerTransport`: read one request head, answer `200` with a short body,
/// close_notify, close. Plain HTTP gets a clear-text `400`. Every wait is bounded.
final class LoopbackTLSServer {
    let listener: Int32
    let port: UInt16

    /// What the server side saw of one connection.
    struct Outcome {
        var security: TransportSecurity?
        var handshake: TLSHandshakeResult?
        var error: TransportError?
        var request = ""
        var plainHTTP = false
        var answered = false
        /// `write` calls that returned `.wouldBlock`.
        var writesBlocked = 0
    }

    init() throws {
        signal(SIGPIPE, SIG_IGN)  // libssl writes with write(2); a gone peer must be EPIPE
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Subprocess.Failure(message: "socket: errno \(errno)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw Subprocess.Failure(message: "bind/listen: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(listener) }

    /// Accepts one connection (waiting at most `timeout` seconds) and serves it.
    /// - Returns: nil when no client connected in time.
    /// - Parameter bodyBytes: extra body bytes after the greeting (to make writes block).
    func serveOne(_ context: TLSServerContext, timeout: Double = 15, bodyBytes: Int = 0) -> Outcome? {
        let deadline = Date().addingTimeInterval(timeout)
        var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, Int32(timeout * 1000)) == 1 else { return nil }
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let transport: TLSServerTransport
        do {
            transport = try TLSServerTransport(context: context, descriptor: fd)
        } catch {
            return Outcome(error: error)
        }
        defer { transport.close() }
        return pump(transport, deadline: deadline, bodyBytes: bodyBytes)
    }

    /// Waits (poll(2), at most until `deadline`) for `interest` on the transport's descriptor.
    private func wait(_ transport: TLSServerTransport, _ interest: Readiness, deadline: Date) -> Bool {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { return false }
        var events: Int16 = 0
        if interest.contains(.readable) { events |= Int16(POLLIN) }
        if interest.contains(.writable) { events |= Int16(POLLOUT) }
        var pfd = pollfd(fd: transport.descriptor, events: events, revents: 0)
        return poll(&pfd, 1, Int32(min(remaining, 1) * 1000)) >= 0
    }

    private func pump(_ transport: TLSServerTransport, deadline: Date, bodyBytes: Int) -> Outcome {
        var outcome = Outcome()
        var request: [UInt8] = []
        var response: [UInt8]?
        var sent = 0
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var interest: Readiness = .readable
        for _ in 0..<100_000 {
            guard Date() < deadline else { break }
            if response == nil {
                let r = buffer.withUnsafeMutableBytes { transport.read(into: $0) }
                switch r {
                case .transferred(let n):
                    request += buffer[0..<n]
                    if let head = String(bytes: request, encoding: .utf8), head.contains("\r\n\r\n") {
                        outcome.request = head
                        response = outcome.plainHTTP ? Self.badRequest : Self.ok(transport.security, extra: bodyBytes)
                    }
                    continue
                case .wouldBlock(let readiness):
                    interest = readiness
                case .endOfInput:
                    outcome.handshake = transport.handshakeResult
                    outcome.security = transport.security
                    return outcome
                case .failed(let error):
                    outcome.error = error
                    outcome.handshake = transport.handshakeResult
                    guard transport.plainHTTPDetected else {
                        outcome.security = transport.security
                        return outcome
                    }
                    outcome.plainHTTP = true  // clear text from here on: read the head, answer 400
                    continue
                }
            } else if let response, sent < response.count {
                let r = response[sent...].withUnsafeBytes { transport.write($0) }
                switch r {
                case .transferred(let n): sent += n; continue
                case .wouldBlock(let readiness):
                    interest = readiness
                    outcome.writesBlocked += 1
                case .endOfInput, .failed:
                    outcome.handshake = transport.handshakeResult
                    return outcome
                }
            } else {
                switch transport.shutdownWrite() {
                case .wouldBlock(let readiness): interest = readiness
                default:
                    outcome.answered = true
                    outcome.handshake = transport.handshakeResult
                    outcome.security = transport.security
                    drain(transport, deadline: min(deadline, Date().addingTimeInterval(2)))
                    return outcome
                }
            }
            guard wait(transport, interest, deadline: deadline) else { break }
        }
        outcome.handshake = transport.handshakeResult
        outcome.security = transport.security
        return outcome
    }

    /// Reads until the peer closes (so it sees the whole answer, not a reset), bounded.
    private func drain(_ transport: TLSServerTransport, deadline: Date) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<1000 {
            switch buffer.withUnsafeMutableBytes({ transport.read(into: $0) }) {
            case .transferred: continue
            case .wouldBlock(let readiness): guard wait(transport, readiness, deadline: deadline) else { return }
            case .endOfInput, .failed: return
            }
        }
    }

    static let badRequest = Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 28\r\nConnection: close\r\n\r\nplain HTTP on the TLS port\r\n".utf8)

    static func ok(_ security: TransportSecurity?, extra: Int = 0) -> [UInt8] {
        let body = "hello over \(security?.protocolVersion ?? "nothing")\n" + String(repeating: "x", count: extra)
        return Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
    }
}
