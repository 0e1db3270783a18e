import Foundation
import GatewayHTTP
import GatewayTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A slow upstream must not make the gateway buffer a large upload (backpressure both ways;
/// the response direction is `make bench-stream`).
final class BackpressureIntegrationTests: XCTestCase {
    func testStalledUpstreamDoesNotMakeTheGatewayBufferTheUpload() throws {
        let upstream = try StallingUpstream()
        defer { upstream.stop() }
        var config = GatewayHarness.config(upstreamPort: upstream.port, upstreamTimeout: "60s")
        config = config.replacingOccurrences(of: "  max_body_bytes: 64MiB\n", with: "  max_body_bytes: 256MiB\n")
        let gateway = try GatewayProcess(config: config, environment: ["TEST_HMAC_SECRET": Fixtures.text("vectors/hmac.secret")
            .trimmingCharacters(in: .whitespacesAndNewlines)])
        defer { gateway.stop() }
        let baseline = try XCTUnwrap(residentKiB(gateway.process.processIdentifier))

        let size = 128 * 1024 * 1024
        let c = try RawHTTPClient(port: gateway.port)
        try c.send("POST /status HTTP/1.1\r\nHost: a\r\nContent-Length: \(size)\r\n\r\n")
        let block = [UInt8](repeating: 0x5A, count: 256 * 1024)
        var sent = 0
        // Push until the socket stays full for 1 s (the upstream is not reading).
        while sent < size {
            var p = pollfd(fd: c.fd, events: Int16(POLLOUT), revents: 0)
            if poll(&p, 1, 1000) == 0 { break }
            let n = block.withUnsafeBytes { send(c.fd, $0.baseAddress, min($0.count, size - sent), Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            if n > 0 { sent += n } else if errno != EAGAIN { break }
        }
        XCTAssertLessThan(sent, size, "the whole upload was taken while the upstream read nothing")
        let stalled = try XCTUnwrap(residentKiB(gateway.process.processIdentifier))
        XCTAssertLessThan(stalled - baseline, 32 * 1024,
                          "gateway RSS grew by \(stalled - baseline) KiB with \(sent) bytes accepted")

        // Let the upstream read: the rest flows and the request completes intact.
        upstream.release()
        while sent < size {
            let n = block.withUnsafeBytes { send(c.fd, $0.baseAddress, min($0.count, size - sent), Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
        c.timeout = 30
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.bodyText, "received \(size)")
    }

    private func residentKiB(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }
}

/// An upstream for one request that reads the head, then reads nothing until `release()`,
/// then counts the Content-Length body (never storing it) and answers `received N`.
/// Blocking socket on one thread, 30 s socket timeouts.
private final class StallingUpstream: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let released = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { close(fd); throw RecordingUpstreamError.socket("bind: errno \(errno)") }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in serve(); done.signal() }
        thread.start()
    }

    func release() { released.signal() }

    func stop() {
        released.signal()
        shutdown(listener, Int32(SHUT_RDWR))
        _ = done.wait(timeout: .now() + 5)
        close(listener)
    }

    private func serve() {
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        // Head, one byte at a time so no body byte is read early.
        var head: [UInt8] = []
        var b: UInt8 = 0
        while head.count < 65536 && !(head.count >= 4 && Array(head.suffix(4)) == [13, 10, 13, 10]) {
            guard recv(fd, &b, 1, 0) == 1 else { return }
            head.append(b)
        }
        let text = String(decoding: head, as: UTF8.self).lowercased()
        guard let line = text.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
              let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return }
        released.wait()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var got = 0
        while got < length {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, min($0.count, length - got), 0) }
            if n <= 0 { break }
            got += n
        }
        let body = "received \(got)"
        let response = "HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
        _ = response.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    }
}
