import GatewayTestSupport
import XCTest
import GatewayHTTP

/// Field values built from the bytes the word-at-a-time scan must tell apart (CTLs, DEL,
/// CR, LF, SP, HTAB, obs-text, valid and invalid UTF-8) in random lengths, compared with a
/// byte-by-byte model of RFC 9112 §2.2 / RFC 9110 §5.5, fed whole and in random pieces.
final class HTTPHeadScanFuzzTests: XCTestCase {
    private enum Expected: Equatable {
        case value([UInt8])
        case refused(HTTPParseError)
    }

    /// What a byte-by-byte reading gives for `value` (the bytes after the colon).
    private func model(_ value: [UInt8]) -> Expected {
        let line = value + [0x0D, 0x0A]
        for k in 0..<value.count {
            if value[k] == 0x0A { return .refused(.badRequest("bare LF line ending")) }
            if value[k] == 0x0D && line[k + 1] != 0x0A { return .refused(.badRequest("bare CR")) }
        }
        var start = 0, end = value.count
        while start < end && (value[start] == 0x20 || value[start] == 0x09) { start += 1 }
        while end > start && (value[end - 1] == 0x20 || value[end - 1] == 0x09) { end -= 1 }
        let trimmed = Array(value[start..<end])
        if trimmed.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) {
            return .refused(.badRequest("invalid character in field value"))
        }
        if String(validating: trimmed, as: UTF8.self) == nil {
            return .refused(.badRequest("field value is not valid UTF-8"))
        }
        return .value(trimmed)
    }

    func testRandomValuesMatchTheByteByByteReading() throws {
        var rng = SeededGenerator(state: 0x5EED)
        let alphabet: [[UInt8]] = [[0x61], [0x61], [0x61], [0x61], [0x7A], [0x20], [0x09], [0x00], [0x01], [0x0B],
                                   [0x1F], [0x7F], [0x0D], [0x0A], [0x22], [0x3A], [0xC3, 0xA9], [0xE2, 0x82, 0xAC],
                                   [0xFF], [0x80], [0xC3], [0x7E], [0x21]]
        var accepted = 0, refused = 0
        for iteration in 0..<4000 {
            let length = Int.random(in: 0...100, using: &rng)
            var value: [UInt8] = []
            // Mostly plain bytes with one or two specials, so that every offset gets hit.
            let specials = Int.random(in: 0...2, using: &rng)
            for _ in 0..<length { value.append(UInt8(ascii: "a") + UInt8.random(in: 0...25, using: &rng)) }
            for _ in 0..<specials where !value.isEmpty {
                let piece = alphabet.randomElement(using: &rng)!
                let at = Int.random(in: 0..<value.count, using: &rng)
                value.replaceSubrange(at..<min(value.count, at + piece.count), with: piece)
            }
            if Bool.random(using: &rng) { value += Array(repeating: 0x20, count: Int.random(in: 0...40, using: &rng)) }
            // A CR LF inside the value would end the line: not a value case.
            for k in 0..<max(0, value.count - 1) where value[k] == 0x0D && value[k + 1] == 0x0A { value[k + 1] = 0x62 }
            let raw = Array("GET / HTTP/1.1\r\nHost: a\r\nX-V:".utf8) + value + Array("\r\nX-W: w\r\n\r\n".utf8)
            let expected = model(value)
            var cuts = Set<Int>()
            for _ in 0..<Int.random(in: 0...3, using: &rng) { cuts.insert(Int.random(in: 1..<raw.count, using: &rng)) }
            var pieces: [[UInt8]] = []
            var from = 0
            for c in cuts.sorted() { pieces.append(Array(raw[from..<c])); from = c }
            pieces.append(Array(raw[from...]))
            for feed in [[raw], pieces] {
                let outcome = runPieces(feed)
                switch expected {
                case .refused(let e):
                    XCTAssertEqual(outcome.error, e, "case \(iteration): \(value)")
                case .value(let v):
                    XCTAssertNil(outcome.error, "case \(iteration): \(value)")
                    guard case .head(let h)? = outcome.events.first else { XCTFail("no head \(iteration)"); continue }
                    let got = h.fields.first { $0.hasName("x-v") }.map { f in f.withValueBytes { Array($0) } }
                    XCTAssertEqual(got, v, "case \(iteration): \(value)")
                    XCTAssertEqual(h.values("x-w"), ["w"])
                    XCTAssertEqual(h.values("host"), ["a"])
                }
            }
            if case .value = expected { accepted += 1 } else { refused += 1 }
        }
        XCTAssertGreaterThan(accepted, 500)
        XCTAssertGreaterThan(refused, 500)
    }

    /// Pipelined heads of random sizes on one connection, in random pieces: each head reads
    /// only its own bytes (a shorter head after a longer one sees nothing of the longer one).
    func testPipelinedHeadsOfRandomSizesKeepTheirOwnBytes() throws {
        var rng = SeededGenerator(state: 42)
        var driver = ParserDriver()
        var expected: [(String, String)] = []
        var stream: [UInt8] = []
        for k in 0..<300 {
            let n = Int.random(in: 0...2500, using: &rng)
            let v = String((0..<n).map { i in Character(UnicodeScalar(UInt8(0x41 + (i + k) % 26))) })
            let name = k % 3 == 0 ? "X-Long-Name-\(k)" : "X"
            expected.append((name, v))
            stream += bytes("GET /\(k) HTTP/1.1\r\nHost: h\(k)\r\n\(name): \(v)\r\n\r\n")
        }
        var from = 0
        while from < stream.count {
            let to = min(stream.count, from + Int.random(in: 1...3000, using: &rng))
            XCTAssertNil(driver.feed(Array(stream[from..<to])))
            from = to
        }
        let heads = driver.events.compactMap { e -> HTTPRequestHead? in if case .head(let h) = e { h } else { nil } }
        XCTAssertEqual(heads.count, expected.count)
        for (k, (h, (name, v))) in zip(heads, expected).enumerated() {
            XCTAssertEqual(h.target, "/\(k)")
            XCTAssertEqual(h.values("host"), ["h\(k)"])
            XCTAssertEqual(h.values(name), [v], "head \(k)")
            XCTAssertEqual(h.fields.count, 2)
        }
    }

    /// Heads dropped as soon as they are read (the array is then reused in place): each
    /// next head, shorter or longer, still reads exactly its own bytes.
    func testReusedHeadBytesNeverShowAnEarlierHead() throws {
        var rng = SeededGenerator(state: 7)
        var driver = ParserDriver()
        for k in 0..<400 {
            let n = Int.random(in: 0...2100, using: &rng)
            let v = String(repeating: k % 2 == 0 ? "Q" : "r", count: n)
            XCTAssertNil(driver.feed(bytes("GET /\(k) HTTP/1.1\r\nHost: a\r\nX-V: \(v)\r\n\r\n")))
            guard case .head(let h)? = driver.events.first else { return XCTFail("no head \(k)") }
            XCTAssertEqual(h.values("x-v"), [v], "head \(k)")
            XCTAssertEqual(h.target, "/\(k)")
            XCTAssertEqual(h.fields.map { f in f.withValueBytes { $0.count } }, [1, n])
            driver.events.removeAll()
        }
    }
}
