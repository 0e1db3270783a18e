import GatewayCore
import XCTest
@testable import GatewayServer

/// The connection's life driven by hand, with a manual clock (seconds): every timeout,
/// keep-alive and pipelining, half-close, lingering, draining, and flow control (read and
/// write interest, upstream backpressure with hysteresis, upstream failures). No sockets.
final class ConnectionStateMachineTests: XCTestCase {
    let t = ConnectionStateMachine.Timeouts(header: 10, body: 30, idle: 60, linger: 2)
    var m = ConnectionStateMachine()
    var now = 1000.0

    /// Advances the manual clock and returns what the deadline due by then asks for.
    func advance(_ seconds: Double, outputQueued: Bool = false) -> ConnectionStateMachine.Action? {
        now += seconds
        return m.deadline(now: now, outputQueued: outputQueued, t)
    }

    /// A connection that took one request and is waiting for its response.
    func forwardedRequest(hasBody: Bool) {
        m.started(now: now, t)
        m.requestBytesArrived(now: now, t)
        m.headParsed()
        m.forwarding(hasBody: hasBody, now: now, t)
    }

    // MARK: The decision step

    /// A connection whose request head was parsed and is being decided.
    func decidingRequest() {
        m.started(now: now, t)
        m.requestBytesArrived(now: now, t)
        m.headParsed()
    }

    func testAForwardVerdictStartsTheExchangeWithOrWithout100Continue() {
        decidingRequest()
        XCTAssertEqual(m.decided(.forward(declaredLength: nil, maxBody: 1024, wantsContinue: false)), .forward(sendContinue: false))
        var other = ConnectionStateMachine()
        other.started(now: now, t)
        other.requestBytesArrived(now: now, t)
        other.headParsed()
        XCTAssertEqual(other.decided(.forward(declaredLength: 1024, maxBody: 1024, wantsContinue: true)), .forward(sendContinue: true))
    }

    func testADeclaredBodyOverTheLimitIsAnswered413BeforeAnyContinue() {
        decidingRequest()
        XCTAssertEqual(m.decided(.forward(declaredLength: 1025, maxBody: 1024, wantsContinue: true)), .answer(.bodyTooLarge))
        var local = ConnectionStateMachine()
        local.started(now: now, t)
        local.requestBytesArrived(now: now, t)
        local.headParsed()
        // A listener that takes no body (the decision listener's limit is 0).
        XCTAssertEqual(local.decided(.forward(declaredLength: 1, maxBody: 0, wantsContinue: false)), .answer(.bodyTooLarge))
    }

    func testRefusalsAndTheGatewaysOwnAnswers() {
        decidingRequest()
        let refused = Outcome.denied(Refusal(.missingToken))
        XCTAssertEqual(m.decided(.refuse(refused)), .answer(refused))
        var preflight = ConnectionStateMachine()
        preflight.started(now: now, t)
        preflight.requestBytesArrived(now: now, t)
        preflight.headParsed()
        XCTAssertEqual(preflight.decided(.answered), .sendAnswer)
    }

    func testADecisionWaitsForItsInputThenDecidesAgain() {
        decidingRequest()
        XCTAssertEqual(m.decided(.waitForInput), .wait)
        XCTAssertTrue(m.awaitingDecisionInput)
        // The body may finish while the decision waits; the wait goes on.
        m.requestComplete()
        XCTAssertTrue(m.awaitingDecisionInput)
        m.decisionInputArrived()
        XCTAssertFalse(m.awaitingDecisionInput)
        XCTAssertEqual(m.decided(.forward(declaredLength: nil, maxBody: 1024, wantsContinue: false)), .forward(sendContinue: false))
    }

