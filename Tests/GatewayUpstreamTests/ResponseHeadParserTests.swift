@testable import GatewayUpstream
import GatewayHTTP
import XCTest

final class ResponseHeadParserTests: XCTestCase {
    /// Feeds lines; returns the final head or the error.
    private func parse(_ lines: [String]) -> Result<ResponseHeadParser.Head?, UpstreamError> {
        var parser = ResponseHeadParser()
        var head: ResponseHeadParser.Head?
        for line in lines {
            do throws(UpstreamError) {
                let bytes = Array(line.utf8)
                if let h = try Self.feed(&parser, bytes) { head = h }
            } catch {
                return .failure(error)
            }
        }
        return .success(head)
    }

    private static func feed(_ parser: inout ResponseHeadParser, _ bytes: [UInt8]) throws(UpstreamError) -> ResponseHeadParser.Head? {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        return try parser.consume(UnsafeRawBufferPointer(buffer))
    }

    /// Feeds every line of `text` in one call (as the upstream reader does).
    private static func feedLines(_ parser: inout ResponseHeadParser, _ text: String) throws(UpstreamError)
        -> (head: ResponseHeadParser.Head?, used: Int) {
        let bytes = Array(text.utf8)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: bytes)
        return try parser.consumeLines(UnsafeRawBufferPointer(buffer))
    }

    private func assertInvalid(_ lines: [String], file: StaticString = #filePath, line: UInt = #line) {
        guard case .failure(.invalidResponse) = parse(lines) else {
            return XCTFail("expected invalidResponse for \(lines)", file: file, line: line)
        }
    }

    func testFinalHeadWithFieldsInOrder() throws {
        let result = try parse(["HTTP/1.1 200 OK\r\n", "Content-Type: text/plain\r\n",
                                "X-A:  one \r\n", "x-a: two\r\n", "Empty:\r\n", "\r\n"]).get()
        XCTAssertEqual(result?.status, 200)
        XCTAssertEqual(result?.fields, [
            HTTPField(name: "Content-Type", value: "text/plain"), HTTPField(name: "X-A", value: "one"),
            HTTPField(name: "x-a", value: "two"), HTTPField(name: "Empty", value: ""),
        ])
    }

    func testInterimResponsesAreSkipped() throws {
        let result = try parse(["HTTP/1.1 100 Continue\r\n", "\r\n",
                                "HTTP/1.1 103 Early Hints\r\n", "Link: </a>\r\n", "\r\n",
                                "HTTP/1.1 404 Not Found\r\n", "A: b\r\n", "\r\n"]).get()
        XCTAssertEqual(result, .init(status: 404, fields: [HTTPField(name: "A", value: "b")]))
    }

    func testBareLFAndMissingReasonAreAccepted() throws {
        XCTAssertEqual(try parse(["HTTP/1.0 204\n", "\n"]).get()?.status, 204)
    }

    func testMalformedStatusLines() {
        for line in ["HTTP/2 200 OK\r\n", "HTTP/1.1 20 OK\r\n", "HTTP/1.1 2000 OK\r\n", "http/1.1 200 OK\r\n",
                     "HTTP/1.1 099 x\r\n", "HTTP/1.1 600 x\r\n", "HTTP/1.1 200\u{1}OK\r\n", "garbage\r\n",
                     "HTTP/1.1 101 Switching Protocols\r\n", "HTTP/1.1 200 OK"] {
            assertInvalid([line, "\r\n"])
        }
    }

    func testMalformedFieldLines() {
        for field in ["No colon\r\n", "Space : x\r\n", ": novalue\r\n", " folded: x\r\n", "A: b\rc\r\n",
                      "A: b\u{0}\r\n", "A: \u{7F}\r\n", "Bad(name): x\r\n"] {
            assertInvalid(["HTTP/1.1 200 OK\r\n", field, "\r\n"])
        }
    }

    func testNonUTF8ValueIsRefused() {
        var parser = ResponseHeadParser()
        XCTAssertNil(try? Self.feed(&parser, Array("HTTP/1.1 200 OK\r\n".utf8)))
        let line: [UInt8] = Array("A: ".utf8) + [0xFF, 0x0D, 0x0A]
        XCTAssertThrowsError(try Self.feed(&parser, line))
    }

    func testFramingChecks() throws {
        XCTAssertNotNil(try parse(["HTTP/1.1 200 OK\r\n", "Content-Length: 5 \r\n", "\r\n"]).get())
        assertInvalid(["HTTP/1.1 200 OK\r\n", "Content-Length: 5\r\n", "content-length: 5, 5\r\n", "\r\n"])
        assertInvalid(["HTTP/1.1 200 OK\r\n", "Content-Length: 5\r\n", "Content-Length: 5\r\n", "\r\n"])
        XCTAssertNotNil(try parse(["HTTP/1.1 200 OK\r\n", "Transfer-Encoding: Chunked\r\n", "\r\n"]).get())
        assertInvalid(["HTTP/1.1 200 OK\r\n", "Content-Length: 5\r\n", "Content-Length: 6\r\n", "\r\n"])
        assertInvalid(["HTTP/1.1 200 OK\r\n", "Content-Length: -1\r\n", "\r\n"])
        assertInvalid(["HTTP/1.1 200 OK\r\n", "Content-Length: 5\r\n", "Transfer-Encoding: chunked\r\n", "\r\n"])
        assertInvalid(["HTTP/1.1 200 OK\r\n", "Transfer-Encoding: gzip, chunked\r\n", "\r\n"])
    }

    /// Field names and `chunked` compare in ASCII only: the Kelvin sign (U+212A) lowercases
    /// to "k" in Unicode but is not a `k` to any HTTP parser downstream.
    func testFramingComparesASCIICaseOnly() throws {
        XCTAssertNotNil(try parse(["HTTP/1.1 200 OK\r\n", "TRANSFER-ENCODING: CHUNKED\r\n", "\r\n"]).get())
        assertInvalid(["HTTP/1.1 200 OK\r\n", "Transfer-Encoding: chun\u{212A}ed\r\n", "\r\n"])
    }

    func testHeadOver64KiBIsRefused() throws {
        let filler = "X-Filler: " + String(repeating: "a", count: 1000) + "\r\n"
        assertInvalid(["HTTP/1.1 200 OK\r\n"] + Array(repeating: filler, count: 66) + ["\r\n"])
        // Just under the limit passes.
        let ok = ["HTTP/1.1 200 OK\r\n"] + Array(repeating: filler, count: 60) + ["\r\n"]
        XCTAssertEqual(try parse(ok).get()?.fields.count, 60)
    }

    func testTrailersAfterTheHeadAreIgnored() throws {
        var parser = ResponseHeadParser()
        XCTAssertNil(try Self.feed(&parser, Array("HTTP/1.1 200 OK\r\n".utf8)))
        XCTAssertEqual(try Self.feed(&parser, Array("\r\n".utf8))?.status, 200)
        XCTAssertTrue(parser.isComplete)
        XCTAssertNil(try Self.feed(&parser, Array("Trailer-Field: x\r\n".utf8)))
    }
    /// A refused field line is named by the first rule it breaks.
    func testRefusalsSayWhatIsWrong() {
        let cases: [(String, String)] = [
            ("A: b\rc\r\n", "bare CR, LF or NUL in response head"),
            ("A: b\u{0}\r\n", "bare CR, LF or NUL in response head"),
            (" folded: x\r\n", "obsolete line folding in response head"),
            ("No colon\r\n", "response field line without colon"),
            ("Space : x\r\n", "invalid response field name"),
            (": novalue\r\n", "invalid response field name"),
            ("Bad(name): x\r\n", "invalid response field name"),
            ("A: \u{7F}\r\n", "control character in response field value"),
            ("A: x\u{1}y\n", "control character in response field value"),
        ]
        for (field, message) in cases {
            guard case .failure(let error) = parse(["HTTP/1.1 200 OK\r\n", field, "\r\n"]) else {
                XCTFail("expected a refusal for \(field.debugDescription)")
                continue
            }
            XCTAssertEqual(error, .invalidResponse(message), field.debugDescription)
        }
    }

    /// The head keeps each field as the line a client is sent, and knows its kind.
    func testHeadLinesAndKinds() throws {
        let head = try XCTUnwrap(parse(["HTTP/1.1 200 OK\r\n", "A:b\n", "Connection: close, X\r\n",
                                        "transfer_encoding: q\r\n", "Content-Length: 3\r\n", "close: 1\r\n", "\r\n"]).get())
        XCTAssertEqual(String(decoding: head.lines, as: UTF8.self),
                       "A: b\r\nConnection: close, X\r\ntransfer_encoding: q\r\nContent-Length: 3\r\nclose: 1\r\n")
        XCTAssertEqual((0..<head.markedLineCount).map { head.markedLines[$0].kind }, [.connection, .hopByHop, .contentLength, .close])
        XCTAssertEqual((0..<head.markedLineCount).map { head.markedLines[$0].start }, [6, 28, 50, 69])
        XCTAssertFalse(head.markedLinesOverflow)
        XCTAssertEqual(head.fieldCount, 5)
        XCTAssertEqual(head.connectionOptions, [.close, .other])
        XCTAssertEqual(head.contentLength, 3)
        XCTAssertFalse(head.persistent)
        XCTAssertTrue(head.framingChecked)
        XCTAssertEqual(head.fields.map(\.name), ["A", "Connection", "transfer_encoding", "Content-Length", "close"])
        XCTAssertEqual(head.fields.map(\.value), ["b", "close, X", "q", "3", "1"])
        XCTAssertFalse(UpstreamResponseHead(status: 200, fields: head.fields).framingChecked)
        let unwritable = UpstreamResponseHead(status: 200, fields: [
            HTTPField(name: "A", value: "x\ny"), HTTPField(name: "B c", value: "1"), HTTPField(name: "D", value: " 2"),
            HTTPField(name: "E", value: "3"),
        ])
        XCTAssertEqual(unwritable.fields, [HTTPField(name: "E", value: "3")], "left out as serialising leaves them out")
        let many = try XCTUnwrap(parse(["HTTP/1.1 200 OK\r\n", "TE: a\r\n", "Upgrade: b\r\n", "Trailer: c\r\n",
                                        "Keep-Alive: d\r\n", "Proxy-Connection: e\r\n", "X: f\r\n", "\r\n"]).get())
        XCTAssertEqual(many.markedLineCount, UpstreamResponseHead.maxMarkedLines)
        XCTAssertTrue(many.markedLinesOverflow)
        XCTAssertEqual(many.fields.map(\.value), ["a", "b", "c", "d", "e", "f"])
    }
    /// The parser's byte classes agree with the grammar's for every byte, and the eight-byte
    /// test flags a word exactly when one of its bytes is not SP or VCHAR, wherever it sits
    /// and whatever sits beside it.
    func testByteClassesMatchTheGrammar() {
        for b in 0...255 {
            XCTAssertEqual(ResponseHeadParser.isTokenByte(UInt8(b)), HTTPSyntax.isTokenChar(UInt8(b)), "byte \(b)")
        }
        func flagged(_ bytes: [UInt8]) -> Bool {
            ResponseHeadParser.holdsOtherThanPrintableASCII(
                bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        }
        let printable = { (b: UInt8) in b >= 0x20 && b <= 0x7E }
        for b in 0...255 {
            for position in 0..<8 {
                var bytes = [UInt8](repeating: 0x61, count: 8)
                bytes[position] = UInt8(b)
                XCTAssertEqual(flagged(bytes), !printable(UInt8(b)), "byte \(b) at \(position)")
            }
        }
        let edges: [UInt8] = [0x00, 0x01, 0x09, 0x1F, 0x20, 0x21, 0x7E, 0x7F, 0x80, 0xC3, 0xFF]
        for a in edges {
            for b in edges {
                for first in 0..<8 {
                    for second in 0..<8 where second != first {
                        var bytes = [UInt8](repeating: 0x20, count: 8)
                        bytes[first] = a
                        bytes[second] = b
                        XCTAssertEqual(flagged(bytes), !printable(a) || !printable(b))
                    }
                }
            }
        }
    }
    /// Lines already in the kept form are copied in runs; the others are rewritten between
    /// them; the head is the same as from line-by-line parsing.
    func testLinesOfOneReadAreCopiedInRuns() throws {
        let text = "HTTP/1.1 200 OK\r\nA: 1\r\nConnection: close\r\nB:2\r\nC: 3\r\nD: 4 \r\nE: 5\nF: 6\r\n\r\nrest"
        var parser = ResponseHeadParser()
        let (head, used) = try Self.feedLines(&parser, text)
        XCTAssertEqual(used, text.utf8.count - 4)
        let parsed = try XCTUnwrap(head)
        XCTAssertEqual(String(decoding: parsed.lines, as: UTF8.self),
                       "A: 1\r\nConnection: close\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\nF: 6\r\n")
        XCTAssertEqual(parsed.markedLineCount, 1)
        XCTAssertEqual(parsed.markedLines[0], .init(start: 6, nameEnd: 16, end: 25, kind: .connection))
        XCTAssertEqual(parsed, try parse(["HTTP/1.1 200 OK\r\n", "A: 1\r\n", "Connection: close\r\n", "B:2\r\n", "C: 3\r\n",
                                          "D: 4 \r\n", "E: 5\n", "F: 6\r\n", "\r\n"]).get())
        // A head cut after some lines: those lines are kept, the rest waits.
        var cut = ResponseHeadParser()
        let first = try Self.feedLines(&cut, "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC:")
        XCTAssertNil(first.head)
        XCTAssertEqual(first.used, 29, "up to the end of the last complete line")
        let second = try Self.feedLines(&cut, "C: 3\r\n\r\n")
        XCTAssertEqual(String(decoding: try XCTUnwrap(second.head).lines, as: UTF8.self), "A: 1\r\nB: 2\r\nC: 3\r\n")
    }
}
