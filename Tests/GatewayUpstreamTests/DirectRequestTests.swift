import GatewayHTTP
import XCTest
@testable import GatewayUpstream

/// The request head the gateway writes itself, and which requests take that way.
final class DirectRequestTests: XCTestCase {
    /// The origin remembered between requests, as the loop keeps it.
    private var origin: UpstreamOrigin?

    private func make(_ method: String = "GET", _ url: String, fields: [HTTPField] = [],
                      body: UpstreamRequestBody = .none, tls: UpstreamTLSOptions? = nil) throws -> DirectRequest? {
        try DirectRequest.make(UpstreamRequest(method: method, url: url, fields: fields, body: body,
                                               connectTimeout: 1, timeout: 1, tls: tls), origin: &origin)
    }

    private func head(_ request: DirectRequest?) -> String {
        String(decoding: request?.head ?? [], as: UTF8.self)
    }

    func testHeadIsRequestLineHostFieldsInOrder() throws {
        let r = try make("GET", "http://orders.internal:8080/v1/items?x=1",
                         fields: [HTTPField(name: "X-Auth-Subject", value: "alice"), HTTPField(name: "Accept", value: "*/*")])
        XCTAssertEqual(head(r), "GET /v1/items?x=1 HTTP/1.1\r\nHost: orders.internal:8080\r\n"
                       + "X-Auth-Subject: alice\r\nAccept: */*\r\n\r\n")
        XCTAssertEqual(r?.key.origin, "http://orders.internal:8080")
        XCTAssertEqual(r?.connectURL, "http://orders.internal:8080/")
        XCTAssertEqual(r?.key.isTLS, false)
    }

    func testHostLeavesOutTheDefaultPortAndKeepsIPv6Brackets() throws {
        XCTAssertTrue(head(try make("GET", "http://a.example:80/")).contains("\r\nHost: a.example\r\n"))
        XCTAssertTrue(head(try make("GET", "https://a.example:443/")).contains("\r\nHost: a.example\r\n"))
        XCTAssertTrue(head(try make("GET", "https://a.example:8443/")).contains("\r\nHost: a.example:8443\r\n"))
        XCTAssertTrue(head(try make("GET", "http://[::1]:9000/")).contains("\r\nHost: [::1]:9000\r\n"))
        XCTAssertTrue(head(try make("GET", "http://a.example")).hasPrefix("GET / HTTP/1.1\r\n"))
        XCTAssertTrue(head(try make("GET", "http://a.example?q=1")).hasPrefix("GET /?q=1 HTTP/1.1\r\n"))
    }

    func testGivenHostReplacesTheURLsAndFramingFieldsAreDropped() throws {
        let r = try make("POST", "http://127.0.0.1:1/", fields: [
            HTTPField(name: "Host", value: "orders.internal"), HTTPField(name: "Content-Length", value: "5"),
            HTTPField(name: "Transfer-Encoding", value: "chunked"), HTTPField(name: "Expect", value: "100-continue"),
            HTTPField(name: "X-Empty", value: ""),
        ])
        XCTAssertEqual(head(r), "POST / HTTP/1.1\r\nHost: orders.internal\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n")
    }

    func testHeadRequestsNeverSayContentLength() throws {
        let r = try make("HEAD", "http://a.example/x")
        XCTAssertEqual(head(r), "HEAD /x HTTP/1.1\r\nHost: a.example\r\n\r\n")
        XCTAssertEqual(r?.isHeadRequest, true)
    }

    func testRequestsLibcurlKeepsHandling() throws {
        XCTAssertNil(try make("POST", "http://a.example/", body: .length(3)))
        XCTAssertNil(try make("POST", "http://a.example/", body: .chunked))
        XCTAssertNil(try make("GET", "http://user:secret@a.example/"))
        XCTAssertNil(try make("GET", "http://a.example/#fragment"))
        XCTAssertNil(try make("GET", "ftp://a.example/"))
        XCTAssertNil(try make("GET", "http://a.example:99999/"))
        XCTAssertNil(try make("GET", "http://[::1/"))
        // Authorities whose Host libcurl writes otherwise, or whose URL it refuses.
        XCTAssertNil(try make("GET", "http://[fe80::1%25eth0]:8080/"))
        XCTAssertNil(try make("GET", "http://a.example:080/"))
        XCTAssertNil(try make("GET", "http://a.example\r\nX-Injected:1/"))
        XCTAssertNil(try make("GET", "http://a example/"))
    }

