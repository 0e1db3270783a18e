import Foundation
import GatewayHTTP
import GatewayTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A recording upstream and the real gateway with a config edited for one test
/// (`limits` replaced, e.g. short timeouts), for the HTTP hardening tests.
final class HardenedGateway {
    let upstream: RecordingUpstream
    let gateway: GatewayProcess

    /// - Parameters:
    ///   - limits: YAML lines (indented by two spaces) for the `limits:` section.
    ///   - upstreamTimeout: the upstream's `timeout`.
    init(limits: String = "  max_body_bytes: 64MiB", upstreamTimeout: String = "5s",
         handler: @escaping RecordingUpstream.Handler = { req in .ok("path=\(req.target)") }) throws {
        upstream = try RecordingUpstream(handler: handler)
        var config = GatewayHarness.config(upstreamPort: upstream.port, upstreamTimeout: upstreamTimeout)
        config = config.replacingOccurrences(of: "  max_body_bytes: 64MiB\n", with: limits + "\n")
        do {
            gateway = try GatewayProcess(config: config, environment: ["TEST_HMAC_SECRET": Fixtures.text("vectors/hmac.secret")
                .trimmingCharacters(in: .whitespacesAndNewlines)])
        } catch {
            upstream.stop()
            throw error
        }
    }

    func client() throws -> RawHTTPClient { try RawHTTPClient(port: gateway.port) }

    func stop() {
        gateway.stop()
        upstream.stop()
    }
}

/// `Authorization` value with a valid token granting read:orders and write:orders.
func bearerHeader() -> String { "Authorization: Bearer \(Fixtures.token("valid-RS256"))\r\n" }

/// Reads exactly one response head (up to and including its empty line) byte by byte, so
/// an interim `100 Continue` can be seen before `RawHTTPClient.readResponse` reads the rest.
/// Returns nil on EOF or when nothing arrives within `seconds`.
func readHeadBytes(_ c: RawHTTPClient, seconds: Double = 5) -> String? {
    var out: [UInt8] = []
    let deadline = Date().addingTimeInterval(seconds)
    while out.count < 65536 {
        let remaining = deadline.timeIntervalSinceNow
        if remaining <= 0 { return nil }
        var p = pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)
        if poll(&p, 1, Int32(remaining * 1000)) <= 0 { return nil }
        var b: UInt8 = 0
        if recv(c.fd, &b, 1, 0) != 1 { return nil }
        out.append(b)
        if out.count >= 4 && Array(out.suffix(4)) == [13, 10, 13, 10] { return String(decoding: out, as: UTF8.self) }
    }
    return nil
}

/// How many bytes arrive on `c` before EOF (nil when the connection stays open `seconds`).
func bytesUntilEOF(_ c: RawHTTPClient, seconds: Double = 5) -> Int? {
    var total = 0
    let deadline = Date().addingTimeInterval(seconds)
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let remaining = deadline.timeIntervalSinceNow
        if remaining <= 0 { return nil }
        var p = pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)
        if poll(&p, 1, Int32(remaining * 1000)) <= 0 { return nil }
        let n = chunk.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, 0) }
        if n <= 0 { return total }
        total += n
    }
}

/// Whether nothing at all arrives on `c` within `seconds` (the connection stays open and silent).
func isSilent(_ c: RawHTTPClient, seconds: Double) -> Bool {
    var p = pollfd(fd: c.fd, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, Int32(seconds * 1000)) == 0
}

/// Monotonic seconds, for measuring how long the gateway took to act.
func monotonicNow() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
