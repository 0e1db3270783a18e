import GatewayPolicy
import XCTest

/// Duration, size, address and URL formats (docs/configuration.md).
final class ScalarTests: XCTestCase {
    func testDurations() throws {
        let good: [(String, Double)] = [
            ("250ms", 0.25), ("30s", 30), ("10m", 600), ("24h", 86400), ("1.5s", 1.5), ("0s", 0), ("0.5h", 1800),
        ]
        for (text, seconds) in good {
            XCTAssertEqual(try ConfigScalars.duration(text), seconds, text)
        }
        let bad: [(String, String)] = [
            ("10", "missing unit (use ms, s, m or h)"),
            ("-5s", "must not be negative"),
            ("5d", "unknown unit `d` (use ms, s, m or h)"),
            ("s", "expected a number followed by ms, s, m or h"),
            ("1.2.3s", "expected a number followed by ms, s, m or h"),
            (".5s", "expected a number followed by ms, s, m or h"),
            ("5 s", "expected a number followed by ms, s, m or h"),
            ("1m30s", "expected a number followed by ms, s, m or h"),
            ("", "expected a number followed by ms, s, m or h"),
            ("99999999999h", "too large"),
        ]
        for (text, reason) in bad {
            XCTAssertThrowsError(try ConfigScalars.duration(text), text) { error in
                XCTAssertEqual(error as? ScalarError, .invalid(reason: reason), text)
            }
        }
    }

    func testSizes() throws {
        let good: [(String, Int)] = [
            ("512", 512), ("512B", 512), ("16KiB", 16384), ("10MiB", 10_485_760), ("1GiB", 1_073_741_824),
            ("2KB", 2000), ("3MB", 3_000_000), ("1GB", 1_000_000_000),
        ]
        for (text, bytes) in good {
            XCTAssertEqual(try ConfigScalars.size(text), bytes, text)
        }
        let bad: [(String, String)] = [
            ("-1", "must not be negative"),
            ("1.5MiB", "must be a whole number of bytes"),
            ("10XB", "unknown unit `XB` (use B, KiB, MiB, GiB, KB, MB or GB)"),
            ("KiB", "expected a whole number of bytes, optionally followed by B, KiB, MiB, GiB, KB, MB or GB"),
            ("99999999999999999999", "too large"),
            ("9999999999999GiB", "too large"),
        ]
        for (text, reason) in bad {
            XCTAssertThrowsError(try ConfigScalars.size(text), text) { error in
                XCTAssertEqual(error as? ScalarError, .invalid(reason: reason), text)
            }
        }
    }

    func testSizeInConfigAcceptsPlainIntegers() throws {
        let config = try ConfigLoader.parse(yaml: """
            listen: {address: 0.0.0.0:80}
            limits: {max_header_bytes: 8192, max_body_bytes: 1MiB}
            upstreams: {u: {url: "http://u"}}
            routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
            """, path: "gw.yml", environment: [:])
        XCTAssertEqual(config.limits.maxHeaderBytes, 8192)
        XCTAssertEqual(config.limits.maxBodyBytes, 1_048_576)
    }

    func testListenAddresses() throws {
        XCTAssertEqual(try ConfigScalars.listenAddress("0.0.0.0:8080"), ListenAddress(host: "0.0.0.0", port: 8080))
        XCTAssertEqual(try ConfigScalars.listenAddress("[::]:8080"), ListenAddress(host: "::", port: 8080))
        XCTAssertEqual(try ConfigScalars.listenAddress("[2001:db8::1]:0"), ListenAddress(host: "2001:db8::1", port: 0))
        XCTAssertEqual(try ConfigScalars.listenAddress("localhost:1"), ListenAddress(host: "127.0.0.1", port: 1))
        for bad in ["0.0.0.0", "1.2.3:80", "01.2.3.4:80", "[::1:80", "[1::2::3]:80", "1.2.3.4:-1", "1.2.3.4:", "[::]:99999"] {
            XCTAssertThrowsError(try ConfigScalars.listenAddress(bad), bad)
        }
    }

    func testUpstreamURLs() throws {
        let a = try ConfigScalars.upstreamURL("http://orders.internal:8080")
        XCTAssertEqual(a.scheme, "http"); XCTAssertEqual(a.host, "orders.internal"); XCTAssertEqual(a.port, 8080); XCTAssertEqual(a.basePath, "")
        let b = try ConfigScalars.upstreamURL("HTTPS://[::1]/api/v1/")
        XCTAssertEqual(b.scheme, "https"); XCTAssertEqual(b.host, "::1"); XCTAssertEqual(b.port, 443); XCTAssertEqual(b.basePath, "/api/v1")
        let c = try ConfigScalars.upstreamURL("http://10.0.0.1/")
        XCTAssertEqual(c.port, 80); XCTAssertEqual(c.basePath, "")
        for bad in ["orders:8080", "http://", "http://a b", "http://x:port", "http://[zz]:1", "http://x/a b"] {
            XCTAssertThrowsError(try ConfigScalars.upstreamURL(bad), bad)
        }
    }
}