    func testARememberedOriginIsOnlyReusedForTheSameOrigin() throws {
        XCTAssertEqual(try make("GET", "http://a.example:1/x")?.key.origin, "http://a.example:1")
        // Same leading bytes, another port.
        let other = try make("GET", "http://a.example:10/y")
        XCTAssertEqual(other?.key.origin, "http://a.example:10")
        XCTAssertTrue(head(other).contains("\r\nHost: a.example:10\r\n"))
        // Same origin, other TLS files: another pool key.
        let tls = UpstreamTLSOptions(caFile: "/etc/ca.pem")
        XCTAssertEqual(try make("GET", "http://a.example:10/z", tls: tls)?.key.tls, tls)
        XCTAssertNil(try make("GET", "http://a.example:10/z")?.key.tls)
        // The query right after the authority.
        XCTAssertTrue(head(try make("GET", "http://a.example:10?q")).hasPrefix("GET /?q HTTP/1.1\r\n"))
        XCTAssertNil(try make("GET", "http://a.example:10#f"))
    }

    func testInvalidRequestsFailBeforeAnyConnection() {
        XCTAssertThrowsError(try make("GET", "http://a.example/", fields: [HTTPField(name: "X-Bad", value: "a\r\nInjected: 1")]))
        XCTAssertThrowsError(try make("GET", "http://a.example/", fields: [HTTPField(name: "Bad Name", value: "v")]))
        XCTAssertThrowsError(try make("G ET", "http://a.example/"))
        XCTAssertThrowsError(try make("GET", "http://a.example/a b"))
    }
    func testEveryByteIsCheckedAsTheFieldGrammarSays() throws {
        for byte in 0...255 {
            let b = UInt8(byte)
            let name = [UInt8]("X-".utf8) + [b]
            let named = HTTPField(bytes: name + Array("v".utf8), name: 0..<3, value: 3..<4)
            if HTTPSyntax.isTokenChar(b) {
                XCTAssertEqual(try make("GET", "http://a.example/", fields: [named])?.head,
                               Array("GET / HTTP/1.1\r\nHost: a.example\r\n".utf8) + name + Array(": v\r\n\r\n".utf8),
                               "name byte \(byte)")
            } else {
                XCTAssertThrowsError(try make("GET", "http://a.example/", fields: [named]), "name byte \(byte)")
            }
            let value = [UInt8]("a".utf8) + [b] + Array("z".utf8)
            let valued = HTTPField(bytes: Array("X-V".utf8) + value, name: 0..<3, value: 3..<6)
            if HTTPSyntax.isFieldValueByte(b) {
                let r = try make("GET", "http://a.example/", fields: [valued])
                XCTAssertEqual(r?.head, Array("GET / HTTP/1.1\r\nHost: a.example\r\nX-V: ".utf8) + value + Array("\r\n\r\n".utf8),
                               "value byte \(byte)")
            } else {
                XCTAssertThrowsError(try make("GET", "http://a.example/", fields: [valued]), "value byte \(byte)")
            }
        }
    }

    func testParsedFieldsAGivenHostAmongThemAndFramingAreWrittenAsStringFieldsAre() throws {
        let bytes = Array("content-LENGTH0x-a1HOSTup.internal".utf8)
        let fields = [
            HTTPField(name: "X-First", value: "1"),
            HTTPField(bytes: bytes, name: 0..<14, value: 14..<15),
            HTTPField(bytes: bytes, name: 15..<18, value: 18..<19),
            HTTPField(bytes: bytes, name: 19..<23, value: 23..<34),
            HTTPField(name: "Expect", value: "100-continue"),
            HTTPField(name: "Accept", value: ""),
        ]
        let r = try make("PATCH", "http://a.example:8080?q", fields: fields)
        XCTAssertEqual(head(r), "PATCH /?q HTTP/1.1\r\nX-First: 1\r\nx-a: 1\r\nHOST: up.internal\r\nAccept:\r\n"
                       + "Content-Length: 0\r\n\r\n")
    }

    func testALongHeadIsWrittenWhole() throws {
        let long = String(repeating: "v", count: 5000)
        var fields: [HTTPField] = []
        var expected = "DELETE /x HTTP/1.1\r\nHost: a.example\r\n"
        for i in 0..<5 {
            fields.append(HTTPField(name: "X-Long-\(i)", value: long))
            expected += "X-Long-\(i): \(long)\r\n"
        }
        fields.append(HTTPField(name: "Transfer-Encoding", value: "chunked"))
        XCTAssertEqual(head(try make("DELETE", "http://a.example/x", fields: fields)), expected + "\r\n")
        // A bad value at the very end of a long head is still refused.
        fields.append(HTTPField(name: "X-Bad", value: "\u{7F}"))
        XCTAssertThrowsError(try make("DELETE", "http://a.example/x", fields: fields))
    }
}
