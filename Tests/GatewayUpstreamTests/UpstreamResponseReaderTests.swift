import XCTest
@testable import GatewayUpstream

/// The response reader on raw connection bytes: heads, every body framing, and the input
/// split at every byte (a read can end anywhere).
final class UpstreamResponseReaderTests: XCTestCase {
    private struct Read: Equatable {
        var status: Int?
        var body: [UInt8] = []
        var ended = false
        var persistent = true
        var error: UpstreamError?
        /// Bytes given after the end of the response.
        var extra = 0
    }

    /// Feeds `bytes` in pieces of `piece` bytes (0: all at once), then EOF when `eof`.
    private func read(_ text: String, piece: Int = 0, head: Bool = false, eof: Bool = false) -> Read {
        let bytes = Array(text.utf8)
        var reader = UpstreamResponseReader(requestIsHead: head)
        var result = Read()
        var start = 0
        func feed(_ input: [UInt8]) throws(UpstreamError) {
            var offset = 0
            var failure: UpstreamError?
            input.withUnsafeBytes { all in
                do throws(UpstreamError) {
                    while true {
                        let (step, used) = try reader.next(UnsafeRawBufferPointer(rebasing: all[offset...]))
                        switch step {
                        case .needMore:
                            offset += used
                            return
                        case .head(let h):
                            result.status = h.status
                        case .body(let range):
                            result.body += all[(offset + range.lowerBound)..<(offset + range.upperBound)]
                        case .end:
                            result.ended = true
                            result.extra = all.count - offset - used
                            offset = all.count
                            return
                        }
                        offset += used
                    }
                } catch {
                    failure = error
                }
            }
            if let failure { throw failure }
        }
        do throws(UpstreamError) {
            while start < bytes.count, !result.ended {
                let end = piece == 0 ? bytes.count : min(bytes.count, start + piece)
                try feed(Array(bytes[start..<end]))
                start = end
            }
            if !result.ended {
                try feed([])  // a zero-length read after the last piece: the end may be due
            }
            if eof && !result.ended {
                try reader.connectionEnded()
                result.ended = true
            }
        } catch {
            result.error = error
        }
        result.persistent = reader.persistent
        return result
    }

    private func assertSameAtEveryPiece(_ text: String, head: Bool = false, eof: Bool = false,
                                        file: StaticString = #filePath, line: UInt = #line) -> Read {
        let whole = read(text, head: head, eof: eof)
        for piece in 1..<min(text.utf8.count, 80) {
            XCTAssertEqual(read(text, piece: piece, head: head, eof: eof), whole, "pieces of \(piece)", file: file, line: line)
        }
        return whole
    }

    func testContentLengthBodyAtEveryPieceSize() {
        let r = assertSameAtEveryPiece("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello")
        XCTAssertEqual(r, Read(status: 200, body: Array("hello".utf8), ended: true))
    }

    func testChunkedBodyWithExtensionsAndTrailersAtEveryPieceSize() {
        let text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer-Field: x\r\n\r\n"
        let r = assertSameAtEveryPiece(text)
        XCTAssertEqual(r, Read(status: 200, body: Array("helloabcdefghijklmnopqrstuvwxyz".utf8), ended: true))
    }

    func testInterimResponsesAreSkipped() {
        let r = assertSameAtEveryPiece("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                                       + "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
        XCTAssertEqual(r, Read(status: 201, body: Array("ok".utf8), ended: true))
    }

    func testResponsesWithoutBody() {
        // HEAD: the Content-Length describes the GET's body (RFC 9110 §9.3.2); 204 and 304 never have one.
        XCTAssertEqual(read("HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", head: true), Read(status: 200, ended: true))
        XCTAssertEqual(read("HTTP/1.1 204 No Content\r\n\r\n"), Read(status: 204, ended: true))
        XCTAssertEqual(read("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n"), Read(status: 304, ended: true))
        XCTAssertEqual(read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), Read(status: 200, ended: true))
    }

    func testBytesAfterTheResponseAreNotPartOfIt() {
        let r = read("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n")
        XCTAssertEqual(r.body, Array("ok".utf8))
        XCTAssertTrue(r.ended)
        XCTAssertEqual(r.extra, "HTTP/1.1 200 OK\r\n".utf8.count)
    }

    func testBodyUntilCloseIsNeverPersistent() {
        let r = assertSameAtEveryPiece("HTTP/1.1 200 OK\r\n\r\nuntil the end", eof: true)
        XCTAssertEqual(r, Read(status: 200, body: Array("until the end".utf8), ended: true, persistent: false))
    }

    func testPersistence() {
        XCTAssertTrue(read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n").persistent)
        XCTAssertFalse(read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: Keep-Alive, CLOSE\r\n\r\n").persistent)
        XCTAssertFalse(read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nconnection: close\r\n\r\n").persistent)
        XCTAssertFalse(read("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").persistent)
        // "closed" is not the close option.
        XCTAssertTrue(read("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: closed\r\n\r\n").persistent)
    }

    func testConnectionEndingEarly() {
        XCTAssertEqual(read("", eof: true).error, .invalidResponse("empty reply from upstream"))
        XCTAssertEqual(read("HTTP/1.1 200 OK\r\nContent-Le", eof: true).error, .invalidResponse("response head cut short"))
        XCTAssertEqual(read("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", eof: true).error,
                       .aborted("response body cut short"))
        XCTAssertEqual(read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", eof: true).error,
                       .aborted("response body cut short"))
    }

    func testBrokenChunkedFramingAbortsTheResponse() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        for (body, reason) in [
            ("x\r\n", "invalid chunk size in response"),
            ("\r\n", "invalid chunk size in response"),
            ("5\nhello\r\n0\r\n\r\n", "invalid chunk size in response"),
            ("5\r\nhelloX\r\n", "chunk data without CRLF in response"),
            ("5\rX", "chunk size line without CRLF in response"),
            ("11111111111111111\r\n", "chunk size too large in response"),
            ("5;a\u{1}\r\n", "invalid chunk extension in response"),
        ] {
            XCTAssertEqual(read(head + body).error, .aborted(reason), body.debugDescription)
        }
    }

    func testHeadErrorsAreInvalidResponses() {
        XCTAssertEqual(read("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx").error,
                       .invalidResponse("several Content-Length fields in response"))
        XCTAssertEqual(read("NOT HTTP\r\n\r\n").error, .invalidResponse("malformed status line"))
        let endless = "HTTP/1.1 200 OK\r\nX-Long: " + String(repeating: "a", count: 70 * 1024)
        XCTAssertEqual(read(endless, piece: 4096).error, .invalidResponse("response head over 64 KiB"))
    }
}
