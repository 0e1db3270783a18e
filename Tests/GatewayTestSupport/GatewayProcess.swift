import Foundation

/// The real `gateway` binary, started with a config on an ephemeral loopback port.
/// Stops (SIGTERM, then SIGKILL) on `stop()` or deinit.
public final class GatewayProcess: @unchecked Sendable {
    public let process = Process()
    public let directory: String
    public private(set) var port: UInt16 = 0
    /// The admin listener's port.
    public private(set) var adminPort: UInt16 = 0
    private let stderrPipe = Pipe()
    private let stdoutPipe = Pipe()
    private let lock = NSLock()
    private var stderrText = ""
    private var stdoutText = ""

    /// The built `gateway` executable, next to the test bundle.
    public static var binaryPath: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // .build/debug/gatewayPackageTests.xctest may be a directory on some layouts.
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("gateway").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent("gateway").path
    }

    /// Writes `files` (name → contents) and `gateway.yml` into a fresh directory and runs
    /// `gateway serve`, waiting (≤ 20 s) for it to listen.
    /// - Parameter launcher: a command that runs the gateway (e.g. `["/usr/bin/prlimit", "--nofile=64:64"]`).
    public init(config: String, files: [String: String] = [:], environment: [String: String] = [:],
                arguments: [String] = [], launcher: [String] = []) throws {
        directory = NSTemporaryDirectory() + "gateway-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (name, text) in files {
            try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
        }
        // Never the default admin port: tests run many gateways.
        var config = config
        if !config.hasPrefix("admin:") && !config.contains("\nadmin:") {
            config += "\nadmin:\n  address: 127.0.0.1:0\n"
        }
        try config.write(toFile: directory + "/gateway.yml", atomically: true, encoding: .utf8)
        let command = launcher + [GatewayProcess.binaryPath, "serve", "--config", directory + "/gateway.yml",
                                  "--loops", "2"] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        process.standardError = stderrPipe
        process.standardOutput = stdoutPipe
        stderrPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.lock(); self.stderrText += String(decoding: d, as: UTF8.self); self.lock.unlock()
        }
        stdoutPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            guard let self, !d.isEmpty else { return }
            self.lock.lock(); self.stdoutText += String(decoding: d, as: UTF8.self); self.lock.unlock()
        }
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if let p = loggedNumber("port"), let a = loggedNumber("admin_port") {
                port = p
                adminPort = a
                return
            }
            if !process.isRunning { break }
            usleep(20_000)
        }
        let log = stderr + stdout
        stop()
        throw NSError(domain: "GatewayProcess", code: 1, userInfo: [NSLocalizedDescriptionKey: "gateway did not start: \(log)"])
    }

    /// Everything the gateway wrote to stderr so far.
    public var stderr: String { lock.lock(); defer { lock.unlock() }; return stderrText }
    /// Everything the gateway wrote to stdout so far.
    public var stdout: String { lock.lock(); defer { lock.unlock() }; return stdoutText }

    /// A number from the JSON "listening" log line on stdout (`"port":8080`).
    private func loggedNumber(_ key: String) -> UInt16? {
        let text = stdout
        guard let r = text.range(of: "\"\(key)\":") else { return nil }
        let digits = text[r.upperBound...].prefix { $0.isNumber }
        return UInt16(digits)
    }

    /// The decision listener's port (from the "listening" line), when the config has `decision:`.
    public var decisionPort: UInt16? { loggedNumber("decision_port") }

    /// User + system CPU seconds the gateway has used (from /proc; the prlimit launcher
    /// execs the gateway, so the PID is the gateway's).
    public func cpuSeconds() -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return 0 }
        return (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Sends a signal to the gateway.
    public func signal(_ sig: Int32) { kill(process.processIdentifier, sig) }

    /// Waits (≤ `seconds`) for exit; returns the exit status or nil if still running.
    public func waitForExit(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        return process.isRunning ? nil : process.terminationStatus
    }

    public func stop() {
        if process.isRunning {
            process.terminate()
            if waitForExit(seconds: 5) == nil { kill(process.processIdentifier, SIGKILL); _ = waitForExit(seconds: 5) }
        }
        stderrPipe.fileHandleForReading.readabilityHandler = nil
        stdoutPipe.fileHandleForReading.readabilityHandler = nil
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }
}
