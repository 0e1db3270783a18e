import Dispatch
import Foundation
import GatewayHTTP
import GatewayTestSupport
import GatewayUpstream
import XCTest

/// Records a transfer's events; everything runs on the loop's queue.
/// `@unchecked Sendable`: touched on the loop queue, read by the test after `queue.sync`.
final class Recorder: UpstreamTransferDelegate, @unchecked Sendable {
    let queue: DispatchQueue
    let done: XCTestExpectation
    var transfer: UpstreamTransfer?

    var status: Int?
    var fields: [HTTPField] = []
    var headCount = 0
    /// Kept only while under 1 MiB; larger bodies are checked through `hash`.
    var body: [UInt8] = []
    var bodyCount = 0
    var hash = RecordingUpstream.Hash()
    var completions: [UpstreamError?] = []
    var bodyCallsAfterCancel = 0

    // Request body to send.
    var requestBody: [UInt8] = []
    var sent = 0
    var piece = 1000
    /// Return `.pause` once when this many bytes were sent, resuming 10 ms later.
    var pauseAt: Int?
    var sendPauses = 0
    // Backpressure: refuse every n-th delivery, resuming 1 ms later.
    var refuseEvery = 0
    var deliveries = 0
    var refusals = 0
    // Cancel from inside the first body callback.
    var cancelInBody = false
    var cancelled = false

    init(queue: DispatchQueue, done: XCTestExpectation) {
        self.queue = queue
        self.done = done
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveHead head: UpstreamResponseHead) {
        headCount += 1
        self.status = head.status
        self.fields = head.fields
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> Bool {
        if cancelled { bodyCallsAfterCancel += 1 }
        deliveries += 1
        if refuseEvery > 0, deliveries % refuseEvery == 0 {
            refusals += 1
            queue.asyncAfter(deadline: .now() + .milliseconds(1)) { transfer.resumeReceiving() }
            return false
        }
        bodyCount += bytes.count
        hash.update(bytes)
        if bodyCount <= 1 << 20 { body += bytes }
        if cancelInBody, !cancelled {
            cancelled = true
            transfer.cancel()
            // Cancellation ends the test: nothing else may arrive.
            queue.asyncAfter(deadline: .now() + .milliseconds(300)) { self.done.fulfill() }
        }
        return true
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, fillRequestBody buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk {
        if sent == requestBody.count { return .end }
        if let at = pauseAt, sent >= at {
            pauseAt = nil
            sendPauses += 1
            queue.asyncAfter(deadline: .now() + .milliseconds(10)) { transfer.resumeSending() }
            return .pause
        }
        var n = min(piece, buffer.count, requestBody.count - sent)
        if let at = pauseAt, sent < at { n = min(n, at - sent) }
        requestBody.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[sent..<(sent + n)])) }
        sent += n
        return .data(n)
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didComplete error: UpstreamError?) {
        completions.append(error)
        if !cancelInBody { done.fulfill() }
    }
}

final class UpstreamLoopTests: UpstreamLoopTestCase {

    private func request(_ method: String, _ url: String, fields: [HTTPField] = [],
                         body: UpstreamRequestBody = .none, timeout: Double = 5) -> UpstreamRequest {
        UpstreamRequest(method: method, url: url, fields: fields, body: body, connectTimeout: 2, timeout: timeout)
    }

    /// A GET.
    private func request(_ url: String, fields: [HTTPField] = [], timeout: Double = 5) -> UpstreamRequest {
        request("GET", url, fields: fields, timeout: timeout)
    }

    /// Starts `request` and waits (≤ 10 s) for completion.
    @discardableResult
    private func run(_ request: UpstreamRequest, configure: (Recorder) -> Void = { _ in }) -> Recorder {
        let recorder = Recorder(queue: queue, done: expectation(description: "completion"))
        configure(recorder)
        let loop = self.loop!
        queue.async { recorder.transfer = loop.start(request, delegate: recorder) }
        wait(for: [recorder.done], timeout: 10)
        queue.sync {}
        return recorder
    }

