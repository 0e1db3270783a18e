import GatewayCore
import GatewayHTTP
import GatewayUpstream
import XCTest
@testable import GatewayServer

/// Every way an exchange ends: its decision, its bounded reason code, its response.
final class OutcomeTests: XCTestCase {
    func testReasonCodesAndDecisions() {
        let cases: [(Outcome, RequestRecord.Decision, String, Int?)] = [
            (.forwarded, .allow, "ok", nil),
            (.served, .allow, "ok", nil),
            (.forwardedReportOnly(.insufficientScope(requiredScopes: ["a"], detail: "required scope missing")), .wouldDeny,
             "insufficient_scope", nil),
            (.forwardedReportOnly(.missingToken), .wouldDeny, "missing_token", nil),
            (.denied(Refusal(.missingToken)), .deny, "missing_token", 401),
            (.denied(Refusal(.noRoute)), .deny, "no_route", 404),
            (.malformedRequest(.badRequest("bare LF")), .error, "bad_request", 400),
            (.malformedRequest(.headerTooLarge), .error, "request_header_fields_too_large", 431),
            (.malformedRequest(.uriTooLong), .error, "uri_too_long", 414),
            (.malformedRequest(.versionNotSupported), .error, "http_version_not_supported", 505),
            (.malformedRequest(.notImplemented("gzip")), .error, "not_implemented", 501),
            (.malformedRequest(.expectationFailed), .error, "expectation_failed", 417),
            (.malformedRequest(.methodNotAllowed), .error, "method_not_allowed", 405),
            (.bodyTooLarge, .error, "body_too_large", 413),
            (.bodyTimeout, .error, "body_timeout", 408),
            (.headerTimeout, .error, "header_timeout", 408),
            (.upstreamFailed(.unreachable), .error, "upstream_error", 502),
            (.upstreamFailed(.invalidResponse), .error, "upstream_invalid", 502),
            (.upstreamFailed(.timeout), .error, "upstream_timeout", 504),
            (.upstreamFailed(.abortedMidBody), .error, "upstream_aborted", nil),
            (.clientClosed, .error, "client_closed", nil),
            (.writeTimeout, .error, "write_timeout", nil),
            (.drainTimeout, .error, "drain_timeout", nil),
        ]
        for (outcome, decision, code, status) in cases {
            XCTAssertEqual(outcome.decision, decision, code)
            XCTAssertEqual(outcome.reasonCode, code)
            XCTAssertEqual(outcome.response?.status, status, code)
        }
    }

    func testGatewayResponsesAreJSONWithTheirErrorCode() throws {
        let r = try XCTUnwrap(Outcome.upstreamFailed(.timeout).response)
        XCTAssertEqual(r.fields, [HTTPField(name: "Content-Type", value: "application/json")])
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self),
                       #"{"error":"gateway_timeout","error_description":"upstream timed out"}"#)
        let allow = try XCTUnwrap(Outcome.malformedRequest(.methodNotAllowed).response)
        XCTAssertTrue(allow.fields.contains(HTTPField(name: "Allow", value: "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")))
    }

    func testADenialKeepsTheRefusalsChallenge() throws {
        let r = try XCTUnwrap(Outcome.denied(Refusal(.missingToken)).response)
        XCTAssertEqual(r.status, 401)
        XCTAssertTrue(r.fields.contains(HTTPField(name: "WWW-Authenticate", value: #"Bearer realm="gateway""#)))
    }

    func testSerializedResponseFraming() {
        let r = GatewayResponse.json(413, error: "payload_too_large", description: "request body too large")
        let text = String(decoding: r.serialized(requestMethod: "POST", close: true), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 413 "))
        XCTAssertTrue(text.contains("\r\nContent-Length: \(r.body.count)\r\n"))
        XCTAssertTrue(text.contains("\r\nConnection: close\r\n"))
        XCTAssertTrue(text.hasSuffix("\r\n\r\n" + String(decoding: r.body, as: UTF8.self)))
        let head = String(decoding: r.serialized(requestMethod: "HEAD", close: true), as: UTF8.self)
        XCTAssertTrue(head.hasSuffix("\r\n\r\n"), "RFC 9110 §9.3.2: no body for HEAD")
        XCTAssertTrue(head.contains("Content-Length: \(r.body.count)"))
    }

    func testUpstreamFailureKinds() {
        XCTAssertEqual(UpstreamFailure(.timeout, headSent: false), .timeout)
        XCTAssertEqual(UpstreamFailure(.connectFailed("refused"), headSent: false), .unreachable)
        XCTAssertEqual(UpstreamFailure(.invalidResponse("garbage"), headSent: false), .unreachable)
        XCTAssertEqual(UpstreamFailure(.timeout, headSent: true), .abortedMidBody)
        XCTAssertEqual(UpstreamFailure(.aborted("reset"), headSent: true), .abortedMidBody)
    }
}
