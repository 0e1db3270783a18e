import Foundation

/// A command-line peer (openssl, curl) run as a child process with a bounded lifetime:
/// output is collected in the background; `finish` waits at most until its deadline, then
/// terminates the process.
public final class Subprocess: @unchecked Sendable {
    private let process = Process()
    private let output = Pipe()
    private let lock = NSLock()
    private var collected = Data()
    private let done = DispatchSemaphore(value: 0)

    /// Starts `arguments` (looked up in PATH); `input` is written to its standard input,
    /// which then stays open until the process ends (so `s_client` does not quit on EOF).
    public init(_ arguments: [String], input: String? = nil, in directory: URL? = nil) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        process.standardInput = stdin
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock()
            self.collected.append(data)
            self.lock.unlock()
        }
        let done = self.done
        process.terminationHandler = { _ in done.signal() }
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
    }

    /// Waits for the exit (at most `timeout` seconds, then terminates it) and returns the
    /// exit status and everything it printed.
    public func finish(timeout: Double = 20) -> (status: Int32, output: String) {
        if done.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            _ = done.wait(timeout: .now() + 5)
        }
        // Whatever is still in the pipe.
        usleep(20_000)
        output.fileHandleForReading.readabilityHandler = nil
        let rest = (try? output.fileHandleForReading.readToEnd()) ?? nil
        lock.lock()
        defer { lock.unlock() }
        if let rest { collected.append(rest) }
        return (process.isRunning ? -1 : process.terminationStatus, String(decoding: collected, as: UTF8.self))
    }

    /// Runs to completion; throws on a non-zero exit with the output as the message.
    @discardableResult
    public static func check(_ arguments: [String], in directory: URL? = nil, timeout: Double = 30) throws -> String {
        let p = try Subprocess(arguments, in: directory)
        let (status, text) = p.finish(timeout: timeout)
        guard status == 0 else { throw Failure(message: "\(arguments.joined(separator: " ")): exit \(status): \(text)") }
        return text
    }

    public struct Failure: Error, CustomStringConvertible {
        public var message: String
        public var description: String { message }
        public init(message: String) { self.message = message }
    }
}
