import Dispatch
import Foundation
import GatewayHTTP
import GatewayTestSupport
import GatewayUpstream
import XCTest

/// Direct exchanges (requests without a body, framed by the gateway) against upstreams that
/// misbehave or hold resources: what must not leak, spin or stall.
final class DirectExchangeRobustnessTests: UpstreamLoopTestCase {

    /// A GET to `url`, waited for (≤ 10 s).
    private func get(_ url: String) -> Recorder {
        let recorder = Recorder(queue: queue, done: expectation(description: "completion"))
        let request = UpstreamRequest(method: "GET", url: url, fields: [], body: .none, connectTimeout: 2, timeout: 5)
        let loop = self.loop!
        queue.async { recorder.transfer = loop.start(request, delegate: recorder) }
        wait(for: [recorder.done], timeout: 10)
        queue.sync {}
        return recorder
    }

    /// Starts `count` GETs to `upstream` at once and waits for them (≤ 20 s).
    /// - Returns: how many completed without error.
    private func concurrentGets(count: Int, to upstream: RecordingUpstream) throws -> Int {
        let loop = self.loop!
        var recorders: [Recorder] = []
        for i in 0..<count {
            let r = Recorder(queue: queue, done: expectation(description: "busy \(i)"))
            recorders.append(r)
            let request = UpstreamRequest(method: "GET", url: upstream.url("/\(i)"), fields: [], body: .none,
                                          connectTimeout: 5, timeout: 9)
            queue.async { r.transfer = loop.start(request, delegate: r) }
        }
        wait(for: recorders.map(\.done), timeout: 20)
        queue.sync {}
        return recorders.filter { $0.completions == [nil] }.count
    }

    func testAPoolFullOfOneUpstreamStillLetsAnotherReuseConnections() throws {
        // 260 concurrent requests leave more idle connections to `busy` than the pool holds
        // (256), and `busy` never closes them.
        let busy = try RecordingUpstream { _ in .delayed(seconds: 0.5, then: .ok("busy")) }
        defer { busy.stop() }
        let other = try RecordingUpstream { req in .ok(req.target) }
        defer { other.stop() }
        XCTAssertEqual(try concurrentGets(count: 260, to: busy), 260, "every concurrent request completes")
        // The connection idle longest makes room: `other` keeps its one connection.
        for i in 0..<3 { XCTAssertEqual(get(other.url("/\(i)")).completions, [nil]) }
        XCTAssertEqual(other.requests.map(\.connection), [1, 1, 1])
    }

    func testManyDirectConnectionsLeaveLibcurlTransfersTheirKeepAlive() throws {
        // 300 connect-only connections stay open (idle in the pool or just left by it):
        // libcurl counts them in its own connection cache.
        let busy = try RecordingUpstream { _ in .delayed(seconds: 0.5, then: .ok("busy")) }
        defer { busy.stop() }
        let other = try RecordingUpstream { req in .ok(req.target) }
        defer { other.stop() }
        XCTAssertEqual(try concurrentGets(count: 300, to: busy), 300, "every concurrent request completes")
        // Requests with a body go through libcurl's transfer and its connection cache.
        let loop = self.loop!
        for i in 0..<3 {
            let r = Recorder(queue: queue, done: expectation(description: "post \(i)"))
            r.requestBody = Array("abc".utf8)
            let request = UpstreamRequest(method: "POST", url: other.url("/p\(i)"), fields: [], body: .length(3), connectTimeout: 5, timeout: 9)
            queue.async { r.transfer = loop.start(request, delegate: r) }
            wait(for: [r.done], timeout: 10)
            queue.sync {}
            XCTAssertEqual(r.completions, [nil])
        }
        XCTAssertEqual(other.requests.map(\.connection), [1, 1, 1])
    }

