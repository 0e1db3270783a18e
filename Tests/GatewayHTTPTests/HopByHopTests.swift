import XCTest
import GatewayHTTP

final class HopByHopTests: XCTestCase {
    func testRemovesTheStandardHopByHopFields() {
        let fields = [
            HTTPField(name: "Host", value: "a"),
            HTTPField(name: "Connection", value: "keep-alive"),
            HTTPField(name: "Keep-Alive", value: "timeout=5"),
            HTTPField(name: "proxy-connection", value: "keep-alive"),
            HTTPField(name: "TE", value: "trailers"),
            HTTPField(name: "Trailer", value: "X-Checksum"),
            HTTPField(name: "TRANSFER-ENCODING", value: "chunked"),
            HTTPField(name: "Upgrade", value: "websocket"),
            HTTPField(name: "Accept", value: "*/*"),
        ]
        XCTAssertEqual(HopByHop.removing(from: fields), [
            HTTPField(name: "Host", value: "a"),
            HTTPField(name: "Accept", value: "*/*"),
        ])
    }

    func testRemovesFieldsNamedByConnection() {
        let fields = [
            HTTPField(name: "Connection", value: "X-Secret ,  x-other"),
            HTTPField(name: "connection", value: "Authorization"),
            HTTPField(name: "x-secret", value: "1"),
            HTTPField(name: "X-OTHER", value: "2"),
            HTTPField(name: "Authorization", value: "Bearer t"),
            HTTPField(name: "X-Kept", value: "3"),
            HTTPField(name: "X-Secretive", value: "4"),
        ]
        XCTAssertEqual(HopByHop.removing(from: fields), [
            HTTPField(name: "X-Kept", value: "3"),
            HTTPField(name: "X-Secretive", value: "4"),
        ])
    }

    /// An upstream in a CGI-style environment reads `Transfer_Encoding` as `Transfer-Encoding`:
    /// beside the gateway's own Content-Length it would re-frame the body.
    func testUnderscoreSpellingsAreHopByHopToo() {
        let fields = [
            HTTPField(name: "Transfer_Encoding", value: "chunked"),
            HTTPField(name: "keep_alive", value: "timeout=5"),
            HTTPField(name: "Connection", value: "X_Secret"),
            HTTPField(name: "X-Secret", value: "1"),
            HTTPField(name: "X-Kept", value: "2"),
        ]
        XCTAssertEqual(HopByHop.removing(from: fields), [HTTPField(name: "X-Kept", value: "2")])
    }

    /// RFC 9110 §7.6.1: a `Connection` option names a field wherever it stands in the head,
    /// before the `Connection` field as well as after it, in one `Connection` field or several.
    func testFieldsNamedByALaterConnectionFieldAreRemovedToo() {
        let fields = [
            HTTPField(name: "X-Secret", value: "1"),
            HTTPField(name: "Authorization", value: "Bearer t"),
            HTTPField(name: "X-Kept", value: "2"),
            HTTPField(name: "Connection", value: "x-secret"),
            HTTPField(name: "x_other", value: "3"),
            HTTPField(name: "Connection", value: "authorization, X-Other"),
            HTTPField(name: "X-Kept", value: "4"),
        ]
        XCTAssertEqual(HopByHop.removing(from: fields), [
            HTTPField(name: "X-Kept", value: "2"),
            HTTPField(name: "X-Kept", value: "4"),
        ])
        // More options than are compared one by one: the named set is used, with the same rule.
        let options = (0..<20).map { "x-option-\($0)" }.joined(separator: ", ")
        let many = [HTTPField(name: "X-Option-3", value: "1"), HTTPField(name: "X-Kept", value: "2"),
                    HTTPField(name: "Connection", value: options), HTTPField(name: "X-Option-19", value: "3")]
        XCTAssertEqual(HopByHop.removing(from: many), [HTTPField(name: "X-Kept", value: "2")])
    }

    func testNoHopByHopFieldsIsUnchanged() {
        let fields = [HTTPField(name: "A", value: "1"), HTTPField(name: "B", value: "2"), HTTPField(name: "A", value: "3")]
        XCTAssertEqual(HopByHop.removing(from: fields), fields)
    }
}

/// The byte matcher on fields as the parser produces them, and a `Connection` naming many options.
final class HopByHopBytesTests: XCTestCase {
    func testParsedFieldsAreMatchedAsBytes() throws {
        let h = try XCTUnwrap(head("GET / HTTP/1.1\r\nHost: a\r\nConnection: X_Secret, close\r\nTE: trailers\r\n"
            + "Proxy_Connection: x\r\nX-Secret: 1\r\nUPGRADE: h2c\r\nX-Kept: 2\r\nTransfer_encoding: x\r\n\r\n"))
        XCTAssertEqual(HopByHop.removing(from: h.fields), [HTTPField(name: "Host", value: "a"), HTTPField(name: "X-Kept", value: "2")])
    }

    func testNamesThatOnlyShareALengthAreKept() {
        let fields = ["TX", "Trailers", "Upgrades", "Connectior", "Keep-Alivf", "Proxy-Connectiom", "Transfer-Encodinf",
                      "keep alive", "Content-Length"].map { HTTPField(name: $0, value: "v") }
        XCTAssertEqual(HopByHop.removing(from: fields), fields)
    }

    func testManyConnectionOptionsAreAllRemoved() {
        let names = (0..<40).map { "X-Opt-\($0)" }
        var fields = [HTTPField(name: "Connection", value: names.map { $0.uppercased().replacingOccurrences(of: "-", with: "_") }
            .joined(separator: " , "))]
        fields += names.map { HTTPField(name: $0, value: "1") }
        fields.append(HTTPField(name: "X-Opt-40", value: "kept"))
        XCTAssertEqual(HopByHop.removing(from: fields), [HTTPField(name: "X-Opt-40", value: "kept")])
    }
}