    private func field(_ name: String, _ fields: [HTTPField]) -> [String] {
        fields.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    // MARK: - Requests as the upstream sees them

    func testGetSendsExactlyTheGivenFieldsAndThePathAsIs() throws {
        let upstream = try RecordingUpstream { _ in .ok("hello", fields: [HTTPField(name: "X-Reply", value: "yes")]) }
        defer { upstream.stop() }
        let given = [HTTPField(name: "X-Custom", value: "1"), HTTPField(name: "Accept-Language", value: "en"),
                     HTTPField(name: "X-Empty", value: "")]
        let r = run(request(upstream.url("/a/./b/../c//d?q=1&r=%2F"), fields: given))

        XCTAssertEqual(r.completions.count, 1)
        XCTAssertNil(r.completions.first ?? nil)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(field("X-Reply", r.fields), ["yes"])
        XCTAssertEqual(field("Content-Length", r.fields), ["5"])
        XCTAssertEqual(r.body, Array("hello".utf8))

        let seen = try XCTUnwrap(upstream.requests.first)
        XCTAssertEqual(seen.method, "GET")
        XCTAssertEqual(seen.target, "/a/./b/../c//d?q=1&r=%2F")
        XCTAssertEqual(seen.version, "HTTP/1.1")
        XCTAssertEqual(seen.values("Host"), ["127.0.0.1:\(upstream.port)"])
        // Nothing but Host and the given fields, in the given order.
        XCTAssertEqual(seen.fields.filter { $0.name.lowercased() != "host" }, given)
        XCTAssertTrue(seen.body.isEmpty)
    }

    func testCallerAcceptAndHostAreSentOnce() throws {
        let upstream = try RecordingUpstream { _ in .ok() }
        defer { upstream.stop() }
        let given = [HTTPField(name: "Host", value: "orders.internal"), HTTPField(name: "Accept", value: "application/json")]
        let r = run(request(upstream.url("/"), fields: given))
        XCTAssertNil(r.completions.first ?? nil)
        let seen = try XCTUnwrap(upstream.requests.first)
        XCTAssertEqual(seen.values("Host"), ["orders.internal"])
        XCTAssertEqual(seen.values("Accept"), ["application/json"])
        XCTAssertEqual(seen.fields.count, 2)
    }

    func testPostWithContentLengthBodyAndPause() throws {
        let upstream = try RecordingUpstream { req in .ok(body: Array("got \(req.body.count)".utf8)) }
        defer { upstream.stop() }
        let payload = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let r = run(request("POST", upstream.url("/submit"), fields: [
            HTTPField(name: "Content-Type", value: "application/octet-stream"),
            // Framing and Expect from the caller are replaced by the body's own framing.
            HTTPField(name: "Expect", value: "100-continue"), HTTPField(name: "Content-Length", value: "3"),
            HTTPField(name: "Transfer-Encoding", value: "chunked"),
        ],
                            body: .length(UInt64(payload.count)))) {
            $0.requestBody = payload
            $0.piece = 777
            $0.pauseAt = 5000
        }
        XCTAssertNil(r.completions.first ?? nil)
        XCTAssertEqual(r.sendPauses, 1)
        XCTAssertEqual(r.body, Array("got 10000".utf8))
        let seen = try XCTUnwrap(upstream.requests.first)
        XCTAssertEqual(seen.method, "POST")
        XCTAssertEqual(seen.values("Content-Length"), ["10000"])
        XCTAssertEqual(seen.values("Expect"), [])
        XCTAssertEqual(seen.values("Transfer-Encoding"), [])
        XCTAssertFalse(seen.chunked)
        XCTAssertEqual(seen.body, payload)
        XCTAssertEqual(seen.fields.map { $0.name.lowercased() }.sorted(), ["content-length", "content-type", "host"])
    }

    func testPostChunkedBodyInSmallPiecesWithPause() throws {
        let upstream = try RecordingUpstream { _ in .ok() }
        defer { upstream.stop() }
        let payload = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 1) }
        let r = run(request("PUT", upstream.url("/upload"), body: .chunked)) {
            $0.requestBody = payload
            $0.piece = 13
            $0.pauseAt = 1300
        }
        XCTAssertNil(r.completions.first ?? nil)
        XCTAssertEqual(r.sendPauses, 1)
        let seen = try XCTUnwrap(upstream.requests.first)
        XCTAssertEqual(seen.method, "PUT")
        XCTAssertTrue(seen.chunked)
        XCTAssertEqual(seen.values("Transfer-Encoding"), ["chunked"])
        XCTAssertEqual(seen.values("Content-Length"), [])
        XCTAssertEqual(seen.values("Expect"), [])
        XCTAssertEqual(seen.body, payload)
    }

    func testPostWithoutBodySendsContentLengthZero() throws {
        let upstream = try RecordingUpstream { _ in .ok() }
        defer { upstream.stop() }
        let r = run(request("POST", upstream.url("/"), body: .none))
        XCTAssertNil(r.completions.first ?? nil)
        let seen = try XCTUnwrap(upstream.requests.first)
        XCTAssertEqual(seen.method, "POST")
        XCTAssertEqual(seen.values("Content-Length"), ["0"])
        XCTAssertTrue(seen.body.isEmpty)
    }

    func testDeleteWithoutBodyHasNoFraming() throws {
        let upstream = try RecordingUpstream { _ in .fixed(status: 204, fields: [], body: []) }
        defer { upstream.stop() }
        let r = run(request("DELETE", upstream.url("/item/1")))
        XCTAssertNil(r.completions.first ?? nil)
        XCTAssertEqual(r.status, 204)
        let seen = try XCTUnwrap(upstream.requests.first)
        XCTAssertEqual(seen.method, "DELETE")
        XCTAssertEqual(seen.values("Content-Length"), [])
        XCTAssertEqual(seen.values("Transfer-Encoding"), [])
    }

    func testInvalidRequestFieldIsRefusedBeforeSending() throws {
        let upstream = try RecordingUpstream { _ in .ok() }
        defer { upstream.stop() }
        let r = run(request(upstream.url("/"), fields: [HTTPField(name: "X-Evil", value: "a\r\nInjected: 1")]))
        guard case .connectFailed? = r.completions.first ?? nil else {
            return XCTFail("expected connectFailed, got \(r.completions)")
        }
        XCTAssertNil(r.status)
        XCTAssertEqual(upstream.requests.count, 0)
    }

    // MARK: - Responses

    func testLargeDownloadIsByteIdenticalUnderBackpressure() throws {
        let length = 32 << 20
        let upstream = try RecordingUpstream { _ in .generated(status: 200, fields: [], length: length, chunked: false) }
        defer { upstream.stop() }
        let r = run(request(upstream.url("/big"), timeout: 60)) { $0.refuseEvery = 37 }
        XCTAssertNil(r.completions.first ?? nil)
        XCTAssertEqual(r.completions.count, 1)
        XCTAssertEqual(r.bodyCount, length)
        XCTAssertGreaterThan(r.refusals, 0)
        XCTAssertEqual(r.hash, RecordingUpstream.patternHash(length: length))
    }

    func testChunkedDownloadIsDecodedUnderBackpressure() throws {
        let length = 4 << 20
        let upstream = try RecordingUpstream { _ in .generated(status: 200, fields: [], length: length, chunked: true) }
        defer { upstream.stop() }
        let r = run(request(upstream.url("/chunked"))) { $0.refuseEvery = 5 }
        XCTAssertNil(r.completions.first ?? nil)
        XCTAssertEqual(field("Transfer-Encoding", r.fields), ["chunked"])
        XCTAssertEqual(r.bodyCount, length)
        XCTAssertGreaterThan(r.refusals, 0)
        XCTAssertEqual(r.hash, RecordingUpstream.patternHash(length: length))
    }

    func testHead() throws {
        let upstream = try RecordingUpstream { _ in .ok(body: [UInt8](repeating: 65, count: 1234)) }
        defer { upstream.stop() }
        let r = run(request("HEAD", upstream.url("/h")))
        XCTAssertNil(r.completions.first ?? nil)
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(field("Content-Length", r.fields), ["1234"])
        XCTAssertEqual(r.bodyCount, 0)
        XCTAssertEqual(upstream.requests.first?.method, "HEAD")
    }

    func testInterimResponseIsSkipped() throws {
        let upstream = try RecordingUpstream { _ in
            .raw(Array("HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok".utf8))
        }
        defer { upstream.stop() }
        let r = run(request(upstream.url("/")))
        XCTAssertNil(r.completions.first ?? nil)
        XCTAssertEqual(r.headCount, 1)
        XCTAssertEqual(r.status, 201)
        XCTAssertEqual(field("Link", r.fields), [])
        XCTAssertEqual(r.body, Array("ok".utf8))
    }

    func testBodyDelimitedByCloseIsComplete() throws {
        let upstream = try RecordingUpstream { _ in .raw(Array("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close".utf8)) }
        defer { upstream.stop() }
        let r = run(request(upstream.url("/")))
        XCTAssertNil(r.completions.first ?? nil)
        XCTAssertEqual(r.body, Array("until close".utf8))
    }

    func testSequentialRequestsReuseOneConnection() throws {
        let upstream = try RecordingUpstream { req in .ok(req.target) }
        defer { upstream.stop() }
        for i in 0..<5 {
            let r = run(request(upstream.url("/n/\(i)")))
            XCTAssertNil(r.completions.first ?? nil)
            XCTAssertEqual(r.body, Array("/n/\(i)".utf8))
        }
        XCTAssertEqual(upstream.requests.count, 5)
        XCTAssertEqual(upstream.connectionCount, 1)
        XCTAssertEqual(Set(upstream.requests.map(\.connection)), [1])
    }

    /// Easy handles keep their shared options from one transfer to the next: nothing of a
    /// request (method, body framing, fields, HEAD's no-body) may leak into the next one.
    func testReusedHandlesCarryNothingFromTheRequestBefore() throws {
        let upstream = try RecordingUpstream { req in .ok(body: Array("\(req.method) \(req.body.count)".utf8)) }
        defer { upstream.stop() }
        let payload = [UInt8](repeating: 0x61, count: 300)
        let steps: [(UpstreamRequest, [UInt8])] = [
            (request("HEAD", upstream.url("/1"), fields: [HTTPField(name: "X-Only-First", value: "1")]), []),
            (request("POST", upstream.url("/2"), body: .length(300)), payload),
            (request(upstream.url("/3")), []),
            (request("PUT", upstream.url("/4"), body: .chunked), payload),
            (request("POST", upstream.url("/5")), []),
            (request(upstream.url("/6"), fields: [HTTPField(name: "Accept", value: "text/plain")]), []),
            (request("HEAD", upstream.url("/7")), []),
            (request("DELETE", upstream.url("/8")), []),
        ]
        for (request, body) in steps {
            let r = run(request) { $0.requestBody = body }
            XCTAssertNil(r.completions.first ?? nil, request.url)
            XCTAssertEqual(r.status, 200, request.url)
            XCTAssertEqual(r.body, request.method == "HEAD" ? [] : Array("\(request.method) \(body.count)".utf8), request.url)
        }
        let seen = upstream.requests
        XCTAssertEqual(seen.map(\.method), ["HEAD", "POST", "GET", "PUT", "POST", "GET", "HEAD", "DELETE"])
        XCTAssertEqual(seen.map(\.target), (1...8).map { "/\($0)" })
        XCTAssertEqual(seen.map { $0.values("Content-Length") }, [[], ["300"], [], [], ["0"], [], [], []])
        XCTAssertEqual(seen.map(\.chunked), [false, false, false, true, false, false, false, false])
        XCTAssertEqual(seen.map { $0.body.count }, [0, 300, 0, 300, 0, 0, 0, 0])
        XCTAssertEqual(seen.map { $0.values("X-Only-First") }, [["1"], [], [], [], [], [], [], []])
        XCTAssertEqual(seen.map { $0.values("Accept") }, [[], [], [], [], [], ["text/plain"], [], []])
        XCTAssertEqual(seen.map { $0.values("Expect") }, Array(repeating: [], count: 8))
    }

    func testUpstreamClosingAfterCompleteBodyThenNewConnection() throws {
        let upstream = try RecordingUpstream { _ in .ok("done", fields: [HTTPField(name: "Connection", value: "close")]) }
        defer { upstream.stop() }
        for _ in 0..<2 {
            let r = run(request(upstream.url("/")))
            XCTAssertNil(r.completions.first ?? nil)
            XCTAssertEqual(r.body, Array("done".utf8))
        }
        XCTAssertEqual(upstream.connectionCount, 2)
    }

    // MARK: - Failures

    func testConnectRefused() {
        let r = run(request("http://127.0.0.1:\(RecordingUpstream.unusedPort())/"))
        guard case .connectFailed? = r.completions.first ?? nil else {
            return XCTFail("expected connectFailed, got \(r.completions)")
        }
        XCTAssertEqual(r.completions.count, 1)
        XCTAssertNil(r.status)
    }

    func testTimeout() throws {
        let upstream = try RecordingUpstream { _ in .delayed(seconds: 3, then: .ok("late")) }
        defer { upstream.stop() }
        let r = run(request(upstream.url("/slow"), timeout: 0.5))
        XCTAssertEqual(r.completions, [.timeout])
        XCTAssertEqual(UpstreamError.timeout.status, 504)
        XCTAssertNil(r.status)
    }

    func testCloseMidBodyIsAborted() throws {
        let upstream = try RecordingUpstream { _ in .truncated(declared: 1000, sent: Array("0123456789".utf8)) }
        defer { upstream.stop() }
        let r = run(request(upstream.url("/")))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.body, Array("0123456789".utf8))
        guard case .aborted? = r.completions.first ?? nil else {
            return XCTFail("expected aborted, got \(r.completions)")
        }
    }

    func testGarbageResponseIsInvalid() throws {
        let upstream = try RecordingUpstream { _ in .raw(Array("this is not HTTP\r\n\r\n".utf8)) }
        defer { upstream.stop() }
        let r = run(request(upstream.url("/")))
        guard case .invalidResponse? = r.completions.first ?? nil else {
            return XCTFail("expected invalidResponse, got \(r.completions)")
        }
        XCTAssertNil(r.status)
    }

    func testInvalidFieldLineIsInvalid() throws {
        let upstream = try RecordingUpstream { _ in .raw(Array("HTTP/1.1 200 OK\r\nBad Header\r\nContent-Length: 0\r\n\r\n".utf8)) }
        defer { upstream.stop() }
        let r = run(request(upstream.url("/")))
        guard case .invalidResponse? = r.completions.first ?? nil else {
            return XCTFail("expected invalidResponse, got \(r.completions)")
        }
        XCTAssertNil(r.status)
    }

    func testHeadOver64KiBIsInvalid() throws {
        let big = (0..<70).map { "X-Filler-\($0): " + String(repeating: "a", count: 1000) + "\r\n" }.joined()
        let upstream = try RecordingUpstream { _ in .raw(Array("HTTP/1.1 200 OK\r\n\(big)Content-Length: 0\r\n\r\n".utf8)) }
        defer { upstream.stop() }
        let r = run(request(upstream.url("/")))
        guard case .invalidResponse? = r.completions.first ?? nil else {
            return XCTFail("expected invalidResponse, got \(r.completions)")
        }
        XCTAssertNil(r.status)
    }

    func testCancelInsideBodyCallbackEndsSilentlyAndLoopKeepsWorking() throws {
        let upstream = try RecordingUpstream { req in
            req.target == "/big" ? .generated(status: 200, fields: [], length: 16 << 20, chunked: false) : .ok("after")
        }
        defer { upstream.stop() }
        let r = run(request(upstream.url("/big"))) { $0.cancelInBody = true }
        XCTAssertTrue(r.cancelled)
        XCTAssertEqual(r.completions.count, 0)
        XCTAssertEqual(r.bodyCallsAfterCancel, 0)
        XCTAssertLessThan(r.bodyCount, 16 << 20)

        let next = run(request(upstream.url("/next")))
        XCTAssertNil(next.completions.first ?? nil)
        XCTAssertEqual(next.body, Array("after".utf8))
    }

    func testCancelBeforeStartRunsNothing() throws {
        let upstream = try RecordingUpstream { _ in .ok() }
        defer { upstream.stop() }
        let recorder = Recorder(queue: queue, done: expectation(description: "no completion"))
        recorder.done.isInverted = true
        let loop = self.loop!
        let request = self.request(upstream.url("/"))
        queue.async {
            let transfer = loop.start(request, delegate: recorder)
            transfer.cancel()
            transfer.cancel()  // idempotent
        }
        wait(for: [recorder.done], timeout: 0.5)
        queue.sync {}
        XCTAssertEqual(recorder.completions.count, 0)
        XCTAssertNil(recorder.status)
    }

    func testRequestBodyShorterThanDeclaredIsAborted() throws {
        let upstream = try RecordingUpstream { _ in .ok() }
        defer { upstream.stop() }
        let r = run(request("POST", upstream.url("/"), body: .length(100))) {
            $0.requestBody = [UInt8](repeating: 1, count: 50)
        }
        guard case .aborted? = r.completions.first ?? nil else {
            return XCTFail("expected aborted, got \(r.completions)")
        }
        XCTAssertEqual(r.completions.count, 1)
        XCTAssertEqual(upstream.requests.count, 0)
    }

    func testStalledTLSHandshakeTimesOut() throws {
        // The plain server waits for a request head that a TLS ClientHello never completes.
        let upstream = try RecordingUpstream { _ in .ok() }
        defer { upstream.stop() }
        let request = UpstreamRequest(method: "GET", url: "https://127.0.0.1:\(upstream.port)/", fields: [],
                                      body: .none, connectTimeout: 0.3, timeout: 5)
        let r = run(request)
        XCTAssertEqual(r.completions, [.timeout])
        XCTAssertNil(r.status)
    }

    func testUnreadableCAFileFailsToConnect() throws {
        let upstream = try RecordingUpstream { _ in .ok() }
        defer { upstream.stop() }
        let request = UpstreamRequest(method: "GET", url: "https://127.0.0.1:\(upstream.port)/", fields: [],
                                      body: .none, connectTimeout: 2, timeout: 5,
                                      tls: UpstreamTLSOptions(caFile: "/nonexistent/ca.pem"))
        let r = run(request)
        guard case .connectFailed? = r.completions.first ?? nil else {
            return XCTFail("expected connectFailed, got \(r.completions)")
        }
        XCTAssertNil(r.status)
        XCTAssertEqual(upstream.requests.count, 0)
    }

    func testConcurrentTransfersAllComplete() throws {
        let upstream = try RecordingUpstream { req in
            req.target.hasPrefix("/big")
                ? .generated(status: 200, fields: [], length: 1 << 20, chunked: req.target.hasSuffix("c"))
                : .ok(req.target)
        }
        defer { upstream.stop() }
        let targets = (0..<24).map { i in i % 3 == 0 ? "/big/\(i)" + (i % 2 == 0 ? "c" : "") : "/small/\(i)" }
        let recorders = targets.map { _ in Recorder(queue: queue, done: expectation(description: "completion")) }
        let loop = self.loop!
        let requests = targets.map { request(upstream.url($0)) }
        queue.async {
            for (recorder, request) in zip(recorders, requests) {
                recorder.refuseEvery = 3
                recorder.transfer = loop.start(request, delegate: recorder)
            }
        }
        wait(for: recorders.map(\.done), timeout: 10)
        queue.sync {}
        for (target, r) in zip(targets, recorders) {
            XCTAssertEqual(r.completions.count, 1, target)
            XCTAssertNil(r.completions.first ?? nil, target)
            if target.hasPrefix("/big") {
                XCTAssertEqual(r.hash, RecordingUpstream.patternHash(length: 1 << 20), target)
            } else {
                XCTAssertEqual(r.body, Array(target.utf8), target)
            }
        }
        XCTAssertEqual(upstream.requests.count, targets.count)
        XCTAssertLessThanOrEqual(upstream.connectionCount, targets.count)
    }

    func testSocketsAreReleased() throws {
        func openDescriptors() -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
        }
        let upstream = try RecordingUpstream { _ in .ok("x", fields: [HTTPField(name: "Connection", value: "close")]) }
        defer { upstream.stop() }
        // Warm up lazily created process state (curl, Dispatch's epoll) before counting.
        run(request(upstream.url("/warm")))
        let before = openDescriptors()
        for i in 0..<30 {
            let r = run(request(upstream.url("/\(i)")))
            XCTAssertNil(r.completions.first ?? nil)
        }
        XCTAssertEqual(upstream.connectionCount, 31)
        // Let cancel handlers (which close the watchers' duplicates) run.
        for _ in 0..<3 { queue.sync {}; usleep(20_000) }
        let after = openDescriptors()
        XCTAssertGreaterThan(before, 0)
        XCTAssertLessThanOrEqual(after - before, 2, "descriptors leaked: \(before) -> \(after)")
    }

    /// libcurl 7.88 closes the socket of an abandoned connect itself, without the close
    /// callback: the watcher's duplicate must not keep that connection open.
    func testAnAbandonedConnectLeavesNoConnectionOpen() throws {
        // A listener whose accept queue is full: later SYNs are dropped, connects hang.
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa -> Bool in
                bind(listener, sa, length) == 0 && listen(listener, 0) == 0 && getsockname(listener, sa, &length) == 0
            }
        }
        XCTAssertTrue(bound)
        let port = Int(UInt16(bigEndian: address.sin_port))
        var fillers: [Int32] = []
        defer { fillers.forEach { close($0) } }
        for _ in 0..<3 {
            let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            _ = fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK)
            _ = withUnsafePointer(to: &address) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            fillers.append(s)
        }
        usleep(100_000)
        /// Sockets of this machine connected (or connecting) to the listener's port.
        func connectionsToListener() -> Int {
            // read(2) until EOF: /proc files report size 0 and come a page per read.
            var bytes: [UInt8] = []
            let fd = open("/proc/net/tcp", O_RDONLY)
            if fd >= 0 {
                var chunk = [UInt8](repeating: 0, count: 65536)
                for _ in 0..<10_000 {
                    let n = read(fd, &chunk, chunk.count)
                    if n <= 0 { break }
                    bytes += chunk[0..<n]
                }
                close(fd)
            }
            let table = String(decoding: bytes, as: UTF8.self)
            let suffix = ":" + String(format: "%04X", port)
            return table.split(separator: "\n").dropFirst().filter { line in
                let columns = line.split(separator: " ", omittingEmptySubsequences: true)
                return columns.count > 2 && columns[2].hasSuffix(suffix)
            }.count
        }
        let before = connectionsToListener()
        let recorder = Recorder(queue: queue, done: XCTestExpectation(description: "never awaited"))
        let loop = self.loop!
        let hang = request("http://127.0.0.1:\(port)/hang")
        queue.async { recorder.transfer = loop.start(hang, delegate: recorder) }
        var connecting = before
        for _ in 0..<20 where connecting == before {
            usleep(50_000)
            connecting = connectionsToListener()
        }
        XCTAssertEqual(connecting, before + 1, "the transfer never started connecting")
        queue.sync { recorder.transfer?.cancel() }
        var after = connecting
        for _ in 0..<40 where after > before {
            usleep(100_000)
            after = connectionsToListener()
        }
        XCTAssertEqual(after, before, "the abandoned connection is still open 4 s after the cancel")
    }

    func testStartFromInsideDidCompleteAndCancelFromInsideDidReceiveHead() throws {
        let upstream = try RecordingUpstream { req in .ok(req.target) }
        defer { upstream.stop() }
        let loop = self.loop!
        let chain = Chain(loop: loop, urls: (0..<4).map { upstream.url("/c/\($0)") },
                          done: expectation(description: "chain"))
        queue.async { chain.next() }
        wait(for: [chain.done], timeout: 10)
        queue.sync {}
        XCTAssertEqual(chain.bodies, (0..<4).map { "/c/\($0)" })
        XCTAssertEqual(chain.errors, [nil, nil, nil, nil])
        XCTAssertEqual(upstream.connectionCount, 1)

        // Cancel from inside didReceiveHead: nothing more arrives.
        let canceller = HeadCanceller(done: expectation(description: "no completion"))
        canceller.done.isInverted = true
        let request = self.request(upstream.url("/cancel-at-head"))
        queue.async { _ = loop.start(request, delegate: canceller) }
        wait(for: [canceller.done], timeout: 0.5)
        queue.sync {}
        XCTAssertEqual(canceller.events, ["head 200"])
    }

    func testReleasingTheLoopClosesPooledConnections() throws {
        func openDescriptors() -> Int {
            (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
        }
        let upstream = try RecordingUpstream { _ in .ok("kept alive") }
        defer { upstream.stop() }
        run(request(upstream.url("/warm")))
        let before = openDescriptors()
        let queue = DispatchQueue(label: "short-lived-loop")
        weak var weakLoop: UpstreamLoop?
        do {
            let loop = queue.sync { UpstreamLoop(queue: queue) }
            weakLoop = loop
            let recorder = Recorder(queue: queue, done: expectation(description: "completion"))
            let request = self.request(upstream.url("/pooled"))
            queue.async { recorder.transfer = loop.start(request, delegate: recorder) }
            wait(for: [recorder.done], timeout: 10)
            queue.sync { recorder.transfer = nil }
            XCTAssertNil(recorder.completions.first ?? nil)
            XCTAssertEqual(recorder.body, Array("kept alive".utf8))
            XCTAssertGreaterThan(openDescriptors(), before, "the pooled connection stays open")
        }
        for _ in 0..<10 where openDescriptors() > before { queue.sync {}; usleep(20_000) }
        XCTAssertLessThanOrEqual(openDescriptors(), before)
        XCTAssertNil(weakLoop)
    }
}

