import Foundation
import GatewayHTTP
import GatewayTestSupport
import XCTest

/// The real gateway in front of an upstream that answers with raw bytes: a head the client
/// could read differently from the gateway is a 502, never relayed; an accepted head reaches
/// the client without its hop-by-hop fields, with the gateway's framing.
final class HostileUpstreamIntegrationTests: XCTestCase {
    var g: HardenedGateway!

    /// Raw upstream responses by the query that asks for them (`/status?<key>`).
    static let responses: [String: String] = [
        "cr-in-value": "HTTP/1.1 200 OK\r\nX-A: a\rSet-Cookie: b\r\nContent-Length: 2\r\n\r\nok",
        "nul-in-value": "HTTP/1.1 200 OK\r\nX-A: a\u{0}b\r\nContent-Length: 2\r\n\r\nok",
        "nul-in-name": "HTTP/1.1 200 OK\r\nX\u{0}A: a\r\nContent-Length: 2\r\n\r\nok",
        "ctl-in-value": "HTTP/1.1 200 OK\r\nX-A: a\u{1}b\r\nContent-Length: 2\r\n\r\nok",
        "del-in-value": "HTTP/1.1 200 OK\r\nX-A: a\u{7F}\r\nContent-Length: 2\r\n\r\nok",
        "cr-before-crlf": "HTTP/1.1 200 OK\r\nX-A: a\r\r\nContent-Length: 2\r\n\r\nok",
        "obs-fold": "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
        "space-before-colon": "HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
        "no-colon": "HTTP/1.1 200 OK\r\nX-A\r\nContent-Length: 2\r\n\r\nok",
        "two-lengths": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok",
        "differing-lengths": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nCONTENT-LENGTH: 12\r\n\r\nokokokokokok",
        "length-list": "HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok",
        "signed-length": "HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
        "length-and-chunked": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        "gzip-chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        "chunked-twice": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
        "switching": "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n",
        "interim-nul": "HTTP/1.1 100 Continue\r\nX-A: \u{0}\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        "too-large": "HTTP/1.1 200 OK\r\n"
            + String(repeating: "X-Filler: " + String(repeating: "f", count: 1000) + "\r\n", count: 66)
            + "Content-Length: 2\r\n\r\nok",
        "line-too-large": "HTTP/1.1 200 OK\r\nX-Filler: " + String(repeating: "f", count: 70_000) + "\r\nContent-Length: 2\r\n\r\nok",
        "interims-too-large": String(repeating: "HTTP/1.1 100 Continue\r\nX-Filler: " + String(repeating: "f", count: 1000)
                                     + "\r\n\r\n", count: 66) + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    ]

    /// A value that is not UTF-8 (0xC3 then "("), as bytes.
    static let notUTF8 = Array("HTTP/1.1 200 OK\r\nX-A: ".utf8) + [0xC3, 0x28] + Array("\r\nContent-Length: 2\r\n\r\nok".utf8)

