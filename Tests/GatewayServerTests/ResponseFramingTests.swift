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

    /// The head written straight from the upstream's fields is byte for byte the head built
    /// from `frame`'s fields, for every status, method, version and keep-alive wish.
    func testTheWrittenHeadIsTheFramedFieldsSerialised() throws {
        let fieldSets: [[(String, String)]] = [
            [],
            [("Content-Length", "5"), ("Content-Type", "text/plain")],
            [("Content-Length", "5"), ("Connection", "x-drop, keep-alive"), ("X-Drop", "1"), ("Keep-Alive", "timeout=5")],
            [("Transfer-Encoding", "chunked"), ("Content-Length", "5"), ("X-A", "b")],
            [("Content-Length", "2, 2")],
            [("Connection", "Content-Length"), ("Content-Length", "3")],
            [("X-Bad", "a\rb"), ("Bad Name", "v"), ("X-Trailing", "v "), ("Date", "Thu, 03 Dec 2026 16:00:00 GMT")],
            [("Upgrade", "h2c"), ("TE", "trailers"), ("Trailer", "X"), ("Proxy-Connection", "keep-alive"), ("Set-Cookie", "a=b")],
            [("Connection", (0..<20).map { "x-o\($0)" }.joined(separator: ", ")), ("X-O3", "gone"), ("X-Kept", "yes")],
        ]
        for fields in fieldSets {
            let upstream = fields.map { HTTPField(name: $0.0, value: $0.1) }
            for status in [100, 200, 204, 304, 404, 599] {
                for method in ["GET", "HEAD"] {
                    for version in [HTTPVersion.http11, .http10] {
                        for keepAlive in [true, false] {
                            let framed = ResponseFraming.frame(status: status, upstreamFields: upstream, requestMethod: method,
                                                               requestVersion: version, keepAlive: keepAlive)
                            let plan = ResponseFraming.plan(status: status, upstreamFields: upstream, requestMethod: method,
                                                            requestVersion: version, keepAlive: keepAlive)
                            let context = "\(fields) \(status) \(method) \(version) keepAlive=\(keepAlive)"
                            XCTAssertEqual(framed == nil, plan == nil, context)
                            guard let framed, let plan else { continue }
                            XCTAssertEqual(framed.body, plan.body, context)
                            XCTAssertEqual(framed.keepAlive, plan.keepAlive, context)
                            XCTAssertEqual(ResponseFraming.writeHead(status: status, upstreamFields: upstream, plan: plan),
                                           HTTPResponseHead(status: status, fields: framed.fields, version: .http11).serialized(),
                                           context)
                        }
                    }
                }
            }
        }
    }
}