    func testAnExchangeThatEndsWhileItsDecisionWaitsLeavesNothingWaiting() {
        decidingRequest()
        XCTAssertEqual(m.decided(.waitForInput), .wait)
        XCTAssertEqual(m.exchangeEnded(keepAlive: true, draining: false, inputBuffered: false, now: now, t), .readNextRequest)
        XCTAssertFalse(m.awaitingDecisionInput)
        // The next request is decided afresh.
        m.requestBytesArrived(now: now, t)
        m.headParsed()
        XCTAssertEqual(m.decided(.refuse(.denied(Refusal(.noRoute)))), .answer(.denied(Refusal(.noRoute))))
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
        XCTAssertEqual(m.requestBodyBuffered(count: m.limits.requestBody.high), .readOff)
        XCTAssertEqual(advance(2), ConnectionStateMachine.Action.none,
                       "upstream backpressure: not the client's fault")
        XCTAssertEqual(m.requestBodyBuffered(count: m.limits.requestBody.low), .readOn)
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
        XCTAssertEqual(m.writeBlocked(now: now, t), .armWrite)
        XCTAssertNil(advance(30, outputQueued: true))
        m.wroteBytes(now: now, t)
        XCTAssertEqual(m.outputDrained(now: now, t), .shutdownWriteAndLinger)
        XCTAssertTrue(m.isLingering)
        XCTAssertNil(advance(1.9))
        XCTAssertEqual(advance(0.2), .close(nil))
    }

    func testAClientThatReadsNothingIsAbandonedAfterIdleTimeout() {
        forwardedRequest(hasBody: false)
        XCTAssertEqual(m.writeBlocked(now: now, t), .armWrite)
        XCTAssertNil(advance(30, outputQueued: true))
        m.wroteBytes(now: now, t)  // progress restarts the write-progress deadline
        XCTAssertEqual(m.writeBlocked(now: now, t), [], "already armed")  // and blocking again does not move it back
        XCTAssertNil(advance(59, outputQueued: true))
        XCTAssertEqual(advance(2, outputQueued: true), .close(.writeTimeout))
    }

    func testWriteProgressDeadlineAndBodyDeadlineDoNotClobberEachOther() {
        forwardedRequest(hasBody: true)
        XCTAssertEqual(m.writeBlocked(now: now, t), .armWrite)  // at +60
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
        XCTAssertEqual(m.writeBlocked(now: now, t), .armWrite)
        m.closed()
        XCTAssertFalse(m.wantsWrite)
        XCTAssertNil(advance(1e6))
    }

    // MARK: Flow control

    func testOutboundBackpressurePausesAtHighWaterAndResumesOnlyAtLowWater() {
        forwardedRequest(hasBody: false)
        m.requestComplete()
        let high = m.limits.outbound.high, low = m.limits.outbound.low
        XCTAssertEqual(m.upstreamHeadQueued(), .flush)
        XCTAssertEqual(m.upstreamBodyOffered(bytes: high / 2, outputQueued: 0), .flush)
        XCTAssertEqual(m.upstreamBodyOffered(bytes: high / 2, outputQueued: high / 2), .flush, "exactly at the mark fits")
        XCTAssertEqual(m.upstreamBodyOffered(bytes: 1, outputQueued: high), .pauseReceiving)
        XCTAssertTrue(m.upstreamReceivePaused)
        XCTAssertEqual(m.outputBuffered(count: high - 1), [])
        XCTAssertEqual(m.outputBuffered(count: low + 1), [], "between the marks: still paused")
        XCTAssertEqual(m.upstreamBodyOffered(bytes: 1, outputQueued: low + 1), .pauseReceiving,
                       "a paused transfer takes nothing until it is resumed")
        XCTAssertEqual(m.outputBuffered(count: low), .resumeReceiving)
        XCTAssertFalse(m.upstreamReceivePaused)
        XCTAssertEqual(m.outputBuffered(count: low - 1), [], "resumed once, not on every write")
        XCTAssertEqual(m.upstreamBodyOffered(bytes: high - low, outputQueued: low), .flush)
    }

    func testAnEmptyOutputQueueTakesAChunkLargerThanTheHighWaterMark() {
        forwardedRequest(hasBody: false)
        XCTAssertEqual(m.upstreamBodyOffered(bytes: 10 * m.limits.outbound.high, outputQueued: 0), .flush)
        XCTAssertEqual(m.upstreamBodyOffered(bytes: 1, outputQueued: 10 * m.limits.outbound.high), .pauseReceiving)
        XCTAssertEqual(m.outputBuffered(count: 0), .resumeReceiving)
    }

    func testWriteInterestIsArmedForABlockedWriteAndDisarmedOnceDrained() {
        forwardedRequest(hasBody: false)
        XCTAssertEqual(m.writeBlocked(now: now, t, waitsForWritable: false), [],
                       "a TLS write waiting to read first: the transport's own interest, not write interest")
        XCTAssertFalse(m.wantsWrite)
        XCTAssertEqual(m.writeBlocked(now: now, t), .armWrite)
        XCTAssertTrue(m.wantsWrite)
        XCTAssertEqual(m.outputBuffered(count: 100), [])
        XCTAssertEqual(m.outputBuffered(count: 0), .disarmWrite)
        XCTAssertFalse(m.wantsWrite)
        XCTAssertEqual(m.outputBuffered(count: 0), [])
    }

