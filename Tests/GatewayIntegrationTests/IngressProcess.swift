import Foundation
import GatewayTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A real ingress (nginx, Caddy) started from an example configuration in
/// deploy/examples/forward-auth, its addresses replaced by the test's ports, in a temporary
/// directory. Stopped (SIGTERM, then SIGKILL) on `stop()`.
final class IngressProcess {
    let process = Process()
    let directory: String
    let port: UInt16
    private let output = Pipe()

    /// The example configuration `name`, with the example's addresses replaced.
    static func example(_ name: String, port: UInt16, decisionPort: UInt16, appPort: Int) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let text = try String(contentsOfFile: root.appendingPathComponent("deploy/examples/forward-auth/\(name)").path,
                              encoding: .utf8)
        return text.replacingOccurrences(of: "127.0.0.1:8000", with: "127.0.0.1:\(port)")
            .replacingOccurrences(of: "http://:8000", with: "http://:\(port)")
            .replacingOccurrences(of: "127.0.0.1:8081", with: "127.0.0.1:\(decisionPort)")
            .replacingOccurrences(of: "127.0.0.1:9000", with: "127.0.0.1:\(appPort)")
    }

    /// The executable `name` from the usual system directories.
    /// - Throws: when it is not installed (the test fails: `make test` installs it).
    static func binary(_ name: String) throws -> String {
        for dir in ["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"] where
            FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
            return "\(dir)/\(name)"
        }
        throw NSError(domain: "IngressProcess", code: 1, userInfo: [NSLocalizedDescriptionKey:
            "\(name) is not installed; `make test` installs it (apt-get install \(name))"])
    }

    /// Writes `config` as `configName` into a fresh directory and runs `arguments(directory)`,
    /// waiting (≤ 10 s) until `port` accepts connections.
    init(executable: String, configName: String, config: String, port: UInt16,
         arguments: (String) -> [String], environment: (String) -> [String: String] = { _ in [:] }) throws {
        directory = NSTemporaryDirectory() + "ingress-test-" + UUID().uuidString
        self.port = port
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try config.write(toFile: directory + "/" + configName, atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments(directory)
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment(directory) { env[k] = v }
        process.environment = env
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if (try? RawHTTPClient(port: port)) != nil { return }
            if !process.isRunning { break }
            usleep(20_000)
        }
        let log = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        stop()
        throw NSError(domain: "IngressProcess", code: 2, userInfo: [NSLocalizedDescriptionKey:
            "\(executable) did not listen on 127.0.0.1:\(port): \(log)"])
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }
}