    func testAnUpstreamThatAnswersButNeverReadsDoesNotSpinTheLoop() throws {
        // The upstream sends bytes at once but reads nothing, with a tiny window: the 1 MiB
        // request head stays unsent, and the connection is readable all along.
        let upstream = try StalledUpstream(greeting: Array("HTTP/1.1 200 OK\r\n".utf8))
        defer { upstream.stop() }
        let recorder = Recorder(queue: queue, done: expectation(description: "completion"))
        let request = UpstreamRequest(method: "GET", url: "http://127.0.0.1:\(upstream.port)/",
                                      fields: [HTTPField(name: "X-Big", value: String(repeating: "a", count: 1 << 20))],
                                      body: .none, connectTimeout: 2, timeout: 1.5)
        let loop = self.loop!
        let before = Self.processCPUSeconds()
        queue.async { recorder.transfer = loop.start(request, delegate: recorder) }
        wait(for: [recorder.done], timeout: 10)
        queue.sync {}
        let used = Self.processCPUSeconds() - before
        XCTAssertEqual(recorder.completions, [.timeout])
        // Waiting for the socket to take the request costs next to nothing; a loop woken
        // by the unread bytes on every turn burns the whole 1.5 s.
        XCTAssertLessThan(used, 0.5, "CPU seconds spent while the request head waited")
    }

    func testResumingFromInsideTheRefusingCallbackIsHonoured() throws {
        // The delegate API allows resumeReceiving() from inside didReceiveBody; one that asks
        // for the bytes again before returning false must get them, as libcurl's transfer does.
        let upstream = try RecordingUpstream { _ in .ok("refused once, then taken") }
        defer { upstream.stop() }
        for direct in [true, false] {
            let queue = self.queue
            let loop = queue.sync { UpstreamLoop(queue: queue, directExchanges: direct) }
            let delegate = ResumingInsideDelegate(done: expectation(description: "completion"))
            let request = UpstreamRequest(method: "GET", url: upstream.url("/"), fields: [], body: .none,
                                          connectTimeout: 2, timeout: 3)
            queue.async { delegate.transfer = loop.start(request, delegate: delegate) }
            wait(for: [delegate.done], timeout: 10)
            queue.sync {}
            XCTAssertEqual(delegate.completions, [nil], "direct: \(direct)")
            XCTAssertEqual(String(decoding: delegate.body, as: UTF8.self), "refused once, then taken", "direct: \(direct)")
        }
    }

    /// User and system CPU time of this process so far.
    private static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

/// An upstream on 127.0.0.1 that writes `greeting` on each accepted connection and then
/// reads nothing, advertising a tiny receive window (small MSS and receive buffer), so
/// that a large request stays stuck in the gateway's send buffer.
private final class StalledUpstream: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var accepted: [Int32] = []
    private let done = DispatchSemaphore(value: 0)

    init(greeting: [UInt8]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RecordingUpstreamError.socket("socket: errno \(errno)") }
        var small: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        var segment: Int32 = 536
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_MAXSEG, &segment, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            close(fd)
            throw RecordingUpstreamError.socket("bind/listen: errno \(errno)")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        listener = fd
        let thread = Thread { [self] in
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { break }
                lock.withLock { accepted.append(client) }
                _ = greeting.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            done.signal()
        }
        thread.start()
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        _ = done.wait(timeout: .now() + 2)
        close(listener)
        for fd in lock.withLock({ accepted }) { close(fd) }
    }
}

/// Refuses the first body bytes, calling resumeReceiving() before returning false.
/// `@unchecked Sendable`: touched on the loop's queue, read by the test after `queue.sync`.
private final class ResumingInsideDelegate: UpstreamTransferDelegate, @unchecked Sendable {
    let done: XCTestExpectation
    var transfer: UpstreamTransfer?
    var refused = false
    var body: [UInt8] = []
    var completions: [UpstreamError?] = []

    init(done: XCTestExpectation) { self.done = done }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveHead head: UpstreamResponseHead) {}
    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> Bool {
        if !refused {
            refused = true
            transfer.resumeReceiving()
            return false
        }
        body += bytes
        return true
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, fillRequestBody buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk {
        .end
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, didComplete error: UpstreamError?) {
        completions.append(error)
        done.fulfill()
    }
}
