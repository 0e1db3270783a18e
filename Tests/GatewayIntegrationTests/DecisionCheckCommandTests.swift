import Foundation
import GatewayTestSupport
import XCTest

/// `gateway check` on a config with a decision listener.
final class DecisionCheckCommandTests: XCTestCase {
    func check(_ decision: String) throws -> (status: Int32, err: String) {
        let dir = NSTemporaryDirectory() + "decision-check-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try """
            listen: {address: 127.0.0.1:8080}
            \(decision)
            upstreams: {u: {url: "http://127.0.0.1:9000"}}
            routes: [{name: r, match: {path: /}, upstream: u, auth: public}]
            """.write(toFile: dir + "/gw.yml", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
        p.arguments = ["check", "--config", dir + "/gw.yml"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    func testNonLoopbackDecisionAddressIsWarnedAbout() throws {
        let open = try check("decision: {address: 0.0.0.0:8081}")
        XCTAssertEqual(open.status, 0)
        XCTAssertTrue(open.err.contains("gw.yml:2:21: warning: decision.address 0.0.0.0:8081 is not a loopback address"), open.err)
        let loopback = try check("decision: {address: 127.0.0.1:8081}")
        XCTAssertEqual(loopback.status, 0)
        XCTAssertFalse(loopback.err.contains("decision"), loopback.err)
        let clash = try check("decision: {address: 127.0.0.1:8080}")
        XCTAssertEqual(clash.status, 1)
        XCTAssertTrue(clash.err.contains("`decision.address` 127.0.0.1:8080 and `listen.address` 127.0.0.1:8080"), clash.err)
    }
}