    func testAFullRequestBodyPausesReadingUntilTheUpstreamTakesItDownToTheLowMark() {
        forwardedRequest(hasBody: true)
        let marks = m.limits.requestBody
        XCTAssertTrue(m.wantsRead)
        XCTAssertEqual(m.requestBodyBuffered(count: marks.high - 1), [])
        XCTAssertEqual(m.requestBodyBuffered(count: marks.high), .readOff)
        XCTAssertTrue(m.requestBodyFull)
        XCTAssertFalse(m.wantsRead)
        XCTAssertEqual(m.requestBodyBuffered(count: marks.low + 1), [], "between the marks: still paused")
        XCTAssertEqual(advance(31), ConnectionStateMachine.Action.none, "no body timeout while the gateway is not reading")
        XCTAssertEqual(m.requestBodyBuffered(count: marks.low), .readOn)
        XCTAssertTrue(m.wantsRead)
        XCTAssertEqual(advance(31), .answer(.bodyTimeout), "reading again: the client must send")
    }

    func testFullInboundBufferPausesReadingWithHysteresis() {
        m.started(now: now, t)
        let marks = m.limits.inbound
        XCTAssertEqual(m.inboundBuffered(count: marks.high), .readOff)
        XCTAssertEqual(m.inboundBuffered(count: marks.low + 1), [])
        XCTAssertEqual(m.inboundBuffered(count: marks.low), .readOn)
    }

    func testAnUpstreamWaitingForBodyBytesIsResumedWhenTheyArriveAndAtTheEnd() {
        forwardedRequest(hasBody: true)
        XCTAssertEqual(m.upstreamNeedsBody(buffered: 0), .pause)
        XCTAssertEqual(m.requestBodyBuffered(count: 100), .resumeSending)
        XCTAssertEqual(m.upstreamNeedsBody(buffered: 100), .send)
        XCTAssertEqual(m.requestBodyBuffered(count: 0), [], "not paused: nothing to resume")
        XCTAssertEqual(m.upstreamNeedsBody(buffered: 0), .pause)
        m.requestComplete()
        XCTAssertEqual(m.requestBodyBuffered(count: 0), .resumeSending, "the end of the body resumes it too")
        XCTAssertEqual(m.upstreamNeedsBody(buffered: 0), .end)
    }

    func testUpstreamFailureBeforeTheResponseLeftIsAnsweredWithItsOutcome() {
        forwardedRequest(hasBody: false)
        XCTAssertEqual(m.upstreamFailed(.timeout, responseLeft: false), .answer(.upstreamFailed(.timeout)))
        var other = ConnectionStateMachine()
        other.started(now: now, t)
        other.headParsed()
        other.forwarding(hasBody: false, now: now, t)
        XCTAssertEqual(other.upstreamHeadQueued(), .flush)  // queued, taken back before it left
        XCTAssertEqual(other.upstreamFailed(.connectFailed("refused"), responseLeft: false),
                       .answer(.upstreamFailed(.unreachable)))
    }

    func testUpstreamFailureAfterTheResponseStartedLeavingClosesTheConnection() {
        forwardedRequest(hasBody: false)
        m.requestComplete()
        XCTAssertEqual(m.upstreamHeadQueued(), .flush)
        XCTAssertEqual(m.upstreamBodyOffered(bytes: 1, outputQueued: m.limits.outbound.high), .pauseReceiving)
        XCTAssertEqual(m.upstreamFailed(.aborted("connection lost"), responseLeft: true),
                       .close(.upstreamFailed(.abortedMidBody)), "a truncated body must never look complete")
        XCTAssertFalse(m.upstreamReceivePaused)
    }

    func testAResponseBeforeTheWholeRequestArrivedEndsTheConnection() {
        forwardedRequest(hasBody: true)
        XCTAssertFalse(m.offersKeepAlive(requested: true, draining: false),
                       "unread body bytes would be parsed as the next request")
        XCTAssertEqual(m.upstreamFinished(responseKeepAlive: true), .finishExchange(keepAlive: false))
    }

