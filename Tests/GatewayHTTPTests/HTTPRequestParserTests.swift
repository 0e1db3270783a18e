import XCTest
import GatewayHTTP

/// Valid requests: events, framing, keep-alive, and independence from how bytes arrive.
final class HTTPRequestParserTests: XCTestCase {
    static let simpleGet = "GET /orders/1?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"
    static let postCL = "POST /orders HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world"
    static let chunkedWithExtensionsAndTrailers =
        "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        + "5;name=value;quoted=\"a b\"\r\nhello\r\n"
        + "6 ; ext\r\n world\r\n"
        + "A\r\n0123456789\r\n"
        + "0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
    static let pipelined = simpleGet + postCL + chunkedWithExtensionsAndTrailers
        + "GET /last HTTP/1.0\r\n\r\n"

    /// Every way of delivering `s` must give the same events as delivering it whole.
    private func assertSplitIndependent(_ s: String, file: StaticString = #filePath, line: UInt = #line) {
        let whole = runWhole(s)
        XCTAssertNil(whole.error, file: file, line: line)
        XCTAssertEqual(runBytewise(s), whole, "byte at a time", file: file, line: line)
        for offset in 0...s.utf8.count {
            XCTAssertEqual(runSplit(s, at: offset), whole, "split at \(offset)", file: file, line: line)
        }
    }

    func testSimpleGetEvents() throws {
        let outcome = runWhole(Self.simpleGet)
        XCTAssertNil(outcome.error)
        let expected = HTTPRequestHead(
            method: "GET", target: "/orders/1?x=1", version: .http11,
            fields: [HTTPField(name: "Host", value: "example.com"), HTTPField(name: "Accept", value: "*/*")],
            framing: .none, keepAlive: true, expectsContinue: false)
        XCTAssertEqual(outcome.events, [.head(expected), .end])
    }

    func testHeadConsumesExactlyTheHeadAndEndFollows() throws {
        var parser = HTTPRequestParser()
        let data = bytes(Self.simpleGet + "GET /next")
        let first = try data.withUnsafeBytes { raw in try parser.parse(raw) }
        XCTAssertEqual(first.consumed, Self.simpleGet.utf8.count)
        guard case .head? = first.event else { return XCTFail("expected head") }
        let second = try data.withUnsafeBytes { raw in try parser.parse(UnsafeRawBufferPointer(rebasing: raw[first.consumed...])) }
        XCTAssertEqual(second.event, .end)
        XCTAssertEqual(second.consumed, 0)
        // The partial next request waits for more bytes.
        let third = try data.withUnsafeBytes { raw in try parser.parse(UnsafeRawBufferPointer(rebasing: raw[first.consumed...])) }
        XCTAssertNil(third.event)
        XCTAssertEqual(third.consumed, 0)
    }

    func testEmptyInputNeedsMoreBytes() throws {
        var parser = HTTPRequestParser()
        let r = try [UInt8]().withUnsafeBytes { raw in try parser.parse(raw) }
        XCTAssertNil(r.event)
        XCTAssertEqual(r.consumed, 0)
    }

    func testContentLengthBodyInOnePiece() throws {
        var parser = HTTPRequestParser()
        let data = bytes(Self.postCL)
        let headLen = Self.postCL.utf8.count - 11
        let first = try data.withUnsafeBytes { raw in try parser.parse(raw) }
        guard case .head(let h)? = first.event else { return XCTFail("expected head") }
        XCTAssertEqual(h.framing, .contentLength(11))
        XCTAssertEqual(first.consumed, headLen)
        let rest = Array(data[headLen...])
        let second = try rest.withUnsafeBytes { raw in try parser.parse(raw) }
        XCTAssertEqual(second.event, .body(0..<11))
        XCTAssertEqual(second.consumed, 11)
        let third = try [UInt8]().withUnsafeBytes { raw in try parser.parse(raw) }
        XCTAssertEqual(third.event, .end)
    }

    func testContentLengthBodyDoesNotReadPastItsEnd() {
        let outcome = runWhole(Self.postCL + "GET / HTTP/1.1\r\nHost: b\r\n\r\n")
        XCTAssertNil(outcome.error)
        XCTAssertEqual(outcome.events.count, 5)
        XCTAssertEqual(outcome.events[1], .body(bytes("hello world")))
        XCTAssertEqual(outcome.events[2], .end)
        guard case .head(let second) = outcome.events[3] else { return XCTFail("expected second head") }
        XCTAssertEqual(second.target, "/")
    }