/// Starts each request from inside the previous one's didComplete.
final class Chain: UpstreamTransferDelegate, @unchecked Sendable {
    let loop: UpstreamLoop
    var urls: [String]
    let done: XCTestExpectation
    var bodies: [String] = []
    var errors: [UpstreamError?] = []
    private var body: [UInt8] = []

    init(loop: UpstreamLoop, urls: [String], done: XCTestExpectation) {
        self.loop = loop
        self.urls = urls
        self.done = done
    }

    func next() {
        guard !urls.isEmpty else { return done.fulfill() }
        let url = urls.removeFirst()
        body = []
        _ = loop.start(UpstreamRequest(method: "GET", url: url, fields: [], body: .none, connectTimeout: 2, timeout: 5),
                       delegate: self)
    }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveHead head: UpstreamResponseHead) {}
    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> Bool {
        body += bytes
        return true
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, fillRequestBody buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk {
        .end
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, didComplete error: UpstreamError?) {
        bodies.append(String(decoding: body, as: UTF8.self))
        errors.append(error)
        next()
    }
}

/// Cancels from inside didReceiveHead and records anything that still arrives.
final class HeadCanceller: UpstreamTransferDelegate, @unchecked Sendable {
    let done: XCTestExpectation
    var events: [String] = []
    init(done: XCTestExpectation) { self.done = done }

    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveHead head: UpstreamResponseHead) {
        events.append("head \(head.status)")
        transfer.cancel()
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, didReceiveBody bytes: UnsafeRawBufferPointer) -> Bool {
        events.append("body")
        return true
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, fillRequestBody buffer: UnsafeMutableRawBufferPointer) -> UpstreamBodyChunk {
        .end
    }
    func upstreamTransfer(_ transfer: UpstreamTransfer, didComplete error: UpstreamError?) {
        events.append("complete")
        done.fulfill()
    }
}
