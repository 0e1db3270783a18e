import XCTest
import GatewayCore

/// Refusal bodies go through the gateway's one JSON string escaper.
final class RefusalBodyTests: XCTestCase {
    func testBodyEscapesControlsAndDEL() {
        let body = String(decoding: Refusal.jsonBody(error: "e\"x", description: "a\u{7F}b\nc\u{1}"), as: UTF8.self)
        XCTAssertEqual(body, #"{"error":"e\"x","error_description":"a\u007fb\nc\u0001"}"#)
    }
}