    func testContentLengthZeroIsNoBody() {
        let h = head("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(h?.framing, RequestBodyFraming.none)
        XCTAssertEqual(runWhole("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 000\r\n\r\n").events.count, 2)
    }

    func testChunkedBodyWithExtensionsAndTrailers() {
        let outcome = runWhole(Self.chunkedWithExtensionsAndTrailers)
        XCTAssertNil(outcome.error)
        XCTAssertEqual(outcome.events.count, 3)
        guard case .head(let h) = outcome.events[0] else { return XCTFail("expected head") }
        XCTAssertEqual(h.framing, .chunked)
        XCTAssertEqual(outcome.events[1], .body(bytes("hello world0123456789")))
        XCTAssertEqual(outcome.events[2], .end)
    }

    func testChunkedBodyEventsAreRangesOfChunkData() throws {
        var driver = ParserDriver()
        XCTAssertNil(driver.feed(bytes(Self.chunkedWithExtensionsAndTrailers)))
        // One body event per chunk when everything arrives together; never chunk framing bytes.
        XCTAssertEqual(driver.events.dropFirst().map(\.description),
                       ["body(hello)", "body( world)", "body(0123456789)", "end"])
        XCTAssertTrue(driver.pending.isEmpty)
    }

    func testChunkedUppercaseHexAndLeadingZeros() {
        let s = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n00000B\r\nhello world\r\n0\r\n\r\n"
        let outcome = runWhole(s)
        XCTAssertNil(outcome.error)
        XCTAssertEqual(outcome.events.dropFirst(), [.body(bytes("hello world")), .end])
    }

    func testSplitIndependenceSimpleGet() { assertSplitIndependent(Self.simpleGet) }
    func testSplitIndependenceContentLength() { assertSplitIndependent(Self.postCL) }
    func testSplitIndependenceChunked() { assertSplitIndependent(Self.chunkedWithExtensionsAndTrailers) }

    func testPipelinedRequests() {
        let outcome = runWhole(Self.pipelined)
        XCTAssertNil(outcome.error)
        let heads = outcome.events.compactMap { e -> HTTPRequestHead? in
            if case .head(let h) = e { return h } else { return nil }
        }
        XCTAssertEqual(heads.map(\.target), ["/orders/1?x=1", "/orders", "/upload", "/last"])
        XCTAssertEqual(outcome.events.filter { $0 == .end }.count, 4)
        XCTAssertEqual(outcome.events.last, .end)
        // Split independence holds across request boundaries too.
        XCTAssertEqual(runBytewise(Self.pipelined), outcome)
        for offset in stride(from: 0, through: Self.pipelined.utf8.count, by: 7) {
            XCTAssertEqual(runSplit(Self.pipelined, at: offset), outcome, "split at \(offset)")
        }
    }

    func testHTTP10Request() {
        let h = head("GET /old HTTP/1.0\r\nUser-Agent: x\r\n\r\n")
        XCTAssertEqual(h?.version, .http10)
        XCTAssertEqual(h?.keepAlive, false)
        XCTAssertEqual(h?.framing, RequestBodyFraming.none)
    }

    func testHTTP10WithContentLength() {
        let outcome = runWhole("POST /old HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc")
        XCTAssertNil(outcome.error)
        XCTAssertEqual(outcome.events.dropFirst(), [.body(bytes("abc")), .end])
    }

    func testKeepAliveRules() {
        let cases: [(String, String, Bool)] = [
            ("HTTP/1.1", "", true),
            ("HTTP/1.1", "Connection: close\r\n", false),
            ("HTTP/1.1", "Connection: CLOSE\r\n", false),
            ("HTTP/1.1", "Connection: keep-alive, Close\r\n", false),
            ("HTTP/1.1", "Connection: upgrade ,close \r\n", false),
            ("HTTP/1.1", "Connection: keep-alive\r\n", true),
            ("HTTP/1.1", "Connection: closed\r\n", true),
            ("HTTP/1.1", "Connection: x\r\nConnection: close\r\n", false),
            ("HTTP/1.0", "", false),
            ("HTTP/1.0", "Connection: keep-alive\r\n", true),
            ("HTTP/1.0", "Connection: Keep-Alive\r\n", true),
            ("HTTP/1.0", "Connection: foo,  keep-alive\r\n", true),
            ("HTTP/1.0", "Connection: keep-alive, close\r\n", false),
            ("HTTP/1.0", "Connection: keepalive\r\n", false),
        ]
        for (version, fields, expected) in cases {
            let h = head("GET / \(version)\r\nHost: a\r\n\(fields)\r\n")
            XCTAssertEqual(h?.keepAlive, expected, "\(version) \(fields.debugDescription)")
        }
    }

    func testExpectContinue() {
        XCTAssertEqual(head("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")?.expectsContinue, true)
        XCTAssertEqual(head("POST / HTTP/1.1\r\nHost: a\r\nexpect: 100-Continue\r\nContent-Length: 1\r\n\r\n")?.expectsContinue, true)
        XCTAssertEqual(head("GET / HTTP/1.1\r\nHost: a\r\n\r\n")?.expectsContinue, false)
        // RFC 9110 §10.1.1: any other expectation is refused with 417.
        XCTAssertEqual(refusal("POST / HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\n\r\n"), .expectationFailed)
        // RFC 9110 §10.1.1: ignored in HTTP/1.0.
        XCTAssertEqual(head("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")?.expectsContinue, false)
    }

    func testFieldValuesAreTrimmedAndKeepNameCase() {
        let h = head("GET / HTTP/1.1\r\nHost:a\r\nX-Pad: \t spaced value \t \r\nX-Empty:\r\nx-empty2:   \r\n\r\n")
        XCTAssertEqual(h?.fields, [
            HTTPField(name: "Host", value: "a"),
            HTTPField(name: "X-Pad", value: "spaced value"),
            HTTPField(name: "X-Empty", value: ""),
            HTTPField(name: "x-empty2", value: ""),
        ])
        XCTAssertEqual(h?.values("X-PAD"), ["spaced value"])
    }

    func testUTF8ObsTextIsKeptExactly() {
        let h = head("GET / HTTP/1.1\r\nHost: a\r\nX-Name: Zoë\r\n\r\n")
        XCTAssertEqual(h?.values("x-name"), ["Zoë"])
    }

    func testLeadingEmptyLinesAreIgnored() {
        let outcome = runWhole("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n")
        XCTAssertNil(outcome.error)
        guard case .head(let h)? = outcome.events.first else { return XCTFail("no head") }
        XCTAssertEqual(h.target, "/")
        XCTAssertEqual(runBytewise("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), outcome)
    }

    func testMethodsAndTargetsAreKeptAsSent() {
        XCTAssertEqual(head("PATCH /a%2fb?q=%20 HTTP/1.1\r\nHost: a\r\n\r\n")?.target, "/a%2fb?q=%20")
        XCTAssertEqual(head("M-SEARCH /x HTTP/1.1\r\nHost: a\r\n\r\n")?.method, "M-SEARCH")
        XCTAssertEqual(head("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n")?.target, "*")
        XCTAssertEqual(head("get / HTTP/1.1\r\nHost: a\r\n\r\n")?.method, "get")
    }

    func testParserIsReusableAfterEachRequestButNotAfterAnError() throws {
        var parser = HTTPRequestParser()
        let bad = bytes("GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n")
        XCTAssertThrowsError(try bad.withUnsafeBytes { raw in try parser.parse(raw) })
        let good = bytes(Self.simpleGet)
        XCTAssertThrowsError(try good.withUnsafeBytes { raw in try parser.parse(raw) })
    }

    func testLargeHeadFedByteByByteStaysCorrect() {
        // Many fields fed one byte at a time (the scan resumes where it stopped).
        var s = "GET / HTTP/1.1\r\nHost: a\r\n"
        for k in 0..<200 { s += "X-Field-\(k): value-\(k)\r\n" }
        s += "\r\n"
        let outcome = runBytewise(s)
        XCTAssertNil(outcome.error)
        guard case .head(let h)? = outcome.events.first else { return XCTFail("no head") }
        XCTAssertEqual(h.fields.count, 201)
        XCTAssertEqual(h.fields.last, HTTPField(name: "X-Field-199", value: "value-199"))
    }
}
