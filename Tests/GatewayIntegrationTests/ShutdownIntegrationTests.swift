import Foundation
import GatewayTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Graceful shutdown (docs/operations.md): SIGTERM/SIGINT stop accepting, close idle keep-alive
/// connections, let in-flight requests finish up to `drain_timeout`, exit 0.
final class ShutdownIntegrationTests: XCTestCase {
    private static func slowHandler(_ req: RecordedRequest) -> CannedResponse {
        req.target.hasPrefix("/status?slow") ? .delayed(seconds: 1.5, then: .ok("slow done")) : .ok("quick")
    }

    func testSigtermFinishesTheInFlightRequestClosesIdleOnesRefusesNewOnesAndExitsZero() throws {
        let g = try HardenedGateway(limits: "  drain_timeout: 10s", handler: Self.slowHandler)
        defer { g.stop() }
        let idle = try g.client()
        try idle.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertEqual(try idle.readResponse().bodyText, "quick")

        let busy = try g.client()
        try busy.send("GET /status?slow HTTP/1.1\r\nHost: a\r\n\r\n")
        // Wait until the slow request has reached the upstream.
        for _ in 0..<100 where g.upstream.requests.count < 2 { usleep(20_000) }
        XCTAssertEqual(g.upstream.requests.count, 2)
        g.gateway.signal(SIGTERM)

        XCTAssertTrue(idle.isClosedByPeer(within: 2), "idle keep-alive connection not closed on SIGTERM")
        usleep(200_000)
        XCTAssertThrowsError(try g.client(), "a new connection was accepted while draining")

        let r = try busy.readResponse()
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.bodyText, "slow done")
        XCTAssertEqual(r.header("Connection"), "close", "the last response announces the close")
        XCTAssertTrue(busy.isClosedByPeer())
        XCTAssertEqual(g.gateway.waitForExit(seconds: 5), 0)
    }

    func testDrainTimeoutCutsARequestThatTakesLonger() throws {
        let g = try HardenedGateway(limits: "  drain_timeout: 500ms", handler: { _ in .delayed(seconds: 8, then: .ok("late")) })
        defer { g.stop() }
        let busy = try g.client()
        try busy.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\n")
        for _ in 0..<100 where g.upstream.requests.isEmpty { usleep(20_000) }
        g.gateway.signal(SIGINT)
        XCTAssertEqual(g.gateway.waitForExit(seconds: 5), 0, "did not exit after drain_timeout")
        XCTAssertTrue(busy.isClosedByPeer(within: 1))
    }

    /// Access-log lines are written in batches; a SIGTERM right after a burst of requests
    /// still gets every line out, before the "stopped" line and the exit.
    func testSigtermRightAfterManyRequestsLosesNoAccessLogLine() throws {
        let g = try HardenedGateway(limits: "  drain_timeout: 10s", handler: { _ in .ok("quick") })
        defer { g.stop() }
        let clients = try (0..<4).map { _ in try g.client() }
        let perClient = 150
        // Pipelined in bursts of 10, so lines pile up faster than one write per request.
        for _ in 0..<(perClient / 10) {
            for c in clients {
                try c.send(String(repeating: "GET /status?burst HTTP/1.1\r\nHost: a\r\n\r\n", count: 10))
            }
            for c in clients {
                for _ in 0..<10 { XCTAssertEqual(try c.readResponse().status, 200) }
            }
        }
        g.gateway.signal(SIGTERM)
        XCTAssertEqual(g.gateway.waitForExit(seconds: 10), 0)
        // The stdout reader may still be delivering the last bytes.
        var lines: [Substring] = []
        for _ in 0..<100 {
            lines = g.gateway.stdout.split(separator: "\n")
            if lines.contains(where: { $0.contains(#""message":"stopped""#) }) { break }
            usleep(20_000)
        }
        let access = lines.indices.filter { lines[$0].contains(#""message":"request""#) && lines[$0].contains("/status?burst") }
        XCTAssertEqual(access.count, clients.count * perClient, "every request has its line")
        let stopped = try XCTUnwrap(lines.firstIndex { $0.contains(#""message":"stopped""#) }, "no stopped line")
        XCTAssertLessThan(access.last ?? 0, stopped, "the lines are written before the process stops")
    }
}
