import Foundation
import GatewayTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// The admin listener under hostile clients: silent connections cannot keep the probes out,
/// and it has the public listener's timeouts.
final class AdminListenerIntegrationTests: XCTestCase {
    func adminGet(_ g: GatewayProcess, _ path: String, method: String = "GET") throws -> RawResponse {
        let c = try RawHTTPClient(port: g.adminPort)
        try c.send("\(method) \(path) HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
        return try c.readResponse()
    }

    func testManySilentConnectionsDoNotStarveTheProbes() throws {
        // A long header timeout: it is the connection cap's eviction that lets the probes in.
        let g = try HardenedGateway(limits: "  header_timeout: 60s\n  idle_timeout: 60s")
        defer { g.stop() }
        var silent: [RawHTTPClient] = []
        for _ in 0..<300 { silent.append(try RawHTTPClient(port: g.gateway.adminPort)) }
        usleep(300_000)  // let the gateway accept them all
        let started = monotonicNow()
        XCTAssertEqual(try adminGet(g.gateway, "/healthz").status, 200)
        XCTAssertEqual(try adminGet(g.gateway, "/readyz").status, 200)
        XCTAssertLessThan(monotonicNow() - started, 3, "the probes must not wait for the silent clients' timeouts")
        // The listener closed silent connections to make room (it keeps at most its cap).
        let closed = silent.filter { $0.isClosedByPeer(within: 0.01) }.count
        XCTAssertGreaterThanOrEqual(closed, 300 - 64, "at most the cap stays open")
        withExtendedLifetime(silent) {}
    }

    func testSilentAdminConnectionIsClosedAfterTheHeaderTimeout() throws {
        let g = try HardenedGateway(limits: "  header_timeout: 1s")
        defer { g.stop() }
        let c = try RawHTTPClient(port: g.gateway.adminPort)
        XCTAssertTrue(c.isClosedByPeer(within: 4), "a silent admin connection is closed after header_timeout")
        let slow = try RawHTTPClient(port: g.gateway.adminPort)
        try slow.send("GET /healthz HTTP/1.1\r\nHost: a\r\n")  // never finished
        let r = try slow.readResponse()
        XCTAssertEqual(r.status, 408, "a head that never finishes gets 408 like on the public listener")
    }

    func testReloadFromLoopbackIsAllowed() throws {
        let g = try HardenedGateway()
        defer { g.stop() }
        let r = try adminGet(g.gateway, "/reload", method: "POST")
        XCTAssertEqual(r.status, 200)
        XCTAssertTrue(r.bodyText.contains("reloaded"), r.bodyText)
    }
}
