import Foundation
import GatewayCore
import GatewayTestSupport
import XCTest
@testable import GatewayServer

/// Access-log lines for records whose strings hold every byte JSON must escape, credential
/// parameters and JWS-shaped text: the line written straight into memory stays within its
/// reserved bound, is one valid JSON object, holds the redacted target exactly, and never
/// the credential.
final class AccessLogFuzzTests: XCTestCase {
    private static let pieces = ["a", "/", "?", "&", ";", "#", "%", "=", "jwt=", "?jwt=", ";jwt=", "&token=", "%6Awt=",
                                 "access_token[]=", "eyJ", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "\"", "\\",
                                 "\n", "\r", "\t", "\u{00}", "\u{01}", "\u{1F}", "\u{7F}", "\u{2028}", "\u{2029}",
                                 "\u{E2}", "é", "€", "\u{FFFD}", " ", "+", "J", ".", "SECRET"]

    private func randomString(_ rng: inout SeededGenerator, maximum: Int) -> String {
        var s = ""
        for _ in 0..<Int.random(in: 0...maximum, using: &rng) { s += Self.pieces.randomElement(using: &rng)! }
        return s
    }

    /// The line for `r` written at the start of a buffer of exactly its bound, with guard
    /// bytes after it that must stay untouched.
    private func boundedLine(_ r: RequestRecord, listener: String?) -> (line: [UInt8], bound: Int, guardIntact: Bool) {
        let bound = AccessLog.maximumLineLength(r, listener: listener)
        let guardBytes = 64
        let memory = UnsafeMutablePointer<UInt8>.allocate(capacity: bound + guardBytes)
        defer { memory.deallocate() }
        memory.initialize(repeating: 0xA5, count: bound + guardBytes)
        var time = LogTimestamp()
        let n = AccessLog.writeLine(r, listener: listener, time: &time, at: memory)
        let intact = (0..<guardBytes).allSatisfy { memory[bound + $0] == 0xA5 }
        return (Array(UnsafeBufferPointer(start: memory, count: min(n, bound + guardBytes))), bound, intact && n <= bound)
    }

    func testRandomRecordsGiveBoundedValidRedactedLines() throws {
        var rng = SeededGenerator(state: 0xACCE55)
        for iteration in 0..<3000 {
            let r = RequestRecord(requestID: randomString(&rng, maximum: 8), client: randomString(&rng, maximum: 3),
                                  method: randomString(&rng, maximum: 4), target: randomString(&rng, maximum: 60),
                                  status: Int.random(in: -1...999, using: &rng),
                                  route: Bool.random(using: &rng) ? randomString(&rng, maximum: 6) : nil,
                                  outcome: .forwarded, subject: Bool.random(using: &rng) ? randomString(&rng, maximum: 10) : nil,
                                  upstreamSeconds: Bool.random(using: &rng) ? Double.random(in: 0...1e6, using: &rng) : nil,
                                  totalSeconds: Double.random(in: -1...1e7, using: &rng),
                                  bytesIn: UInt64.random(in: 0...UInt64.max, using: &rng), bytesOut: UInt64.max)
            let listener: String? = Bool.random(using: &rng) ? randomString(&rng, maximum: 4) : nil
            let (line, bound, intact) = boundedLine(r, listener: listener)
            XCTAssertTrue(intact, "case \(iteration): line overran its bound \(bound)")
            guard intact else { continue }
            XCTAssertEqual(line.last, 0x0A)
            XCTAssertEqual(line.filter { $0 == 0x0A }.count, 1, "case \(iteration): one line")
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], "case \(iteration)")
            XCTAssertEqual(object["path"] as? String, LogRedaction.redact(r.target), "case \(iteration)")
            XCTAssertEqual(object["method"] as? String, LogRedaction.redact(r.method), "case \(iteration)")
            XCTAssertEqual(object["request_id"] as? String, r.requestID)
            XCTAssertEqual(object["subject"] as? String, r.subject)
            XCTAssertEqual(object["route"] as? String, r.route ?? "-")
            XCTAssertEqual(object["listener"] as? String, listener)
            // The token may be in fields never redacted (the test puts it in the subject too),
            // never in the path or the method.
            for key in ["path", "method"] {
                XCTAssertFalse((object[key] as? String ?? "").contains("eyJhbGciOiJSUzI1NiJ9"), "case \(iteration): token in \(key): \(String(reflecting: key == "path" ? r.target : r.method))")
            }
        }
    }

    /// The strings that grow most: every byte escaped as `\u00xx`, and credential
    /// parameters with empty values (`;jwt=` becomes `;jwt=REDACTED`), long.
    func testWorstCaseLinesStayWithinTheirBound() {
        let controls = String(repeating: "\u{01}", count: 5000)
        let params = String(repeating: ";jwt=", count: 5000)
        let mixed = String(repeating: "\u{01};jwt=\"", count: 2000)
        for target in [controls, params, mixed, "?" + params, "/" + String(repeating: "&jwt=", count: 5000) + "?"] {
            let r = RequestRecord(requestID: controls, client: controls, method: params, target: target, status: -1,
                                  route: controls, outcome: .forwarded, subject: controls, upstreamSeconds: -1e300,
                                  totalSeconds: .nan, bytesIn: .max, bytesOut: .max, tlsVersion: controls)
            let (_, bound, intact) = boundedLine(r, listener: controls)
            XCTAssertTrue(intact, "a line overran its bound \(bound)")
        }
    }
}
