import Dispatch
import GatewayCore
import GatewayJOSE
import Logging
import XCTest
@testable import GatewayServer

#if canImport(Glibc)
import Glibc
#endif

/// The access log's two paths (bytes built directly, or swift-log metadata through
/// `JSONLogHandler`) write the same line for the same record.
final class AccessLogTests: XCTestCase {
    /// What `JSONLogHandler` writes for `logger.info("request", metadata:)`.
    func swiftLogLine(_ r: RequestRecord) throws -> String {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { Glibc.close(fds[0]) }
        let logger = Logger(label: "test") { JSONLogHandler(label: $0, level: .info, fd: fds[1]) }
        logger.info("request", metadata: AccessLog.metadata(r))
        Glibc.close(fds[1])
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fds[0], $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The line without its `time` value (the two are written at different instants).
    func withoutTime(_ line: String) -> String {
        guard let start = line.range(of: #"{"time":""#), let end = line.range(of: #"","level""#) else { return line }
        return String(line[..<start.upperBound]) + String(line[end.lowerBound...])
    }

    func record(_ outcome: Outcome, subject: String?, upstream: Double?) -> RequestRecord {
        RequestRecord(requestID: "abc-0-1", client: "127.0.0.1", method: "GET",
                      target: "/orders/1?token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln&q=\u{7F}\"\\\n",
                      status: 200, route: "orders", outcome: outcome, subject: subject, upstreamSeconds: upstream,
                      totalSeconds: 0.0123456, bytesIn: 12, bytesOut: 34567)
    }

    func testFastLineEqualsTheSwiftLogLine() throws {
        let records = [
            record(.forwarded, subject: "alice \"the admin\"", upstream: 0.0071),
            record(.denied(Refusal(.missingToken)), subject: nil, upstream: nil),
            record(.clientClosed, subject: "bob", upstream: 1.5),
            record(.malformedRequest(.headerTooLarge), subject: nil, upstream: nil),
        ]
        for r in records {
            let fast = String(decoding: AccessLog.line(r), as: UTF8.self)
            let slow = try swiftLogLine(r)
            XCTAssertEqual(withoutTime(fast), withoutTime(slow))
            XCTAssertTrue(fast.contains(#""reason":"\#(r.reason)""#))
            XCTAssertFalse(fast.contains("eyJhbGciOiJSUzI1NiJ9"), "the token never reaches the log")
        }
    }

    /// Every decision and a target that needs no redaction give the same line on both paths.
    func testEveryDecisionAndAPlainTargetGiveTheSwiftLogLine() throws {
        var records = [
            record(.forwardedReportOnly(.missingToken), subject: nil, upstream: 0.002),
            record(.forwarded, subject: "carol", upstream: 0.000_5),
            record(.denied(Refusal(.missingToken)), subject: nil, upstream: nil),
            record(.headerTimeout, subject: nil, upstream: nil),
        ]
        records[1].target = "/api/users/42"
        records[1].trace = nil
        records[2].target = "/plain/path-with_only~unreserved.chars"
        records[2].route = nil
        for r in records {
            let fast = String(decoding: AccessLog.line(r), as: UTF8.self)
            XCTAssertEqual(withoutTime(fast), withoutTime(try swiftLogLine(r)))
            XCTAssertTrue(fast.contains(#""decision":"\#(r.decision.rawValue)""#), fast)
        }
        XCTAssertTrue(String(decoding: AccessLog.line(records[0]), as: UTF8.self).contains(#""decision":"would_deny""#))
        XCTAssertTrue(String(decoding: AccessLog.line(records[1]), as: UTF8.self).contains(#""path":"/api/users/42""#))
        XCTAssertTrue(String(decoding: AccessLog.line(records[2]), as: UTF8.self).contains(#""route":"-""#))
    }

    /// The room reserved for a line holds it, for the longest lines per byte of input:
    /// every byte escaped, short credential parameters redacted, the longest numbers.
    func testLinesStayWithinTheirReservedLength() {
        var r = record(.forwardedReportOnly(.missingToken), subject: String(repeating: "\u{01}", count: 40),
                       upstream: 1e300)
        r.status = -999_999
        r.bytesIn = .max
        r.bytesOut = .max
        r.totalSeconds = -1e-300
        r.tlsVersion = "\u{7F}\u{7F}"
        r.clientCertificate = false
        r.route = "\u{2028}\u{2029}\""
        r.client = "\u{00}"
        for target in [String(repeating: "?jwt=", count: 50), String(repeating: ";jwt=&jwt=", count: 30),
                       "/" + String(repeating: "\u{1F}", count: 100), "?jwt=\u{01}&token=\u{7F}", ""] {
            r.target = target
            r.method = "eyJ" + String(repeating: "a", count: 20) + ".x"
            for listener in [nil, "decision", "\u{01}"] {
                let line = AccessLog.line(r, listener: listener)
                XCTAssertLessThanOrEqual(line.count, AccessLog.maximumLineLength(r, listener: listener), target)
                XCTAssertEqual(line.last, UInt8(ascii: "\n"))
            }
        }
    }

    /// The direct line's numbers are written as the swift-log path writes them
    /// (`String(Double)` of `milliseconds`, `String(UInt64)`), without building Strings.
    func testNumbersAreFormattedLikeTheirStrings() {
        var seconds: [Double] = [0, 0.0000004, 0.0000005, 0.000001, 0.0001, 0.001, 0.0123456, 0.1, 0.5, 1, 1.5, 59.9999995,
                                 3600.25, 86_400.000001, 123_456.789012, 999_999_999.999999]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 { seconds.append(Double(rng.next() % 10_000_000_000) / 1_000_000 * Double(rng.next() % 1000) / 100) }
        for s in seconds {
            var out: [UInt8] = []
            AccessLog.appendMilliseconds(s, to: &out)
            XCTAssertEqual(String(decoding: out, as: UTF8.self), String(AccessLog.milliseconds(s)), "\(s)")
        }
        for v: UInt64 in [0, 7, 10, 99, 100, 12_345, 9_999_999_999_999_999, 10_000_000_000_000_000, .max] {
            var out: [UInt8] = []
            AccessLog.appendDecimal(v, to: &out)
            XCTAssertEqual(String(decoding: out, as: UTF8.self), String(v))
        }
    }

    /// Strings copied in one piece are escaped exactly as `JSONWriter` escapes them.
    func testStringsAreEscapedLikeJSONWriter() {
        for s in ["", "plain-ascii_1.2", "Zoë", "a\u{2028}b\u{2029}", "en–dash", "\u{E2}", "q\"uote", "back\\slash",
                  "tab\tnl\ncr\r", "\u{7F}\u{1F}", String(repeating: "x", count: 300), "日本語"] {
            var fast: [UInt8] = [], reference: [UInt8] = []
            AccessLog.appendString(s, to: &fast)
            JSONWriter.appendString(s, to: &reference)
            XCTAssertEqual(fast, reference, s)
        }
    }

    /// The cached calendar part gives the same text as formatting every time.
    func testTimestampEqualsRFC3339() {
        var time = LogTimestamp()
        var t = 1_764_763_199.0  // an hour boundary ahead
        for step in [0.0004, 0.0005, 0.2, 0.3337, 0.9999, 1, 59, 3600, 86_399.9995] {
            t += step
            var out: [UInt8] = []
            time.append(epochSeconds: t, to: &out)
            XCTAssertEqual(String(decoding: out, as: UTF8.self), RFC3339.string(epochSeconds: t), "\(t)")
        }
    }

    /// Lines of a loop are kept until their batch is written; `flushAll` writes every loop's.
    func testBatchedLinesAreWrittenWholeByFlushAll() throws {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { Glibc.close(fds[0]) }
        XCTAssertEqual(fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK), 0)
        let queue = DispatchQueue(label: "test.loop")
        let log = AccessLog(logger: Logger(label: "test") { JSONLogHandler(label: $0, level: .info, fd: fds[1]) },
                            queue: queue)
        // On the queue, without returning to it: nothing can have been written yet.
        let pendingBytes: Int = queue.sync {
            for i in 0..<50 { log.write(record(.forwarded, subject: "user-\(i)", upstream: 0.001)) }
            var probe = [UInt8](repeating: 0, count: 1)
            return probe.withUnsafeMutableBytes { Glibc.read(fds[0], $0.baseAddress, 1) }
        }
        XCTAssertEqual(pendingBytes, -1, "no line is written before the batch ends")
        AccessLogBuffer.flushAll()
        Glibc.close(fds[1])
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<100 {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fds[0], $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n")
        XCTAssertEqual(lines.count, 50)
        for (i, line) in lines.enumerated() {
            XCTAssertTrue(line.hasPrefix(#"{"time":""#) && line.hasSuffix("}"), String(line))
            XCTAssertTrue(line.contains(#""subject":"user-\#(i)""#), String(line))
        }
    }
}
