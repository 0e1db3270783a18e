import Dispatch
import GatewayTestSupport
@testable import GatewayUpstream
import XCTest

/// libcurl and system failures as the upstream client translates them: the failure kind
/// and message a log line gets, and the `UpstreamError` (and so the status) the client sees.
/// Real libcurl against real sockets on 127.0.0.1.
final class UpstreamCallErrorTests: UpstreamLoopTestCase {

    /// Runs a GET to `url` and waits (≤ 10 s) for completion; returns the recorder and the
    /// transfer's translated call error.
    private func run(_ url: String, timeout: Double = 5, connectTimeout: Double = 2) -> (Recorder, UpstreamCallError?) {
        let recorder = Recorder(queue: queue, done: expectation(description: "completion"))
        let request = UpstreamRequest(method: "GET", url: url, fields: [], body: .none,
                                      connectTimeout: connectTimeout, timeout: timeout)
        let loop = self.loop!
        queue.async { recorder.transfer = loop.start(request, delegate: recorder) }
        wait(for: [recorder.done], timeout: 10)
        let callError = queue.sync { recorder.transfer?.callError }
        return (recorder, callError)
    }

    func testClosedPortIsUnreachableAndNamesThePort() throws {
        let port = RecordingUpstream.unusedPort()
        let (r, callError) = run("http://127.0.0.1:\(port)/")
        let error = try XCTUnwrap(callError)
        XCTAssertEqual(error.kind, .unreachable)
        XCTAssertEqual(error.call, "transfer")
        XCTAssertTrue(error.message.contains("\(port)"), error.message)
        XCTAssertEqual(r.completions, [.connectFailed(error.message)])
        XCTAssertEqual(r.completions.first??.status, 502)
    }

    func testSlowUpstreamIsTimedOut() throws {
        let upstream = try RecordingUpstream { _ in .delayed(seconds: 3, then: .ok("late")) }
        defer { upstream.stop() }
        let (r, callError) = run(upstream.url("/slow"), timeout: 0.5)
        XCTAssertEqual(callError?.kind, .timedOut)
        XCTAssertEqual(r.completions, [.timeout])
        XCTAssertEqual(r.completions.first??.status, 504)
    }

    func testEmptyReplyIsAnInvalidResponse() throws {
        let upstream = try RecordingUpstream { _ in .close }
        defer { upstream.stop() }
        let (r, callError) = run(upstream.url("/"))
        XCTAssertEqual(callError?.kind, .invalidResponse)
        guard case .invalidResponse(let message)? = r.completions.first ?? nil else {
            return XCTFail("expected invalidResponse, got \(r.completions)")
        }
        XCTAssertEqual(message, callError?.message)
    }

    func testMalformedURLIsRefusedBeforeAnyConnection() throws {
        let (r, callError) = run("http://[::1/")
        XCTAssertEqual(callError?.kind, .refused)
        guard case .connectFailed? = r.completions.first ?? nil else {
            return XCTFail("expected connectFailed, got \(r.completions)")
        }
    }

    func testSuccessHasNoCallError() throws {
        let upstream = try RecordingUpstream { _ in .ok("fine") }
        defer { upstream.stop() }
        let (r, callError) = run(upstream.url("/"))
        XCTAssertNil(callError)
        XCTAssertEqual(r.completions, [nil])
        XCTAssertEqual(r.status, 200)
    }

    func testFailedSystemCallCarriesErrnoAndCallName() {
        do throws(UpstreamCallError) {
            _ = try UpstreamDescriptor(duplicating: -1)
            XCTFail("duplicating descriptor -1 succeeded")
        } catch {
            XCTAssertEqual(error.code, .system(errno: EBADF))
            XCTAssertEqual(error.call, "fcntl(F_DUPFD_CLOEXEC)")
            XCTAssertEqual(error.description, "fcntl(F_DUPFD_CLOEXEC): Bad file descriptor")
            XCTAssertEqual(error.kind, .internalError)
        }
    }

    func testDescriptorLimitIsResourceExhaustion() {
        let error = UpstreamCallError(code: .system(errno: EMFILE), call: "socket")
        XCTAssertEqual(error.kind, .resourceExhausted)
        XCTAssertEqual(error.upstreamError(headDelivered: false), .connectFailed("Too many open files"))
    }

    func testAnyFailureAfterTheHeadIsAnAbortedResponse() {
        let error = UpstreamCallError(code: .system(errno: ECONNRESET), call: "transfer")
        XCTAssertEqual(error.upstreamError(headDelivered: true), .aborted("Connection reset by peer"))
    }
}
