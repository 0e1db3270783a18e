import GatewayHTTP
import GatewayTestSupport
import XCTest
@testable import GatewayServer
@testable import GatewayUpstream

/// Heads a hostile or broken upstream could send, built from a fixed seed: injected CR, LF,
/// NUL and bare CR, obs-fold, names spelled with `_` and in any case, duplicate and
/// conflicting framing fields, `Connection` naming fields, more hop-by-hop fields than the
/// one-pass writer lists. Each is read the way the gateway reads heads (all lines of a read
/// at once, line by line as libcurl hands them over, split across two reads at every byte)
/// and compared with the earlier parser and client-head writer (`LegacyResponseHeadParser`,
/// `ResponseFraming.frame`): the same heads are refused, and an accepted head gives the client
/// the same bytes.
final class HostileUpstreamHeadTests: XCTestCase {
    private static let names: [String] = [
        "Content-Length", "content-length", "CONTENT-LENGTH", "Content_Length", "Transfer-Encoding",
        "transfer-encoding", "Transfer_Encoding", "TRANSFER_ENCODING", "Connection", "connection", "CONNECTION",
        "Keep-Alive", "keep_alive", "Proxy-Connection", "proxy_connection", "TE", "te", "Trailer", "TRAILER",
        "Upgrade", "upgrade", "close", "Close", "X-Drop", "x_drop", "X-Keep", "Set-Cookie", "X-Auth-Subject",
        "Server", "Content-Type", "Te_", "Connection-", "Keep-Alive2",
    ]
    private static let values: [String] = [
        "chunked", "CHUNKED", "chunked, chunked", "gzip, chunked", "5", "05", "0", "5, 5", "5,5", "-1", "+5",
        "99999999999999999999", "", "close", "Close", "keep-alive", "Keep_Alive", "x-drop", "X_Drop, close",
        "te", "content-length", "transfer-encoding", "close, x-drop", "\"close\"", "upgrade", "trailer",
        "caf\u{E9}", "  spaced  ", "\t", "a, b", "x-keep", "proxy-connection", "keep-alive, close",
    ]
    /// Whole lines, some of them broken on purpose.
    private static let oddLines: [[UInt8]] = [
        Array(" folded\r\n".utf8), Array("\tfolded\r\n".utf8), Array("X-A: a\rb\r\n".utf8), Array("X-A: a\u{0}b\r\n".utf8),
        Array("X-A: a\r\r\n".utf8), Array("X-A : a\r\n".utf8), Array("X-A\t: a\r\n".utf8), Array(": a\r\n".utf8),
        Array("X-A\r\n".utf8), Array("X\u{0}A: a\r\n".utf8), Array("X-A: a\u{7F}\r\n".utf8), Array("X-A: \u{1}\r\n".utf8),
        [0x58, 0x3A, 0x20, 0xC3, 0x28, 0x0D, 0x0A], [0x58, 0x3A, 0x20, 0xFF, 0x0D, 0x0A], Array("X-A: a\r".utf8) + [0x0A],
        Array("\r\r\n".utf8), Array("X-A: 12345678\u{0}1234567\r\n".utf8), Array("X-A: 1234567890123456\r1\r\n".utf8),
        Array("X-Ok: abcdefghijklmnopqrstuvwxyz\r\n".utf8), Array("X-Ok:\tabcdefghij\t\r\n".utf8),
    ]

    /// One generated response head (status line, fields, empty line).
    private func head(_ r: inout SeededGenerator) -> [UInt8] {
        var out: [UInt8] = []
        if r.below(6) == 0 { out += Array("HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n".utf8) }
        let status = r.pick([200, 200, 200, 204, 304, 404, 500, 206])
        out += Array("HTTP/1.\(r.below(5) == 0 ? 0 : 1) \(status) Reason\r\n".utf8)
        let count = r.below(9)
        for _ in 0..<count {
            if r.below(8) == 0 {
                out += r.pick(Self.oddLines)
                continue
            }
            let separator = r.pick([": ", ": ", ": ", ":", ":  ", ":\t"])
            let terminator = r.pick(["\r\n", "\r\n", "\r\n", "\n", " \r\n"])
            out += Array((r.pick(Self.names) + separator + r.pick(Self.values) + terminator).utf8)
        }
        out += Array(r.pick(["\r\n", "\r\n", "\n"]).utf8)
        return out
    }

    private enum Parsed: Equatable {
        case refused
        case head(status: Int, fields: [HTTPField], contentLength: UInt64?, chunked: Bool, persistent: Bool)
    }

    private func legacy(_ bytes: [UInt8]) -> Parsed {
        var parser = LegacyResponseHeadParser()
        var rest = bytes[...]
        while let lf = rest.firstIndex(of: 0x0A) {
            let line = Array(rest[...lf])
            rest = rest[(lf + 1)...]
            let step: LegacyResponseHeadParser.Head?? = line.withUnsafeBytes { raw in
                do throws(UpstreamError) { return .some(try parser.consume(raw)) } catch { return .none }
            }
            guard let step else { return .refused }
            if let h = step {
                return .head(status: h.status, fields: h.fields, contentLength: h.contentLength, chunked: h.chunked,
                             persistent: h.persistent)
            }
        }
        return .refused
    }

