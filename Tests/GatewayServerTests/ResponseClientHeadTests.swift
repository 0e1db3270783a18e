import GatewayHTTP
import XCTest
@testable import GatewayServer
@testable import GatewayUpstream

/// The client's head for a parsed upstream head: the bytes a client reads, and the same
/// bytes, framing and keep-alive as framing the fields then serialising them (the way a
/// head with CORS fields or unusual `Connection` options is written).
final class ResponseClientHeadTests: XCTestCase {
    /// Parses `text` (status line, field lines, empty line) as the upstream reader does (all
    /// lines of a read in one call), checked against parsing it line by line (as libcurl
    /// hands lines over).
    private func parsed(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> UpstreamResponseHead {
        let bytes = Array(text.utf8)
        var whole = ResponseHeadParser()
        let result: Result<UpstreamResponseHead?, UpstreamError> = bytes.withUnsafeBytes { raw in
            do throws(UpstreamError) { return .success(try whole.consumeLines(raw).head) } catch { return .failure(error) }
        }
        let head = try XCTUnwrap(try result.get(), "no complete head in \(text.debugDescription)", file: file, line: line)
        var byLine = ResponseHeadParser()
        var rest = bytes[...]
        var other: UpstreamResponseHead?
        while other == nil, let lf = rest.firstIndex(of: 0x0A) {
            let piece = Array(rest[...lf])
            rest = rest[(lf + 1)...]
            let step: Result<UpstreamResponseHead?, UpstreamError> = piece.withUnsafeBytes { raw in
                do throws(UpstreamError) { return .success(try byLine.consume(raw)) } catch { return .failure(error) }
            }
            other = try step.get()
        }
        let single = try XCTUnwrap(other, file: file, line: line)
        XCTAssertEqual(head, single, file: file, line: line)
        XCTAssertEqual(head.markedLineCount, single.markedLineCount, file: file, line: line)
        XCTAssertEqual((0..<head.markedLineCount).map { head.markedLines[$0] },
                       (0..<single.markedLineCount).map { single.markedLines[$0] }, file: file, line: line)
        XCTAssertEqual(head.connectionOptions, single.connectionOptions, file: file, line: line)
        XCTAssertEqual(head.framingChecked, single.framingChecked, file: file, line: line)
        return head
    }

    private func text(_ written: ResponseFraming.ClientHead?) -> String? {
        written.map { String(decoding: $0.bytes, as: UTF8.self) }
    }

    func testUsualHeadIsCopiedWithoutHopByHopFieldsAndWithTheGatewaysFraming() throws {
        let head = try parsed("HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Thu, 03 Dec 2026 17:00:00 GMT\r\n"
                              + "Content-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n"
                              + "Keep-Alive: timeout=5\r\n\r\n")
        XCTAssertTrue(head.framingChecked)
        let written = try XCTUnwrap(ResponseFraming.clientHead(for: head, requestMethod: "GET", requestVersion: .http11,
                                                               keepAlive: true))
        XCTAssertEqual(text(written), "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Thu, 03 Dec 2026 17:00:00 GMT\r\n"
                       + "Content-Type: text/plain\r\nContent-Length: 3\r\n\r\n")
        XCTAssertEqual(written.body, .contentLength)
        XCTAssertTrue(written.keepAlive)
        let old = try XCTUnwrap(ResponseFraming.clientHead(for: head, requestMethod: "GET", requestVersion: .http10,
                                                           keepAlive: false))
        XCTAssertEqual(text(old), "HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Thu, 03 Dec 2026 17:00:00 GMT\r\n"
                       + "Content-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\n")
    }

    func testFieldLinesAreWrittenNormalised() throws {
        let head = try parsed("HTTP/1.1 404 Not Found\nA:b\nB: \t c \t\r\nEmpty:\r\nX-U: caf\u{E9}\r\n\n")
        let written = try XCTUnwrap(ResponseFraming.clientHead(for: head, requestMethod: "GET", requestVersion: .http11,
                                                               keepAlive: true))
        XCTAssertEqual(text(written), "HTTP/1.1 404 Not Found\r\nA: b\r\nB: c\r\nEmpty: \r\nX-U: caf\u{E9}\r\n"
                       + "Transfer-Encoding: chunked\r\n\r\n")
        XCTAssertEqual(written.body, .chunked)
    }

    func testConnectionCloseRemovesAFieldNamedClose() throws {
        let head = try parsed("HTTP/1.1 200 OK\r\nClose: x\r\nConnection: Close\r\nContent-Length: 0\r\nX: y\r\n\r\n")
        XCTAssertFalse(head.persistent)
        let written = try XCTUnwrap(ResponseFraming.clientHead(for: head, requestMethod: "GET", requestVersion: .http11,
                                                               keepAlive: true))
        XCTAssertEqual(text(written), "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: y\r\n\r\n")
    }

    /// Every combination of a set of upstream heads, request methods, versions and keep-alive
    /// wishes: the one-pass writer and framing-then-serialising agree byte for byte.
    func testOnePassWriterMatchesFramingThenSerialising() throws {
        let fieldSets = [
            "Server: nginx\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n",
            "Content-Length: 12\r\n",
            "",
            "X-A: 1\r\nTransfer-Encoding: chunked\r\nX-B: 2\r\n",
            "transfer-encoding: CHUNKED\r\nConnection: close, keep-alive\r\nclose: 1\r\nCLOSE: 2\r\n",
            "Keep-Alive: timeout=5\r\nProxy-Connection: x\r\nTE: trailers\r\nTrailer: X\r\nUpgrade: h2c\r\n"
                + "Transfer_Encoding: gzip\r\nKeep_Alive: 1\r\nContent-Length: 7\r\n",
            "Content_Length: 5\r\nX-Long: " + String(repeating: "v", count: 300) + "\r\n",
            "Connection: x-drop\r\nX-Drop: 1\r\nX-Keep: 2\r\nContent-Length: 4\r\n",
            "Connection: content-length\r\nContent-Length: 4\r\n",
            "Connection: close\r\nConnection: X_Other\r\nx-other: 1\r\n",
            "A:b\r\nB:  c  \r\nEmpty:\r\nU: \u{E9}t\u{E9}\r\nConnection:\r\n",
            "Close: kept\r\nConnection: keep_alive\r\n",
            "Connection: keep-alive\r\nKeep-Alive: 1\r\nX: y\r\nTE: x\r\nContent-Length: 2\r\n",
        ]
        var compared = 0
        var onePass = 0
        for status in [200, 201, 204, 299, 304, 404, 500, 599] {
            for fields in fieldSets {
                let head = try parsed("HTTP/1.1 \(status) Whatever\r\n" + fields + "\r\n")
                if head.framingChecked && !head.markedLinesOverflow && !head.connectionOptions.contains(.other) {
                    onePass += 1
                }
                for method in ["GET", "HEAD", "POST"] {
                    for version in [HTTPVersion.http10, .http11] {
                        for keepAlive in [true, false] {
                            let fast = ResponseFraming.clientHead(for: head, requestMethod: method, requestVersion: version,
                                                                  keepAlive: keepAlive)
                            let slow = ResponseFraming.clientHead(status: head.status, fields: head.fields,
                                                                  requestMethod: method, requestVersion: version,
                                                                  keepAlive: keepAlive)
                            XCTAssertEqual(fast, slow, "\(status) \(fields.debugDescription) \(method) \(version) \(keepAlive)")
                            XCTAssertEqual(text(fast), text(slow))
                            compared += 1
                        }
                    }
                }
            }
        }
        XCTAssertEqual(compared, 8 * fieldSets.count * 12)
        XCTAssertEqual(onePass, 8 * 9, "nine of the field sets take the one-pass writer (four marked lines at most)")
    }

    func testContentLengthNamedByConnectionIsRefused() throws {
        let head = try parsed("HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 4\r\n\r\n")
        XCTAssertNil(ResponseFraming.clientHead(for: head, requestMethod: "GET", requestVersion: .http11, keepAlive: true))
    }
}
