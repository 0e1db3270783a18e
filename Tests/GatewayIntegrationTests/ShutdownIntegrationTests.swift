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
}
