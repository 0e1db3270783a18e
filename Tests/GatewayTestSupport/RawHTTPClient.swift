import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A parsed HTTP response as a client sees it.
public struct RawResponse: Sendable {
    public var status: Int
    /// Header fields in order (names as sent).
    public var fields: [(name: String, value: String)]
    public var body: [UInt8]
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
    /// First value of a field, case-insensitive.
    public func header(_ name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// Errors of the raw test client.
public enum RawHTTPError: Error {
    case connect(Int32)
    case timeout
    case closed
    case malformed(String)
}

/// A blocking TCP client for tests on 127.0.0.1: sends raw bytes, reads raw responses.
/// Every read has a deadline, so no test can hang.
public final class RawHTTPClient {
    public let fd: Int32
    private var buffer: [UInt8] = []
    public var timeout: Double = 10

    public init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            let e = errno
            close(fd)
            throw RawHTTPError.connect(e)
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw RawHTTPError.closed }
            sent += n
        }
    }

    /// Half-closes the sending side.
    public func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Reads more bytes into the buffer; false on EOF.
    private func fill(deadline: Double) throws -> Bool {
        let remaining = deadline - now()
        if remaining <= 0 { throw RawHTTPError.timeout }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let r = poll(&p, 1, Int32(min(remaining, 60) * 1000))
        if r == 0 { throw RawHTTPError.timeout }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return false }
        buffer.append(contentsOf: chunk[0..<n])
        return true
    }

    private func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Reads one response. `headRequest`: the response to a HEAD has no body.
    public func readResponse(headRequest: Bool = false) throws -> RawResponse {
        let deadline = now() + timeout
        var headEnd: Int?
        while headEnd == nil {
            headEnd = find([13, 10, 13, 10], in: buffer)
            if headEnd == nil, try !fill(deadline: deadline) { throw RawHTTPError.closed }
        }
        let headText = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
        buffer.removeFirst(headEnd! + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { throw RawHTTPError.malformed(statusLine) }
        var fields: [(String, String)] = []
        for l in lines {
            guard let c = l.firstIndex(of: ":") else { throw RawHTTPError.malformed(l) }
            fields.append((String(l[..<c]), l[l.index(after: c)...].trimmingCharacters(in: .whitespaces)))
        }
        var response = RawResponse(status: status, fields: fields, body: [])
        if status == 100 { return try readResponse(headRequest: headRequest) }
        if headRequest || status == 204 || status == 304 { return response }
        if let te = response.header("transfer-encoding"), te.lowercased().contains("chunked") {
            while true {
                var lineEnd = find([13, 10], in: buffer)
                while lineEnd == nil {
                    if try !fill(deadline: deadline) { throw RawHTTPError.closed }
                    lineEnd = find([13, 10], in: buffer)
                }
                let sizeText = String(decoding: buffer[0..<lineEnd!], as: UTF8.self)
                guard let size = Int(sizeText.split(separator: ";")[0], radix: 16) else { throw RawHTTPError.malformed(sizeText) }
                buffer.removeFirst(lineEnd! + 2)
                while buffer.count < size + 2 { if try !fill(deadline: deadline) { throw RawHTTPError.closed } }
                response.body.append(contentsOf: buffer[0..<size])
                buffer.removeFirst(size + 2)
                if size == 0 { break }
            }
        } else if let cl = response.header("content-length"), let n = Int(cl) {
            while buffer.count < n { if try !fill(deadline: deadline) { throw RawHTTPError.closed } }
            response.body = Array(buffer[0..<n])
            buffer.removeFirst(n)
        } else {
            while try fill(deadline: deadline) {}
            response.body = buffer
            buffer = []
        }
        return response
    }

    /// True when the server closed the connection (EOF) within `seconds`.
    public func isClosedByPeer(within seconds: Double = 5) -> Bool {
        let deadline = now() + seconds
        do {
            while try fill(deadline: deadline) {}
            return true
        } catch {
            return false
        }
    }

    private func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where hay[i] == needle[0] {
            if Array(hay[i..<(i + needle.count)]) == needle { return i }
        }
        return nil
    }
}
