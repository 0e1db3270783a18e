import Foundation
import GatewayHTTP
import GatewayTracing
import W3CTraceContext
import XCTest

/// W3C Trace Context (https://www.w3.org/TR/trace-context/) as the gateway applies it.
final class RequestTraceTests: XCTestCase {
    let validParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    func derive(_ fields: [(String, String)], sampler: TraceSampler = .off, seed: UInt64 = 1) -> RequestTrace {
        var ids = TraceIDGenerator(seed: seed)
        return RequestTrace.derive(from: fields.map { HTTPField(name: $0.0, value: $0.1) }, ids: &ids, sampler: sampler)
    }

    func testAValidTraceparentIsContinuedWithANewSpanAndItsTracestate() {
        let t = derive([("Traceparent", validParent), ("tracestate", "congo=t61rcWkgMzE"), ("TraceState", "rojo=00f067aa0ba902b7")])
        XCTAssertEqual(t.traceIDHex, "4bf92f3577b34da6a3ce929d0e0e4736")
        let sent = t.traceParent
        XCTAssertEqual(sent.count, 55)
        XCTAssertTrue(sent.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-"))
        XCTAssertTrue(sent.hasSuffix("-01"), "the client's sampled flag is kept")
        XCTAssertFalse(sent.contains("00f067aa0ba902b7"), "a new span id, not the client's")
        XCTAssertEqual(t.traceState, "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
        XCTAssertTrue(t.sampled)
        // The parsed form of what is sent is a valid traceparent naming the gateway's client span.
        let parsed = try? TraceContext(traceParentHeaderValue: sent)
        XCTAssertEqual(parsed?.spanID, t.clientSpanID)
        XCTAssertNotEqual(t.clientSpanID, t.serverSpanID)
        XCTAssertEqual(t.parentSpanID.map { "\($0)" }, "00f067aa0ba902b7")
    }

    func testAnUnsampledParentStaysUnsampled() {
        let t = derive([("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")], sampler: TraceSampler(ratio: 1))
        XCTAssertFalse(t.sampled)
        XCTAssertTrue(t.traceParent.hasSuffix("-00"))
    }

    func testAbsentOrInvalidTraceparentStartsANewTraceAndDropsTracestate() {
        let invalid = [
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // version ff is forbidden
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // unknown version: not continued
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero parent id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",  // short
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // long
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",  // misplaced dash
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // uppercase hex
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01",  // uppercase hex
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",  // not hex
            "",
        ]
        for value in invalid {
            let t = derive([("traceparent", value), ("tracestate", "congo=t61rcWkgMzE")], sampler: TraceSampler(ratio: 1))
            XCTAssertNotEqual(t.traceIDHex, "4bf92f3577b34da6a3ce929d0e0e4736", value)
            XCTAssertNil(t.parentSpanID, value)
            XCTAssertNil(t.traceState, "tracestate of a refused traceparent is dropped: \(value)")
            XCTAssertTrue(t.traceParent.hasSuffix("-01"), "sampled by the ratio 1 sampler: \(value)")
            XCTAssertNotNil(try? TraceContext(traceParentHeaderValue: t.traceParent), value)
        }
        // Two traceparent fields are ambiguous: a new trace.
        let twice = derive([("traceparent", validParent), ("traceparent", validParent)])
        XCTAssertNotEqual(twice.traceIDHex, "4bf92f3577b34da6a3ce929d0e0e4736")
        let none = derive([("tracestate", "congo=t61rcWkgMzE")])
        XCTAssertNil(none.traceState)
        XCTAssertEqual(none.traceIDHex.count, 32)
        XCTAssertFalse(none.sampled, "tracing off: a new trace is not sampled")
        XCTAssertTrue(none.traceParent.hasSuffix("-00"))
    }

    func testUpstreamFieldsAreTheGatewaysParentAndTheContinuedState() {
        let t = derive([("traceparent", validParent), ("tracestate", "a=1")])
        XCTAssertEqual(t.upstreamFields.map(\.name), ["traceparent", "tracestate"])
        XCTAssertEqual(t.upstreamFields[0].value, t.traceParent)
        XCTAssertNotEqual(t.upstreamFields[0].value, validParent)
        XCTAssertEqual(t.upstreamFields[1].value, "a=1")
        let fresh = derive([("tracestate", "a=1")])
        XCTAssertEqual(fresh.upstreamFields.map(\.name), ["traceparent"], "a restarted trace drops the client's tracestate")
    }

    func testTraceContextFieldNamesMatchInAnyCaseAndNothingElse() {
        func kind(_ name: String) -> TraceContextField? { TraceContextField.kind(of: HTTPField(name: name, value: "x")) }
        XCTAssertEqual(kind("traceparent"), .parent)
        XCTAssertEqual(kind("TraceParent"), .parent)
        XCTAssertEqual(kind("TRACESTATE"), .state)
        for other in ["traceparents", "tracestat", "trace-parent", "x-traceparent", "tracestatf", ""] {
            XCTAssertNil(kind(other), other)
        }
    }

    func testLongTracestateLosesMembersFromTheEnd() throws {
        let members = (0..<40).map { "v\($0)=\(String(repeating: "x", count: 20))" }
        let t = derive([("traceparent", validParent), ("tracestate", members.joined(separator: ","))])
        let kept = try XCTUnwrap(t.traceState)
        XCTAssertLessThanOrEqual(kept.utf8.count, RequestTrace.maxTraceStateBytes)
        XCTAssertTrue(kept.hasPrefix("v0=")); XCTAssertFalse(kept.contains("v39="))
        let n = kept.split(separator: ",").count
        XCTAssertEqual(kept, members[..<n].joined(separator: ","), "whole members, in order")
        XCTAssertGreaterThan(members[...n].joined(separator: ",").utf8.count, RequestTrace.maxTraceStateBytes)
    }

    func testGeneratedIdsAreDistinctAndNeverZero() {
        var ids = TraceIDGenerator()
        var seen = Set<String>()
        for _ in 0..<1000 {
            let trace = ids.traceID()
            XCTAssertNotEqual(trace, .null)
            XCTAssertTrue(seen.insert("\(trace)").inserted)
            XCTAssertNotEqual(ids.spanID(), .null)
        }
    }

    func testRatioSamplerKeepsAboutTheRatio() {
        var ids = TraceIDGenerator(seed: 42)
        let half = TraceSampler(ratio: 0.5)
        let sampled = (0..<4000).filter { _ in half.samples(ids.traceID()) }.count
        XCTAssertGreaterThan(sampled, 1700); XCTAssertLessThan(sampled, 2300)
        XCTAssertFalse(TraceSampler(ratio: 0).samples(ids.traceID()))
        XCTAssertTrue(TraceSampler(ratio: 1).samples(ids.traceID()))
    }
}
