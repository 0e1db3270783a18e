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
}
