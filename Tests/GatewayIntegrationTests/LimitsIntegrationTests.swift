import Foundation
import GatewayHTTP
import GatewayTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Slow and greedy clients, upstream failures, many connections. Timeouts are configured short (1 s) so the suite stays fast.
final class LimitsIntegrationTests: XCTestCase {
    func testSlowlorisOneHeaderBytePerSecondGets408WithinHeaderTimeout() throws {
        let g = try HardenedGateway(limits: "  header_timeout: 1s\n  idle_timeout: 30s")
        defer { g.stop() }
        let c = try g.client()
        let request = Array("GET /status HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        let started = monotonicNow()
        var response: RawResponse?
        for b in request.prefix(6) {
            try? c.send([b])
            if !isSilent(c, seconds: 1) {
                response = try? c.readResponse()
                break
            }
        }
        let elapsed = monotonicNow() - started
        XCTAssertEqual(response?.status, 408)
        XCTAssertEqual(response?.header("Connection"), "close")
        XCTAssertLessThan(elapsed, 3.5, "408 long after header_timeout")
        XCTAssertTrue(c.isClosedByPeer())
        XCTAssertEqual(g.upstream.requests.count, 0)
        // The 408 has its access-log line like every other answer.
        var logged = false
        for _ in 0..<100 where !logged {
            logged = g.gateway.stdout.split(separator: "\n").contains {
                $0.contains("\"message\":\"request\"") && $0.contains("\"status\":408") && $0.contains("\"reason\":\"header_timeout\"")
            }
            if !logged { usleep(20_000) }
        }
        XCTAssertTrue(logged, g.gateway.stdout)
    }

    func testAPartialPipelinedHeadAlsoGets408() throws {
        let g = try HardenedGateway(limits: "  header_timeout: 1s\n  idle_timeout: 30s")
        defer { g.stop() }
        let c = try g.client()
        try c.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\nGET /sta")
        XCTAssertEqual(try c.readResponse().status, 200)
        c.timeout = 4
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 408)
        XCTAssertTrue(c.isClosedByPeer())
        XCTAssertEqual(g.upstream.requests.count, 1)
    }