    /// Accepted heads, each relayed as the test expects.
    static let accepted: [String: String] = [
        // More framing and hop-by-hop fields than the one-pass writer lists.
        "many-hop-by-hop": "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n"
            + "Trailer: X-T\r\nUpgrade: h2c\r\nTransfer_Encoding: gzip\r\nkeep_alive: 2\r\nPROXY_CONNECTION: x\r\n"
            + "X-Kept: 1\r\nContent-Length: 2\r\n\r\nok",
        // Fields named by `Connection` before and after it, in any case and with `_` for `-`.
        "named-before": "HTTP/1.1 200 OK\r\nX-Secret-Hop: 1\r\nx_other_hop: 2\r\nX-Kept: 1\r\nConnection: X_Secret_Hop\r\n"
            + "CONNECTION: x-other-hop\r\nContent-Length: 2\r\n\r\nok",
        "close-named-before": "HTTP/1.1 200 OK\r\nClose: 1\r\nX-Kept: 1\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok",
        "interim": "HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nX-Kept: 1\r\nContent-Length: 2\r\n\r\nok",
        "bare-lf": "HTTP/1.1 200 OK\nX-Kept:  1 \t\nContent-Length: 2\n\nok",
        "204-length": "HTTP/1.1 204 No Content\r\nX-Kept: 1\r\nContent-Length: 5\r\n\r\n",
        // A body where none may be: never relayed, the client connection stays in step.
        "body-after-head": "HTTP/1.1 200 OK\r\nX-Kept: 1\r\nContent-Length: 20\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nX: y\r\n\r\n",
        "204-body": "HTTP/1.1 204 No Content\r\nX-Kept: 1\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        "304-body": "HTTP/1.1 304 Not Modified\r\nX-Kept: 1\r\nContent-Length: 22\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nX: y\r\n\r\n",
        "chunked-upper": "HTTP/1.1 200 OK\r\nX-Kept: 1\r\ntransfer-encoding: CHUNKED\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    ]

    override func setUpWithError() throws {
        g = try HardenedGateway(handler: { req in
            let key = String(req.target.dropFirst("/status?".count))
            if key == "not-utf8" { return .raw(Self.notUTF8) }
            if key == "pieces" {
                let head = Array(Self.accepted["named-before"]!.utf8)
                return .rawPieces(head.map { [$0] }, pause: 0.001)
            }
            if key == "many-fields" {
                var text = "HTTP/1.1 200 OK\r\n"
                for i in 0..<2000 { text += "X-F\(i): \(i)\r\n" }
                return .raw(Array((text + "Content-Length: 2\r\n\r\nok").utf8))
            }
            let text = Self.responses[key] ?? Self.accepted[key] ?? "HTTP/1.1 500 Unknown Key\r\nContent-Length: 0\r\n\r\n"
            return .raw(Array(text.utf8))
        })
    }

    override func tearDown() {
        g?.stop()
    }

    /// A GET (bodiless: the gateway's own upstream reader) or a POST with a body (libcurl,
    /// whose header lines the same parser checks one by one).
    private func get(_ key: String, headers: String = "", post: Bool = false) throws -> RawResponse {
        let c = try g.client()
        if post {
            try c.send("POST /status?\(key) HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\(headers)\r\nabc")
        } else {
            try c.send("GET /status?\(key) HTTP/1.1\r\nHost: a\r\n\(headers)\r\n")
        }
        return try c.readResponse()
    }

    func testHeadsAClientCouldReadDifferentlyAre502() throws {
        for post in [false, true] {
            for key in Self.responses.keys.sorted() + ["not-utf8"] {
                let r = try get(key, post: post)
                XCTAssertEqual(r.status, 502, "\(key) post: \(post)")
                XCTAssertEqual(r.header("Content-Type"), "application/json", key)
                XCTAssertNil(r.header("X-A"), key)
                XCTAssertNil(r.header("Set-Cookie"), key)
            }
        }
        XCTAssertEqual(g.upstream.requests.count, 2 * (Self.responses.count + 1))
    }

    func testAcceptedHeadsLoseTheirHopByHopFields() throws {
        for (key, post) in ["many-hop-by-hop", "named-before", "close-named-before", "interim", "bare-lf", "pieces"]
            .flatMap({ [($0, false), ($0, true)] }) {
            let r = try get(key, post: post)
            XCTAssertEqual(r.status, 200, "\(key) post: \(post)")
            XCTAssertEqual(r.bodyText, "ok", key)
            let names = r.fields.map { $0.name.lowercased() }
            XCTAssertEqual(names, ["x-kept", "content-length"], "\(key): \(r.fields)")
            XCTAssertEqual(r.header("X-Kept"), "1", key)
        }
        let noContent = try get("204-length")
        XCTAssertEqual(noContent.status, 204)
        XCTAssertEqual(noContent.fields.map { $0.name }, ["X-Kept"])
        let chunked = try get("chunked-upper")
        XCTAssertEqual(chunked.bodyText, "ok")
        XCTAssertEqual(chunked.fields.map { $0.name.lowercased() }, ["x-kept", "transfer-encoding"])
        let many = try get("many-fields")
        XCTAssertEqual(many.status, 200)
        XCTAssertEqual(many.fields.count, 2001)
        XCTAssertEqual(many.header("X-F1999"), "1999")
    }

    func testBodyBytesWhereNoBodyMayBeNeverReachTheClient() throws {
        let c = try g.client()
        try c.send("HEAD /status?body-after-head HTTP/1.1\r\nHost: a\r\n\r\n")
        let head = try c.readResponse(headRequest: true)
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.header("Content-Length"), "20")
        for (key, status) in [("204-body", 204), ("304-body", 304)] {
            try c.send("GET /status?\(key) HTTP/1.1\r\nHost: a\r\n\r\n")
            let r = try c.readResponse()
            XCTAssertEqual(r.status, status, key)
            XCTAssertEqual(r.header("X-Kept"), "1", key)
        }
        // Had any of those bytes been relayed, this response would not be the next one read.
        try c.send("GET /status?bare-lf HTTP/1.1\r\nHost: a\r\n\r\n")
        let last = try c.readResponse()
        XCTAssertEqual(last.status, 200)
        XCTAssertEqual(last.bodyText, "ok")
        XCTAssertEqual(last.fields.map { $0.name.lowercased() }, ["x-kept", "content-length"])
    }

    /// The request direction: the client's fields named by its `Connection` never reach the
    /// upstream, wherever they stand.
    func testClientFieldsNamedByConnectionAreNotForwarded() throws {
        let r = try get("bare-lf", headers: "X-Secret-Hop: 1\r\nx_other_hop: 2\r\nX-Kept: 1\r\n"
                        + "Connection: X_Secret_Hop\r\nConnection: x-other-hop\r\n")
        XCTAssertEqual(r.status, 200)
        let forwarded = try XCTUnwrap(g.upstream.requests.first)
        let names = Set(forwarded.fields.map { HTTPSyntax.comparableFieldName($0.name) })
        XCTAssertTrue(names.contains("x-kept"), "\(forwarded.fields)")
        XCTAssertFalse(names.contains("x-secret-hop"), "\(forwarded.fields)")
        XCTAssertFalse(names.contains("x-other-hop"), "\(forwarded.fields)")
        XCTAssertFalse(names.contains("connection"), "\(forwarded.fields)")
    }
}
