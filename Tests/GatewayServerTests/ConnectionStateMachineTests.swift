import XCTest
@testable import GatewayServer

/// The connection's life driven by hand, with a manual clock (seconds): every timeout,
/// keep-alive and pipelining, half-close, lingering, draining. No sockets.
final class ConnectionStateMachineTests: XCTestCase {
    let t = ConnectionStateMachine.Timeouts(header: 10, body: 30, idle: 60, linger: 2)
    var m = ConnectionStateMachine()
    var now = 1000.0

    /// Advances the manual clock and returns what the deadline due by then asks for.
    func advance(_ seconds: Double, outputQueued: Bool = false, readingPaused: Bool = false)
        -> ConnectionStateMachine.Action? {
        now += seconds
        return m.deadline(now: now, outputQueued: outputQueued, readingPaused: readingPaused, t)
    }

    /// A connection that took one request and is waiting for its response.
    func forwardedRequest(hasBody: Bool) {
        m.started(now: now, t)
        m.requestBytesArrived(now: now, t)
        m.headParsed()
        m.forwarding(hasBody: hasBody, now: now, t)
    }

    func testSilentNewConnectionIsClosedWithoutAResponseAfterTheHeaderTimeout() {
        m.started(now: now, t)
        XCTAssertNil(advance(9.9))
        XCTAssertEqual(advance(0.2), .close(nil))
    }

    func testAStartedHeadThatNeverEndsGets408() {
        m.started(now: now, t)
        now += 5
        m.requestBytesArrived(now: now, t)  // the header timeout counts from the first byte
        XCTAssertTrue(m.headStarted)
        XCTAssertNil(advance(9.9))
        XCTAssertEqual(advance(0.2), .answer(.headerTimeout))
    }

    func testBodyTimeoutRestartsOnProgressAndWaitsWhileTheGatewayIsNotReading() {
        forwardedRequest(hasBody: true)
        XCTAssertNil(advance(29))
        m.bodyProgress(now: now, t)
        XCTAssertNil(advance(29), "progress restarted the body timeout")
        XCTAssertEqual(advance(2, readingPaused: true), ConnectionStateMachine.Action.none,
                       "upstream backpressure: not the client's fault")
        XCTAssertNil(advance(29))
        XCTAssertEqual(advance(2), .answer(.bodyTimeout))
    }

    func testACompleteRequestHasNoBodyTimeout() {
        forwardedRequest(hasBody: true)
        m.requestComplete()
        XCTAssertEqual(m.state, .exchange(.awaitingResponse))
        XCTAssertNil(advance(1000))
    }

    func testKeepAliveWaitsIdleTimeoutThenCloses() {
        forwardedRequest(hasBody: false)
        XCTAssertEqual(m.exchangeEnded(keepAlive: true, draining: false, inputBuffered: false, now: now, t), .readNextRequest)
        XCTAssertEqual(m.bufferedInputParsed(inputBuffered: false, now: now, t), ConnectionStateMachine.Action.none)
        XCTAssertEqual(m.state, .waitingForRequest)
        XCTAssertNil(advance(59))
        XCTAssertEqual(advance(2, outputQueued: true), ConnectionStateMachine.Action.none,
                       "the last response is still being written: its write-progress deadline watches it")
        XCTAssertEqual(advance(60), .close(nil))
    }

    func testPipelinedBytesGetTheHeaderTimeoutNotTheIdleTimeout() {
        forwardedRequest(hasBody: false)
        _ = m.exchangeEnded(keepAlive: true, draining: false, inputBuffered: true, now: now, t)
        XCTAssertEqual(m.bufferedInputParsed(inputBuffered: true, now: now, t), ConnectionStateMachine.Action.none)
        XCTAssertEqual(m.state, .readingHead)
        XCTAssertEqual(advance(10.1), .answer(.headerTimeout))
    }

    func testPipelinedRequestsAreTakenOneAtATime() {
        forwardedRequest(hasBody: false)
        // The next head is parsed only once the exchange ended.
        _ = m.exchangeEnded(keepAlive: true, draining: false, inputBuffered: true, now: now, t)
        m.headParsed()
        m.forwarding(hasBody: false, now: now, t)
        XCTAssertEqual(m.state, .exchange(.awaitingResponse))
        XCTAssertEqual(m.exchangeEnded(keepAlive: true, draining: false, inputBuffered: false, now: now, t), .readNextRequest)
    }