    func testIdleKeepAliveConnectionIsClosedAfterIdleTimeout() throws {
        let g = try HardenedGateway(limits: "  idle_timeout: 1s")
        defer { g.stop() }
        let used = try g.client()
        try used.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try used.readResponse().status, 200)
        let neverUsed = try g.client()
        XCTAssertTrue(used.isClosedByPeer(within: 4), "idle keep-alive connection left open")
        XCTAssertTrue(neverUsed.isClosedByPeer(within: 4), "silent connection left open")
    }

    func testASilentNewConnectionIsClosedAfterHeaderTimeoutNotIdleTimeout() throws {
        let g = try HardenedGateway(limits: "  header_timeout: 1s\n  idle_timeout: 30s")
        defer { g.stop() }
        let used = try g.client()
        try used.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try used.readResponse().status, 200)
        let started = monotonicNow()
        let silent = try g.client()
        XCTAssertTrue(silent.isClosedByPeer(within: 4), "a connection that never sent a byte kept its slot")
        XCTAssertGreaterThan(monotonicNow() - started, 0.8, "closed before header_timeout")
        // Between requests, idle_timeout (30 s) applies, not header_timeout.
        try used.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try used.readResponse().status, 200)
    }

    func testStalledRequestBodyGets408AndTheUpstreamExchangeIsAbandoned() throws {
        let g = try HardenedGateway(limits: "  body_timeout: 1s")
        defer { g.stop() }
        let c = try g.client()
        try c.send("POST /status HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789")
        c.timeout = 6
        let r = try c.readResponse()
        XCTAssertEqual(r.status, 408)
        XCTAssertTrue(c.isClosedByPeer())
        XCTAssertEqual(g.upstream.requests.count, 0, "a partial body was delivered as complete")
    }

    func testBodyOverMaxBodyBytes() throws {
        let g = try HardenedGateway(limits: "  max_body_bytes: 1KiB")
        defer { g.stop() }
        // Declared too large: 413 at once, before forwarding, without a 100 Continue.
        let c = try g.client()
        try c.send("POST /status HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1025\r\n\r\n")
        let head = readHeadBytes(c)
        XCTAssertEqual(head?.hasPrefix("HTTP/1.1 413 "), true, head ?? "nothing")
        XCTAssertTrue(c.isClosedByPeer())

        // Chunked: refused once the running total passes the limit; nothing reaches the upstream.
        let d = try g.client()
        try d.send("POST /status HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        let chunk = Array("200\r\n".utf8) + [UInt8](repeating: 0x61, count: 512) + Array("\r\n".utf8)
        try d.send(chunk + chunk)                 // exactly 1 KiB: still fine
        try? d.send(chunk)                         // 1.5 KiB: over
        let r = try d.readResponse()
        XCTAssertEqual(r.status, 413)
        XCTAssertTrue(d.isClosedByPeer())
        XCTAssertEqual(g.upstream.requests.count, 0)

        // At the limit: accepted.
        let e = try g.client()
        try e.send("POST /status HTTP/1.1\r\nHost: a\r\nContent-Length: 1024\r\n\r\n" + String(repeating: "b", count: 1024))
        XCTAssertEqual(try e.readResponse().status, 200)
        XCTAssertEqual(g.upstream.requests.first?.body.count, 1024)
    }

    func testOverMaxConnectionsNewConnectionsWaitAndExistingOnesKeepWorking() throws {
        let g = try HardenedGateway(limits: "  max_connections: 3")
        defer { g.stop() }
        var open: [RawHTTPClient] = []
        for i in 0..<3 {
            let c = try g.client()
            try c.send("GET /status?c=\(i) HTTP/1.1\r\nHost: a\r\n\r\n")
            XCTAssertEqual(try c.readResponse().status, 200)
            open.append(c)
        }
        // The fourth connects (kernel backlog) but is not served while three are open.
        let waiting = try g.client()
        try waiting.send("GET /status?c=waiting HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertTrue(isSilent(waiting, seconds: 1), "served over max_connections")
        // Existing connections keep working.
        try open[0].send("GET /status?c=again HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try open[0].readResponse().bodyText, "path=/status?c=again")
        // Once one closes, the waiting connection is accepted and answered.
        open.removeLast()
        let r = try waiting.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.bodyText, "path=/status?c=waiting")
    }

    func testInvalidUpstreamResponsesAre502() throws {
        let g = try HardenedGateway(handler: { req in
            switch req.target {
            case "/status?garbage": .raw(Array("this is not HTTP\r\n\r\n".utf8))
            case "/status?badstatus": .raw(Array("HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n".utf8))
            case "/status?hugehead":
                .raw(Array("HTTP/1.1 200 OK\r\nX-Big: \(String(repeating: "a", count: 70_000))\r\nContent-Length: 0\r\n\r\n".utf8))
            default: .close
            }
        })
        defer { g.stop() }
        for target in ["/status?garbage", "/status?badstatus", "/status?hugehead", "/status?noanswer"] {
            let c = try g.client()
            try c.send("GET \(target) HTTP/1.1\r\nHost: a\r\n\r\n")
            let r = try c.readResponse()
            XCTAssertEqual(r.status, 502, target)
            XCTAssertEqual(r.header("Content-Type"), "application/json", target)
        }
    }

    func testUpstreamStoppingMidChunkedResponseClosesTheClient() throws {
        let g = try HardenedGateway(handler: { _ in
            .raw(Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n".utf8))
        })
        defer { g.stop() }
        let c = try g.client()
        try c.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\n")
        // The chunked response to the client must never get its terminating 0-chunk: either
        // the cut-off response and a close, or (when nothing of it had left the gateway when
        // the upstream failed) a clean 502 instead.
        if let r = try? c.readResponse() {
            XCTAssertEqual(r.status, 502)
            XCTAssertTrue(r.bodyText.contains("bad_gateway"), r.bodyText)
        }
        XCTAssertTrue(c.isClosedByPeer())
    }

    func testTwoHundredConcurrentKeepAliveConnectionsAllSucceed() throws {
        let g = try HardenedGateway()
        defer { g.stop() }
        let clients = try (0..<200).map { _ in try g.client() }
        for round in 0..<3 {
            // Every connection has a request in flight before any response is read.
            for (i, c) in clients.enumerated() {
                try c.send("GET /status?c=\(i)&r=\(round) HTTP/1.1\r\nHost: a\r\n\r\n")
            }
            for (i, c) in clients.enumerated() {
                c.timeout = 30
                let r = try c.readResponse()
                XCTAssertEqual(r.status, 200)
                XCTAssertEqual(r.bodyText, "path=/status?c=\(i)&r=\(round)")
                if r.status != 200 { return }
            }
        }
        XCTAssertEqual(g.upstream.requests.count, 600)
    }
}
