import Foundation
import GatewayHTTP
import GatewayTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Responses cut short after their head was sent are logged (and counted) with the reason
/// why, never as a plain success; a client that does not read is paused and abandoned.
final class CutShortIntegrationTests: XCTestCase {
    /// The first access-log line with `"reason":"<reason>"`, waiting up to `seconds`.
    func logLine(_ g: GatewayProcess, reason: String, seconds: Double = 10) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            if let line = g.stdout.split(separator: "\n").first(where: {
                $0.contains("\"message\":\"request\"") && $0.contains("\"reason\":\"\(reason)\"")
            }) { return String(line) }
            usleep(50_000)
        } while Date() < deadline
        return nil
    }

    func number(_ key: String, in line: String) -> Int? {
        guard let r = line.range(of: "\"\(key)\":") else { return nil }
        return Int(line[r.upperBound...].prefix { $0.isNumber })
    }

    func testClientGoneMidBodyIsLoggedAsClientClosed() throws {
        let g = try HardenedGateway(handler: { _ in .generated(status: 200, fields: [], length: 256 << 20, chunked: false) })
        defer { g.stop() }
        var c: RawHTTPClient? = try g.client()
        try c!.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertNotNil(readHeadBytes(c!))
        c = nil  // closed with unread data: a reset
        let line = try XCTUnwrap(logLine(g.gateway, reason: "client_closed"), g.gateway.stdout.suffix(2000).description)
        XCTAssertTrue(line.contains("\"status\":200"), line)
        XCTAssertTrue(line.contains("\"decision\":\"error\""), line)
        XCTAssertFalse(g.gateway.stdout.contains("\"reason\":\"ok\""), "never logged as a plain success")
        let metrics = try RawHTTPClient(port: g.gateway.adminPort)
        try metrics.send("GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
        let text = try metrics.readResponse().bodyText
        XCTAssertFalse(text.contains("reason=\"ok\""), "not counted as a success")
        XCTAssertTrue(text.contains("gateway_request_failures_total{route=\"status\",reason=\"client_closed\"} 1"), text)
    }

    func testUpstreamFailingMidBodyIsLoggedAsUpstreamAborted() throws {
        let head = Array("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".utf8) + [UInt8](repeating: 65, count: 1000)
        let g = try HardenedGateway(handler: { _ in .rawPieces([head, [UInt8](repeating: 66, count: 1000)], pause: 0.5) })
        defer { g.stop() }
        let c = try g.client()
        try c.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\n")
        let got = try XCTUnwrap(readHeadBytes(c))
        XCTAssertTrue(got.hasPrefix("HTTP/1.1 200"), got)
        XCTAssertNotNil(bytesUntilEOF(c), "the client connection is closed, never a body that looks complete")
        let line = try XCTUnwrap(logLine(g.gateway, reason: "upstream_aborted"), g.gateway.stdout)
        XCTAssertTrue(line.contains("\"status\":200"), line)
        XCTAssertTrue(line.contains("\"decision\":\"error\""), line)
    }

    func testDrainLimitMidBodyIsLoggedAsDrainTimeout() throws {
        let head = Array("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n".utf8) + [UInt8](repeating: 65, count: 10)
        let g = try HardenedGateway(limits: "  drain_timeout: 500ms",
                                    handler: { _ in .rawPieces([head, [UInt8](repeating: 66, count: 99990)], pause: 8) })
        defer { g.stop() }
        let c = try g.client()
        try c.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertNotNil(readHeadBytes(c))
        g.gateway.signal(SIGTERM)
        XCTAssertEqual(g.gateway.waitForExit(seconds: 5), 0)
        let line = try XCTUnwrap(logLine(g.gateway, reason: "drain_timeout", seconds: 1), g.gateway.stdout)
        XCTAssertTrue(line.contains("\"status\":200"), line)
    }

    /// At most 64 KiB of a response waits in the gateway for a client that does not read:
    /// the upstream transfer is paused, and the response abandoned after idle_timeout.
    func testNonReadingClientIsPausedAndAbandonedAfterIdleTimeout() throws {
        let size = 256 << 20
        let g = try HardenedGateway(limits: "  idle_timeout: 1s",
                                    handler: { _ in .generated(status: 200, fields: [], length: size, chunked: false) })
        defer { g.stop() }
        let c = try g.client()
        var small: Int32 = 64 * 1024
        setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        try c.send("GET /status HTTP/1.1\r\nHost: a\r\n\r\n")
        let started = monotonicNow()
        let line = try XCTUnwrap(logLine(g.gateway, reason: "write_timeout", seconds: 15), g.gateway.stdout.suffix(2000).description)
        let waited = monotonicNow() - started
        XCTAssertGreaterThanOrEqual(waited, 1, "not before idle_timeout")
        XCTAssertLessThan(waited, 8, "abandoned soon after idle_timeout")
        let out = try XCTUnwrap(number("bytes_out", in: line))
        // Paused: what left is the kernel's socket buffers plus at most 64 KiB queued.
        XCTAssertLessThan(out, 32 << 20, "the upstream transfer was paused, not read to the end: \(line)")
        XCTAssertTrue(c.isClosedByPeer(within: 5), "the connection is closed")
    }
}