    func testHalfCloseAnswersWhatArrivedThenClosesAfterTheResponse() {
        forwardedRequest(hasBody: false)
        XCTAssertEqual(m.endOfInput(), ConnectionStateMachine.Action.none, "the client may still read the response")
        XCTAssertEqual(m.exchangeEnded(keepAlive: true, draining: false, inputBuffered: false, now: now, t), .closeAfterFlush)
        XCTAssertFalse(m.acceptsRequests)
        XCTAssertEqual(m.outputDrained(now: now, t), .close(nil), "input already ended: no lingering needed")
    }

    func testHalfCloseWithACompletePipelinedRequestAnswersItFirst() {
        forwardedRequest(hasBody: false)
        _ = m.endOfInput()
        XCTAssertEqual(m.exchangeEnded(keepAlive: true, draining: false, inputBuffered: true, now: now, t), .readNextRequest)
        m.headParsed()  // the buffered request
        m.forwarding(hasBody: false, now: now, t)
        XCTAssertEqual(m.exchangeEnded(keepAlive: true, draining: false, inputBuffered: false, now: now, t), .closeAfterFlush)
    }

    func testHalfCloseWithOnlyPartOfAHeadCloses() {
        forwardedRequest(hasBody: false)
        _ = m.endOfInput()
        XCTAssertEqual(m.exchangeEnded(keepAlive: true, draining: false, inputBuffered: true, now: now, t), .readNextRequest)
        XCTAssertEqual(m.bufferedInputParsed(inputBuffered: true, now: now, t), .closeAfterFlush,
                       "a partial request can never complete")
    }

    func testLastResponseThenLingerThenClose() {
        forwardedRequest(hasBody: true)
        XCTAssertEqual(m.exchangeEnded(keepAlive: false, draining: false, inputBuffered: false, now: now, t), .closeAfterFlush)
        m.writeBlocked(now: now, t)
        XCTAssertNil(advance(30, outputQueued: true))
        m.wroteBytes(now: now, t)
        XCTAssertEqual(m.outputDrained(now: now, t), .shutdownWriteAndLinger)
        XCTAssertTrue(m.isLingering)
        XCTAssertNil(advance(1.9))
        XCTAssertEqual(advance(0.2), .close(nil))
    }

    func testAClientThatReadsNothingIsAbandonedAfterIdleTimeout() {
        forwardedRequest(hasBody: false)
        m.writeBlocked(now: now, t)
        XCTAssertNil(advance(30, outputQueued: true))
        m.wroteBytes(now: now, t)  // progress restarts the write-progress deadline
        m.writeBlocked(now: now, t)  // and blocking again does not move it back
        XCTAssertNil(advance(59, outputQueued: true))
        XCTAssertEqual(advance(2, outputQueued: true), .close(.writeTimeout))
    }

    func testWriteProgressDeadlineAndBodyDeadlineDoNotClobberEachOther() {
        forwardedRequest(hasBody: true)
        m.writeBlocked(now: now, t)        // at +60
        m.bodyProgress(now: now + 20, t)   // body at +50
        XCTAssertEqual(advance(51), .answer(.bodyTimeout))
        XCTAssertEqual(advance(10, outputQueued: true), .close(.writeTimeout))
    }

    func testDraining() {
        m.started(now: now, t)
        XCTAssertEqual(m.drain(expired: false, idle: true), .close(nil), "idle connections close at once")
        var busy = ConnectionStateMachine()
        busy.started(now: now, t)
        busy.requestBytesArrived(now: now, t)
        busy.headParsed()
        XCTAssertEqual(busy.drain(expired: false, idle: false), ConnectionStateMachine.Action.none)
        XCTAssertEqual(busy.exchangeEnded(keepAlive: true, draining: true, inputBuffered: false, now: now, t), .closeAfterFlush,
                       "draining: the response in flight is the last")
        XCTAssertEqual(busy.drain(expired: true, idle: false), .close(.drainTimeout))
    }

    func testEndOfInputBetweenRequestsClosesAfterFlush() {
        m.started(now: now, t)
        XCTAssertEqual(m.endOfInput(), .closeAfterFlush)
        XCTAssertEqual(m.outputDrained(now: now, t), .close(nil))
    }

    func testBodyCompletingWhileTheDecisionWaitsIsNotForwardedAsIncomplete() {
        m.started(now: now, t)
        m.headParsed()
        m.requestComplete()  // body arrived while a key refresh ran
        m.forwarding(hasBody: true, now: now, t)
        XCTAssertEqual(m.state, .exchange(.awaitingResponse))
        XCTAssertNil(advance(1000), "no body timeout for a body that is complete")
    }

    func testClosedConnectionHasNoDeadlines() {
        forwardedRequest(hasBody: true)
        m.writeBlocked(now: now, t)
        m.closed()
        XCTAssertNil(advance(1e6))
    }
}
