import Foundation
import GatewayTestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// Signals are handled from the first instant of `serve`: while a slow JWK Set server holds
/// the start-up key fetch, a SIGHUP is kept (never fatal) and a SIGTERM exits cleanly.
final class StartupSignalIntegrationTests: XCTestCase {
    /// A gateway process started by hand (GatewayProcess waits for it to listen first).
    final class Starting: @unchecked Sendable {
        let process = Process()
        let out = Pipe()
        private let lock = NSLock()
        private var text = ""
        let directory = NSTemporaryDirectory() + "gateway-startup-" + UUID().uuidString

        init(config: String) throws {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try config.write(toFile: directory + "/gateway.yml", atomically: true, encoding: .utf8)
            process.executableURL = URL(fileURLWithPath: GatewayProcess.binaryPath)
            process.arguments = ["serve", "--config", directory + "/gateway.yml", "--loops", "1"]
            process.standardOutput = out
            process.standardError = out
            out.fileHandleForReading.readabilityHandler = { [weak self] h in
                let d = h.availableData
                guard let self, !d.isEmpty else { return }
                self.lock.withLock { self.text += String(decoding: d, as: UTF8.self) }
            }
            try process.run()
        }
        var output: String { lock.withLock { text } }
        func waitFor(_ needle: String, seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if output.contains(needle) { return true }
                if !process.isRunning { return output.contains(needle) }
                usleep(20_000)
            }
            return false
        }
        func waitForExit(seconds: Double) -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            return process.isRunning ? nil : process.terminationStatus
        }
        func stop() {
            if process.isRunning {
                process.terminate()
                if waitForExit(seconds: 5) == nil { kill(process.processIdentifier, SIGKILL) }
            }
            out.fileHandleForReading.readabilityHandler = nil
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    func slowJWKS(seconds: Double) throws -> RecordingUpstream {
        let keys = try Fixtures.bytes("vectors/jwks.json")
        return try RecordingUpstream { req in
            req.target == "/jwks.json" ? .delayed(seconds: seconds, then: .ok(body: keys)) : .ok("api\n")
        }
    }

    func config(port: Int) -> String {
        JWKSIntegrationTests.config(port: port) + "\nadmin:\n  address: 127.0.0.1:0\n"
    }

    func testSIGHUPWhileKeysLoadIsQueuedNotFatal() throws {
        let jwks = try slowJWKS(seconds: 3)
        defer { jwks.stop() }
        let g = try Starting(config: config(port: jwks.port))
        defer { g.stop() }
        for _ in 0..<250 where jwks.requests.isEmpty { usleep(20_000) }
        XCTAssertFalse(jwks.requests.isEmpty, "the start-up key fetch began")
        kill(g.process.processIdentifier, SIGHUP)
        usleep(300_000)
        XCTAssertTrue(g.process.isRunning, "a SIGHUP during start-up must not kill the process: \(g.output)")
        XCTAssertTrue(g.waitFor("\"message\":\"listening\"", seconds: 20), g.output)
        // The queued reload runs once the server is up (and fetches the keys again).
        XCTAssertTrue(g.waitFor("config reloaded", seconds: 15), g.output)
        XCTAssertTrue(g.process.isRunning)
        kill(g.process.processIdentifier, SIGTERM)
        XCTAssertEqual(g.waitForExit(seconds: 10), 0)
    }

    func testSIGTERMWhileKeysLoadExitsCleanly() throws {
        let jwks = try slowJWKS(seconds: 5)
        defer { jwks.stop() }
        let g = try Starting(config: config(port: jwks.port))
        defer { g.stop() }
        for _ in 0..<250 where jwks.requests.isEmpty { usleep(20_000) }
        XCTAssertFalse(jwks.requests.isEmpty, "the start-up key fetch began")
        kill(g.process.processIdentifier, SIGTERM)
        XCTAssertEqual(g.waitForExit(seconds: 3), 0, "nothing is in flight during start-up: exit 0 at once")
        XCTAssertFalse(g.output.contains("\"message\":\"listening\""))
    }
}
