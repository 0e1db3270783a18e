import Dispatch
import Foundation
import GatewayHTTP
import GatewayTestSupport
import GatewayUpstream
import XCTest

/// Requests without a body, framed by the gateway on libcurl's connect-only connections:
/// how connections are reused, and when they must not be.
final class DirectExchangeTests: UpstreamLoopTestCase {

    /// A GET to `url`, waited for (≤ 10 s).
    private func get(_ url: String, method: String = "GET") -> Recorder {
        let recorder = Recorder(queue: queue, done: expectation(description: "completion"))
        let request = UpstreamRequest(method: method, url: url, fields: [], body: .none, connectTimeout: 2, timeout: 5)
        let loop = self.loop!
        queue.async { recorder.transfer = loop.start(request, delegate: recorder) }
        wait(for: [recorder.done], timeout: 10)
        queue.sync {}
        return recorder
    }

    private func text(_ r: Recorder) -> String { String(decoding: r.body, as: UTF8.self) }

    func testSequentialRequestsShareOneConnection() throws {
        let upstream = try RecordingUpstream { req in .ok(req.target) }
        defer { upstream.stop() }
        for i in 0..<5 {
            let r = get(upstream.url("/\(i)"))
            XCTAssertEqual(r.completions, [nil])
            XCTAssertEqual(text(r), "/\(i)")
        }
        XCTAssertEqual(upstream.requests.map(\.connection), [1, 1, 1, 1, 1])
        XCTAssertEqual(upstream.requests.map(\.version), Array(repeating: "HTTP/1.1", count: 5))
    }

    func testBytesAfterAResponseAreNeverReadAsTheNextResponse() throws {
        // The first answer carries a second, unrequested response in the same write.
        let smuggled = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirstHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstale"
        let upstream = try RecordingUpstream { req in
            req.target == "/one" ? .rawKeepOpen(Array(smuggled.utf8)) : .ok(req.target)
        }
        defer { upstream.stop() }
        let first = get(upstream.url("/one"))
        XCTAssertEqual(text(first), "first")
        let second = get(upstream.url("/two"))
        XCTAssertEqual(second.completions, [nil])
        XCTAssertEqual(text(second), "/two")
        XCTAssertEqual(upstream.requests.map(\.connection), [1, 2])
    }

    func testConnectionCloseAndHTTP10AreNotReused() throws {
        let upstream = try RecordingUpstream { req in
            switch req.target {
            case "/close": .rawKeepOpen(Array("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok".utf8))
            case "/old": .rawKeepOpen(Array("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8))
            default: .ok(req.target)
            }
        }
        defer { upstream.stop() }
        XCTAssertEqual(text(get(upstream.url("/close"))), "ok")
        XCTAssertEqual(text(get(upstream.url("/old"))), "ok")
        XCTAssertEqual(text(get(upstream.url("/next"))), "/next")
        XCTAssertEqual(upstream.requests.map(\.connection), [1, 2, 3])
    }

    func testAConnectionTheUpstreamClosedIsReplaced() throws {
        // A complete, persistent-looking response, then the upstream closes the connection.
        let upstream = try RecordingUpstream { req in
            req.target == "/then-close" ? .raw(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)) : .ok(req.target)
        }
        defer { upstream.stop() }
        for round in 0..<3 {
            XCTAssertEqual(text(get(upstream.url("/then-close"))), "ok", "round \(round)")
            // Whether the close was seen while idle or only on reuse, the next request succeeds.
            let next = get(upstream.url("/after"))
            XCTAssertEqual(next.completions, [nil], "round \(round)")
            XCTAssertEqual(text(next), "/after", "round \(round)")
        }
        // Each "/then-close" reuses the connection of the "/after" before it; each "/after"
        // needs a new one.
        XCTAssertEqual(upstream.requests.map(\.connection), [1, 2, 2, 3, 3, 4])
    }

    func testBodyDelimitedByCloseIsComplete() throws {
        let upstream = try RecordingUpstream { _ in .raw(Array("HTTP/1.1 200 OK\r\n\r\nuntil the end".utf8)) }
        defer { upstream.stop() }
        let r = get(upstream.url("/"))
        XCTAssertEqual(r.completions, [nil])
        XCTAssertEqual(text(r), "until the end")
    }

    func testHeadResponseWithContentLengthLeavesTheConnectionUsable() throws {
        let upstream = try RecordingUpstream { req in
            req.method == "HEAD" ? .rawKeepOpen(Array("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n".utf8)) : .ok(req.target)
        }
        defer { upstream.stop() }
        let head = get(upstream.url("/h"), method: "HEAD")
        XCTAssertEqual(head.completions, [nil])
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.body, [])
        XCTAssertEqual(text(get(upstream.url("/g"))), "/g")
        XCTAssertEqual(upstream.requests.map(\.connection), [1, 1])
    }

    func testLibcurlTransfersGiveTheSameAnswer() throws {
        let upstream = try RecordingUpstream { req in
            .chunked(status: 201, fields: [HTTPField(name: "X-Reply", value: "yes")], chunks: [Array(req.target.utf8), Array("!".utf8)])
        }
        defer { upstream.stop() }
        let direct = get(upstream.url("/same"))
        let queue = self.queue
        loop = queue.sync { UpstreamLoop(queue: queue, directExchanges: false) }
        let viaLibcurl = get(upstream.url("/same"))
        XCTAssertEqual(direct.completions, [nil])
        XCTAssertEqual(viaLibcurl.completions, [nil])
        XCTAssertEqual(direct.status, viaLibcurl.status)
        XCTAssertEqual(direct.body, viaLibcurl.body)
        XCTAssertEqual(direct.fields, viaLibcurl.fields)
        XCTAssertEqual(upstream.requests[0].fields, upstream.requests[1].fields)
        XCTAssertEqual(upstream.requests[0].target, upstream.requests[1].target)
    }
}
