import GatewayHTTP
import XCTest
@testable import GatewayServer

/// How an upstream response head is relayed: framing, hop-by-hop fields, keep-alive.
final class ResponseFramingTests: XCTestCase {
    func names(_ f: ResponseFraming) -> [String] { f.fields.map { $0.name.lowercased() } }

    func frame(_ status: Int, _ fields: [(String, String)], method: String = "GET", version: HTTPVersion = .http11,
               keepAlive: Bool = true) -> ResponseFraming? {
        ResponseFraming.frame(status: status, upstreamFields: fields.map { HTTPField(name: $0.0, value: $0.1) },
                              requestMethod: method, requestVersion: version, keepAlive: keepAlive)
    }

    func testContentLengthPassesThroughAndKeepsTheConnection() throws {
        let f = try XCTUnwrap(frame(200, [("Content-Length", "5"), ("Connection", "x-drop"), ("X-Drop", "1")]))
        XCTAssertEqual(f.body, .contentLength)
        XCTAssertTrue(f.keepAlive)
        XCTAssertEqual(names(f), ["content-length"], "hop-by-hop fields and the fields Connection names are removed")
    }

    func testNoLengthIsRechunkedForHTTP11AndCloseDelimitedForHTTP10() throws {
        let chunked = try XCTUnwrap(frame(200, [("Content-Type", "text/plain")]))
        XCTAssertEqual(chunked.body, .chunked)
        XCTAssertEqual(names(chunked), ["content-type", "transfer-encoding"])
        let old = try XCTUnwrap(frame(200, [], version: .http10))
        XCTAssertEqual(old.body, .closeDelimited)
        XCTAssertFalse(old.keepAlive)
        XCTAssertEqual(old.fields.last, HTTPField(name: "Connection", value: "close"))
    }

    func testHTTP10KeepAliveIsSaid() throws {
        let f = try XCTUnwrap(frame(200, [("Content-Length", "0")], version: .http10))
        XCTAssertTrue(f.keepAlive)
        XCTAssertEqual(f.fields.last, HTTPField(name: "Connection", value: "keep-alive"))
    }

    func testNoBodyForHeadAnd204And304() throws {
        XCTAssertEqual(try XCTUnwrap(frame(200, [("Content-Length", "9")], method: "HEAD")).body, .none)
        let noContent = try XCTUnwrap(frame(204, [("Content-Length", "0")]))
        XCTAssertEqual(noContent.body, .none)
        XCTAssertFalse(names(noContent).contains("content-length"), "RFC 9110 §8.6: no Content-Length in a 204")
        XCTAssertEqual(try XCTUnwrap(frame(304, [])).body, .none)
    }

    func testTransferEncodingOverridesContentLength() throws {
        let f = try XCTUnwrap(frame(200, [("Transfer-Encoding", "chunked"), ("Content-Length", "3")]))
        XCTAssertEqual(f.body, .chunked)
        XCTAssertEqual(names(f).filter { $0 == "content-length" }, [])
        XCTAssertEqual(names(f).filter { $0 == "transfer-encoding" }.count, 1)
    }

    func testAmbiguousContentLengthIsRefused() {
        XCTAssertNil(frame(200, [("Content-Length", "2, 2")]))
        XCTAssertNil(frame(200, [("Content-Length", "")]))
        XCTAssertNil(frame(200, [("Content-Length", "-1")]))
    }

    func testNotKeepingAliveSaysClose() throws {
        let f = try XCTUnwrap(frame(200, [("Content-Length", "1")], keepAlive: false))
        XCTAssertFalse(f.keepAlive)
        XCTAssertEqual(f.fields.last, HTTPField(name: "Connection", value: "close"))
    }
}
