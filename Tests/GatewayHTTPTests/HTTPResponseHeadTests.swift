import XCTest
import GatewayHTTP

final class HTTPResponseHeadTests: XCTestCase {
    func testSerialization() {
        let head = HTTPResponseHead(status: 200, fields: [
            HTTPField(name: "Content-Type", value: "application/json"),
            HTTPField(name: "Content-Length", value: "2"),
        ])
        XCTAssertEqual(String(decoding: head.serialized(), as: UTF8.self),
                       "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n")
    }

    func testHTTP10AndNoFields() {
        let head = HTTPResponseHead(status: 404, fields: [], version: .http10)
        XCTAssertEqual(String(decoding: head.serialized(), as: UTF8.self), "HTTP/1.0 404 Not Found\r\n\r\n")
    }

    func testUnknownStatusHasEmptyReasonButKeepsTheSpace() {
        let head = HTTPResponseHead(status: 299, fields: [])
        XCTAssertEqual(String(decoding: head.serialized(), as: UTF8.self), "HTTP/1.1 299 \r\n\r\n")
    }

    func testOutOfRangeStatusBecomes500() {
        XCTAssertEqual(String(decoding: HTTPResponseHead(status: 42, fields: []).serialized(), as: UTF8.self),
                       "HTTP/1.1 500 Internal Server Error\r\n\r\n")
    }

    func testFieldsThatWouldInjectAreLeftOut() {
        let head = HTTPResponseHead(status: 200, fields: [
            HTTPField(name: "X-Good", value: "ok"),
            HTTPField(name: "X-Split", value: "a\r\nSet-Cookie: evil=1"),
            HTTPField(name: "X-Nul", value: "a\u{00}b"),
            HTTPField(name: "Bad Name", value: "x"),
            HTTPField(name: "", value: "x"),
            HTTPField(name: "X-Lead", value: " padded"),
        ])
        XCTAssertEqual(String(decoding: head.serialized(), as: UTF8.self), "HTTP/1.1 200 OK\r\nX-Good: ok\r\n\r\n")
    }

    func testReasonPhrases() {
        let expected: [Int: String] = [
            100: "Continue", 200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found", 408: "Request Timeout", 413: "Content Too Large",
            414: "URI Too Long", 417: "Expectation Failed", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
            503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
            299: "", 999: "",
        ]
        for (status, phrase) in expected {
            XCTAssertEqual(HTTPResponseHead.reasonPhrase(status), phrase, "\(status)")
        }
    }
}

final class HTTPChunkedEncodingTests: XCTestCase {
    func testEncodedBodyDecodesBackThroughTheParser() {
        let pieces = ["hello", String(repeating: "x", count: 300), "!"]
        var body: [UInt8] = []
        for p in pieces {
            body += HTTPChunkedEncoding.chunkPrefix(length: p.utf8.count) + Array(p.utf8) + HTTPChunkedEncoding.chunkSuffix
        }
        body += HTTPChunkedEncoding.lastChunk
        XCTAssertEqual(HTTPChunkedEncoding.chunkPrefix(length: 300), Array("12c\r\n".utf8))
        let head = bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
        let outcome = runPieces([head + body])
        XCTAssertNil(outcome.error)
        XCTAssertEqual(outcome.events.dropFirst(), [.body(Array(pieces.joined().utf8)), .end])
    }
}