    private func summary(_ h: UpstreamResponseHead?) -> Parsed {
        guard let h else { return .refused }
        return .head(status: h.status, fields: h.fields, contentLength: h.contentLength, chunked: h.chunked,
                     persistent: h.persistent)
    }

    /// All lines in one call, as the direct path reads a head that arrived in one read.
    private func whole(_ bytes: [UInt8]) -> UpstreamResponseHead? {
        var parser = ResponseHeadParser()
        return bytes.withUnsafeBytes { raw in
            do throws(UpstreamError) { return try parser.consumeLines(raw).head } catch { return nil }
        }
    }

    /// Line by line, as libcurl's header callback hands them over.
    private func byLine(_ bytes: [UInt8]) -> UpstreamResponseHead? {
        var parser = ResponseHeadParser()
        var rest = bytes[...]
        while let lf = rest.firstIndex(of: 0x0A) {
            let line = Array(rest[...lf])
            rest = rest[(lf + 1)...]
            let step: UpstreamResponseHead?? = line.withUnsafeBytes { raw in
                do throws(UpstreamError) { return .some(try parser.consume(raw)) } catch { return .none }
            }
            guard let step else { return nil }
            if let h = step { return h }
        }
        return nil
    }

    /// Through `UpstreamResponseReader`, the bytes given in the pieces `cuts` makes.
    private func read(_ bytes: [UInt8], cuts: [Int]) -> UpstreamResponseHead? {
        var reader = UpstreamResponseReader(requestIsHead: false)
        var from = 0
        for to in cuts + [bytes.count] where to > from {
            let piece = Array(bytes[from..<to])
            from = to
            var offset = 0
            while offset < piece.count {
                let result: (UpstreamResponseReader.Step, Int)? = piece.withUnsafeBytes { raw in
                    do throws(UpstreamError) {
                        return try reader.next(UnsafeRawBufferPointer(rebasing: raw[offset...]))
                    } catch { return nil }
                }
                guard let (step, used) = result else { return nil }
                if case .head(let h) = step { return h }
                offset += used
            }
        }
        return nil
    }

    private func clientHeads(_ head: UpstreamResponseHead, legacyFields: [HTTPField], description: String) {
        for method in ["GET", "HEAD", "POST"] {
            for version in [HTTPVersion.http10, .http11] {
                for keepAlive in [true, false] {
                    let now = ResponseFraming.clientHead(for: head, requestMethod: method, requestVersion: version,
                                                         keepAlive: keepAlive)
                    let before = ResponseFraming.clientHead(status: head.status, fields: legacyFields, requestMethod: method,
                                                            requestVersion: version, keepAlive: keepAlive)
                    XCTAssertEqual(now.map { String(decoding: $0.bytes, as: UTF8.self) },
                                   before.map { String(decoding: $0.bytes, as: UTF8.self) },
                                   "\(description) \(method) \(version) \(keepAlive)")
                    XCTAssertEqual(now, before, "\(description) \(method) \(version) \(keepAlive)")
                }
            }
        }
    }

    func testGeneratedHostileHeadsAreReadAsTheEarlierParserReadThem() {
        var r = SeededGenerator(state: 0x6761_7465_7761_7921)
        var accepted = 0, refused = 0, onePass = 0, fallback = 0
        for n in 0..<4000 {
            let bytes = head(&r)
            let description = "#\(n) " + String(decoding: bytes, as: UTF8.self).debugDescription
            let expected = legacy(bytes)
            let current = whole(bytes)
            XCTAssertEqual(summary(current), expected, description)
            XCTAssertEqual(summary(byLine(bytes)), expected, description)
            XCTAssertEqual(summary(read(bytes, cuts: [])), expected, description)
            XCTAssertEqual(summary(read(bytes, cuts: [r.below(bytes.count)])), expected, description)
            guard let current, case .head(_, let fields, _, _, _) = expected else {
                refused += 1
                continue
            }
            accepted += 1
            XCTAssertEqual(current, byLine(bytes), description)
            if current.markedLinesOverflow || current.connectionOptions.contains(.other) { fallback += 1 } else { onePass += 1 }
            clientHeads(current, legacyFields: fields, description: description)
        }
        // The generator reaches both outcomes and both writers.
        XCTAssertGreaterThan(accepted, 400)
        XCTAssertGreaterThan(refused, 400)
        XCTAssertGreaterThan(onePass, 200)
        XCTAssertGreaterThan(fallback, 100)
    }

    /// A head split into two reads at every byte, and given a byte per read, reads as the
    /// whole head does.
    func testHeadSplitAtEveryByteReadsTheSame() throws {
        var r = SeededGenerator(state: 42)
        var checked = 0
        for _ in 0..<150 {
            let bytes = head(&r)
            let expected = summary(whole(bytes))
            for cut in 0...bytes.count {
                XCTAssertEqual(summary(read(bytes, cuts: [cut])), expected, String(decoding: bytes, as: UTF8.self).debugDescription)
            }
            XCTAssertEqual(summary(read(bytes, cuts: Array(0...bytes.count))), expected)
            checked += 1
        }
        XCTAssertEqual(checked, 150)
    }
}
