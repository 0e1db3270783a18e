import Foundation
import GatewayHTTP
import GatewayTestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// What happens to requests pipelined behind a refusal, and to half-closed clients.
final class ConnectionLifecycleTests: XCTestCase {
    func testNothingPipelinedBehindARefusalIsForwardedEvenWhenTheClientDoesNotRead() throws {
        // The client reads nothing through a tiny receive buffer, so the gateway cannot write
        // out the refusal's response while the request pipelined behind it is already here.
        let h = try GatewayHarness(handler: { _ in .ok(body: [UInt8](repeating: 65, count: 50_000)) })
        defer { h.stop() }
        let c = try h.client()
        var small: Int32 = 2048
        setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        var text = ""
        for i in 0..<48 { text += "GET /status?n=\(i) HTTP/1.1\r\nHost: a\r\n\r\n" }
        text += "GET /orders/refused HTTP/1.1\r\nHost: a\r\n\r\n"           // no token: 401
        text += "GET /status?n=AFTER-REFUSAL HTTP/1.1\r\nHost: a\r\n\r\n"
        try c.send(text)
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline && h.upstream.requests.count < 48 { usleep(50_000) }
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertEqual(h.upstream.requests.count, 48, "the 48 requests before the refusal are forwarded")
        XCTAssertFalse(h.upstream.requests.contains { $0.target.contains("AFTER-REFUSAL") },
                       "a request pipelined behind a refusal reached the upstream")
    }

    func testHalfClosedClientGetsEveryCompletePipelinedRequestAnswered() throws {
        let h = try GatewayHarness()
        defer { h.stop() }
        let c = try h.client()
        try c.send("GET /status?n=1 HTTP/1.1\r\nHost: a\r\n\r\nGET /status?n=2 HTTP/1.1\r\nHost: a\r\n\r\n"
                   + "GET /status?n=3 HTTP/1.1\r\nHost: a\r\n\r\n")
        c.shutdownWrite()
        var answered = 0
        while answered < 3, let r = try? c.readResponse() {
            XCTAssertEqual(r.status, 200)
            answered += 1
        }
        XCTAssertEqual(answered, 3)
        XCTAssertTrue(c.isClosedByPeer())
        XCTAssertEqual(h.upstream.requests.map(\.target), ["/status?n=1", "/status?n=2", "/status?n=3"])
    }
}

/// Response framing the gateway normalises or refuses.
final class UpstreamFramingTests: XCTestCase {
    func testNoContentLengthOn204AndAmbiguousContentLengthIs502() throws {
        let h = try GatewayHarness(handler: { req in
            if req.target.hasPrefix("/status?204") {
                return .raw(Array("HTTP/1.1 204 No Content\r\nContent-Length: 2\r\n\r\n".utf8))
            }
            if req.target.hasPrefix("/status?twice") {
                return .raw(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok".utf8))
            }
            if req.target.hasPrefix("/status?mixed") {
                return .raw(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nok".utf8))
            }
            return .raw(Array("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok".utf8))
        })
        defer { h.stop() }
        let noContent = try h.request("GET", "/status?204")
        XCTAssertEqual(noContent.status, 204)
        XCTAssertNil(noContent.header("Content-Length"))
        XCTAssertEqual(try h.request("GET", "/status?list").status, 502)
        // Two fields, equal or with a list beside them: never passed on.
        XCTAssertEqual(try h.request("GET", "/status?twice").status, 502)
        XCTAssertEqual(try h.request("GET", "/status?mixed").status, 502)
        XCTAssertEqual(try h.request("HEAD", "/status?twice").status, 502)
    }
}

/// Running out of file descriptors must not make the listener spin or the gateway fail.
final class DescriptorLimitTests: XCTestCase {
    func testOutOfDescriptorsPausesAcceptingAndRecovers() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/prlimit") else {
            throw XCTSkip("prlimit (util-linux) not installed")
        }
        let up = try RecordingUpstream { _ in .ok("ok") }
        defer { up.stop() }
        let config = """
            listen: {address: 127.0.0.1:0}
            upstreams:
              main: {url: "http://127.0.0.1:\(up.port)"}
            routes:
              - {name: status, match: {path: /status}, upstream: main, auth: public}
            """
        let g = try GatewayProcess(config: config, launcher: ["/usr/bin/prlimit", "--nofile=96:96"])
        defer { g.stop() }
        var clients: [RawHTTPClient] = []
        for _ in 0..<150 { if let c = try? RawHTTPClient(port: g.port) { clients.append(c) } }
        Thread.sleep(forTimeInterval: 1)
        // While the descriptors are exhausted the gateway must idle, not spin on accept.
        let cpuBefore = g.cpuSeconds()
        Thread.sleep(forTimeInterval: 1)
        let cpuUsed = g.cpuSeconds() - cpuBefore
        XCTAssertLessThan(cpuUsed, 0.5, "accept loop spinning while out of descriptors")
        XCTAssertTrue(g.stdout.contains("out of file descriptors"), g.stdout)
        clients.removeAll()  // closes them all
        // Recovered: a new connection is accepted and served.
        var status = 0
        for _ in 0..<50 where status != 200 {
            if let c = try? RawHTTPClient(port: g.port) {
                c.timeout = 2
                try? c.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\n")
                status = (try? c.readResponse().status) ?? 0
            }
            if status != 200 { usleep(100_000) }
        }
        XCTAssertEqual(status, 200)
    }
}

/// A client that stops reading cannot hold a connection open.
final class StalledReaderTests: XCTestCase {
    func testClientThatStopsReadingIsCutOff() throws {
        let h = try GatewayHarness(extraLimits: "  idle_timeout: 1s\n  header_timeout: 1s",
                                   handler: { _ in .generated(status: 200, fields: [], length: 8 * 1024 * 1024, chunked: false) })
        defer { h.stop() }
        let c = try h.client()
        var small: Int32 = 4096
        setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        // A response far larger than the socket buffers, never read, then half a request head:
        // the paused upstream exchange times out (5 s) and the connection is aborted.
        try c.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\nGET /status HTTP/1.1\r\n")
        var open = 1.0
        for _ in 0..<100 where open > 0 {
            Thread.sleep(forTimeInterval: 0.1)
            open = openConnections(h) ?? 1
        }
        XCTAssertEqual(open, 0, "the stalled connection is still open")
    }

    func openConnections(_ h: GatewayHarness) -> Double? {
        guard let c = try? RawHTTPClient(port: h.gateway.adminPort) else { return nil }
        try? c.send("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")
        guard let body = try? c.readResponse().bodyText else { return nil }
        for line in body.split(separator: "\n") where line.hasPrefix("gateway_open_connections ") {
            return Double(line.split(separator: " ")[1])
        }
        return nil
    }
}

/// Chunk framing counts against the body budget (with an allowance for normal overhead).
final class ChunkFramingBudgetTests: XCTestCase {
    func testTinyChunksWithHugeExtensionsAreRefused() throws {
        let h = try GatewayHarness()  // max_body_bytes 64 MiB: framing allowance 8 MiB + 64 KiB
        defer { h.stop() }
        let c = try h.client()
        try c.send("POST /status HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = Array("1;x=\(String(repeating: "e", count: 4000))\r\nA\r\n".utf8)
        for _ in 0..<3000 {
            do { try c.send(chunk) } catch { break }  // the gateway stops reading once it refuses
        }
        let status = (try? c.readResponse().status) ?? 0
        XCTAssertEqual(status, 413)
    }
}