    func testACompleteExchangeKeepsTheConnection() {
        forwardedRequest(hasBody: false)
        m.requestComplete()
        XCTAssertTrue(m.offersKeepAlive(requested: true, draining: false))
        XCTAssertFalse(m.offersKeepAlive(requested: false, draining: false))
        XCTAssertEqual(m.upstreamFinished(responseKeepAlive: true), .finishExchange(keepAlive: true))
        XCTAssertEqual(m.exchangeEnded(keepAlive: true, draining: false, inputBuffered: false, now: now, t), .readNextRequest)
    }

    func testHalfCloseDuringAnExchangeStopsReadingAndClosesAfterTheResponse() {
        forwardedRequest(hasBody: true)
        XCTAssertEqual(m.requestBodyBuffered(count: 10), [])
        m.requestComplete()
        XCTAssertEqual(m.endOfInput(), ConnectionStateMachine.Action.none, "the client may still read the response")
        XCTAssertFalse(m.wantsRead)
        XCTAssertEqual(m.requestBodyBuffered(count: 0), [], "reading stays off once input ended")
        XCTAssertEqual(m.upstreamFinished(responseKeepAlive: true), .finishExchange(keepAlive: true))
        XCTAssertEqual(m.exchangeEnded(keepAlive: true, draining: false, inputBuffered: false, now: now, t), .closeAfterFlush)
        XCTAssertEqual(m.outputBuffered(count: 0), [])
        XCTAssertEqual(m.outputDrained(now: now, t), .close(nil), "input already ended: no lingering")
    }

    func testHalfCloseInTheMiddleOfABodyEndsWithTheBodyTimeout() {
        forwardedRequest(hasBody: true)
        XCTAssertEqual(m.endOfInput(), ConnectionStateMachine.Action.none)
        XCTAssertEqual(m.upstreamNeedsBody(buffered: 0), .pause, "the body is not complete: never end it")
        XCTAssertEqual(advance(31), .answer(.bodyTimeout))
    }

    func testDrainingWithAnExchangeInFlightMakesItsResponseTheLast() {
        forwardedRequest(hasBody: false)
        m.requestComplete()
        XCTAssertEqual(m.drain(expired: false, idle: false), ConnectionStateMachine.Action.none, "the exchange finishes")
        XCTAssertFalse(m.offersKeepAlive(requested: true, draining: true), "the response in flight is the last")
        XCTAssertEqual(m.upstreamHeadQueued(), .flush)
        XCTAssertEqual(m.upstreamBodyOffered(bytes: 10, outputQueued: 0), .flush)
        XCTAssertEqual(m.upstreamFinished(responseKeepAlive: false), .finishExchange(keepAlive: false))
        XCTAssertEqual(m.exchangeEnded(keepAlive: false, draining: true, inputBuffered: false, now: now, t), .closeAfterFlush)
        XCTAssertFalse(m.wantsRead)
        XCTAssertEqual(m.drain(expired: true, idle: false), .close(.drainTimeout))
    }

    func testTheEndOfAnExchangeReleasesItsBackpressure() {
        forwardedRequest(hasBody: true)
        XCTAssertEqual(m.requestBodyBuffered(count: m.limits.requestBody.high), .readOff)
        XCTAssertEqual(m.upstreamBodyOffered(bytes: 1, outputQueued: m.limits.outbound.high), .pauseReceiving)
        XCTAssertEqual(m.exchangeEnded(keepAlive: true, draining: false, inputBuffered: false, now: now, t), .readNextRequest)
        XCTAssertFalse(m.requestBodyFull)
        XCTAssertFalse(m.upstreamReceivePaused)
        XCTAssertTrue(m.wantsRead, "the next request is read")
    }

    func testLingeringReadsWhateverTheBuffersWere() {
        forwardedRequest(hasBody: false)
        XCTAssertEqual(m.inboundBuffered(count: m.limits.inbound.high), .readOff)
        XCTAssertEqual(m.exchangeEnded(keepAlive: false, draining: false, inputBuffered: true, now: now, t), .closeAfterFlush)
        XCTAssertFalse(m.wantsRead, "nothing more is read before the last response is written")
        XCTAssertEqual(m.outputDrained(now: now, t), .shutdownWriteAndLinger)
        XCTAssertTrue(m.wantsRead, "lingering reads and discards")
    }
}
