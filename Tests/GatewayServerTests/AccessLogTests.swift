import GatewayCore
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
}
