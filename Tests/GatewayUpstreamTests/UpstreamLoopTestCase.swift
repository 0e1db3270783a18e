import Dispatch
import GatewayUpstream
import XCTest

/// A test case with a fresh `UpstreamLoop` on its own serial queue per test; the loop is
/// released on that queue after the test.
class UpstreamLoopTestCase: XCTestCase {
    let queue = DispatchQueue(label: "upstream-loop-test")
    var loop: UpstreamLoop!

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
}
