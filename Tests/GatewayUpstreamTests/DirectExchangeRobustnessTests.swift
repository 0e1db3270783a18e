import Dispatch
import Foundation
import GatewayHTTP
import GatewayTestSupport
import GatewayUpstream
import XCTest

/// Direct exchanges (requests without a body, framed by the gateway) against upstreams that
/// misbehave or hold resources: what must not leak, spin or stall.
final class DirectExchangeRobustnessTests: XCTestCase {
    private let queue = DispatchQueue(label: "direct-exchange-robustness-tests")
    private var loop: UpstreamLoop!

    override func setUp() {
        super.setUp()
        let queue = self.queue
        loop = queue.sync { UpstreamLoop(queue: queue) }
    }

    override func tearDown() {
        let loop = self.loop
        queue.sync { _ = loop }
        self.loop = nil
        super.tearDown()
    }

    /// A GET to `url`, waited for (≤ 10 s).
    private func get(_ url: String) -> Recorder {
        let recorder = Recorder(queue: queue, done: expectation(description: "completion"))
        let request = UpstreamRequest(method: "GET", url: url, fields: [], body: .none, connectTimeout: 2, timeout: 5)
        let loop = self.loop!
        queue.async { recorder.transfer = loop.start(request, delegate: recorder) }
        wait(for: [recorder.done], timeout: 10)
        queue.sync {}
        return recorder
    }

    func testAPoolFullOfOneUpstreamStillLetsAnotherReuseConnections() throws {
        // 260 concurrent requests leave more idle connections to `busy` than the pool holds
        // (256), and `busy` never closes them.
        let busy = try RecordingUpstream { _ in .delayed(seconds: 0.5, then: .ok("busy")) }
        defer { busy.stop() }
        let other = try RecordingUpstream { req in .ok(req.target) }
        defer { other.stop() }
        let loop = self.loop!
        var recorders: [Recorder] = []
        for i in 0..<260 {
            let r = Recorder(queue: queue, done: expectation(description: "busy \(i)"))
            recorders.append(r)
            let request = UpstreamRequest(method: "GET", url: busy.url("/\(i)"), fields: [], body: .none, connectTimeout: 5, timeout: 9)
            queue.async { r.transfer = loop.start(request, delegate: r) }
        }
        wait(for: recorders.map(\.done), timeout: 20)
        queue.sync {}
        XCTAssertEqual(recorders.filter { $0.completions == [nil] }.count, 260)
        // The connection idle longest makes room: `other` keeps its one connection.
        for i in 0..<3 { XCTAssertEqual(get(other.url("/\(i)")).completions, [nil]) }
        XCTAssertEqual(other.requests.map(\.connection), [1, 1, 1])
    }
}
